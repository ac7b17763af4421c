"""The conformance checks every pack must pass: each takes a pack's folder and returns the named
problems it finds (empty: the pack conforms).

They read the pack through the real loader and assess real cases through the real engine; the
cases are built from the pack's own data (its products, rule sets and contraception methods), so
a new pack needs nothing written for it. A pack folder copied elsewhere reads the shared classes
beside it (``<root>/classes`` next to ``<root>/knowledge/<pack>``) when there are any.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from pharmacist_tool.case import case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.knowledge.classes import classes_folder, load_classes, substance_problems
from pharmacist_tool.knowledge.contract import (
    NEVER_CLEARS,
    method_note_problems,
    wording_needed,
)
from pharmacist_tool.knowledge.matching import words
from pharmacist_tool.knowledge.model import (
    ContraceptionMethod,
    InteractionRule,
    KnowledgeBase,
    RuleSet,
    RuleSetVersion,
)
from pharmacist_tool.knowledge.vocabulary import vocabulary

MIN_SHARE = 0.95
"""Of the vocabulary's names of a class's substances, the share that must get the finding."""
LINES_PER_CASE = 200
UNKNOWN_LINE = "Xqzvorpilax 10 mg"
NONE_LINES = ("none", "Nothing else", "nil")


def load(folder: Path) -> KnowledgeBase:
    return load_knowledge_base(folder.name, folder=folder)


def load_problems(folder: Path) -> list[str]:
    """The pack loads (its contract holds), and every shared class beside it names substances
    the vocabulary knows: else the reasons, each named."""
    try:
        load(folder)
        where = classes_folder(folder)
        problems = substance_problems(where, sorted(load_classes(where)))
    except UserError as error:
        return [f"refused at load: {error.args[0]} {detail}" for detail in error.details] or [
            f"refused at load: {error.args[0]}"
        ]
    return [f"classes: {p}" for p in problems]


# -- cases built from the pack's data ----------------------------------------------------------


@dataclass
class Setting:
    """One rule-set version, and the date it is in force."""

    rule_set: RuleSet
    version: RuleSetVersion
    on: dt.date


def settings(kb: KnowledgeBase) -> Iterator[Setting]:
    for r in kb.rule_sets:
        for v in r.versions:
            later = [o.effective_from for o in r.versions if o.effective_from > v.effective_from]
            on = v.effective_from + dt.timedelta(days=10)
            if later and on >= min(later):
                on = v.effective_from
            yield Setting(r, v, on)


def _method(kb: KnowledgeBase, family: str, *, weakened: bool, status: str) -> ContraceptionMethod:
    for m in kb.contraception:
        if (
            m.status.get(family) == status
            and m.weakened_by_enzyme_inducers == weakened
            and not m.confirm
            and (status != "primary" or m.user_independent)
        ):
            return m
    raise LookupError(f"no {status} method (weakened: {weakened}) for {family}")


def base_case(kb: KnowledgeBase, s: Setting, **changes: Any) -> dict[str, Any]:
    """A routine case for a patient who can get pregnant, meeting the rule set: a product made
    for its market, a negative test the day before the prescription, a user-independent method
    that inducers do not weaken and a second method."""
    family = s.rule_set.family
    product = next((p for p in kb.products if family in p.markets), kb.products[0])
    doses = product.dose.fewest_doses_per_day
    days = min(30, s.version.max_days_supply or 30)
    prescribed = s.on - dt.timedelta(days=1)
    methods = [
        _method(kb, family, weakened=False, status="primary"),
        _method(kb, family, weakened=False, status="secondary"),
    ]
    case: dict[str, Any] = {
        "format": "pharmacist-tool/case@1",
        "rule_set": s.rule_set.id,
        "counselled_on": s.on.isoformat(),
        "patient": {
            "name": "Sam Conformance",
            "date_of_birth": (s.on - dt.timedelta(days=365 * 30 + 8)).isoformat(),
            "weight_kg": 60,
            "can_get_pregnant": True,
        },
        "prescription": {
            "medicine": product.names[0] if product.names else product.name,
            "strength_mg": product.strengths_mg[0],
            "units_per_dose": 1,
            "doses_per_day": doses,
            "days_supply": days,
            "quantity": doses * days,
            "prescribed_on": prescribed.isoformat(),
            "prescriber": "Dr A. Conformance",
            "authorization": "RMA-0012345678",
        },
        "pregnancy_tests": [
            {"date": (prescribed - dt.timedelta(days=1)).isoformat(), "result": "negative"}
        ],
        "contraception": [m.terms[0] for m in methods],
        "medicines": [],
        "alcohol": "none",
    }
    case.update(changes)
    return case


def run(kb: KnowledgeBase, case: dict[str, Any]) -> Assessment:
    return assess(case_from_dict(case), kb)


# -- the checks ---------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Per interaction and rule set: how many of its substances' names got its finding."""

    shares: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    missed: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def problems(self, min_share: float = MIN_SHARE) -> list[str]:
        out = []
        for (rule_id, rule_set), (hit, total) in sorted(self.shares.items()):
            if total and hit / total < min_share:
                some = ", ".join(self.missed[(rule_id, rule_set)][:5])
                out.append(
                    f"interaction.{rule_id} ({rule_set}): {hit} of {total} names of its "
                    f"substances get the finding at its severity ({hit / total:.0%}; "
                    f"missed e.g. {some})"
                )
            if not total:
                out.append(f"interaction.{rule_id} ({rule_set}): no substance names to screen")
        return out


