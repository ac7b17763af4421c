"""What the handout says, before any layout: sections of lines of plain-text spans.

Built from the case, its assessment, the knowledge base and the settings; the PDF renderer only
lays it out. Keeping the words apart from ReportLab lets the tests measure readability of exactly
what is printed, and keeps every piece of text from the case a plain string until the renderer
escapes it.

The sheet follows the verdict: a session that must not be handed over (``do-not-dispense``) gets
the "not handed over today" sheet — what stands in the way, what happens next, whom to call and
the safety points that still apply, never dosing instructions. Every sentence comes from the
medicine pack's wording (``resources/knowledge/<medicine>/handout``); each line records the wording
key it was made from, so the Medication Guide coverage can be checked against what is printed.
"""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from pharmacist_tool.case import Case
from pharmacist_tool.engine.assessment import AfterCourse, Assessment, Finding
from pharmacist_tool.errors import UserError
from pharmacist_tool.handout.wording import (
    BASE_LANGUAGE,
    FactsFile,
    SheetLine,
    SheetSection,
    Wording,
    fallback_notes,
    language_name,
    load_coverage,
    load_facts,
    load_wording,
    placeholders,
)
from pharmacist_tool.knowledge import find_product
from pharmacist_tool.knowledge.matching import explain_medicine, match_method
from pharmacist_tool.knowledge.model import (
    ContraceptionMethod,
    InteractionRule,
    KnowledgeBase,
    PatientCategory,
    Product,
    RuleSet,
    RuleSetVersion,
    Sex,
)
from pharmacist_tool.settings import Settings, handout_details_missing

LineKind = Literal["para", "bullet", "blank-line", "date"]
SectionKind = Literal["lines", "calendar"]


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    whole: bool = False
    """Never broken across a line (a name, a phone number, a date): the renderer keeps it whole."""


WHOLE_UP_TO = 26
"""A filled-in value up to this many characters (a phone number, a date, most names) is kept on
one line; a longer one breaks at its spaces, never inside a word."""


@dataclass(frozen=True)
class Line:
    spans: tuple[Span, ...]
    kind: LineKind = "para"
    measured: bool = True
    """Counted in the readability check (False for names, addresses, version and dates)."""
    key: str = ""
    """The wording key the line was made from ("" for the patient's own words)."""

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: tuple[Line, ...]
    boxed: bool = False
    kind: SectionKind = "lines"

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
    """The pharmacy's name ("" when the settings do not give one: a line to write it on)."""
    pharmacy_details: tuple[Line, ...]
    """Address lines and phone number, under the pharmacy's name."""
    header: tuple[Line, ...]
    notice: Line | None
    sections: tuple[Section, ...]
    page_of: str
    """Template for the page footer, with ``{page}`` and ``{pages}``."""
    pharmacy_label: str = ""
    """The label of the line to write the pharmacy's name on when the settings have none."""
    blocked: bool = False
    """The "not handed over today" sheet (the assessment says ``do-not-dispense``)."""
    sources: tuple[str, ...] = field(default=())
    """Every source the sheet relies on (in the PDF's metadata, not printed as codes)."""
    missing_settings: tuple[str, ...] = ()
    """Settings the sheet needs but did not get (``pharmacy_name``, ``pharmacy_phone``)."""

    @property
    def measured_text(self) -> str:
        return " ".join(section.measured_text for section in self.sections)

    @property
    def line_keys(self) -> frozenset[str]:
        return frozenset(line.key for s in self.sections for line in s.lines if line.key)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

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


def missing_settings(settings: Settings) -> tuple[str, ...]:
    """The settings the sheet needs that are not set: the pharmacy's name and phone."""
    return handout_details_missing(settings)


# -- knowledge-base look-ups ------------------------------------------------------------------


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
    return _for_patient(rule, case)


def _for_patient(rule: InteractionRule, case: Case) -> bool:
    if rule.patient == "can-get-pregnant":
        return case.patient.can_get_pregnant
    if rule.patient == "cannot-get-pregnant":
        return not case.patient.can_get_pregnant
    return True


ADVICE_ORDER = ("do-not-combine", "same-medicine", "stop-supplement", "do-not-stop", "skin-ask",
                "ask-us")  # fmt: skip
"""When a line matches several classes, the strongest advice is the one printed."""
DO_NOT_TAKE = frozenset(("do-not-combine", "same-medicine", "stop-supplement"))
"""Classes listed under "Do not take"; the others under "Ask your doctor before you start"."""


# -- building ---------------------------------------------------------------------------------


