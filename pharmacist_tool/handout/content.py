"""What the handout says, before any layout: sections of lines of plain-text spans.

Built from the case, its assessment, the knowledge base and the settings; the PDF renderer only
lays it out. Keeping the words apart from ReportLab lets the tests measure readability of exactly
what is printed, and keeps every piece of text from the case a plain string until the renderer
escapes it.
"""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from pharmacist_tool.case import Case
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.handout.wording import (
    BASE_LANGUAGE,
    FactsFile,
    Wording,
    language_name,
    load_facts,
    load_wording,
)
from pharmacist_tool.knowledge.model import (
    InteractionRule,
    KnowledgeBase,
    Product,
    RuleSet,
    RuleSetVersion,
)
from pharmacist_tool.settings import Settings

LineKind = Literal["para", "bullet", "blank-line"]


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Line:
    spans: tuple[Span, ...]
    kind: LineKind = "para"
    measured: bool = True
    """Counted in the readability check (False for names, addresses, version and source lists)."""

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: tuple[Line, ...]
    boxed: bool = False

    @property
    def measured_text(self) -> str:
        parts = [_sentence(self.title)]
        parts += [_sentence(line.text) for line in self.lines if line.measured]
        return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class HandoutContent:
    language: str
    """The language printed (English when the requested one has no approved wording)."""
    requested_language: str
    title: str
    subject: str
    pharmacy: str
    pharmacy_details: tuple[Line, ...]
    """Address lines and phone number, under the pharmacy's name."""
    header: tuple[Line, ...]
    notice: Line | None
    sections: tuple[Section, ...]
    page_of: str
    """Template for the page footer, with ``{page}`` and ``{pages}``."""
    sources: tuple[str, ...] = field(default=())

    @property
    def measured_text(self) -> str:
        return " ".join(section.measured_text for section in self.sections)

    def all_text(self) -> str:
        lines = [*self.pharmacy_details, *self.header, *([self.notice] if self.notice else [])]
        out = [self.pharmacy, self.title, *(line.text for line in lines)]
        for section in self.sections:
            out.append(section.title)
            out.extend(line.text for line in section.lines)
        return "\n".join(out)


def _sentence(text: str) -> str:
    """Headings and bullets end a sentence for the readability formulas."""
    text = text.strip()
    if text and text[-1] not in ".!?:":
        text += "."
    return text


# -- text from the case -----------------------------------------------------------------------


def clean(text: str) -> str:
    """Text from the case as it will print: NFC, control and format characters removed.

    Control characters (tabs, new lines, NUL, bell …) become spaces; invisible format characters
    (zero-width joiners, direction overrides, the byte-order mark) are dropped; lone surrogates
    become U+FFFD; runs of white space become one space.
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category == "Cf":
            continue
        elif category == "Cs":
            out.append("\ufffd")
        else:
            out.append(char)
    return " ".join("".join(out).split())


def _address_lines(settings: Settings) -> list[str]:
    return [
        line for line in (clean(part) for part in settings.pharmacy_address.splitlines()) if line
    ]


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            result.append(item)
    return result


# -- knowledge-base look-ups ------------------------------------------------------------------


def find_product(kb: KnowledgeBase, medicine: str) -> Product | None:
    wanted = " ".join(medicine.casefold().split())
    for product in kb.products:
        if wanted in {" ".join(name.casefold().split()) for name in (product.name, *product.names)}:
            return product
    return None


def find_rule_set(kb: KnowledgeBase, rule_set: str) -> RuleSet | None:
    return next((r for r in kb.rule_sets if r.id.casefold() == rule_set.casefold()), None)


def rules_in_force(
    kb: KnowledgeBase, case: Case, assessment: Assessment
) -> tuple[RuleSet | None, RuleSetVersion | None]:
    rule_set = find_rule_set(kb, case.rule_set)
    if rule_set is None:
        return None, None
    wanted = assessment.knowledge_base.rules_version
    for version in rule_set.versions:
        if version.id == wanted:
            return rule_set, version
    in_force = [v for v in rule_set.versions if v.effective_from <= case.counselled_on]
    if not in_force:
        return rule_set, None
    return rule_set, max(in_force, key=lambda v: v.effective_from)


def _applies(rule: InteractionRule, case: Case, rule_set: str) -> bool:
    if rule.severity.for_rule_set(rule_set) == "info":
        return False
    if rule.patient == "can-get-pregnant":
        return case.patient.can_get_pregnant
    if rule.patient == "cannot-get-pregnant":
        return not case.patient.can_get_pregnant
    return True


# -- building ---------------------------------------------------------------------------------


class _Writer:
    """Fills templates into spans: the template's words plain, the filled-in values bold."""

    def __init__(self, wording: Wording) -> None:
        self.w = wording

    def spans(self, key: str, **values: str) -> tuple[Span, ...]:
        result: list[Span] = []
        for literal, name, _spec, _conv in string.Formatter().parse(self.w.data.text[key]):
            if literal:
                result.append(Span(literal))
            if name:
                result.append(Span(values[name], bold=True))
        return tuple(result)

    def line(
        self, key: str, *, kind: LineKind = "para", measured: bool = True, **values: str
    ) -> Line:
        return Line(self.spans(key, **values), kind=kind, measured=measured)

    def plain(self, text: str, *, kind: LineKind = "para", bold: bool = False) -> Line:
        return Line((Span(text, bold=bold),), kind=kind)


