"""The counselling session without the window: checks, what stands before signing, autosave."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pharmacist_tool.app.session import Change, CounterSession, Stands, StepNotes, where_words
from pharmacist_tool.app.steps import Step, step_of
from pharmacist_tool.counselling import drafts
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_case


def test_a_blank_session_has_nothing_entered_and_cannot_be_checked() -> None:
    session = CounterSession.blank("US-iPLEDGE", "en")
    assert session.case is not None
    assert session.case.patient.date_of_birth is None and session.case.patient.weight_kg is None
    assert "patient.weight_kg" in session.case.not_entered()
    session.collected({}, [StepNotes(problems=["Weight: not entered"])])
    session.assess(load_for_counter())
    assert session.assessment is None and session.problems == ["Weight: not entered"]
    assert session.checked is None
    assert session.missing() == ["Weight: not entered"]


def test_the_pages_write_into_a_copy_that_the_session_takes_as_one_edit() -> None:
    session = CounterSession.blank("US-iPLEDGE", "en")
    heard: list[Change] = []
    session.subscribe(heard.append)
    own = session.case
    assert own is not None
    edited = session.working_copy()
    edited.patient.name = "Ana García"
    assert own.patient.name != "Ana García" and heard == [], "nothing changes until taken"
    session.take(edited, {"patient.name": "Ana García"}, [StepNotes() for _ in Step])
    assert session.case is edited and session.typed == {"patient.name": "Ana García"}
    assert heard == [Change.ENTERED] and session.dirty
    session.take(session.working_copy(), {}, [StepNotes() for _ in Step], announce=False)
    assert heard == [Change.ENTERED], "the pages read back on opening are not an edit"


def test_what_stands_before_signing_is_in_words_with_the_step() -> None:
    session = CounterSession(case=CaseDraft.of(example_case("02")))
    session.collected({}, [StepNotes(unasked=["Alcohol: ask how much the patient drinks"])])
    session.assess(load_for_counter())
    assert session.assessment is not None
    missing = session.missing()
    block = next(f for f in session.assessment.findings if f.severity == "block")
    where = where_words(step_of(block, session.kb))
    assert f"To hand over: Stops handing over ({where}): {block.message}" in missing
    (standing,) = [s for s in session.standing() if s.finding is block]
    assert standing.kind is Stands.FINDING and standing.to_hand_over
    assert standing.step is step_of(block, session.kb)
    assert "To hand over: Alcohol: ask how much the patient drinks" in missing
    assert not any(block.code in m for m in missing)


@pytest.mark.parametrize("durable", [False, True])
def test_autosave_writes_the_draft_atomically(
    durable: bool, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    session = CounterSession(case=CaseDraft.of(example_case("01")))
    assert session.autosave(step=0, user="", durable=durable) is None, "nothing changed yet"
    session.dirty = True
    assert session.autosave(step=3, user="klee", durable=durable) is not None
    assert session.meta is not None
    again = drafts.load_draft(session.meta.id)
    assert again.case == session.case and again.meta.step == 3 and again.meta.user == "klee"
    assert bool(synced) == durable, "fsync only when durable"
    leftovers = [
        p for p in drafts.draft_path(session.meta.id).parent.iterdir() if p.suffix == ".tmp"
    ]
    assert leftovers == []