def another_form(rule: InteractionRule, name: str, form: str) -> bool:
    """The name says a form the rule leaves out ("targretin gel", a product whose form is a
    cream): not this rule's agent, and not counted either way."""
    seen = set(words(name)) | set(words(form))
    return any(set(words(term)) <= seen for term in rule.exclude_terms if words(term))


def class_names(rule: InteractionRule) -> list[str]:
    """Every vocabulary name of the rule's substances (their salts too, where they count), but
    not names that stand for a substance the rule leaves out, or for a form it leaves out."""
    vocab = vocabulary()
    left_out = {ref.id for ref in rule.not_substances}
    found: dict[str, None] = {}
    for ref in rule.substances:
        ids = [ref.id, *(vocab.salts_of(ref.id) if ref.salts else [])]
        for sid in ids:
            if sid in left_out:
                continue
            for name in vocab.names_of(sid):
                entry = vocab.name(name)
                if entry is None or left_out.intersection(entry.substances):
                    continue
                if another_form(rule, name, entry.form):
                    continue
                found[name] = None
    return sorted(found)


def class_coverage(folder: Path) -> Coverage:
    """Every name of every class's substances, screened in every rule set of the pack."""
    kb = load(folder)
    coverage = Coverage()
    latest = {s.rule_set.id: s for s in settings(kb)}  # the newest version of each rule set
    for s in latest.values():
        for rule in kb.interactions:
            names = class_names(rule)
            code = f"interaction.{rule.id}"
            severity = rule.severity.for_rule_set(s.rule_set.id)
            severity = s.version.severities.get(code, severity)
            hit, missed = 0, []
            for start in range(0, len(names), LINES_PER_CASE):
                chunk = names[start : start + LINES_PER_CASE]
                found = run(kb, base_case(kb, s, medicines=chunk))
                at = {f.code: f.severity for f in found.findings}
                for line in found.medicines_screened:
                    if code in line.codes and at.get(code) == severity:
                        hit += 1
                    else:
                        missed.append(line.line)
            coverage.shares[(rule.id, s.rule_set.id)] = (hit, len(names))
            coverage.missed[(rule.id, s.rule_set.id)] = missed
    return coverage


def unknown_line_problems(folder: Path) -> list[str]:
    """A line the tool cannot identify is named ``medicine.unrecognised`` and never refuses the
    case; "none" is recorded as no other medicines."""
    kb = load(folder)
    problems = []
    for s in settings(kb):
        where = f"{s.version.id}"
        try:
            found = run(kb, base_case(kb, s, medicines=[UNKNOWN_LINE, *NONE_LINES]))
        except UserError as error:
            problems.append(f"{where}: an unknown line refused the case: {error.args[0]}")
            continue
        codes = {f.code for f in found.findings}
        if "medicine.unrecognised" not in codes:
            problems.append(f"{where}: an unknown line gave no medicine.unrecognised")
        for line in found.medicines_screened[1:]:
            if line.codes:
                problems.append(f"{where}: {line.line!r} (no medicine) raised {line.codes}")
    return problems


def positive_test_problems(folder: Path) -> list[str]:
    """A positive pregnancy test stands whatever resolution is recorded, in every rule set."""
    kb = load(folder)
    problems = []
    for s in settings(kb):
        case = base_case(kb, s)
        case["pregnancy_tests"] = [
            {"date": case["prescription"]["prescribed_on"], "result": "positive"}
        ]
        case["resolutions"] = {NEVER_CLEARS: "Prescriber contacted; patient says it was wrong"}
        found = run(kb, case)
        positive = [f for f in found.findings if f.code == NEVER_CLEARS]
        if not positive:
            problems.append(f"{s.version.id}: a positive pregnancy test gave no finding")
        elif not positive[0].stands or found.dispense == "ok":
            problems.append(f"{s.version.id}: a positive pregnancy test is cleared by a resolution")
    return problems


