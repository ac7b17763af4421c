"""A next visit in the application layer, without a window: where each value came from, what
carried facts stand before signing, a change of risk category asked and recorded, each step's
state, and the edits that tell the window."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from pharmacist_tool.app.session import Change, CounterSession, Stands, StepNotes
from pharmacist_tool.app.steps import Step, StepState
from pharmacist_tool.case import Case, Outcome, PregnancyTest
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.carried import Provenance, carry
from pharmacist_tool.engine.readiness import Need, outstanding
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_case

KB = load_for_counter()


def _next_visit() -> CounterSession:
    """Last visit's case (example 01: can get pregnant, 62 kg; alcohol occasional) carried to
    today's, with this visit's prescription date not entered yet."""
    last = msgspec.structs.replace(example_case("01"), alcohol="occasional")
    draft = CaseDraft.of(last)
    draft.carried = carry(last, from_record=7)
    draft.prescription.prescribed_on = None
    draft.prescription.authorization = None
    draft.pregnancy_tests = []
    draft.checklist, draft.resolutions, draft.outcome = {}, {}, None
    session = CounterSession(case=draft)
    session.collected({}, [StepNotes() for _ in Step])
    return session


def _finish(session: CounterSession) -> None:
    """This visit's prescription, test, authorization, every point confirmed, handed over."""
    case = session.case
    assert case is not None and case.counselled_on is not None
    case.prescription.prescribed_on = case.counselled_on
    case.prescription.authorization = "RMA-2"
    case.pregnancy_tests = [PregnancyTest(date=case.counselled_on, result="negative")]
    session.assess(KB)
    assert session.assessment is not None
    case.checklist = {item.id: True for item in session.assessment.checklist}
    case.resolutions = {
        f.code: "Discussed" for f in session.assessment.findings if f.needs_resolution
    }
    case.outcome = Outcome(status="handed-over")
    session.assess(KB)


def test_each_value_says_where_it_came_from() -> None:
    session = _next_visit()
    assert session.provenance_of("patient.weight_kg") is Provenance.CARRIED_UNCONFIRMED
    assert session.provenance_of("prescription.prescribed_on") is Provenance.NOT_ENTERED
    assert session.provenance_of("counselled_on") is Provenance.TYPED
    session.confirm("weight", True)
    assert session.provenance_of("patient.weight_kg") is Provenance.CARRIED_CONFIRMED
    assert session.case is not None
    session.case.patient.weight_kg = 64
    assert session.provenance_of("patient.weight_kg") is Provenance.TYPED
    session.case.patient.weight_kg = None
    assert session.provenance_of("patient.weight_kg") is Provenance.NOT_ENTERED
    facts = {f.key: f for f in session.carried_facts()}
    assert facts["weight"].carried == "62 kg" and facts["weight"].now is None
    assert facts["alcohol"].provenance is Provenance.CARRIED_UNCONFIRMED


def test_a_next_visit_without_its_prescription_date_cannot_be_signed() -> None:
    session = _next_visit()
    assert session.case is not None
    session.assess(KB)
    assert session.assessment is None
    assert session.problems == ["prescription.prescribed_on: not entered"]
    assert _kinds(session) >= {Stands.NOT_VALID, Stands.CARRIED_FACT}
    assert session.step_state(Step.REVIEW) is StepState.TODO
    with pytest.raises(UserError) as refused:
        session.case.require_complete()
    assert "prescription.prescribed_on: not entered" in refused.value.details


def _kinds(session: CounterSession) -> set[Stands]:
    return {s.kind for s in session.standing()}


def test_every_carried_fact_must_be_confirmed_or_changed_before_signing() -> None:
    session = _next_visit()
    _finish(session)
    waiting = [s for s in session.standing() if s.kind is Stands.CARRIED_FACT]
    assert [s.fact for s in waiting] == [
        "weight", "can get pregnant", "product and dose", "days' supply", "prescriber",
        "contraception", "other medicines", "alcohol",
    ]  # fmt: skip
    assert waiting[0].words == (
        "Last visit: weight: 62 kg — confirm it is still true, or change it"
    )
    assert session.step_state(Step.PATIENT) is StepState.ATTENTION
    for fact in session.carried_facts():
        if fact.key != "prescriber":
            session.confirm(fact.key, True)
    assert session.case is not None
    session.case.prescription.prescriber = "Dr B. Okafor"  # changed this visit: settled
    session.assess(KB)
    assert session.standing() == []
    assert session.step_state(Step.REVIEW) is StepState.READY
    assert session.checked is not None and session.checked.carried is not None
    assert session.checked.carried.from_record == 7