def _months(w: Wording, days: int) -> str:
    """30 days → "1 month"; 60 → "2 months"; anything else in days."""
    if days % 30 == 0 and days >= 30:
        return w.count("month", days // 30)
    return w.count("day", days)


def build_content(
    case: Case,
    assessment: Assessment,
    kb: KnowledgeBase,
    settings: Settings,
    *,
    language: str,
    pharmacist: str | None,
    template_version: str,
) -> HandoutContent:
    wording = load_wording(language)
    notice_needed = wording is None
    if wording is None:
        wording = load_wording(BASE_LANGUAGE)
        if wording is None:  # pragma: no cover - packaging error
            raise UserError("The English handout wording is missing from this installation.")
    w = wording
    out = _Writer(w)
    facts = load_facts()

    name = clean(case.patient.name)
    if not name:
        raise UserError("patient.name: has no printable characters")
    product = find_product(kb, case.prescription.medicine)
    product_name = clean(assessment.product or (product.name if product else ""))
    product_name = product_name or clean(case.prescription.medicine) or kb.medicine
    rule_set, version = rules_in_force(kb, case, assessment)
    family = rule_set.family if rule_set else "US"

    details = [Line((Span(part),), measured=False) for part in _address_lines(settings)]
    if clean(settings.pharmacy_phone):
        details.append(out.line("phone", measured=False, phone=clean(settings.pharmacy_phone)))
    header = [
        out.line("for_patient", measured=False, name=name),
        out.line("printed_on", measured=False, date=w.date(case.counselled_on)),
    ]
    notice = None
    if notice_needed:
        notice = Line(
            (Span(w("no_translation", language=language_name(language)), bold=True),),
            measured=False,
        )

    sections = [
        _stop_section(out, case, settings, product_name, version, facts, family),
        _medicine_section(out, case, kb, product, product_name),
    ]
    if case.patient.can_get_pregnant:
        sections.append(_birth_control_section(out, case, assessment, version, product_name))
    sections.append(_avoid_section(out, case, assessment, kb, product_name))
    sections.append(_other_section(out, case, facts))
    sections.append(_keep_section(out, facts))

    sources = _sources(case, assessment, kb, product, version, facts)
    about = [
        out.line("about_guide", guide=w.guide(family)),
    ]
    pharmacist_name = clean(pharmacist or "")
    if pharmacist_name:
        about.append(out.line("counselled_by", measured=False, pharmacist=pharmacist_name))
    else:
        about.append(Line(out.spans("counselled_by_blank"), kind="blank-line", measured=False))
    rules_label = (rule_set.name if rule_set else clean(case.rule_set)) or case.rule_set
    effective = w.date(version.effective_from) if version else w.date(case.counselled_on)
    about.append(
        out.line(
            "based_on",
            measured=False,
            version=assessment.knowledge_base.version or kb.version,
            rules=rules_label,
            effective=effective,
            sources=", ".join(sources),
        )
    )
    about.append(out.line("sheet_version", measured=False, template=template_version))
    sections.append(Section("about", w("about_title"), tuple(about)))

    return HandoutContent(
        language=w.language,
        requested_language=language,
        title=w("title", product=product_name),
        subject=w("pdf_subject"),
        pharmacy=clean(settings.pharmacy_name),
        pharmacy_details=tuple(details),
        header=tuple(header),
        notice=notice,
        sections=tuple(sections),
        page_of=w.data.text["page_of"],
        sources=tuple(sources),
    )


def _stop_section(
    out: _Writer,
    case: Case,
    settings: Settings,
    product_name: str,
    version: RuleSetVersion | None,
    facts: FactsFile,
    family: str,
) -> Section:
    w = out.w
    lines = [out.line("stop_intro", product=product_name)]
    bullets = ["stop_mood", "stop_head", "stop_belly", "stop_rash"]
    if case.patient.can_get_pregnant:
        bullets.insert(0, "stop_pregnant")
    lines += [Line(out.spans(key), kind="bullet") for key in bullets]
    pharmacy = clean(settings.pharmacy_name)
    phone = clean(settings.pharmacy_phone)
    if phone:
        call = out.spans("call_pharmacy", pharmacy=pharmacy, phone=phone)
    else:
        call = out.spans("call_pharmacy_no_phone", pharmacy=pharmacy)
    prescriber = clean(case.prescription.prescriber)
    if prescriber:
        call += (Span(" "), *out.spans("call_doctor", prescriber=prescriber))
    lines.append(Line(call, measured=False))
    if case.patient.can_get_pregnant and version is not None and version.contact.strip():
        lines.append(out.line("call_programme", measured=False, contact=clean(version.contact)))
    number = facts.emergency_number.get(family)
    if number:
        lines.append(out.line("call_emergency", number=number))
    return Section("stop", w("stop_title"), tuple(lines), boxed=True)


def _medicine_section(
    out: _Writer, case: Case, kb: KnowledgeBase, product: Product | None, product_name: str
) -> Section:
    w = out.w
    rx = case.prescription
    strength = f"{w.number(rx.strength_mg)} mg"
    if product_name.casefold() != kb.medicine.casefold():
        first = out.line(
            "medicine_line_generic",
            measured=False,
            product=product_name,
            strength=strength,
            generic=kb.medicine,
        )
    else:
        first = out.line("medicine_line", measured=False, product=product_name, strength=strength)
    units = w.count("unit", rx.units_per_dose)
    dose = w("dose_with_mg", units=units, mg=w.number(rx.strength_mg * rx.units_per_dose))
    # The safe choice when the product is not known: with food (generic labels require it).
    food = w("food_any" if product and product.with_food == "with-or-without-food" else "food_with")
    same = str(rx.units_per_dose)
    if rx.doses_per_day == 1:
        how = out.line("dose_1", dose=dose, food=food)
    elif rx.doses_per_day == 2:
        how = out.line("dose_2", dose=dose, same=same, food=food)
    elif rx.doses_per_day == 3:
        how = out.line("dose_3", dose=dose, same=same, food=food)
    else:
        how = out.line("dose_n", dose=dose, times=str(rx.doses_per_day), food=food)
    lines = [
        first,
        how,
        out.line("swallow"),
        out.line("missed_dose"),
        out.line("supply", days=str(rx.days_supply)),
        out.line("no_sharing"),
    ]
    return Section("medicine", w("medicine_title"), tuple(lines))


def _birth_control_section(
    out: _Writer,
    case: Case,
    assessment: Assessment,
    version: RuleSetVersion | None,
    product_name: str,
) -> Section:
    w = out.w
    facts = load_facts().facts
    methods = _unique([clean(m) for m in case.contraception])
    lines: list[Line] = []
    if methods:
        lines.append(out.line("bc_methods"))
        lines += [Line((Span(m, bold=True),), kind="bullet", measured=False) for m in methods]
        lines.append(out.line("bc_every_time"))
    else:
        lines.append(out.line("bc_no_methods"))
    after_days = version.contraception_after_last_dose_days if version else 30
    lines.append(
        out.line(
            "bc_when",
            before=w.count("month", facts["contraception_months_before"].value),
            after=_months(w, after_days),
            product=product_name,
        )
    )
    due = assessment.next_pregnancy_test_due
    if due is not None:
        lines.append(out.line("bc_next_test", date=w.date(due)))
    window = version.window_can_get_pregnant if version else None
    if window is not None and window.anchor == "latest-pregnancy-test" and due is not None:
        last = due + dt.timedelta(days=window.days - 1)
        lines.append(
            out.line(
                "bc_pick_up_after_test",
                days=str(window.days),
                test=w.date(due),
                last=w.date(last),
            )
        )
    elif window is not None and window.anchor == "prescribed-on":
        lines.append(out.line("bc_pick_up_after_prescription", days=str(window.days)))
    return Section("birth-control", w("bc_title"), tuple(lines))


def flagged_medicines(assessment: Assessment) -> list[str]:
    """The patient's own medicines the engine flagged as interactions, in the order found."""
    return _unique(
        [clean(f.subject) for f in assessment.findings if f.category == "interaction" and f.subject]
    )


def general_avoid_list(case: Case, kb: KnowledgeBase, wording: Wording) -> list[str]:
    items = [
        wording.data.avoid_agents.get(rule.id) or clean(rule.agent)
        for rule in kb.interactions
        if _applies(rule, case, case.rule_set)
    ]
    return _unique(items)


def _avoid_section(
    out: _Writer, case: Case, assessment: Assessment, kb: KnowledgeBase, product_name: str
) -> Section:
    w = out.w
    lines: list[Line] = []
    flagged = flagged_medicines(assessment)
    if flagged:
        lines.append(out.line("avoid_yours"))
        lines += [Line((Span(m, bold=True),), kind="bullet", measured=False) for m in flagged]
    general = general_avoid_list(case, kb, w)
    if general:
        lines.append(out.line("avoid_general"))
        lines += [out.plain(item, kind="bullet") for item in general]
    lines.append(out.line("avoid_ask"))
    return Section("avoid", w("avoid_title", product=product_name), tuple(lines))


def _other_section(out: _Writer, case: Case, facts: FactsFile) -> Section:
    w = out.w
    f = facts.facts
    lines = [
        out.line(
            "other_blood",
            kind="bullet",
            months=w.count("month", f["blood_donation_months_after"].value),
        ),
        out.line(
            "other_skin", kind="bullet", months=w.count("month", f["cosmetic_months_after"].value)
        ),
        out.line("other_sun", kind="bullet", spf=str(f["sunscreen_spf"].value)),
        Line(out.spans("other_night"), kind="bullet"),
    ]
    if case.patient.can_get_pregnant:
        lines.append(
            out.line(
                "other_breastfeeding",
                kind="bullet",
                days=str(f["breastfeeding_days_after"].value),
            )
        )
    return Section("other", w("other_title"), tuple(lines))


def _fahrenheit(celsius: int) -> str:
    return str(round(celsius * 9 / 5 + 32))


def _keep_section(out: _Writer, facts: FactsFile) -> Section:
    w = out.w
    f = facts.facts
    low, high = f["storage_min_c"].value, f["storage_max_c"].value
    lines = [
        Line(out.spans("keep_blister"), kind="bullet"),
        out.line(
            "keep_temperature",
            kind="bullet",
            min_c=str(low),
            max_c=str(high),
            min_f=_fahrenheit(low),
            max_f=_fahrenheit(high),
        ),
        Line(out.spans("keep_children"), kind="bullet"),
        Line(out.spans("dispose"), kind="bullet"),
    ]
    return Section("keep", w("keep_title"), tuple(lines))


def _source_order(key: str) -> tuple[str, int, str]:
    prefix = key.rstrip("0123456789")
    digits = key[len(prefix) :]
    return (prefix, int(digits) if digits.isdigit() else 0, key)


def _sources(
    case: Case,
    assessment: Assessment,
    kb: KnowledgeBase,
    product: Product | None,
    version: RuleSetVersion | None,
    facts: FactsFile,
) -> list[str]:
    keys: set[str] = set()
    if product:
        keys.update(product.sources)
    if version:
        keys.update(version.sources)
    for rule in kb.interactions:
        if _applies(rule, case, case.rule_set):
            keys.update(rule.sources)
    for finding in assessment.findings:
        keys.update(finding.sources)
    for fact in facts.facts.values():
        keys.update(fact.sources)
    return sorted((clean(k) for k in keys if clean(k)), key=_source_order)