def weakener_line(substance_id: str, threshold: float | None) -> str | None:
    """A line naming the substance (a name that stands for it alone), at its threshold dose."""
    vocab = vocabulary()
    names = [
        n
        for n in vocab.names_of(substance_id)
        if (e := vocab.name(n)) and e.substances == (substance_id,)
    ]
    if not names:
        return None
    name = min(names, key=lambda n: (len(n), n))
    return f"{name} {threshold:g} mg once daily" if threshold else name


def weakener_problems(folder: Path) -> list[str]:
    """Every substance that weakens hormonal contraception re-checks the rule for a patient
    relying on a method it weakens, in every rule set with a contraception rule."""
    kb = load(folder)
    problems = []
    for s in settings(kb):
        if s.version.contraception_rule == "none":
            continue
        family = s.rule_set.family
        try:
            weak = _method(kb, family, weakened=True, status="primary")
            other = _method(kb, family, weakened=False, status="secondary")
        except LookupError as error:
            problems.append(f"{s.version.id}: {error}")
            continue
        for substance_id, fact in sorted(kb.weakeners.items()):
            line = weakener_line(substance_id, fact.from_mg_per_day)
            if line is None:
                continue
            case = base_case(kb, s, medicines=[line], contraception=[weak.terms[0], other.terms[0]])
            codes = {f.code for f in run(kb, case).findings}
            if "contraception.weakened" not in codes:
                problems.append(
                    f"{s.version.id}: {line!r} does not re-check contraception for a patient "
                    f"relying on {weak.label}"
                )
    return problems


def test_age_problems(folder: Path) -> list[str]:
    """A negative test older than the rule set's interval raises a finding (the test's age is
    judged by a pick-up window from the test, a limit before the prescription, or the interval
    itself)."""
    kb = load(folder)
    problems = []
    for s in settings(kb):
        v = s.version
        if v.test_interval_days is None or v.pregnancy_test != "required":
            continue
        old = s.on - dt.timedelta(days=v.test_interval_days + 1)
        case = base_case(kb, s, pregnancy_tests=[{"date": old.isoformat(), "result": "negative"}])
        found = run(kb, case)
        judged = [
            f
            for f in found.findings
            if f.severity != "info"
            and f.code
            in (
                "pregnancy-test.overdue",
                "pregnancy-test.too-old",
                "prescription.pick-up-window-closed",
            )
        ]
        if not judged:
            problems.append(
                f"{v.id}: a test {v.test_interval_days + 1} days old (interval "
                f"{v.test_interval_days}) raises no finding"
            )
    return problems


def method_problems(folder: Path) -> list[str]:
    """Each method's status agrees with its note."""
    return method_note_problems(load(folder))


def wording_problems(folder: Path) -> list[str]:
    """Every code the engine can raise has wording; every interaction has the patient's words
    in every language the pack's handout offers."""
    kb = load(folder)
    problems = [
        f"messages.json: no wording for {code!r}"
        for code in sorted(wording_needed(kb) - {m.code for m in kb.messages})
    ]
    handout = folder / "handout"
    for path in sorted(handout.glob("*.json")) if handout.is_dir() else []:
        if path.stem in ("facts", "coverage"):
            continue
        data = msgspec.json.decode(path.read_bytes())
        agents = data.get("avoid_agents", {}) if isinstance(data, dict) else {}
        for rule in kb.interactions:
            if rule.id not in agents:
                problems.append(
                    f"handout/{path.name}: no patient words for interaction {rule.id!r}"
                )
    return problems


def handout_languages(folder: Path) -> list[str]:
    handout = folder / "handout"
    return sorted(p.stem for p in handout.glob("*.json") if len(p.stem) == 2 and p.stem.isalpha())


def duty_problems(folder: Path) -> list[str]:
    """Every programme duty of every rule-set version has its words in every language of the
    pack's handout, and cites sources that are in the pack's register (read from the files
    themselves, not through the loader that refuses them)."""
    rule_sets = msgspec.json.decode((folder / "rule_sets.json").read_bytes())
    register = msgspec.json.decode((folder / "knowledge.json").read_bytes())["sources"]
    languages = handout_languages(folder) or ["en"]
    problems = []
    for rule_set in rule_sets["rule_sets"]:
        for version in rule_set["versions"]:
            for duty in version.get("duties", []):
                where = f"{version['id']} duty {duty['id']!r}"
                words = duty.get("words", {})
                problems += [
                    f"{where}: no words in {language!r}"
                    for language in languages
                    if not str(words.get(language, "")).strip()
                ]
                sources = duty.get("sources", [])
                if not sources:
                    problems.append(f"{where}: cites no source")
                problems += [
                    f"{where}: cites {key!r}, not in the register"
                    for key in sources
                    if key not in register
                ]
    return problems


