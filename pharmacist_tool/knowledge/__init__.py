"""The knowledge base: products, interactions, contraception, rule sets and checklist.

The facts are data under ``resources/knowledge/<medicine>/``; this package loads them, validates
them against the schema in ``model.py`` (msgspec typed decoding *is* the schema check) and then
checks what a type cannot: unique ids, cited sources that exist in the register, rule sets that
exist. A damaged file is refused with a ``UserError`` naming the file, the entry and the field.
Nothing is cached on disk; loading is a few milliseconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge.model import (
    ChecklistItem,
    ContraceptionMethod,
    Counter,
    CourseFacts,
    Indication,
    InteractionRule,
    KnowledgeBase,
    Message,
    Product,
    RuleSet,
    RuleSetVersion,
    SelfWeakening,
    Source,
)

__all__ = [
    "KnowledgeBase",
    "find_product",
    "load_for_counter",
    "load_knowledge_base",
    "load_pack",
    "rule_set",
    "rules_in_force",
]


class _MetaFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    medicine: str
    version: str
    last_reviewed: dt.date
    counter: Counter
    sources: dict[str, Source]
    weakens_contraception: list[SelfWeakening] = msgspec.field(default_factory=list)
    indications: list[Indication] = msgspec.field(default_factory=list)


class _ProductsFile(msgspec.Struct, forbid_unknown_fields=True):
    products: list[Product]


class _InteractionsFile(msgspec.Struct, forbid_unknown_fields=True):
    interactions: list[InteractionRule]


class _ContraceptionFile(msgspec.Struct, forbid_unknown_fields=True):
    contraception: list[ContraceptionMethod]


class _RuleSetsFile(msgspec.Struct, forbid_unknown_fields=True):
    rule_sets: list[RuleSet]


class _ChecklistFile(msgspec.Struct, forbid_unknown_fields=True):
    checklist: list[ChecklistItem]


class _MessagesFile(msgspec.Struct, forbid_unknown_fields=True):
    messages: list[Message]


class _CourseFile(msgspec.Struct, forbid_unknown_fields=True):
    course: CourseFacts


def _course_facts(medicine: str, folder: Path) -> CourseFacts:
    """``course.json`` is optional: a pack without it knows no cumulative target."""
    if not (folder / "course.json").is_file():
        return CourseFacts()
    return _decode("course.json", _read(medicine, "course.json", folder), _CourseFile).course


T = TypeVar("T")


def _entry_name(raw: Any, path: str) -> str:
    """``products[2].dose`` → ``products[2] (id "brand-x").dose`` when the id can be read."""
    head, sep, rest = path.partition("]")
    if not sep or "[" not in head:
        return path
    key, _, index = head.partition("[")
    try:
        entry = raw[key][int(index)]
        label = entry.get("id") or entry.get("code")
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return path
    return f'{head}] (id "{label}"){rest}' if isinstance(label, str) else path


def _decode(name: str, data: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as error:
        text, _, where = str(error).rpartition(" - at `")
        if not text:
            text, where = str(error), ""
        where = where.rstrip("`").removeprefix("$").removeprefix(".")
        with contextlib.suppress(msgspec.DecodeError):
            where = _entry_name(msgspec.json.decode(data), where) if where else "the file"
        raise UserError(f"The knowledge base file {name} is damaged: {where}: {text}") from error
    except msgspec.DecodeError as error:
        raise UserError(f"The knowledge base file {name} is not valid JSON ({error}).") from error


def _read(medicine: str, name: str, folder: Path) -> bytes:
    path = folder / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(
            f"The knowledge base file {name} for {medicine!r} is missing ({path})."
        ) from None
    except OSError as error:
        raise UserError(f"Cannot read the knowledge base file {path}: {error.strerror}") from error


def _check_unique(name: str, what: str, ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for entry_id in ids:
        if entry_id in seen:
            problems.append(f"{name}: {what} {entry_id!r} appears twice")
        seen.add(entry_id)
    return problems


def _check(kb: KnowledgeBase, problems: list[str]) -> None:
    from pharmacist_tool.knowledge.matching import words

    problems += _check_unique("products.json", "product id", (p.id for p in kb.products))
    problems += _check_unique("interactions.json", "id", (r.id for r in kb.interactions))
    problems += _check_unique("contraception.json", "id", (m.id for m in kb.contraception))
    problems += _check_unique("rule_sets.json", "rule set", (r.id for r in kb.rule_sets))
    problems += _check_unique(
        "rule_sets.json", "version id", (v.id for r in kb.rule_sets for v in r.versions)
    )
    problems += _check_unique("checklist.json", "item id", (c.id for c in kb.checklist))
    problems += _check_unique(
        "messages.json",
        "code (for the same rule sets and indications)",
        (f"{m.code} {sorted(m.rule_sets)} {sorted(m.indications)}" for m in kb.messages),
    )
    names: dict[tuple[str, ...], str] = {}
    for product in kb.products:
        for name in [product.id, *product.names]:
            key = words(name)
            if names.get(key, product.id) != product.id:
                problems.append(
                    f"products.json: name {name!r} of {product.id!r} is also a name of "
                    f"{names[key]!r}"
                )
            names[key] = product.id
        dose = product.dose
        if dose.kind == "mg-per-kg-per-day":
            low, usual = dose.usual_min_mg_per_kg, dose.usual_max_mg_per_kg
            high = dose.max_mg_per_kg
            unit = "_mg_per_kg"
        else:
            low, usual, high = dose.usual_min_mg, dose.usual_max_mg, dose.max_mg
            unit = "_mg"
        if not 0 < low <= usual <= high:
            problems.append(
                f"products.json: {product.id!r}.dose: needs 0 < usual_min{unit} <= "
                f"usual_max{unit} <= max{unit} (dose kind {dose.kind})"
            )
        if not 1 <= dose.fewest_doses_per_day <= dose.doses_per_day:
            problems.append(
                f"products.json: {product.id!r}.dose: needs 1 <= min_doses_per_day <= doses_per_day"
            )
    rule_set_ids = {r.id for r in kb.rule_sets}
    families = {r.family for r in kb.rule_sets}
    for r in kb.rule_sets:
        if not r.versions:
            problems.append(f"rule_sets.json: {r.id!r} has no versions")

    def cited(file: str, entry: str, keys: Iterable[str]) -> None:
        for key in keys:
            if key not in kb.sources:
                problems.append(
                    f"{file}: {entry} cites source {key!r}, which is not in the register "
                    "(knowledge.json sources)"
                )

    def known_rule_sets(file: str, entry: str, ids: Iterable[str]) -> None:
        for rid in ids:
            if rid not in rule_set_ids:
                known = ", ".join(sorted(rule_set_ids))
                problems.append(f"{file}: {entry} names rule set {rid!r}; known: {known}")

    for p in kb.products:
        cited("products.json", repr(p.id), p.sources)
    method_ids = {m.id for m in kb.contraception}
    for i in kb.interactions:
        cited("interactions.json", repr(i.id), i.sources)
        known_rule_sets("interactions.json", repr(i.id), i.severity.by_rule_set)
        for method_id in i.contraception_methods:
            if method_id not in method_ids:
                problems.append(
                    f"interactions.json: {i.id!r} names contraception method {method_id!r}, "
                    "which is not in contraception.json"
                )
        if i.weakens_contraception_from_mg_per_day is not None and not (
            i.weakens_hormonal_contraception
        ):
            problems.append(
                f"interactions.json: {i.id!r} gives a dose from which it weakens contraception "
                "but does not say weakens_hormonal_contraception"
            )
    for m in kb.contraception:
        cited("contraception.json", repr(m.id), m.sources)
        for family in sorted(families - set(m.status)):
            problems.append(f"contraception.json: {m.id!r} has no status for {family}")
        if not m.note and set(m.status.values()) - {"primary", "secondary"}:
            problems.append(
                f"contraception.json: {m.id!r} does not always count, so it needs a note saying why"
            )
    for r in kb.rule_sets:
        for v in r.versions:
            cited("rule_sets.json", repr(v.id), v.sources)
            if v.after_course is not None:
                cited("rule_sets.json", f"{v.id!r}.after_course", v.after_course.sources)
            if v.staff_training is not None:
                cited("rule_sets.json", f"{v.id!r}.staff_training", v.staff_training.sources)
            for duty in v.duties:
                cited("rule_sets.json", f"{v.id!r}.duties {duty.id!r}", duty.sources)
            problems += _check_unique(
                "rule_sets.json", f"{v.id!r} duty id", (d.id for d in v.duties)
            )
    if kb.course.cumulative_target is not None:
        target = kb.course.cumulative_target
        cited("course.json", "cumulative_target", target.sources)
        if not 0 < target.min_mg_per_kg <= target.max_mg_per_kg:
            problems.append("course.json: cumulative_target: needs 0 < min_mg_per_kg <= max")
    for c in kb.checklist:
        cited("checklist.json", repr(c.id), c.sources)
        known_rule_sets("checklist.json", repr(c.id), c.rule_sets)
    cited("knowledge.json", "counter", kb.counter.sources)
    version_ids = {v.id for r in kb.rule_sets for v in r.versions}
    for msg in kb.messages:
        cited("messages.json", repr(msg.code), msg.sources)
        known_rule_sets(
            "messages.json", repr(msg.code), (i for i in msg.rule_sets if i not in version_ids)
        )
    problems += _own_medicine_problems(kb)
    from pharmacist_tool.knowledge.vocabulary import check_substances

    problems += check_substances(kb.interactions)
    from pharmacist_tool.knowledge.contract import contract_problems

    problems += contract_problems(kb)
    if problems:
        raise UserError("The knowledge base is inconsistent:", details=problems)


def _own_medicine_problems(kb: KnowledgeBase) -> list[str]:
    """What ``knowledge.json`` says of the medicine itself (indications, the contraception it
    weakens) and what products and messages name of it."""
    problems = _check_unique("knowledge.json", "indication", (i.id for i in kb.indications))
    indication_ids = {i.id for i in kb.indications}
    rule_sets = {r.id: r for r in kb.rule_sets}
    entries: list[tuple[str, Iterable[str]]] = [
        (f"knowledge.json: indication {i.id!r}", i.sources) for i in kb.indications
    ]
    entries += [
        (f"knowledge.json: weakens_contraception for {'/'.join(w.families)}", w.sources)
        for w in kb.weakens_contraception
    ]
    for entry, keys in entries:
        problems += [
            f"{entry} cites source {key!r}, which is not in the register"
            for key in keys
            if key not in kb.sources
        ]
    covered = [f for w in kb.weakens_contraception for f in w.families]
    problems += _check_unique("knowledge.json", "weakens_contraception market", covered)
    for product in kb.products:
        named = [*product.indications, *product.dose_by_indication]
        problems += [
            f"products.json: {product.id!r} names indication {i!r}, which is not in "
            "knowledge.json indications"
            for i in dict.fromkeys(named)
            if i not in indication_ids
        ]
        own = rule_sets.get(product.programme) if product.programme else None
        if product.programme and own is None:
            problems.append(
                f"products.json: {product.id!r} names programme {product.programme!r}, "
                f"which is not a rule set (known: {', '.join(sorted(rule_sets))})"
            )
        elif own is not None and own.family not in product.markets:
            problems.append(
                f"products.json: {product.id!r}: its programme {own.id!r} is of the "
                f"{own.family} market, which is not one of its markets"
            )
    for msg in kb.messages:
        problems += [
            f"messages.json: {msg.code!r} names indication {i!r}, which is not in "
            "knowledge.json indications"
            for i in msg.indications
            if i not in indication_ids
        ]
    return problems


def _with_dates(kb: KnowledgeBase, effective_dates: Mapping[str, dt.date]) -> KnowledgeBase:
    known = {v.id for r in kb.rule_sets for v in r.versions}
    unknown = sorted(set(effective_dates) - known)
    if unknown:
        raise UserError(
            f"The settings give an effective date for an unknown rule-set version: "
            f"{', '.join(unknown)} (known: {', '.join(sorted(known))})."
        )
    rule_sets = []
    for r in kb.rule_sets:
        versions = [
            msgspec.structs.replace(v, effective_from=effective_dates[v.id])
            if v.id in effective_dates
            else v
            for v in r.versions
        ]
        rule_sets.append(msgspec.structs.replace(r, versions=versions))
    return msgspec.structs.replace(kb, rule_sets=rule_sets)


def load_knowledge_base(
    medicine: str | None = None,
    effective_dates: Mapping[str, dt.date] | None = None,
    *,
    folder: Path | None = None,
) -> KnowledgeBase:
    """Load and validate ``resources/knowledge/<medicine>/*.json`` (the default pack when no
    medicine is given).

    ``effective_dates`` maps a rule-set version id to the date the pharmacy confirmed it takes
    effect, overriding the ``effective_from`` in the data. ``folder`` reads the files from another
    folder (a knowledge base under review).
    """
    from pharmacist_tool.knowledge import packs

    medicine = medicine or packs.default_pack()
    own_folder = folder is not None
    folder = folder or paths.resource("knowledge", medicine)
    meta = _decode("knowledge.json", _read(medicine, "knowledge.json", folder), _MetaFile)
    products = _decode("products.json", _read(medicine, "products.json", folder), _ProductsFile)
    interactions = _decode(
        "interactions.json", _read(medicine, "interactions.json", folder), _InteractionsFile
    )
    contraception = _decode(
        "contraception.json", _read(medicine, "contraception.json", folder), _ContraceptionFile
    )
    rule_sets = _decode("rule_sets.json", _read(medicine, "rule_sets.json", folder), _RuleSetsFile)
    checklist = _decode("checklist.json", _read(medicine, "checklist.json", folder), _ChecklistFile)
    messages = _decode("messages.json", _read(medicine, "messages.json", folder), _MessagesFile)
    from pharmacist_tool.knowledge import classes

    classes_folder = classes.classes_folder(folder if own_folder else None)
    shared = classes.load_classes(classes_folder)
    rules, class_problems = classes.resolve(interactions.interactions, shared)
    referred = {r.class_ for r in interactions.interactions if r.class_ is not None}
    class_problems += classes.substance_problems(classes_folder, sorted(referred))
    weakeners, weakener_problems = classes.weakeners(shared)
    kb = KnowledgeBase(
        medicine=meta.medicine,
        version=meta.version,
        last_reviewed=meta.last_reviewed,
        counter=meta.counter,
        sources=meta.sources,
        products=products.products,
        interactions=rules,
        weakeners=weakeners,
        contraception=contraception.contraception,
        rule_sets=rule_sets.rule_sets,
        checklist=checklist.checklist,
        messages=messages.messages,
        course=_course_facts(medicine, folder),
        weakens_contraception=meta.weakens_contraception,
        indications=meta.indications,
        languages=_languages(folder),
    )
    _check(kb, class_problems + weakener_problems)
    if effective_dates:
        kb = _with_dates(kb, effective_dates)
    return kb


def _languages(folder: Path) -> list[str]:
    """The languages of the pack's handout (``handout/<xx>.json``); English when it has none."""
    import re

    handout = folder / "handout"
    found = sorted(p.stem for p in handout.glob("*.json") if re.fullmatch(r"[a-z]{2}", p.stem))
    return found or ["en"]


def load_pack(pack: str) -> KnowledgeBase:
    """One pack by its name, loaded once per process (see ``packs``)."""
    from pharmacist_tool.knowledge import packs

    return packs.load(pack)


def load_for_counter(medicine: str | None = None, *, pack: str | None = None) -> KnowledgeBase:
    """The pack for a prescription's medicine (a generic or brand name; the default pack when
    None), or the pack named ``pack`` (a signed record's own), with the effective dates this
    pharmacy confirmed in its settings."""
    from pharmacist_tool.knowledge import packs
    from pharmacist_tool.settings import load_settings

    if pack is None:
        pack = packs.pack_for(medicine) if medicine is not None else packs.default_pack()
    kb = packs.load(pack)
    dates = packs.dates_for(kb, load_settings().rule_effective_dates)
    return _with_dates(kb, dates) if dates else kb


_PRODUCT_FILLER = frozenset(
    [
        "soft",
        "oral",
        "generic",
        "brand",
        "name",
        "the",
        "by",
        "of",
        "and",
        "micronized",
        "micronised",
    ]
)
"""Words that may stand beside a product name without changing which product it is."""


def match_product_name(
    products: Iterable[tuple[str, Iterable[str]]], name: str, *, generic: str
) -> str | None:
    """The id of the product a prescription names, among ``(id, names)`` pairs: brand or generic,
    any case, strengths ignored; ``generic`` is the id of the generic product.

    "Brand 20 mg capsules" and "generic (Brand)" name Brand; "Brand LD" is never read as Brand; a
    text naming two different brands names none (it is refused, not guessed).
    """
    from pharmacist_tool.knowledge.matching import contains, words

    wanted = words(name, drop_doses=True)
    if not wanted:
        return None
    spans: list[tuple[int, int, str]] = []
    for product_id, product_names in products:
        for product_name in [product_id, *product_names]:
            key = words(product_name)
            if key == wanted:
                return product_id
            at = contains(wanted, key)
            if at >= 0:
                spans.append((at, at + len(key), product_id))
    covered = {i for start, end, _ in spans for i in range(start, end)}
    if any(w not in _PRODUCT_FILLER for i, w in enumerate(wanted) if i not in covered):
        return None  # other words ("Brand XR"): perhaps another product; never guess
    # drop names that lie inside a longer name found ("brand" inside "brand ld")
    kept = {
        p
        for start, end, p in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
    }
    if len(kept) > 1:  # a brand written with its generic name: the brand is what is dispensed
        brands = [p for p in kept if p != generic]
        return brands[0] if len(brands) == 1 and generic in kept else None
    return next(iter(kept), None)


def find_product(kb: KnowledgeBase, name: str) -> Product | None:
    """The product of this pack a prescription names (see ``match_product_name``)."""
    found = match_product_name(((p.id, p.names) for p in kb.products), name, generic=kb.medicine)
    return next((p for p in kb.products if p.id == found), None)


def rule_set(kb: KnowledgeBase, rule_set_id: str) -> RuleSet | None:
    wanted = rule_set_id.strip().casefold()
    for r in kb.rule_sets:
        if r.id.casefold() == wanted:
            return r
    return None


def rules_in_force(kb: KnowledgeBase, rule_set_id: str, on: dt.date) -> RuleSetVersion:
    """The version of a rule set in force on a date (the latest that has taken effect)."""
    found = rule_set(kb, rule_set_id)
    if found is None:
        raise UserError(
            f"rule_set: {rule_set_id!r} is not a rule set of the {kb.medicine} pack "
            f"(known: {', '.join(r.id for r in kb.rule_sets)})."
        )
    in_force = [v for v in found.versions if v.effective_from <= on]
    if not in_force:
        first = min(v.effective_from for v in found.versions)
        raise UserError(
            f"counselled_on: no {found.id} rules are in force on {on.isoformat()} "
            f"(the earliest version in the knowledge base starts {first.isoformat()})."
        )
    return max(in_force, key=lambda v: v.effective_from)