def test_signing_refuses_a_case_with_an_unconfirmed_carried_fact() -> None:
    """The engine's own check, which the command line's ``sign`` and the window share."""
    session = _next_visit()
    _finish(session)
    case = session.checked
    assert case is not None and session.assessment is not None
    needs = [o for o in outstanding(case, session.assessment) if o.need is Need.CARRIED_FACT]
    assert len(needs) == 8 and needs[0].fact == "weight" and needs[0].carried_value == "62 kg"
    assert needs[0].text.startswith("Carried from the last visit and not confirmed: weight")


def test_a_change_of_risk_category_asks_who_decided_it_and_why() -> None:
    session = _next_visit()
    for fact in session.carried_facts():
        session.confirm(fact.key, True)
    assert session.case is not None
    session.case.patient.can_get_pregnant = False  # the prescriber's category changed
    _finish(session)
    change = session.risk_change()
    assert change is not None and (change.before, change.now) == (True, False)
    (asked,) = [s for s in session.standing() if s.kind is Stands.RISK_CATEGORY_CHANGE]
    assert asked.step is Step.PATIENT
    assert "from “can get pregnant” to “cannot get pregnant”" in asked.words
    session.explain_risk_change("Dr R. Osei", "")  # a reason is needed too
    assert Stands.RISK_CATEGORY_CHANGE in _kinds(session)
    session.explain_risk_change("Dr R. Osei", "Hysterectomy in November")
    session.assess(KB)
    assert session.standing() == []
    signed = session.checked
    assert signed is not None and signed.risk_category_change is not None
    recorded = msgspec.to_builtins(signed.risk_category_change)
    assert recorded == {
        "before": True,
        "now": False,
        "decided_by": "Dr R. Osei",
        "reason": "Hysterectomy in November",
    }


def test_a_recorded_change_that_no_longer_matches_asks_again() -> None:
    session = _next_visit()
    assert session.case is not None
    session.case.patient.can_get_pregnant = False
    session.explain_risk_change("Dr R. Osei", "Hysterectomy")
    session.case.patient.can_get_pregnant = True  # back as it was: no change to explain
    session.entered()
    assert session.risk_change() is None and session.case.risk_category_change is None
    session.case.patient.can_get_pregnant = False
    session.explain_risk_change("Dr R. Osei", "Hysterectomy")
    assert Stands.RISK_CATEGORY_CHANGE not in _kinds(session)
    session.case.risk_category_change = msgspec.structs.replace(
        session.case.risk_category_change,  # type: ignore[arg-type]
        now=True,
    )
    assert Stands.RISK_CATEGORY_CHANGE in _kinds(session)


def test_every_edit_tells_the_subscribers() -> None:
    session = _next_visit()
    heard: list[Change] = []
    session.subscribe(heard.append)
    session.confirm("weight", True)
    session.confirm("weight", False)
    session.set_resolution("interaction.tetracyclines", "plan-changed", "Minocycline instead")
    session.entered()
    session.explain_risk_change("", "")
    assert heard == [
        Change.CONFIRMATION,
        Change.CONFIRMATION,
        Change.RESOLUTION,
        Change.ENTERED,
        Change.RISK_CHANGE,
    ]
    assert session.dirty
    with pytest.raises(KeyError):
        session.confirm("shoe size", True)


def test_step_states() -> None:
    session = CounterSession(case=CaseDraft.of(example_case("01")))
    notes = [StepNotes() for _ in Step]
    notes[Step.MEDICINES] = StepNotes(unasked=["Alcohol: ask"])
    notes[Step.PREGNANCY] = StepNotes(pending=["Pregnancy test dated “1 Dec” is typed"])
    session.collected({}, notes)
    session.assess(KB)
    assert session.step_state(Step.MEDICINES) in (StepState.TODO, StepState.BLOCKED)
    assert session.step_state(Step.PREGNANCY) in (StepState.ATTENTION, StepState.BLOCKED)
    assert session.step_state(Step.COUNSELLING) is StepState.TODO
    assert session.step_state(Step.REVIEW) is StepState.TODO
    assert session.case is not None
    session.case.patient.can_get_pregnant = False
    assert session.step_state(Step.PREGNANCY) is StepState.NOT_NEEDED


def test_an_older_signed_case_without_carried_facts_still_signs() -> None:
    case: Case = example_case("01")
    assessment = assess(case, KB)
    assert not [
        o
        for o in outstanding(case, assessment)
        if o.need in (Need.CARRIED_FACT, Need.RISK_CATEGORY_CHANGE)
    ]
    assert case.carried is None and case.counselled_on < dt.date(2100, 1, 1)


def test_a_fact_changed_this_visit_is_no_longer_confirmed() -> None:
    session = _next_visit()
    session.confirm("weight", True)
    assert session.case is not None and session.case.carried is not None
    session.case.patient.weight_kg = 64
    session.entered()
    assert "weight" not in session.case.carried.confirmed
    session.case.patient.weight_kg = 62  # back as it was: asked again
    session.entered()
    assert session.provenance_of("patient.weight_kg") is Provenance.CARRIED_UNCONFIRMED