def determinism_problems(folder: Path) -> list[str]:
    """The same case gives the same bytes."""
    kb = load(folder)
    problems = []
    for s in settings(kb):
        lines = [
            UNKNOWN_LINE,
            "ibuprofen 200 mg",
            *(weakener_line(i, None) or "" for i in list(kb.weakeners)[:3]),
        ]
        case = base_case(kb, s, medicines=[line for line in lines if line])
        first, second = (msgspec.json.encode(run(kb, case)) for _ in range(2))
        if first != second:
            problems.append(f"{s.version.id}: the same case gave different assessments")
    return problems


LABEL_NAMED = Path(__file__).with_name("label-named.json")


def membership_problems(folder: Path) -> list[str]:
    """Every substance the primary texts name for a class is in the pack's rule for that class
    (``label-named.json``), unless the rule leaves it out as the pack's own medicine."""
    kb = load(folder)
    named = msgspec.json.decode(LABEL_NAMED.read_bytes())["classes"]
    problems = []
    for rule in kb.interactions:
        wanted = named.get(rule.class_ or "", {}).get("substances", {})
        have = {ref.id for ref in rule.substances} | {ref.id for ref in rule.not_substances}
        for unii, name in sorted(wanted.items()):
            if unii not in have:
                problems.append(
                    f"interaction.{rule.id} (class {rule.class_}): lacks {name} ({unii}), "
                    "which the primary texts name"
                )
    return problems


EVERYDAY = Path(__file__).parent.parent / "fixtures" / "everyday-medicines.json"
EVERYDAY_MORE = (
    "petroleum jelly",
    "Vaseline",
    "sunscreen SPF 50",
    "artificial tears",
    "calcium with vitamin D",
    "Z-Pak",
    "Nexplanon",
    "Levonelle",
)
MAX_NOT_SCREENED = 0.03


def everyday_problems(folder: Path) -> list[str]:
    """At most 3% of everyday lines (300 everyday medicines and the products patients name)
    are left not screened, so the warning stays rare enough to be read."""
    kb = load(folder)
    lines = [*msgspec.json.decode(EVERYDAY.read_bytes())["lines"], *EVERYDAY_MORE]
    s = next(iter(settings(kb)))
    found = run(kb, base_case(kb, s, medicines=lines[:LINES_PER_CASE]))
    screened = list(found.medicines_screened)
    for start in range(LINES_PER_CASE, len(lines), LINES_PER_CASE):
        chunk = lines[start : start + LINES_PER_CASE]
        screened += run(kb, base_case(kb, s, medicines=chunk)).medicines_screened
    missed = [line.line for line in screened if "medicine.unrecognised" in line.codes]
    if len(missed) > MAX_NOT_SCREENED * len(lines):
        return [f"{len(missed)} of {len(lines)} everyday lines not screened: {missed[:10]}"]
    return []


CHECKS = {
    "everyday": everyday_problems,
    "members": membership_problems,
    "loads": load_problems,
    "unknown-line": unknown_line_problems,
    "positive-test": positive_test_problems,
    "weakeners": weakener_problems,
    "test-age": test_age_problems,
    "method-notes": method_problems,
    "wording": wording_problems,
    "duties": duty_problems,
    "deterministic": determinism_problems,
}
"""Every check but the class coverage (``class_coverage``, which also measures)."""


def all_problems(folder: Path) -> list[str]:
    """Every check's problems, each prefixed by the check's name."""
    found = load_problems(folder)
    if found:
        return [f"loads: {p}" for p in found]
    out = [f"{name}: {p}" for name, check in CHECKS.items() for p in check(folder)]
    out += [f"classes: {p}" for p in class_coverage(folder).problems()]
    return out


def pack_folders(root: Path) -> list[Path]:
    """Every pack folder under a knowledge root (a folder with a ``products.json``)."""
    return sorted(p for p in root.iterdir() if (p / "products.json").is_file())


def share_table(coverage: Coverage) -> list[tuple[str, str, int, int]]:
    return [
        (rule, rule_set, hit, total)
        for (rule, rule_set), (hit, total) in sorted(coverage.shares.items())
    ]