class _Writer:
    """Fills templates into spans: the template's words plain, the filled-in values bold."""

    def __init__(self, wording: Wording, values: dict[str, str]) -> None:
        self.w = wording
        self.values = values
        """Values every template may use (``generic``, ``product``)."""

    def spans(
        self, key: str, words: str | None = None, *, own: bool = False, **values: str
    ) -> tuple[Span, ...]:
        """The spans of wording ``key`` (or of ``words``, a template from another table).

        The first letter of a line is a capital, unless it is the patient's own words (``own``).
        """
        given = {**self.values, **values}
        result: list[Span] = []
        text = self.w.data.text[key] if words is None else words
        for literal, name, _spec, _conv in string.Formatter().parse(text):
            if literal:
                result.append(Span(literal))
            if name:
                value = given[name]
                whole = len(value) <= WHOLE_UP_TO
                result.append(Span(value, bold=name not in self.values, whole=whole))
        if result and not own and result[0].text[:1].islower():
            first = result[0]
            result[0] = Span(first.text[:1].upper() + first.text[1:], first.bold, first.whole)
        return tuple(result)

    def line(
        self,
        key: str,
        *,
        kind: LineKind = "para",
        measured: bool = True,
        words: str | None = None,
        own: bool = False,
        **values: str,
    ) -> Line:
        spans = self.spans(key, words, own=own, **values)
        return Line(spans, kind=kind, measured=measured, key=key)

    def bullet(self, key: str, **values: str) -> Line:
        return Line(self.spans(key, None, own=False, **values), kind="bullet", key=key)


