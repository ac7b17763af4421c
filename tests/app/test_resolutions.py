"""Resolutions that mean something, through the real engine: a contraindicated interaction
(example 02, doxycycline) is cleared by a cited answer with a note, never by "ok"; older plain
text stays readable; "stopped" answers say the other medicine was stopped."""

from __future__ import annotations

import msgspec
import pytest

from pharmacist_tool.app.session import CounterSession, Stands, StepNotes
from pharmacist_tool.app.steps import Step
from pharmacist_tool.case import Case, Resolution, parse_case, resolution_answers
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.resolutions import resolution_words, stops_other_medicine
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_case

KB = load_for_counter()
CODE = "interaction.tetracyclines"


def _with(resolution: str | Resolution) -> Case:
    return msgspec.structs.replace(example_case("02"), resolutions={CODE: resolution})


def _finding(case: Case) -> object:
    return next(f for f in assess(case, KB).findings if f.code == CODE)


@pytest.mark.parametrize("said", ["", "ok", "OK.", " done ", "Done!", "n/a", "✓", "noted"])
def test_a_resolution_that_says_nothing_clears_nothing(said: str) -> None:
    finding = _finding(_with(said))
    assert finding.severity == "block" and finding.stands  # type: ignore[attr-defined]
    assert assess(_with(said), KB).dispense == "do-not-dispense"


def test_a_cited_answer_with_a_note_clears_it() -> None:
    given = Resolution(action="prescriber-stopped-other-medicine", note="Rang Dr Osei at 10:05")
    finding = _finding(_with(given))
    assert not finding.stands  # type: ignore[attr-defined]
    assert finding.resolution == (  # type: ignore[attr-defined]
        "The prescriber stopped the other medicine: Rang Dr Osei at 10:05"
    )
    assert stops_other_medicine(given)
    assert not stops_other_medicine(Resolution(action="confirmed-with-monitoring-plan"))
    assert not stops_other_medicine("doxycycline stopped")  # plain text: the handout's reading


def test_older_plain_text_resolutions_stay_readable_and_clear_when_they_say_something() -> None:
    text = "Prescriber contacted; doxycycline stopped"
    case = parse_case(msgspec.json.encode(_with(text)))
    assert case.resolutions == {CODE: text}
    assert not _finding(case).stands  # type: ignore[attr-defined]
    assert resolution_words(text) == text


def test_an_answer_the_tool_does_not_know_is_refused() -> None:
    document = msgspec.to_builtins(example_case("02"))
    document["resolutions"] = {CODE: {"action": "ok", "note": ""}}
    with pytest.raises(UserError) as refused:
        parse_case(msgspec.json.encode(document))
    assert f"resolutions.{CODE}.action: 'ok' is not an answer the tool knows" in str(
        refused.value.details
    )


def test_the_answers_are_cited_and_each_says_whether_it_stops_the_line() -> None:
    answers = resolution_answers()
    assert "PCNE-9.1" in answers.sources
    assert {a.id for a in answers.actions} == {
        "prescriber-stopped-other-medicine",
        "patient-stopped-other-product",
        "plan-changed",
        "confirmed-with-monitoring-plan",
        "checked-by-hand",
    }
    assert {a.id for a in answers.actions if a.stops_other_medicine} == {
        "prescriber-stopped-other-medicine",
        "patient-stopped-other-product",
    }


def test_in_the_session_a_note_without_an_answer_clears_nothing() -> None:
    session = CounterSession(case=CaseDraft.of(example_case("02")))
    session.collected({}, [StepNotes() for _ in Step])
    session.set_resolution(CODE, "", "ok")
    assert session.case is not None and CODE not in session.case.resolutions
    session.assess(KB)
    standing = [s for s in session.standing() if s.finding and s.finding.code == CODE]
    assert standing and standing[0].kind is Stands.FINDING and standing[0].step is Step.MEDICINES
    session.set_resolution(CODE, "plan-changed", "Minocycline stopped too; topical instead")
    session.assess(KB)
    assert not [s for s in session.standing() if s.finding and s.finding.code == CODE]


@pytest.mark.parametrize(
    ("action", "stopped"),
    [("prescriber-stopped-other-medicine", True), ("confirmed-with-monitoring-plan", False)],
)
def test_the_handout_reads_a_stopped_answer_as_stopped(action: str, stopped: bool) -> None:
    """The handout's own notion of a medicine the prescriber stopped, reused: a "stopped"
    answer no longer tells the patient they take it."""
    from pharmacist_tool.handout.content import own_medicines
    from pharmacist_tool.handout.wording import load_facts

    case = _with(Resolution(action=action, note="Rang Dr Osei at 10:05"))
    lines = own_medicines(case, assess(case, KB), KB, load_facts(KB.medicine))
    (doxycycline,) = [line for line in lines if line.line.startswith("doxycycline")]
    assert doxycycline.stopped is stopped
