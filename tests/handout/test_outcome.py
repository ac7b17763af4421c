"""The sheet follows the session's recorded outcome as well as the verdict: a session recorded as
not handed over (for any reason) gets the "not handed over today" sheet with the reason, never a
dose; signing stores that sheet, and an amendment that changes the outcome stores a new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from pharmacist_tool.case import Case
from pharmacist_tool.engine import assess
from pharmacist_tool.handout import render_handout
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records import usecases
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.reading import get_handout
from pharmacist_tool.records.users import add_user, create_first_admin
from tests.handout.conftest import (
    ROUTINE,
    ROUTINE_IDS,
    SETTINGS,
    read_pdf,
    squeeze,
    with_outcome,
)
from tests.records.helpers import finished_pack_case

PASSWORD = "correct horse battery staple"
REASON = "You chose to wait until you have seen your doctor."


def finished(path: Path) -> Case:
    """A routine case finished as a pharmacist would: every point done, every finding resolved,
    every programme duty recorded, handed over."""
    return finished_pack_case(path)


def text_of(case: Case, language: str = "en") -> str:
    kb = load_for_counter(case.prescription.medicine)
    handout = render_handout(case, assess(case, kb), kb, SETTINGS, language=language)
    return read_pdf(handout.pdf).flat


def dose_words(case: Case) -> str:
    """The dose line's fixed words as the routine sheet prints them."""
    return squeeze("once a day" if case.prescription.doses_per_day == 1 else "in the evening")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_not_handed_over_gives_the_not_today_sheet_with_the_reason(
    pack: str, path: Path, language: str
) -> None:
    case = finished(path)
    given = text_of(case, language)
    held = text_of(with_outcome(case, "not-handed-over", REASON), language)
    assert squeeze(REASON) in held
    if language == "en":
        assert dose_words(case) in given
        assert dose_words(case) not in held
        assert "wasnothandedovertoday" in held.lower() or "nothandedover" in held.lower()
    else:
        assert "Hoynoleentregamos" in held
    # counselling declined: the medicine was handed over, so the routine sheet
    assert text_of(with_outcome(case, "declined", "In a hurry"), language) == given


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    create_first_admin(database, "boss", PASSWORD, full_name="Pat Boss")
    from pharmacist_tool.records.users import authenticate

    signer = authenticate(database, "boss", PASSWORD, purpose="admin")  # opens boss's key
    add_user(database, signer, "rosei", "pharmacist", PASSWORD, full_name="Rita Osei")
    return database


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_signing_stores_the_sheet_of_the_recorded_outcome_and_an_amendment_a_new_one(
    db: Database, pack: str, path: Path
) -> None:
    held = with_outcome(finished(path), "not-handed-over", REASON)
    summary = usecases.sign(db, held, username="rosei", password=PASSWORD, settings=SETTINGS)
    stored = read_pdf(get_handout(db, summary.id).pdf).flat
    assert squeeze(REASON) in stored
    assert dose_words(held) not in stored

    given = with_outcome(held, "handed-over")
    amendment = usecases.amend(
        db, summary.id, given, reason="It was handed over after all", username="rosei",
        password=PASSWORD, settings=SETTINGS,
    )  # fmt: skip
    amended = read_pdf(get_handout(db, summary.id, amendment.id).pdf).flat
    assert dose_words(given) in amended
    assert squeeze(REASON) not in amended

    again = usecases.amend(
        db, summary.id, held, reason="Not handed over: the patient came back", username="rosei",
        password=PASSWORD, settings=SETTINGS,
    )  # fmt: skip
    assert get_handout(db, summary.id, again.id).pdf == get_handout(db, summary.id).pdf