def _months(w: Wording, days: int) -> str:
    """30 days → "1 month"; 60 → "2 months"; 1096 → "3 years" (where the wording counts years);
    anything else in days."""
    years = round(days / 365.25)
    if years >= 1 and abs(days - years * 365.25) <= 1 and "year_many" in w.data.text:
        return w.count("year", years)
    if days % 30 == 0 and days >= 30:
        return w.count("month", days // 30)
    return w.count("day", days)


@dataclass(frozen=True)
class _Ctx:
    case: Case
    assessment: Assessment
    kb: KnowledgeBase
    settings: Settings
    facts: FactsFile
    out: _Writer
    version: RuleSetVersion | None
    family: str
    product: Product | None
    product_name: str
    generic: str

    @property
    def w(self) -> Wording:
        return self.out.w

    @property
    def pregnant_possible(self) -> bool:
        return self.case.patient.can_get_pregnant

    def for_patient(self, patient: PatientCategory, sex: Sex) -> bool:
        """The patient category and sex a line is for (the contract's ``patient.sex``: advice
        for men goes to a man, or, sex not given, to a patient who cannot get pregnant)."""
        if patient != "all" and (patient == "can-get-pregnant") != self.pregnant_possible:
            return False
        if sex == "any":
            return True
        given = self.case.patient.sex
        if given is not None:
            return given == sex
        return (sex == "female") == self.pregnant_possible

    def shows(self, line: SheetLine) -> bool:
        if not self.for_patient(line.patient, line.sex):
            return False
        if line.families and self.family not in line.families:
            return False
        if not line.after_positive_test and self.positive_test:
            return False
        answer = self.case.alcohol
        if line.alcohol and answer not in line.alcohol:
            return False
        return not (answer is not None and answer in line.unless_alcohol)

    @property
    def positive_test(self) -> bool:
        """The latest pregnancy test is positive (whatever the verdict)."""
        return any(is_positive_test(f) for f in self.assessment.findings)

    def value(self, spec: str) -> str:
        """A fact's number as the line prints it (``fact:months`` → "6 months")."""
        name, _, unit = spec.partition(":")
        number = self.facts.facts[name].value
        if unit in ("months", "days", "years"):
            return self.w.count(unit[:-1], number)
        if unit == "fahrenheit":
            return _fahrenheit(number)
        return str(number)

    def bullets(self, lines: list[SheetLine]) -> list[Line]:
        return [
            self.out.bullet(line.key, **{n: self.value(v) for n, v in line.values.items()})
            for line in lines
            if self.shows(line)
        ]


def _product_names(
    w: Wording, kb: KnowledgeBase, case: Case, assessment: Assessment, product: Product | None
) -> str:
    """The brand as the knowledge base shows it; the generic in the sheet's language."""
    if product is not None and product.id == kb.medicine:
        return w.data.generic
    name = clean(assessment.product or (product.name if product else ""))
    return name or clean(case.prescription.medicine) or w.data.generic


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
    medicine = assessment.knowledge_base.medicine or kb.medicine
    wording = load_wording(language, medicine)
    notice_needed = wording is None
    if wording is None:
        wording = load_wording(BASE_LANGUAGE, medicine)
        if wording is None:  # a pack whose handout wording is not written yet
            raise UserError(
                f"There is no approved handout for {medicine} yet: give the patient the leaflet "
                "in the box (and any patient card). To sign, pass the sheet given with "
                "--handout FILE."
            )
    w = wording
    facts = load_facts(medicine)

    name = clean(case.patient.name)
    if not name:
        raise UserError("patient.name: has no printable characters")
    product = find_product(kb, case.prescription.medicine)
    product_name = _product_names(w, kb, case, assessment, product)
    rule_set, version = rules_in_force(kb, case, assessment)
    family = rule_set.family if rule_set else "US"
    w = w.for_family(family)
    out = _Writer(w, {"generic": w.data.generic, "product": product_name})
    ctx = _Ctx(case, assessment, kb, settings, facts, out, version, family, product,
               product_name, w.data.generic)  # fmt: skip
    blocked = assessment.dispense == "do-not-dispense" or not_handed_over(case)
    missing = missing_settings(settings)

    details = [Line((Span(part),), measured=False) for part in _address_lines(settings)]
    if clean(settings.pharmacy_phone):
        details.append(out.line("phone", measured=False, phone=clean(settings.pharmacy_phone)))
    header = [
        out.line("for_patient", measured=False, name=name),
        out.line("printed_on", measured=False, date=w.date(case.counselled_on)),
    ]
    pharmacist_name = clean(pharmacist or "")
    if pharmacist_name:
        header.append(out.line("counselled_by", measured=False, pharmacist=pharmacist_name))
    else:
        header.append(Line(out.spans("counselled_by_blank"), kind="blank-line", measured=False))
    notice = None
    if notice_needed:
        notice = Line((Span(fallback_note(language, w), bold=True),), measured=False)

    sections: list[Section] = []
    if blocked:
        sections += _blocked_sections(ctx)
        if ctx.pregnant_possible and not ctx.positive_test:
            sections.append(_why_section(ctx))
        sections += _pack_sections(ctx)
        sections.append(_stop_section(ctx, blocked=True))
        sections.append(_still_section(ctx))
    else:
        act = _act_section(ctx)
        if act is not None:
            sections.append(act)
        if ctx.pregnant_possible and not ctx.positive_test:
            sections.append(_why_section(ctx))
        sections += _pack_sections(ctx)
        sections.append(_stop_section(ctx, blocked=False))
        calendar = _calendar_section(ctx)
        if calendar is not None:
            sections.append(calendar)
        sections.append(_medicine_section(ctx))
        if ctx.pregnant_possible:
            sections.append(_birth_control_section(ctx))
        sections.append(_avoid_section(ctx))
        sections.append(_other_section(ctx))
        sections.append(_keep_section(ctx))
        teach = _teach_back_section(ctx)
        if teach is not None:
            sections.append(teach)
    sections.append(_about_section(ctx, rule_set, template_version))

    return HandoutContent(
        language=w.language,
        requested_language=language,
        title=w("title_blocked" if blocked else "title", product=product_name),
        subject=w("pdf_subject"),
        pharmacy="" if "pharmacy_name" in missing else clean(settings.pharmacy_name),
        pharmacy_details=tuple(details),
        header=tuple(header),
        notice=notice,
        sections=tuple(sections),
        page_of=w.data.text["page_of"],
        pharmacy_label=w("pharmacy_blank"),
        blocked=blocked,
        sources=tuple(_sources(ctx)),
        missing_settings=missing,
    )


# -- sections ---------------------------------------------------------------------------------


def fallback_note(language: str, english: Wording) -> str:
    """The note on a sheet printed in English because the language asked for has no approved
    wording: in that language when the shared notes have it, and in English too."""
    said = english("no_translation", language=language_name(language))
    own = fallback_notes().get(language, "")
    return f"{own} {said}" if own else said


def _why_section(ctx: _Ctx) -> Section:
    out, w = ctx.out, ctx.w
    wanted = placeholders(w.data.text["why_no_pregnancy"])  # a pack may give no periods
    before = after = ""
    if "before" in wanted:
        before = w.count("month", ctx.facts.facts["contraception_months_before"].value)
    if "after" in wanted:
        after_days = ctx.version.contraception_after_last_dose_days if ctx.version else 30
        after = _months(w, after_days)
    # a figure the pack's wording names is one of its cited facts ("about {defects} in 100")
    words = w.data.text["why_defects"]
    for name in placeholders(words) & set(ctx.facts.facts):
        words = words.replace(f"{{{name}}}", ctx.value(name))
    defects = out.spans("why_defects", words)
    lines = [
        Line(tuple(Span(s.text, bold=True, whole=s.whole) for s in defects), key="why_defects"),
        out.line("why_no_pregnancy", before=before, after=after),
    ]
    return Section("why", w("why_title"), tuple(lines), boxed=True)


def _pack_sections(ctx: _Ctx) -> list[Section]:
    """The sections a pack adds (such as advice for men), for the patients they are for."""
    sections: list[Section] = []
    for spec in ctx.facts.sheet.sections:
        if not ctx.for_patient(spec.patient, spec.sex):
            continue
        lines = ctx.bullets(spec.lines)
        if lines:
            sections.append(_pack_section(ctx, spec, lines))
    return sections


def _pack_section(ctx: _Ctx, spec: SheetSection, lines: list[Line]) -> Section:
    if len(lines) == 1:  # one point is said, not listed
        lines = [Line(lines[0].spans, key=lines[0].key)]
    title = spec.title
    # advice for one sex, to a patient whose sex is not given: a title that does not assume it
    if spec.sex != "any" and ctx.case.patient.sex is None:
        title = next((t for t in (f"{title}_unstated",) if t in ctx.w.data.text), title)
    return Section(spec.key, ctx.w(title), tuple(lines), boxed=spec.boxed)


def _call_lines(ctx: _Ctx) -> list[Line]:
    out = ctx.out
    pharmacy = (
        "" if "pharmacy_name" in missing_settings(ctx.settings) else ctx.settings.pharmacy_name
    )
    pharmacy = clean(pharmacy)
    phone = clean(ctx.settings.pharmacy_phone)
    lines: list[Line] = []
    if phone and pharmacy:
        call = out.spans("call_pharmacy", pharmacy=pharmacy, phone=phone)
        prescriber = clean(ctx.case.prescription.prescriber)
        if prescriber:  # one line: whom to call first, then the doctor
            call += (Span(" "), *out.spans("call_doctor", prescriber=prescriber))
        lines.append(Line(call, measured=False, key="call_pharmacy"))
    else:
        # No number in the settings: a line to write it on, never a call with nothing to dial.
        label = out.spans("call_pharmacy_blank")
        known = pharmacy or phone
        if known:
            label += (Span(" "), Span(known, bold=True))
        lines.append(Line(label, kind="blank-line", measured=False, key="call_pharmacy_blank"))
        prescriber = clean(ctx.case.prescription.prescriber)
        if prescriber:
            lines.append(out.line("call_doctor", measured=False, prescriber=prescriber))
    contact = ctx.w.data.programme_contact.get(ctx.family, "")
    number = ctx.facts.emergency_number.get(ctx.family)
    emergency = out.line("call_emergency", number=number) if number else None
    if ctx.pregnant_possible and contact:
        programme = out.line("call_programme", measured=False, contact=contact)
        if emergency is not None:  # one line: the programme, then the emergency number
            spans = (*programme.spans, Span(" "), *emergency.spans)
            programme = Line(spans, measured=False, key="call_programme")
            emergency = None
        lines.append(programme)
    if emergency is not None:
        lines.append(emergency)
    return lines


def _stop_section(ctx: _Ctx, *, blocked: bool) -> Section:
    out, w = ctx.out, ctx.w
    lines = [out.line("stop_intro_blocked" if blocked else "stop_intro")]
    lines += ctx.bullets(ctx.facts.sheet.stop)
    if not blocked:
        lines += _call_lines(ctx)
    return Section("stop", w("stop_title"), tuple(lines), boxed=True)


def not_handed_over(case: Case) -> bool:
    """The session's recorded outcome says the medicine was not handed over (for any reason)."""
    return case.outcome is not None and case.outcome.status == "not-handed-over"


def _outcome_lines(ctx: _Ctx) -> list[Line]:
    """The recorded reason the medicine was not handed over, as the pharmacist wrote it."""
    outcome = ctx.case.outcome
    if outcome is None or outcome.status != "not-handed-over" or not clean(outcome.reason):
        return []
    return [ctx.out.line("outcome_reason", reason=clean(outcome.reason))]


def _standing_blocks(assessment: Assessment) -> list[Finding]:
    return [f for f in assessment.findings if f.severity == "block" and f.stands]


def is_positive_test(finding: Finding) -> bool:
    return finding.code.startswith("pregnancy-test.positive") and not finding.code.endswith(
        "-then-negative"
    )


def _block_key(ctx: _Ctx, finding: Finding, table: dict[str, str]) -> str:
    if finding.code in table:
        return finding.code
    if finding.code.startswith("contraception.weakened"):
        return "contraception.weakened"
    if finding.category == "interaction":
        return "interaction"
    return "other"


def _lines_named(ctx: _Ctx, finding: Finding) -> list[str]:
    """The patient's own lines (medicines, then birth control) a finding names ("a; b"); when it
    names none of them and the prescribed medicine itself weakens birth control, that medicine
    (the engine's subject names it in the pharmacist's words, not the patient's)."""
    subject = finding.subject or ""
    mine = [m for m in (*ctx.case.medicines, *ctx.case.contraception) if m and m in subject]
    if not mine and finding.code.startswith("contraception.weakened") and _prescribed_weakens(ctx):
        mine = [ctx.product_name]
    return mine or ([subject] if subject else [])


def _prescribed_weakens(ctx: _Ctx) -> bool:
    return ctx.kb.weakens_contraception_at(ctx.family, ctx.case.prescription.daily_dose_mg)


def _weakened_methods(ctx: _Ctx) -> list[str]:
    """The patient's hormonal birth control that an inducer weakens, as the patient named it (in
    another language, the method's name in that language)."""
    names: list[str] = []
    for text in ctx.case.contraception:
        method = match_method(ctx.kb, text) if clean(text) else None
        if method is None or not method.weakened_by_enzyme_inducers:
            continue
        own = ctx.w.language == BASE_LANGUAGE
        names.append(clean(text) if own else _method_name(ctx, method))
    return _unique(names)


def _advice_lines(ctx: _Ctx, finding: Finding) -> list[Line]:
    """What to do about each of the patient's own medicines a finding names: a supplement is
    stopped, a prescribed medicine never on the sheet's word (the pack's ``own_medicine``)."""
    named = _lines_named(ctx, finding)
    items = own_medicines(ctx.case, ctx.assessment, ctx.kb, ctx.facts)
    return [
        _own_line(ctx, item, name)
        for item in items
        if item.line in named
        for name in _medicine_names(ctx, item.line)
    ]


def _finding_values(ctx: _Ctx, finding: Finding) -> tuple[str, str]:
    """The patient's own medicines a finding names, and their weakened birth control."""
    medicines = [n for m in _lines_named(ctx, finding) for n in _medicine_names(ctx, m)]
    medicine = ctx.w.join(_unique(medicines)) or "…"
    method = ctx.w.join(_weakened_methods(ctx)) or ctx.w("bc_your_method")
    return medicine, method


def _method_lines(ctx: _Ctx) -> list[Line]:
    """Which of the patient's methods do not count and why, and what the rule asks for."""
    out = ctx.out
    lines: list[Line] = []
    counted: list[str] = []
    for text in ctx.case.contraception:
        method = match_method(ctx.kb, text) if clean(text) else None
        if method is None:
            if clean(text):
                lines.append(out.line("bc_unrecognised", kind="bullet", measured=False,
                                      method=clean(text)))  # fmt: skip
            continue
        name = _method_name(ctx, method)
        status = method.status.get(ctx.family, "not-acceptable")
        if status in ("primary", "secondary"):
            counted.append(name)
            continue
        why = ctx.w.data.not_counted.get(method.id, "").format(generic=ctx.generic)
        if why:
            lines.append(out.line("bc_not_counted", kind="bullet", method=name, why=why))
    if counted:
        lines.append(out.line("bc_not_enough", kind="bullet", methods=ctx.w.join(_unique(counted))))
    if not ctx.case.contraception:
        lines.append(out.line("bc_no_methods", kind="bullet"))
    two = ctx.version is None or ctx.version.contraception_rule == "two-methods-one-primary"
    lines.append(out.line("bc_rule_us" if two else "bc_rule_uk"))
    return lines


def _reason_and_steps(
    ctx: _Ctx, finding: Finding, reasons: dict[str, str], steps: dict[str, str], prefix: str
) -> tuple[list[Line], list[Line]]:
    """What a finding means for the patient (in their own words) and what they do about it."""
    out = ctx.out
    key = _block_key(ctx, finding, reasons)
    medicine, method = _finding_values(ctx, finding)
    why = [out.line(f"{prefix}.{key}", kind="bullet", words=reasons[key], medicine=medicine,
                    method=method)]  # fmt: skip
    if key == "contraception.rule-not-met":
        why += _method_lines(ctx)
    todo: list[Line] = []
    if steps.get(key):
        todo.append(out.line(f"{prefix}_next.{key}", words=steps[key], medicine=medicine,
                             method=method))  # fmt: skip
    advice = _advice_lines(ctx, finding) if key in ("interaction", "contraception.weakened") else []
    if advice and key == "interaction":
        todo = advice  # what to do about their own medicine says it better than the default
    else:
        todo += advice
    return why, todo


def _blocked_sections(ctx: _Ctx) -> list[Section]:
    out, w = ctx.out, ctx.w
    blocks = _standing_blocks(ctx.assessment)
    why: list[Line] = [out.line("blocked_intro" if blocks else "outcome_intro")]
    why += _outcome_lines(ctx)
    nexts: list[Line] = []
    for finding in blocks:
        reasons, steps = _reason_and_steps(
            ctx, finding, w.data.blocked, w.data.blocked_next, "blocked"
        )
        why += [r for r in reasons if r.text not in {line.text for line in why}]
        nexts += [s for s in steps if s.text not in {line.text for line in nexts}]
    positive = ctx.positive_test
    if not positive:
        nexts.append(out.line("blocked_none"))
        nexts.append(out.line("blocked_next_come_back" if blocks else "outcome_next"))
    nexts += _call_lines(ctx)
    return [
        Section(
            "blocked", w("blocked_why_title" if blocks else "outcome_title"), tuple(why), boxed=True
        ),
        Section("next", w("blocked_next_title"), tuple(nexts)),
    ]


def _act_section(ctx: _Ctx) -> Section | None:
    """On a sheet handed over with warnings: what the patient must do now about each (an urgent
    review, a referral, condoms from today), in their own words."""
    act = ctx.w.data.act
    lines: list[Line] = []
    for finding in ctx.assessment.findings:
        if finding.severity != "warn":
            continue
        key = _block_key(ctx, finding, act)
        if key not in act:
            continue
        said, todo = _reason_and_steps(ctx, finding, act, {}, "act")
        if key != "contraception.rule-not-met":
            said = [Line(said[0].spans, key=said[0].key)]  # one point is said, not listed
        for line in (*said, *todo):
            if line.text not in {known.text for known in lines}:
                lines.append(line)
    if not lines:
        return None
    return Section("act", ctx.w("act_title"), tuple(lines), boxed=True)


def _still_section(ctx: _Ctx) -> Section:
    return Section("still", ctx.w("blocked_still_title"), tuple(ctx.bullets(ctx.facts.sheet.still)))


def _calendar_section(ctx: _Ctx) -> Section | None:
    out, w = ctx.out, ctx.w
    lines: list[Line] = []
    days: list[dt.date] = []

    def add(key: str, day: object) -> None:
        if isinstance(day, dt.date):
            lines.append(out.line(key, kind="date", measured=False, date=w.date(day)))
            days.append(day)

    after = getattr(ctx.assessment, "after_course", None)
    last_fill = isinstance(after, AfterCourse)
    due = ctx.assessment.next_pregnancy_test_due
    window = ctx.version.window_can_get_pregnant if ctx.version else None
    from_test = window is not None and window.anchor == "latest-pregnancy-test"
    if not last_fill:  # the last fill has no next fill: its dates are those after the course
        add("cal_next_test", due)
        if ctx.pregnant_possible and from_test and window is not None and due is not None:
            add("cal_pick_up", due + dt.timedelta(days=window.days - 1))
    if last_fill:
        for key, name in (
            ("cal_last_dose", "last_dose_on"),
            ("cal_after_test", "pregnancy_test_due"),
            ("cal_contraception_until", "contraception_until"),
            ("cal_blood", "blood_donation_from"),
            ("cal_cosmetic", "cosmetic_procedures_from"),
        ):
            value = after.get(name) if isinstance(after, dict) else getattr(after, name, None)
            if name == "pregnancy_test_due" and not ctx.pregnant_possible:
                continue
            if name == "contraception_until" and not ctx.pregnant_possible:
                continue
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    continue
            add(key, value)
    if not lines:
        return None
    ordered = [line for _, line in sorted(zip(days, lines, strict=True), key=lambda p: p[0])]
    return Section("calendar", w("cal_title"), tuple(ordered), kind="calendar")


def _medicine_section(ctx: _Ctx) -> Section:
    out, w = ctx.out, ctx.w
    rx = ctx.case.prescription
    strength = f"{w.number(rx.strength_mg)} mg"
    if ctx.product_name.casefold() != ctx.generic.casefold():
        first = out.line("medicine_line_generic", measured=False, strength=strength)
    else:
        first = out.line("medicine_line", measured=False, strength=strength)
    units = w.count("unit", rx.units_per_dose)
    dose = w("dose_with_mg", units=units, mg=w.number(rx.strength_mg * rx.units_per_dose))
    # The safe choice when the product is not known: with food (generic labels require it).
    any_food = ctx.product is not None and ctx.product.with_food == "with-or-without-food"
    food = w("food_any" if any_food else "food_with")
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


def _method_name(ctx: _Ctx, method: ContraceptionMethod) -> str:
    return method.names.get(ctx.w.language) or method.names.get(BASE_LANGUAGE) or method.label


def _birth_control_section(ctx: _Ctx) -> Section:
    out, w, case = ctx.out, ctx.w, ctx.case
    family = ctx.family
    version = ctx.version
    two_methods = version is None or version.contraception_rule == "two-methods-one-primary"
    lines: list[Line] = []
    plan: list[Line] = []
    other: list[Line] = []
    hormonal: list[str] = []
    seen: set[str] = set()
    abstinence = agreement = False
    for text in case.contraception:
        if not clean(text):
            continue
        method = match_method(ctx.kb, text)
        if method is None:
            other.append(out.line("bc_unrecognised", measured=False, method=clean(text)))
            continue
        if method.id in seen:
            continue
        seen.add(method.id)
        status = method.status.get(family, "not-acceptable")
        name = _method_name(ctx, method)
        if status == "abstinence" and version is not None and version.abstinence_accepted:
            abstinence = True
        elif status == "agreement":
            agreement = True
        elif status in ("primary", "secondary"):
            if method.hormonal:
                hormonal.append(name)
            if not two_methods and method.user_independent and status == "primary":
                key = "bc_method_independent"
            else:
                key = f"bc_method_{status}"
            plan.append(out.line(key, kind="bullet", measured=False, method=name))
        else:
            why = w.data.not_counted.get(method.id, "").format(generic=ctx.generic)
            other.append(out.line("bc_not_counted", method=name, why=why))
    stated = version is None or version.contraception_rule != "none"
    if stated and (plan or not (abstinence or agreement)):
        # the rule, unless the patient's own choice (no sex at all, or no risk) is the plan, or
        # the rule set states none (the label's "effective birth control" is in "why")
        lines.append(out.line("bc_rule_us" if two_methods else "bc_rule_uk"))
    if plan:
        not_met = any(f.code == "contraception.rule-not-met" for f in ctx.assessment.findings)
        lines.append(out.line("bc_now" if not_met else "bc_plan"))
        lines += plan
    if abstinence:
        lines += [out.line("bc_abstinence"), out.line("bc_abstinence_change")]
    if agreement:
        lines.append(out.line("bc_agreement"))
    lines += other
    if not (plan or abstinence or agreement or other):
        lines.append(out.line("bc_no_methods"))
    if hormonal:
        for line in _inducer_lines(ctx):
            # the patient's words, as they said them
            lines.append(out.line("bc_inducer", own=True, medicine=line, method=w.join(hormonal)))
    lines.append(out.line("bc_emergency"))
    due = ctx.assessment.next_pregnancy_test_due
    window = version.window_can_get_pregnant if version else None
    if window is not None and window.anchor == "latest-pregnancy-test" and due is None:
        lines.append(out.line("bc_pick_up_after_test", days=str(window.days)))
    elif window is not None and window.anchor == "prescribed-on":
        lines.append(out.line("bc_pick_up_after_prescription", days=str(window.days)))
    lines.append(out.line("bc_tests_after_us" if family == "US" else "bc_tests_after_uk"))
    return Section("birth-control", w("bc_title"), tuple(lines))


def _inducer_lines(ctx: _Ctx) -> list[str]:
    """The patient's medicines that can stop hormonal birth control working, as printed: first
    the prescribed medicine itself, where its pack says it weakens contraception at this dose."""
    names: list[str] = []
    if _prescribed_weakens(ctx):
        names.append(ctx.product_name)
    for text in ctx.case.medicines:
        if any(m.rule.weakens_hormonal_contraception for m in explain_medicine(ctx.kb, text)):
            names += _medicine_names(ctx, text)
    return _unique(names)


def _medicine_names(ctx: _Ctx, text: str) -> list[str]:
    """A line of the patient's medicines as the sheet names it: the patient's own words, in every
    language ("Tegretol 200 mg" stays "Tegretol 200 mg"). In another language, the medicine's name
    in that language follows in brackets when the wording has one (``agent_names``) and the line
    does not already say it; never a class phrase in its place."""
    line = clean(text)
    if not line:
        return []
    if ctx.w.language == BASE_LANGUAGE:
        return [line]
    local = [ctx.w.data.agent_names.get(m.term) for m in explain_medicine(ctx.kb, line)]
    found = next((name for name in local if name), "")
    if found and found.casefold() not in line.casefold():
        return [f"{line} ({found})"]
    return [line]


@dataclass(frozen=True)
class OwnMedicineLine:
    """One of the patient's own medicines and what the sheet tells them about it."""

    line: str
    rule: InteractionRule
    advice: str
    stopped: bool


def own_medicines(
    case: Case, assessment: Assessment, kb: KnowledgeBase, facts: FactsFile
) -> list[OwnMedicineLine]:
    """The patient's medicines that a class of the knowledge base applies to, in their order."""
    resolutions = {f.code: (f.resolution or "") for f in assessment.findings}
    result: list[OwnMedicineLine] = []
    for text in case.medicines:
        matches = [m for m in explain_medicine(kb, text) if _for_patient(m.rule, case)]
        advised = [(facts.own_medicine[m.rule.id].advice, m.rule) for m in matches
                   if m.rule.id in facts.own_medicine]  # fmt: skip
        if not advised:
            continue
        advice, rule = min(advised, key=lambda pair: ADVICE_ORDER.index(pair[0]))
        said = resolutions.get(f"interaction.{rule.id}", "").casefold()
        stopped = any(t in said for t in facts.stopped_terms) and not any(
            t in said for t in facts.still_taking_terms
        )
        result.append(OwnMedicineLine(text, rule, advice, stopped))
    return result


def flagged_medicines(assessment: Assessment) -> list[str]:
    """The patient's own medicines the engine flagged as interactions, in the order found (not
    a line it could not screen: nothing is known against that one)."""
    return _unique(
        [
            clean(f.subject)
            for f in assessment.findings
            if f.category == "interaction" and f.subject and f.code != "medicine.unrecognised"
        ]
    )


def general_avoid_list(
    case: Case, kb: KnowledgeBase, wording: Wording, facts: FactsFile | None = None
) -> tuple[list[str], list[str]]:
    """The classes to avoid: (do not take, ask your doctor before you start)."""
    facts = facts or load_facts(kb.medicine)
    never: list[str] = []
    ask: list[str] = []
    for rule in kb.interactions:
        if not _applies(rule, case, case.rule_set):
            continue
        words = wording.data.avoid_agents.get(rule.id)
        if not words:
            continue
        advice = facts.own_medicine.get(rule.id)
        (never if advice is None or advice.advice in DO_NOT_TAKE else ask).append(words)
    return _unique(never), _unique(ask)


def _own_line(ctx: _Ctx, item: OwnMedicineLine, name: str, kind: LineKind = "para") -> Line:
    """What the patient is told about one of their own medicines (stopped, when the prescriber
    stopped it)."""
    own_words = True  # the patient's own words, as they said them, in every language
    if item.stopped:
        return ctx.out.line("own_stopped", kind=kind, own=own_words, medicine=name)
    template = ctx.w.data.own_medicine[item.advice]
    return ctx.out.line(f"own_medicine.{item.advice}", kind=kind, own=own_words, words=template,
                        medicine=name)  # fmt: skip


def _avoid_section(ctx: _Ctx) -> Section:
    out, w = ctx.out, ctx.w
    lines: list[Line] = []
    own = own_medicines(ctx.case, ctx.assessment, ctx.kb, ctx.facts)
    if own:
        lines.append(out.line("avoid_yours"))
        lines += [
            _own_line(ctx, item, name, kind="bullet")
            for item in own
            for name in _medicine_names(ctx, item.line)
        ]
    never, ask = general_avoid_list(ctx.case, ctx.kb, w, ctx.facts)
    # every class stays listed, even one the patient's own medicine belongs to: the warning holds
    # for any other medicine of that class (and after theirs is stopped)
    if never:
        lines.append(out.line("avoid_general"))
        lines += [Line((Span(item),), kind="bullet", key="avoid_agents") for item in never]
    if ask:
        lines.append(out.line("avoid_ask_first"))
        lines += [Line((Span(item),), kind="bullet", key="avoid_agents") for item in ask]
    lines.append(out.line("avoid_ask"))
    return Section("avoid", w("avoid_title"), tuple(lines))


def _other_section(ctx: _Ctx) -> Section:
    return Section("other", ctx.w("other_title"), tuple(ctx.bullets(ctx.facts.sheet.other)))


def _fahrenheit(celsius: int) -> str:
    return str(round(celsius * 9 / 5 + 32))


def _keep_section(ctx: _Ctx) -> Section:
    return Section("keep", ctx.w("keep_title"), tuple(ctx.bullets(ctx.facts.sheet.keep)))


def teach_back_ids(assessment: Assessment, kb: KnowledgeBase) -> list[str]:
    """The teach-back questions of this session, as the checklist lists them."""
    kinds = {item.id: item.kind for item in kb.checklist}
    return [e.id for e in assessment.checklist if kinds.get(e.id) == "teach-back"]


def _teach_back_section(ctx: _Ctx) -> Section | None:
    out, w = ctx.out, ctx.w
    lines = [
        out.line("teach_back", kind="bullet", words=w.data.teach_back[item])
        for item in teach_back_ids(ctx.assessment, ctx.kb)
        if item in w.data.teach_back
    ]
    if not lines:
        return None
    return Section("teach-back", w("teach_title"), tuple(lines))


def _about_section(ctx: _Ctx, rule_set: RuleSet | None, template_version: str) -> Section:
    out, w, case, assessment = ctx.out, ctx.w, ctx.case, ctx.assessment
    about = [out.line("about_guide", guide=w.guide(ctx.family))]
    rules_label = w.data.rule_set_names.get(rule_set.id if rule_set else case.rule_set) or (
        rule_set.name if rule_set else clean(case.rule_set)
    )
    key, effective = _effective(ctx)
    about.append(
        out.line(
            key,
            measured=False,
            version=assessment.knowledge_base.version or ctx.kb.version,
            rules=rules_label,
            effective=effective,
            template=template_version,
        )
    )
    return Section("about", w("about_title"), tuple(about))


def _effective(ctx: _Ctx) -> tuple[str, str]:
    """The wording key of the "based on" line and the date the rules in force took effect: the
    pack's dated label version when the sheet's facts give one (a US label has no programme
    start date), else the rule set version's own date."""
    version = ctx.version
    if version is None:
        return "based_on", ctx.w.date(ctx.case.counselled_on)
    dated = ctx.facts.rule_versions.get(version.id)
    if dated is None:
        return "based_on", ctx.w.date(version.effective_from)
    if dated.precision == "none":
        return "based_on_undated", ""
    if dated.precision == "month":
        day = dated.effective
        month = ctx.w("date_month", month=ctx.w.data.months[day.month - 1], year=str(day.year))
        return "based_on_month", month
    return "based_on", ctx.w.date(dated.effective)


# -- sources ----------------------------------------------------------------------------------


def _source_order(key: str) -> tuple[str, int, str]:
    prefix = key.rstrip("0123456789")
    digits = key[len(prefix) :]
    return (prefix, int(digits) if digits.isdigit() else 0, key)


def _sources(ctx: _Ctx) -> list[str]:
    keys: set[str] = set()
    case = ctx.case
    if ctx.product:
        keys.update(ctx.product.sources)
    if ctx.version:
        keys.update(ctx.version.sources)
    for rule in ctx.kb.interactions:
        if _applies(rule, case, case.rule_set):
            keys.update(rule.sources)
    for finding in ctx.assessment.findings:
        keys.update(finding.sources)
    for fact in ctx.facts.facts.values():
        keys.update(fact.sources)
    for item in own_medicines(case, ctx.assessment, ctx.kb, ctx.facts):
        keys.update(ctx.facts.own_medicine[item.rule.id].sources)
    for guide in load_coverage(ctx.kb.medicine).guides:
        if ctx.family in guide.families:
            keys.update(guide.sources)
    return sorted((clean(k) for k in keys if clean(k)), key=_source_order)
