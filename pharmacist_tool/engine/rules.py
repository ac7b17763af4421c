"""The checks: pure functions from (case, knowledge base, rules in force) to findings.

Numbers, lists and wording come from the knowledge base; this module decides only *when* a
finding applies, its category and its severity. Programme-rule blocks (``programme_rule=True``)
can never be overridden; every other warn or block is cleared by a recorded resolution.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from pharmacist_tool.case import Case, age_on
from pharmacist_tool.engine.assessment import (
    Assessment,
    Category,
    ChecklistEntry,
    Dispense,
    Finding,
    KnowledgeBaseRef,
    MedicineScreened,
)
from pharmacist_tool.engine.resolutions import resolution_words
from pharmacist_tool.engine.test_setting import set_aside_home_tests
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import find_product, rule_set, rules_in_force
from pharmacist_tool.knowledge.contract import checks_test_interval
from pharmacist_tool.knowledge.matching import (
    NO_OTHER_MEDICINES,
    Screening,
    match_method,
    names_no_medicine,
    screen_medicine,
    words,
)
from pharmacist_tool.knowledge.model import (
    ContraceptionMethod,
    DoseRange,
    Indication,
    KnowledgeBase,
    Message,
    PatientCategory,
    Product,
    RuleSet,
    RuleSetVersion,
    Severity,
    Window,
)

CATEGORY_ORDER: dict[str, int] = {
    c: i
    for i, c in enumerate(
        ["interaction", "pregnancy-prevention", "prescription", "dose", "safety", "counselling"]
    )
}
SEVERITY_ORDER: dict[str, int] = {"block": 0, "warn": 1, "info": 2}


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def _fmt_date(value: dt.date) -> str:
    return value.isoformat()


class _Context:
    """Everything the checks share for one case."""

    def __init__(self, case: Case, kb: KnowledgeBase) -> None:
        self.case = case
        self.kb = kb
        found_set = rule_set(kb, case.rule_set)
        if found_set is None:
            raise UserError(
                f"rule_set: {case.rule_set!r} is not a rule set of the {kb.medicine} pack "
                f"(known: {', '.join(r.id for r in kb.rule_sets)})."
            )
        self.rule_set: RuleSet = found_set
        self.rules: RuleSetVersion = rules_in_force(kb, found_set.id, case.counselled_on)
        product = find_product(kb, case.prescription.medicine)
        if product is None:
            known = ", ".join(p.name for p in kb.products)
            raise UserError(
                f"prescription.medicine: {case.prescription.medicine!r} is not a product "
                f"the {kb.medicine} knowledge base knows (known: {known})."
            )
        self.product: Product = product
        self.indication: Indication | None = kb.indication(case.prescription.indication)
        if self.indication is None and not case.prescription.indication:
            self.indication = _licensed_only_for(kb, product)
        self.can_get_pregnant = case.patient.can_get_pregnant
        self.findings: list[Finding] = []
        self.screened: list[MedicineScreened] = []

    def applies_to(self, category: PatientCategory) -> bool:
        if category == "all":
            return True
        return (category == "can-get-pregnant") == self.can_get_pregnant

    def sex_applies(self, sex: str) -> bool:
        """Advice for one sex: for a patient of that sex, or (not given) whose category fits it
        (male advice for a patient who cannot get pregnant)."""
        if sex == "any":
            return True
        given = self.case.patient.sex
        if given is not None:
            return given == sex
        return (sex == "female") == self.can_get_pregnant

    def message(self, code: str) -> Message:
        """The wording for this version, else for this rule set, else the general wording; at
        each level the wording for the case's indication wins over the wording for any."""
        best: tuple[int, int] | None = None
        found: Message | None = None
        indication = self.indication.id if self.indication else None
        for m in self.kb.messages:
            if m.code != code or (m.indications and indication not in m.indications):
                continue
            if self.rules.id in m.rule_sets:
                level = 3
            elif self.rule_set.id in m.rule_sets:
                level = 2
            elif not m.rule_sets:
                level = 1
            else:
                continue
            rank = (level, 1 if m.indications else 0)
            if best is None or rank > best:
                best, found = rank, m
        if found is None:
            raise UserError(
                f"The knowledge base has no wording for finding {code!r} "
                f"(messages.json, rule set {self.rule_set.id})."
            )
        return found

    def severity(self, code: str, severity: Severity) -> Severity:
        """The engine's severity, as this rule set and then the case's indication give it."""
        severity = self.rules.severities.get(code, severity)
        if self.indication is not None:
            severity = self.indication.severities.get(code, severity)
        return severity

    def add(
        self,
        code: str,
        category: Category,
        severity: Severity,
        *,
        subject: str | None = None,
        programme_rule: bool = False,
        wording: str | None = None,
        **values: Any,
    ) -> None:
        text = self.message(wording or code)
        values.setdefault("subject", subject or "")
        severity = self.severity(code, severity)
        # the rule set's findings that never clear (a positive pregnancy test, in every rule set)
        never_clears = code in self.rules.never_clear and severity != "info"
        self.findings.append(
            Finding(
                code=code,
                category=category,
                severity=severity,
                subject=subject,
                message=text.message.format(**values),
                action=text.action.format(**values),
                sources=list(text.sources),
                programme_rule=never_clears
                or (programme_rule and self.rules.programme and severity == "block"),
                resolution=resolution_words(self.case.resolutions.get(code)),
            )
        )

    def add_rule_finding(
        self,
        code: str,
        category: Category,
        severity: Severity,
        message: str,
        action: str,
        sources: Iterable[str],
        subject: str | None,
    ) -> None:
        self.findings.append(
            Finding(
                code=code,
                category=category,
                severity=self.severity(code, severity),
                subject=subject,
                message=message,
                action=action,
                sources=list(sources),
                resolution=resolution_words(self.case.resolutions.get(code)),
            )
        )


