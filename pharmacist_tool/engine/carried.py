"""The facts a next visit carries from the last one, and where each value on screen came from.

A fact is carried as words (its value at the last visit). Now it is either still that value,
and then confirmed by the pharmacist or not yet; or another value, typed this visit; or nothing
(not entered). The same rules decide what the window shows and what signing refuses, for a case
being entered (``CaseDraft``) and a complete one (``Case``) alike: both are read through
``CaseView``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pharmacist_tool.case import Carried, SupplyDuty


class _PatientView(Protocol):
    @property
    def weight_kg(self) -> float | None: ...
    @property
    def can_get_pregnant(self) -> bool | None: ...


class _PrescriptionView(Protocol):
    @property
    def medicine(self) -> str: ...
    @property
    def strength_mg(self) -> float | None: ...
    @property
    def units_per_dose(self) -> int | None: ...
    @property
    def doses_per_day(self) -> int | None: ...
    @property
    def days_supply(self) -> int | None: ...
    @property
    def prescriber(self) -> str: ...


class CaseView(Protocol):
    """What the carried facts read of a case, complete or still being entered."""

    @property
    def patient(self) -> _PatientView: ...
    @property
    def prescription(self) -> _PrescriptionView: ...
    @property
    def contraception(self) -> Sequence[str]: ...
    @property
    def medicines(self) -> Sequence[str]: ...
    @property
    def alcohol(self) -> str | None: ...
    @property
    def carried(self) -> Carried | None: ...
    @property
    def supply_duties(self) -> Mapping[str, SupplyDuty]: ...


class Provenance(enum.Enum):
    """Where a value on screen came from."""

    TYPED = "typed this visit"
    CARRIED_CONFIRMED = "carried from the last visit and confirmed"
    CARRIED_UNCONFIRMED = "carried from the last visit, not yet confirmed"
    NOT_ENTERED = "not entered"
    FROM_RECORD = "from the record being amended"
    """An amendment: the value as the record holds it, not changed."""


def _weight(case: CaseView) -> str | None:
    kg = case.patient.weight_kg
    return None if kg is None else f"{kg:g} kg"


def _can_get_pregnant(case: CaseView) -> str | None:
    value = case.patient.can_get_pregnant
    return None if value is None else ("yes" if value else "no")


def _product_and_dose(case: CaseView) -> str | None:
    rx = case.prescription
    if not rx.medicine or None in (rx.strength_mg, rx.units_per_dose, rx.doses_per_day):
        return None
    return f"{rx.medicine} {rx.strength_mg:g} mg, {rx.units_per_dose} × {rx.doses_per_day} a day"


def _days(case: CaseView) -> str | None:
    days = case.prescription.days_supply
    return None if days is None else str(days)


@dataclass(frozen=True)
class CarriedFact:
    key: str
    """Its name in ``carried.facts`` (and in the pharmacist's words: "weight")."""
    words: Callable[[CaseView], str | None]
    """Its value now, in words (None: not entered)."""
    fields: tuple[str, ...]
    """The case's fields it is made of (as ``patient.weight_kg``)."""


CARRIED_FACTS: tuple[CarriedFact, ...] = (
    CarriedFact("weight", _weight, ("patient.weight_kg",)),
    CarriedFact("can get pregnant", _can_get_pregnant, ("patient.can_get_pregnant",)),
    CarriedFact(
        "product and dose",
        _product_and_dose,
        (
            "prescription.medicine",
            "prescription.strength_mg",
            "prescription.units_per_dose",
            "prescription.doses_per_day",
        ),
    ),
    CarriedFact("days' supply", _days, ("prescription.days_supply",)),
    CarriedFact(
        "prescriber",
        lambda c: c.prescription.prescriber or "none named",
        ("prescription.prescriber",),
    ),
    CarriedFact(
        "contraception", lambda c: ", ".join(c.contraception) or "none", ("contraception",)
    ),
    CarriedFact("other medicines", lambda c: ", ".join(c.medicines) or "none", ("medicines",)),
    CarriedFact("alcohol", lambda c: c.alcohol, ("alcohol",)),
)
RISK_FACT = "can get pregnant"
FORM_FACT = "form seen: "
"""The start of a carried form's key (``form seen: risk-acknowledgement-form``)."""


def form_fact(duty_id: str) -> CarriedFact:
    """A programme form seen at the last visit, by the date it bears (a duty of the rule set,
    so not one of the fixed facts: it is carried when the last visit recorded one)."""

    def words(case: CaseView) -> str | None:
        said = case.supply_duties.get(duty_id)
        if said is None or not said.done or said.form_date is None:
            return None
        return f"dated {said.form_date.isoformat()}"

    return CarriedFact(FORM_FACT + duty_id, words, (f"supply_duties.{duty_id}",))


def form_duty_id(key: str) -> str | None:
    """The duty a carried form's key names (None: not a form)."""
    return key.removeprefix(FORM_FACT) if key.startswith(FORM_FACT) else None


def carried_facts(case: CaseView) -> tuple[CarriedFact, ...]:
    """The fixed facts, then each form the last visit carried (in the order carried)."""
    carried = case.carried
    forms = [
        form_fact(duty_id)
        for key in (carried.facts if carried is not None else {})
        if (duty_id := form_duty_id(key)) is not None
    ]
    return (*CARRIED_FACTS, *forms)


def carry(case: CaseView, from_record: int | None = None) -> Carried:
    """The facts of ``case`` (the last visit's) as carried to the next, none confirmed yet:
    the fixed facts and each programme form seen with its date."""
    facts = {}
    forms = tuple(form_fact(duty_id) for duty_id in case.supply_duties)
    for fact in (*CARRIED_FACTS, *forms):
        words = fact.words(case)
        if words is not None:
            facts[fact.key] = words
    return Carried(from_record=from_record, facts=facts, confirmed=[])


def carried_duties(case: CaseView) -> dict[str, SupplyDuty]:
    """The forms seen at the last visit, as this visit's first value of those duties (to be
    confirmed with the patient, or changed)."""
    return {
        duty_id: SupplyDuty(done=True, form_date=said.form_date)
        for duty_id, said in case.supply_duties.items()
        if said.done and said.form_date is not None
    }


def provenance(case: CaseView, fact: CarriedFact) -> Provenance:
    """Where the value of ``fact`` on screen came from."""
    now = fact.words(case)
    if now is None:
        return Provenance.NOT_ENTERED
    carried = case.carried
    if carried is None or fact.key not in carried.facts or carried.facts[fact.key] != now:
        return Provenance.TYPED
    if fact.key in carried.confirmed:
        return Provenance.CARRIED_CONFIRMED
    return Provenance.CARRIED_UNCONFIRMED


def unconfirmed(case: CaseView) -> list[tuple[CarriedFact, str]]:
    """The carried facts still at last visit's value and not confirmed, each with that value."""
    carried = case.carried
    if carried is None:
        return []
    return [
        (fact, carried.facts[fact.key])
        for fact in carried_facts(case)
        if fact.key in carried.facts and provenance(case, fact) is Provenance.CARRIED_UNCONFIRMED
    ]


@dataclass(frozen=True)
class RiskChange:
    """``can_get_pregnant`` differs from the last visit's."""

    before: bool
    now: bool

    @property
    def words(self) -> str:
        def say(value: bool) -> str:
            return "can get pregnant" if value else "cannot get pregnant"

        return f"from “{say(self.before)}” to “{say(self.now)}”"


def risk_change(case: CaseView) -> RiskChange | None:
    """The change of the risk category since the last visit, if there is one."""
    carried = case.carried
    now = case.patient.can_get_pregnant
    if carried is None or now is None or RISK_FACT not in carried.facts:
        return None
    before = carried.facts[RISK_FACT] == "yes"
    return RiskChange(before=before, now=now) if before != now else None
