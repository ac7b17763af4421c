"""Which fills count toward the cumulative dose (SQLite file and PostgreSQL): only those whose
signature approves the hand-over ("handed over", and "counselling declined", which is signed
as approving it); a fill not handed over, or amended to not handed over, counts nothing, in
``course``, in ``due`` and in the next visit's prefilled course."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from pharmacist_tool.case import Case, Course, Outcome
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records import service
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.test_course import _amend, _first_visit, _sign, _this_visit

D = dt.date.fromisoformat


def _second(db: Database, record_id: int) -> Case:
    return _this_visit(
        course_records.next_visit(db, record_id, D("2026-10-01")), "2026-09-30", "RMA-2"
    )


def test_counselling_declined_counts_as_handed_over(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    r1 = _sign(db, pharmacist, _first_visit(), status="declined", reason="Counselled last month")
    course = course_records.find_course(db, programme_id="IP-0001")
    assert course.summary.cumulative_mg == 1200
    assert course.summary.next_fill_due == D("2026-10-01")
    following = course_records.next_visit(db, r1, D("2026-10-01"))
    assert following.course == Course(
        fill_number=2, cumulative_mg_before=1200, previous_fill_on=D("2026-09-01")
    )
    due = course_records.due_items(db, D("2026-09-28"), 7)
    assert ("reverse-authorization", r1) not in [(i.what, i.record_id) for i in due]


def test_not_handed_over_counts_nothing(db: Database, pharmacist: AuthenticatedUser) -> None:
    r1 = _sign(db, pharmacist, _first_visit(), status="not-handed-over", reason="Test too old")
    course = course_records.find_course(db, programme_id="IP-0001")
    assert course.summary.cumulative_mg == 0
    assert course.summary.next_fill_due is None and course.summary.last_handed_over is None
    assert course_records.next_visit(db, r1, D("2026-09-05")).course == Course(
        fill_number=1, cumulative_mg_before=0
    )
    due = [(i.what, i.record_id) for i in course_records.due_items(db, D("2026-09-01"), 7)]
    assert ("reverse-authorization", r1) in due
    assert "next-fill" not in [what for what, _ in due]


def test_an_earlier_fill_amended_to_not_handed_over_no_longer_counts(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    r1 = _sign(db, pharmacist, _first_visit())
    r2 = _sign(db, pharmacist, _second(db, r1))  # signed as fill 2, 1200 mg before it
    assert course_records.find_course(db, programme_id="IP-0001").summary.cumulative_mg == 2400

    not_given = msgspec.structs.replace(
        _first_visit(), outcome=Outcome(status="not-handed-over", reason="Never collected")
    )
    _amend(db, pharmacist, r1, not_given, "The patient never collected it")

    course = course_records.find_course(db, programme_id="IP-0001")
    assert [f.outcome for f in course.fills] == ["not-handed-over", "handed-over"]
    assert course.summary.cumulative_mg == 1200
    # the next visit counts the fills as amended, not the second record's signed course
    assert course_records.next_visit(db, r2, D("2026-10-31")).course == Course(
        fill_number=2, cumulative_mg_before=1200, previous_fill_on=D("2026-10-01")
    )

    # and back: amended to handed over, it counts again
    given = msgspec.structs.replace(_first_visit(), outcome=Outcome(status="handed-over"))
    _amend(db, pharmacist, r1, given, "It was collected after all")
    assert course_records.find_course(db, programme_id="IP-0001").summary.cumulative_mg == 2400
    assert course_records.next_visit(db, r2, D("2026-10-31")).course == Course(
        fill_number=3, cumulative_mg_before=2400, previous_fill_on=D("2026-10-01")
    )
    report = service.verify(db)  # the index amended twice is what verify rebuilds
    assert report.intact, report.problems


def test_another_patient_born_the_same_day_keeps_their_fills(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    """A second patient with the same date of birth, with and without their own programme
    id: none of their fills joins the first patient's course."""
    mine = _sign(db, pharmacist, _first_visit())
    other = _first_visit()
    for programme_id in ("IP-0002", None):
        patient = msgspec.structs.replace(
            other.patient, name="Zoë Tanaka", programme_id=programme_id
        )
        _sign(db, pharmacist, msgspec.structs.replace(other, patient=patient))
    course = course_records.find_course(db, programme_id="IP-0001")
    assert [f.record_id for f in course.fills] == [mine]
    assert course.summary.cumulative_mg == 1200
    theirs = course_records.find_course(db, programme_id="IP-0002")
    assert len(theirs.fills) == 2 and theirs.summary.cumulative_mg == 2400
    report = service.verify(db)
    assert report.intact, report.problems


def test_the_course_is_read_again_after_the_server_drops_the_connection(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    """PostgreSQL: the connection kept for course reads is made again when the server has
    ended it (a restart, an idle timeout), and the read still answers."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite reads on a pooled connection")
    import psycopg

    _sign(db, pharmacist, _first_visit())
    assert course_records.find_course(db, programme_id="IP-0001").summary.cumulative_mg == 1200
    (pid,) = db.read_rows("SELECT pg_backend_pid()", {})[0]
    url = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert course_records.find_course(db, programme_id="IP-0001").summary.cumulative_mg == 1200
    assert db.read_rows("SELECT pg_backend_pid()", {})[0][0] != pid