def _licensed_only_for(kb: KnowledgeBase, product: Product) -> Indication | None:
    """The one indication a product is licensed for (a case need not say it), else None."""
    if len(product.indications) != 1:
        return None
    return next((i for i in kb.indications if i.id == product.indications[0]), None)


# -- dates --------------------------------------------------------------------------------------


def _plus_days(day: dt.date, days: int) -> dt.date:
    """``day`` + ``days``, stopping at the last representable date instead of failing."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


def _latest_test(case: Case) -> tuple[dt.date, str] | None:
    """The most recent test; a positive result wins over a negative one on the same day."""
    if not case.pregnancy_tests:
        return None
    latest = max(case.pregnancy_tests, key=lambda t: (t.date, t.result == "positive"))
    return latest.date, latest.result


def _window(ctx: _Context) -> tuple[Window, dt.date] | None:
    """The pick-up window that applies and the date it counts from (day 1)."""
    rules, case = ctx.rules, ctx.case
    window = (
        rules.window_can_get_pregnant if ctx.can_get_pregnant else rules.window_cannot_get_pregnant
    )
    if window is None:
        return None
    if window.anchor == "prescribed-on":
        return window, case.prescription.prescribed_on
    latest = _latest_test(case)
    if latest is None or latest[1] != "negative":
        return None
    return window, latest[0]


def pick_up_by(ctx: _Context) -> dt.date | None:
    found = _window(ctx)
    if found is None:
        return None
    window, anchor = found
    return _plus_days(anchor, window.days - 1)


def next_test_due(ctx: _Context) -> dt.date | None:
    if not ctx.can_get_pregnant or ctx.rules.test_interval_days is None:
        return None
    latest = _latest_test(ctx.case)
    if latest is None or latest[1] != "negative":
        return None
    return _plus_days(latest[0], ctx.rules.test_interval_days)


# -- programme rules ----------------------------------------------------------------------------


def check_prescription(ctx: _Context) -> None:
    rules, rx, case = ctx.rules, ctx.case.prescription, ctx.case
    if rules.requires_authorization and not (rx.authorization or "").strip():
        ctx.add(
            "prescription.authorization-missing",
            "prescription",
            "block",
            programme_rule=True,
            authorization_label=rules.authorization_label or "programme authorization",
        )
    found = _window(ctx)
    if found is not None:
        window, anchor = found
        last_day = _plus_days(anchor, window.days - 1)
        if case.counselled_on > last_day:
            # the window for patients who cannot get pregnant runs from the office visit
            code = (
                "prescription.pick-up-window-closed"
                if ctx.can_get_pregnant
                else "prescription.visit-window-closed"
            )
            ctx.add(
                code,
                "prescription",
                "block",
                programme_rule=True,
                last_day=_fmt_date(last_day),
                anchor_date=_fmt_date(anchor),
                days=window.days,
            )
    if rules.max_days_supply is not None and ctx.applies_to(rules.supply_limit_applies_to):
        max_days = rules.max_days_supply
        if rx.days_supply > max_days:
            ctx.add(
                "prescription.days-supply-over-limit",
                "prescription",
                "block",
                programme_rule=True,
                days_supply=rx.days_supply,
                max_days=max_days,
            )
        per_day = rx.units_per_dose * rx.doses_per_day
        if rx.quantity is not None and rx.quantity > per_day * max_days:
            ctx.add(
                "prescription.quantity-over-limit",
                "prescription",
                "block",
                programme_rule=True,
                quantity=rx.quantity,
                covers_days=_fmt_number(round(rx.quantity / per_day, 1)),
                max_days=max_days,
                max_quantity=per_day * max_days,
            )
    if (
        not rules.refills_allowed
        and ctx.applies_to(rules.refill_rule_applies_to)
        and rx.refills > 0
    ):
        ctx.add(
            "prescription.refills-not-allowed",
            "prescription",
            "block",
            programme_rule=True,
            refills=rx.refills,
        )
    expected = rx.units_per_dose * rx.doses_per_day * rx.days_supply
    if rx.quantity is not None and rx.quantity != expected:
        ctx.add(
            "prescription.quantity-mismatch",
            "prescription",
            "warn",
            quantity=rx.quantity,
            units_per_dose=rx.units_per_dose,
            doses_per_day=rx.doses_per_day,
            days_supply=rx.days_supply,
            expected=expected,
        )
    product = ctx.product
    if not any(abs(rx.strength_mg - s) < 1e-9 for s in product.strengths_mg):
        ctx.add(
            "prescription.strength-not-made",
            "prescription",
            "warn",
            product=product.name,
            strength_mg=_fmt_number(rx.strength_mg),
            strengths=", ".join(f"{_fmt_number(s)} mg" for s in product.strengths_mg),
        )
    if product.not_substitutable:
        ctx.add("prescription.not-substitutable", "prescription", "info", product=product.name)
    if ctx.rule_set.family not in product.markets:
        ctx.add(
            "prescription.product-market",
            "prescription",
            "info",
            product=product.name,
            family=ctx.rule_set.family,
        )
    check_own_programme(ctx)
    check_indication(ctx)
    age = age_on(case)
    second_below = rules.second_prescriber_below_age or (
        18 if rules.under_18_second_prescriber else None
    )
    if second_below is not None and age < second_below:
        ctx.add("prescription.second-prescriber", "prescription", "warn", age=age)
    for limit in ctx.kb.counter.age_limits:
        if age < limit.below:
            ctx.add(limit.code, limit.category, limit.severity, age=age, below=limit.below)


def check_own_programme(ctx: _Context) -> None:
    """A product with a programme of its own is dispensed under it, and that programme is for
    its products only: either way the hand-over waits for the right rule set."""
    product, rule_set_id = ctx.product, ctx.rule_set.id
    if product.programme and product.programme != rule_set_id:
        ctx.add(
            "prescription.product-programme",
            "prescription",
            "block",
            programme_rule=True,
            product=product.name,
            programme=product.programme,
            rule_set=rule_set_id,
        )
        return
    own = ctx.kb.own_programme_products(rule_set_id)
    if own and product not in own:
        ctx.add(
            "prescription.programme-product",
            "prescription",
            "block",
            programme_rule=True,
            product=product.name,
            products=", ".join(p.name for p in own),
            rule_set=rule_set_id,
            family=ctx.rule_set.family,
        )


def check_indication(ctx: _Context) -> None:
    """Only for a pack whose rules depend on the indication: one not given, not recognised, or
    not one the product is licensed for."""
    kb, said = ctx.kb, ctx.case.prescription.indication
    if not kb.indications:
        return
    if ctx.indication is None:
        if said and said.strip():
            known = ", ".join(i.label for i in kb.indications)
            ctx.add(
                "prescription.indication-unrecognised",
                "prescription",
                "warn",
                subject=said,
                known=known,
            )
        else:
            ctx.add("prescription.indication-not-given", "prescription", "info")
        return
    licensed = ctx.product.indications
    if licensed and ctx.indication.id not in licensed:
        labels = [i.label for i in kb.indications if i.id in licensed]
        ctx.add(
            "prescription.indication-not-licensed",
            "prescription",
            "warn",
            product=ctx.product.name,
            indication=ctx.indication.label,
            licensed=", ".join(labels),
        )


def check_pregnancy_tests(ctx: _Context) -> None:
    tests = ctx.case.pregnancy_tests
    latest = _latest_test(ctx.case)
    if latest is not None and latest[1] == "positive":
        # whatever the risk category says: the category itself may be wrong
        ctx.add(
            "pregnancy-test.positive",
            "pregnancy-prevention",
            "block",
            programme_rule=True,
            wording=None if ctx.can_get_pregnant else "pregnancy-test.positive-cannot-get-pregnant",
            test_date=_fmt_date(latest[0]),
        )
        return
    positives = [t.date for t in tests if t.result == "positive"]
    if positives and latest is not None:
        ctx.add(
            "pregnancy-test.positive-then-negative",
            "pregnancy-prevention",
            "warn",
            positive_date=_fmt_date(max(positives)),
            negative_date=_fmt_date(latest[0]),
        )
    if not ctx.can_get_pregnant:
        return
    if latest is None:
        if ctx.rules.pregnancy_test == "required":
            ctx.add("pregnancy-test.missing", "pregnancy-prevention", "block", programme_rule=True)
        return
    _check_test_interval(ctx, latest)
    limit = ctx.rules.test_max_days_before_prescription
    if limit is None or ctx.rules.pregnancy_test != "required":
        return
    prescribed_on = ctx.case.prescription.prescribed_on
    negatives = [t.date for t in tests if t.result == "negative"]
    before = [d for d in negatives if d <= prescribed_on]
    if any((prescribed_on - d).days <= limit for d in before):
        return
    after = [d for d in negatives if d > prescribed_on]
    if after:
        ctx.add(
            "pregnancy-test.after-prescription",
            "pregnancy-prevention",
            "warn",
            test_date=_fmt_date(min(after)),
            prescribed_on=_fmt_date(prescribed_on),
            max_days=limit,
        )
        return
    date = max(before)
    ctx.add(
        "pregnancy-test.too-old",
        "pregnancy-prevention",
        "block",
        programme_rule=True,
        test_date=_fmt_date(date),
        days_before=(prescribed_on - date).days,
        max_days=limit,
    )


def _check_test_interval(ctx: _Context, latest: tuple[dt.date, str]) -> None:
    """A negative test older than the rule set's interval (a monthly test a month and more
    old): the next test was due before today."""
    interval = ctx.rules.test_interval_days
    if interval is None or not checks_test_interval(ctx.rules) or latest[1] != "negative":
        return
    due = _plus_days(latest[0], interval)
    if ctx.case.counselled_on > due:
        ctx.add(
            "pregnancy-test.overdue",
            "pregnancy-prevention",
            "block",
            programme_rule=True,
            test_date=_fmt_date(latest[0]),
            due=_fmt_date(due),
            days=interval,
        )


# -- contraception ------------------------------------------------------------------------------


def _status(ctx: _Context, method: ContraceptionMethod) -> str:
    return method.status.get(ctx.rule_set.family, "not-acceptable")


def _rule_met(ctx: _Context, methods: list[ContraceptionMethod]) -> bool:
    statuses = {m.id: _status(ctx, m) for m in methods}
    counting: dict[str, str] = {}  # one entry per kind of method ("the pill" + "Yaz" is one)
    for m in methods:
        if statuses[m.id] in ("primary", "secondary"):
            kind = m.group or m.id
            if counting.get(kind) != "primary":
                counting[kind] = statuses[m.id]
    primary = [kind for kind, s in counting.items() if s == "primary"]
    if ctx.rules.contraception_rule == "two-methods-one-primary":
        if ctx.rules.abstinence_accepted and "abstinence" in statuses.values():
            return True
        return len(counting) >= 2 and len(primary) >= 1
    if "agreement" in statuses.values():
        return True
    if ctx.rules.abstinence_accepted and "abstinence" in statuses.values():
        return True
    if any(m.user_independent and statuses[m.id] == "primary" for m in methods):
        return True
    return len(counting) >= 2 and len(primary) >= 1


def _counted_text(ctx: _Context, methods: list[ContraceptionMethod]) -> str:
    parts = []
    for m in methods:
        status = _status(ctx, m)
        if status in ("primary", "secondary"):
            parts.append(f"{m.label} ({status})")
    return ", ".join(parts) if parts else "no method that counts"


class Weakening:
    """The patient's lines that make the methods marked ``weakened_by_enzyme_inducers``
    unreliable, and what was assumed about their dose."""

    __slots__ = ("lines", "notes")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.notes: list[str] = []


Weakener = tuple[str, float | None, int]
"""A line that may weaken hormonal contraception, the daily dose from which it does (None:
any dose) and the doses a day to assume when the line gives none."""


def weakening_lines(ctx: _Context, candidates: list[Weakener]) -> Weakening:
    """What weakens contraception: the prescribed medicine where its pack says so, every
    inducer on the patient's list, and a dose-dependent one from its threshold on; a dose that
    cannot be read counts (the safe choice, said so)."""
    found = Weakening()
    if ctx.kb.weakens_contraception_at(ctx.rule_set.family, ctx.case.prescription.daily_dose_mg):
        found.lines.append(
            ctx.message("contraception.weakened-own-medicine").message.format(
                product=ctx.product.name,
                daily_mg=_fmt_number(ctx.case.prescription.daily_dose_mg),
            )
        )
    for text, threshold, assumed_doses in candidates:
        if text in found.lines:
            continue
        if threshold is None:
            found.lines.append(text)
            continue
        from pharmacist_tool.engine.line_dose import daily_dose  # only for dose-bound rules

        dose = daily_dose(text, assumed_doses)
        if dose is None:
            found.lines.append(text)
            found.notes.append(
                ctx.message("contraception.weakened-dose-unknown").message.format(
                    subject=text, threshold=_fmt_number(threshold)
                )
            )
        elif dose.daily_mg >= threshold:
            found.lines.append(text)
            if not dose.frequency_stated:
                found.notes.append(
                    ctx.message("contraception.weakened-frequency-assumed").message.format(
                        subject=text,
                        daily_mg=_fmt_number(dose.daily_mg),
                        doses_per_day=assumed_doses,
                        threshold=_fmt_number(threshold),
                    )
                )
    return found


def check_method_interactions(ctx: _Context) -> None:
    """Interactions with what the patient names as birth control (an oestrogen-containing pill
    that lowers this medicine's level), whoever the patient is."""
    rules = [r for r in ctx.kb.interactions if r.contraception_methods]
    if not rules:
        return
    for text in ctx.case.contraception:
        method = match_method(ctx.kb, text) if text.strip() else None
        if method is None:
            continue
        for rule in rules:
            if method.id in rule.contraception_methods and ctx.applies_to(rule.patient):
                ctx.add_rule_finding(
                    f"interaction.{rule.id}",
                    "interaction",
                    rule.severity.for_rule_set(ctx.rule_set.id),
                    rule.message,
                    rule.action,
                    rule.sources,
                    subject=text,
                )


def check_contraception(ctx: _Context, weakening: Weakening) -> None:
    if not ctx.can_get_pregnant or ctx.rules.contraception_rule == "none":
        return
    methods: list[ContraceptionMethod] = []
    seen: set[str] = set()
    not_counted: list[tuple[str, ContraceptionMethod]] = []
    for text in ctx.case.contraception:
        if not text.strip():
            continue
        method = match_method(ctx.kb, text)
        if method is None:
            ctx.add("contraception.unrecognised", "pregnancy-prevention", "warn", subject=text)
            continue
        status = _status(ctx, method)
        accepted = status in ("primary", "secondary", "agreement") or (
            status == "abstinence" and ctx.rules.abstinence_accepted
        )
        if not accepted:
            not_counted.append((text, method))
        elif method.confirm:
            ctx.add(
                "contraception.confirm-method",
                "pregnancy-prevention",
                "info",
                subject=text,
                method=method.label,
                confirm=method.confirm,
            )
        if method.id not in seen:
            seen.add(method.id)
            methods.append(method)
    met = _rule_met(ctx, methods)
    for text, method in not_counted:
        # a warn when the patient may be relying on it; information when the rule is met anyway
        ctx.add(
            "contraception.method-not-accepted",
            "pregnancy-prevention",
            "info" if met else "warn",
            subject=text,
            method=method.label,
            note=method.note,
        )
    if not met:
        ctx.add(
            "contraception.rule-not-met",
            "pregnancy-prevention",
            "block",
            programme_rule=True,
            counted=_counted_text(ctx, methods),
        )
        return
    weakened = [
        m
        for m in methods
        if m.weakened_by_enzyme_inducers and _status(ctx, m) in ("primary", "secondary")
    ]
    if weakening.lines and weakened:
        without = [m for m in methods if not m.weakened_by_enzyme_inducers]
        still_met = _rule_met(ctx, without)
        # Not met without the weakened method: the facts block it (a programme rule), and only
        # changing the facts clears it (the medicine stopped, a method added), never free text.
        ctx.add(
            "contraception.weakened",
            "pregnancy-prevention",
            "warn" if still_met else "block",
            subject=", ".join(weakening.lines),
            programme_rule=not still_met,
            wording=(
                "contraception.weakened-rule-still-met"
                if still_met
                else "contraception.weakened-rule-not-met"
            ),
            agents=", ".join(weakening.lines),
            methods=", ".join(m.label for m in weakened),
            dose_notes="".join(f" {note}" for note in weakening.notes),
        )


# -- interactions -------------------------------------------------------------------------------


def _weakeners_of(ctx: _Context, text: str, screening: Screening) -> list[Weakener]:
    """How a line may weaken contraception: by each substance it names (a property of the
    substance, whatever the pack lists), else by a class it was matched to by a word."""
    found: list[Weakener] = []
    for substance in screening.substances:
        fact = ctx.kb.weakeners.get(substance)
        if fact is not None:
            found.append((text, fact.from_mg_per_day, fact.assumed_doses_per_day))
    for match in screening.matches:
        rule = match.rule
        if rule.weakens_hormonal_contraception and (match.how != "name" or not rule.class_):
            threshold = rule.weakens_contraception_from_mg_per_day
            found.append((text, threshold, rule.assumed_doses_per_day))
    # the strictest reading first: a line weakening at any dose needs no dose read
    return sorted(found, key=lambda w: (w[1] is not None, w[1] or 0))


BIRTH_CONTROL = "birth control"
"""How a medicines line that names a contraception method is recorded (``recognised_as``)."""


def _birth_control(ctx: _Context, screening: Screening) -> ContraceptionMethod | None:
    """The contraception method a line names when nothing else in it was read for sure (no
    medicine name or class word; a close spelling or an ending is a guess a method beats)."""
    if any(m.how in ("name", "term") for m in screening.matches):
        return None
    if screening.substances and not screening.matches:
        return None  # a medicine the vocabulary knows ("Yaz" is screened as its substances)
    method = match_method(ctx.kb, screening.line)
    if method is None:
        return None
    # every word of the line is the method's ("water pill" is no birth control)
    said = set(words(screening.line)) - _FILLER
    known = {w for term in method.terms for w in words(term)}
    return method if said and said <= known else None


_FILLER = frozenset({"the", "a", "an", "my", "her", "his", "on", "uses", "using", "takes"})


def check_interactions(ctx: _Context) -> list[Weakener]:
    """Adds interaction findings, and ``medicine.unrecognised`` for a line that names no medicine
    the tool knows; records how each line was screened (``medicines_screened``); returns the
    lines (with their rule) that may weaken hormonal contraception (``weakening_lines`` decides,
    by dose, which do)."""
    weakening: list[Weakener] = []
    for text in ctx.case.medicines:
        if names_no_medicine(text):  # "none", "nothing else": an answer, not a medicine
            ctx.screened.append(
                MedicineScreened(line=text, recognised_as=NO_OTHER_MEDICINES, codes=[])
            )
            continue
        screening = screen_medicine(ctx.kb, text)
        method = _birth_control(ctx, screening)
        if method is not None:  # "the pill", "coil" typed among the medicines
            shown = f"{BIRTH_CONTROL}: {method.label}"
            ctx.screened.append(MedicineScreened(line=text, recognised_as=shown, codes=[]))
            continue
        codes: list[str] = []
        weakening += _weakeners_of(ctx, text, screening)
        if screening.recognised_as is None and not screening.matches:
            ctx.add("medicine.unrecognised", "interaction", "warn", subject=text)
            codes.append("medicine.unrecognised")
        for match in screening.matches:
            rule = match.rule
            if not ctx.applies_to(rule.patient):
                continue
            message = rule.message
            if match.how in ("close", "stem"):
                how = ctx.message(f"medicine.matched-{match.how}")
                message += " " + how.message.format(
                    subject=text, said=match.said, term=match.term, agent=rule.agent
                )
            code = f"interaction.{rule.id}"
            ctx.add_rule_finding(
                code,
                "interaction",
                rule.severity.for_rule_set(ctx.rule_set.id),
                message,
                rule.action,
                rule.sources,
                subject=text,
            )
            codes.append(code)
        ctx.screened.append(
            MedicineScreened(line=text, recognised_as=screening.recognised_as, codes=codes)
        )
    return weakening


# -- dose ---------------------------------------------------------------------------------------


def mg_per_kg(ctx: _Context) -> float:
    return round(ctx.case.prescription.daily_dose_mg / ctx.case.patient.weight_kg, 2)


def _dose_band(ctx: _Context) -> DoseRange:
    """The product's dose band for the case's indication, else its own."""
    by_indication = ctx.product.dose_by_indication
    if ctx.indication is not None and ctx.indication.id in by_indication:
        return by_indication[ctx.indication.id]
    return ctx.product.dose


def check_dose(ctx: _Context) -> None:
    rx, dose, product = ctx.case.prescription, _dose_band(ctx), ctx.product
    if dose.kind == "mg-per-kg-per-day":
        value, usual_min, usual_max, most = (
            mg_per_kg(ctx),
            dose.usual_min_mg_per_kg,
            dose.usual_max_mg_per_kg,
            dose.max_mg_per_kg,
        )
    else:
        value, usual_min, usual_max, most = (
            round(rx.daily_dose_mg, 2),
            dose.usual_min_mg,
            dose.usual_max_mg,
            dose.max_mg,
        )
    values: dict[str, Any] = {
        "mg_per_kg": _fmt_number(mg_per_kg(ctx)),
        "usual_min": _fmt_number(usual_min),
        "usual_max": _fmt_number(usual_max),
        "max": _fmt_number(most),
        "product": product.name,
        "daily_mg": _fmt_number(rx.daily_dose_mg),
        "weight_kg": _fmt_number(ctx.case.patient.weight_kg),
    }
    if value > most:
        ctx.add("dose.above-max", "dose", "block", **values)
    elif value > usual_max:
        ctx.add("dose.above-usual", "dose", "warn", **values)
    elif value < usual_min:
        ctx.add("dose.below-usual", "dose", "info", **values)
    codes = ctx.kb.counter.dose_frequency
    if rx.doses_per_day < dose.fewest_doses_per_day:
        ctx.add(codes.fewer, "dose", "warn", doses_per_day=rx.doses_per_day)
    elif rx.doses_per_day > dose.doses_per_day:
        ctx.add(codes.more, "dose", "warn", doses_per_day=rx.doses_per_day)
    if product.with_food == "with-food":
        ctx.add("counselling.take-with-food", "counselling", "info", product=product.name)
    elif product.with_food == "with-main-meal":
        ctx.add("counselling.take-with-main-meal", "counselling", "info", product=product.name)


def check_alcohol(ctx: _Context) -> None:
    answer = ctx.case.alcohol
    for rule in ctx.kb.counter.alcohol:
        if rule.answer == answer and ctx.applies_to(rule.patient):
            ctx.add(rule.code, "counselling", rule.severity, subject=f"alcohol: {answer}")


# -- the whole assessment -----------------------------------------------------------------------


def _sort_key(f: Finding) -> tuple[int, int, str, str]:
    return (CATEGORY_ORDER[f.category], SEVERITY_ORDER[f.severity], f.code, f.subject or "")


def _unique(texts: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def _one_per_code(findings: list[Finding]) -> list[Finding]:
    """One finding per code: resolutions are keyed by code, so two lines of the patient's that
    raise the same rule ("Doxy 100mg", "Minocin") become one finding naming both."""
    by_code: dict[str, list[Finding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    merged = []
    for group in by_code.values():
        first = group[0]
        if len(group) > 1:
            first = msgspec.structs.replace(
                first,
                severity=min((f.severity for f in group), key=SEVERITY_ORDER.__getitem__),
                subject="; ".join(_unique(f.subject for f in group)) or None,
                message=" ".join(_unique(f.message for f in group)),
                action=" ".join(_unique(f.action for f in group)),
                sources=_unique(source for f in group for source in f.sources),
                programme_rule=any(f.programme_rule for f in group),
            )
        merged.append(first)
    return merged


def checklist_for(ctx: _Context) -> list[ChecklistEntry]:
    entries = []
    for item in ctx.kb.checklist:
        if item.rule_sets and ctx.rule_set.id not in item.rule_sets:
            continue
        if not ctx.applies_to(item.patient) or not ctx.sex_applies(item.sex):
            continue
        entries.append(
            ChecklistEntry(
                id=item.id,
                title=item.title,
                required=item.required,
                done=bool(ctx.case.checklist.get(item.id, False)),
                script=item.script,
            )
        )
    return entries


def assess(case: Case, kb: KnowledgeBase) -> Assessment:
    """Assess a case against the knowledge base (pure: the same input gives the same output)."""
    ctx = _Context(case, kb)
    set_aside_home_tests(ctx)
    weakening = weakening_lines(ctx, check_interactions(ctx))
    check_method_interactions(ctx)
    check_pregnancy_tests(ctx)
    check_contraception(ctx, weakening)
    check_prescription(ctx)
    check_dose(ctx)
    check_alcohol(ctx)
    from pharmacist_tool.engine.course import check_course  # the course across visits

    course_fields = check_course(ctx)
    dispense: Dispense
    findings = sorted(_one_per_code(ctx.findings), key=_sort_key)
    checklist = checklist_for(ctx)
    if any(f.stands and f.severity == "block" for f in findings):
        dispense = "do-not-dispense"
    elif any(f.stands for f in findings) or any(c.required and not c.done for c in checklist):
        dispense = "needs-action"
    else:
        dispense = "ok"
    from pharmacist_tool.engine.duties import duty_entries

    duties = duty_entries(case, ctx.rules, findings)
    if duties:
        course_fields["duties"] = duties
    return Assessment(
        knowledge_base=KnowledgeBaseRef(
            medicine=kb.medicine,
            version=kb.version,
            rule_set=ctx.rule_set.id,
            rules_effective_from=ctx.rules.effective_from,
            rules_version=ctx.rules.id,
        ),
        dispense=dispense,
        findings=findings,
        checklist=checklist,
        daily_dose_mg=round(case.prescription.daily_dose_mg, 2),
        dose_mg_per_kg_per_day=mg_per_kg(ctx),
        pick_up_by=pick_up_by(ctx),
        next_pregnancy_test_due=next_test_due(ctx),
        product=ctx.product.name,
        medicines_screened=ctx.screened,
        **course_fields,
    )
