"""The course index inside the trust boundary: each edit an insider can make to
``course_fills`` or ``course_due`` by SQL is named by ``verify`` (exit 1), and ``course``,
``next`` and ``due`` either show exactly what they showed before or refuse (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest

from pharmacist_tool import cli
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records import service
from pharmacist_tool.records.course_check import CourseIndexError
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.helpers import raw_sql
from tests.records.test_course import _three_fills

ON = dt.date(2026, 12, 1)

ATTACKS: dict[str, list[str]] = {
    "dose": ["UPDATE course_fills SET daily_dose_mg = 10 WHERE record_id = {r2}"],
    "outcome": ["UPDATE course_fills SET outcome = 'handed-over' WHERE record_id = {r3}"],
    "weight": ["UPDATE course_fills SET weight_kg = 95 WHERE record_id = {r4}"],
    "cumulative-before": [
        "UPDATE course_fills SET cumulative_mg_before = 4000 WHERE record_id = {r1}"
    ],
    "last-fill": ["UPDATE course_fills SET last_fill = TRUE WHERE record_id = {r4}"],
    "delete-fill": ["DELETE FROM course_fills WHERE record_id = {r2}"],
    "forge-fill": [
        "INSERT INTO course_fills SELECT 99, amendment_id, programme_id, patient_name, "
        "patient_name_key, patient_date_of_birth, can_get_pregnant, weight_kg, counselled_on, "
        "rule_set, medicine, outcome, daily_dose_mg, days_supply, fill_number, "
        "cumulative_mg_before, last_fill, next_pregnancy_test_due, after_course_test_due, "
        "pick_up_by, authorization_number, authorization_reversed_on FROM course_fills "
        "WHERE record_id = {r4}"
    ],
    "move-due": ["UPDATE course_due SET due_on = '2026-12-20' WHERE what = 'next-fill'"],
    "forge-due": ["UPDATE course_due SET patient_name = 'Someone Else' WHERE what = 'next-fill'"],
    "delete-due": ["DELETE FROM course_due WHERE what = 'reverse-authorization'"],
}


def _shown(db: Database, ids: tuple[int, ...]) -> dict[str, Any]:
    """What each reader shows, or that it refused."""
    shown: dict[str, Any] = {}
    readers = {
        "course": lambda: course_records.find_course(db, programme_id="IP-0001").to_json(),
        "course-by-name": lambda: course_records.course_of_record(db, ids[0]).to_json(),
        "next": lambda: course_records.next_visit(db, ids[-1], ON),
        "due": lambda: [i.to_json() for i in course_records.due_items(db, ON, 40)],
    }
    for name, read in readers.items():
        try:
            shown[name] = read()
        except CourseIndexError as error:
            shown[name] = ("refused", str(error))
    return shown


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_edited_course_index_is_caught_and_never_shown(
    db: Database, pharmacist: AuthenticatedUser, attack: str
) -> None:
    ids = _three_fills(db, pharmacist)["ids"]
    before = _shown(db, ids)
    assert not any(isinstance(v, tuple) for v in before.values())
    assert service.verify(db).intact
    r1, r2, r3, r4 = ids
    raw_sql(db, [s.format(r1=r1, r2=r2, r3=r3, r4=r4) for s in ATTACKS[attack]])

    report = service.verify(db)
    named = {(p.table, p.id) for p in report.problems}
    assert not report.intact
    assert {t for t, _ in named} <= {"course_fills", "course_due"}, report.problems
    if attack.endswith("due"):
        assert any(t == "course_due" for t, _ in named)
    else:
        target = {"dose": r2, "outcome": r3, "weight": r4, "cumulative-before": r1,
                  "last-fill": r4, "delete-fill": r2, "forge-fill": 99}[attack]  # fmt: skip
        assert ("course_fills", target) in named

    after = _shown(db, ids)
    if attack == "delete-due":  # the rows left are shown as they were; the gap shows to verify
        assert [row for row in before["due"] if row in after["due"]] == after["due"]
        after["due"] = before["due"]
    else:
        assert after != before
    for reader, value in after.items():
        assert value == before[reader] or (isinstance(value, tuple) and value[0] == "refused"), (
            f"{reader} showed an edited index after {attack}"
        )

    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["--database", db.url.render_as_string(hide_password=False), "verify"])
    assert code == 1
    assert "course index, record" in out.getvalue() or "due list, record" in out.getvalue()


def test_the_index_rebuilt_from_the_records_is_intact_again(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    ids = _three_fills(db, pharmacist)["ids"]
    before = _shown(db, ids)
    raw_sql(db, ["UPDATE course_fills SET daily_dose_mg = 10", "DELETE FROM course_due"])
    assert not service.verify(db).intact
    with db.session(write=True) as session:
        course_records.rebuild_course_index(session)
    assert service.verify(db).intact
    assert _shown(db, ids) == before


def test_a_signed_text_changed_after_it_was_read_is_read_again(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    """The fills of signed texts already read are kept, but a text that changed in the database
    since is decoded again: the course then disagrees with its index and is refused."""
    ids = _three_fills(db, pharmacist)["ids"]
    before = _shown(db, ids)  # every record read once: their fills kept
    assert not any(isinstance(v, tuple) for v in before.values())
    for table, column in (("records", "id"), ("amendments", "record_id")):
        for row_id, text in db.read_rows(f"SELECT id, case_json FROM {table} WHERE {column} = :r",
                                         {"r": ids[-1]}):  # fmt: skip
            case = json.loads(text)
            case["patient"]["weight_kg"] = 95
            raw_sql(db, [f"UPDATE {table} SET case_json = %s WHERE id = %s"],
                    [(json.dumps(case), row_id)])  # fmt: skip
    after = _shown(db, ids)
    for reader in ("course", "course-by-name", "next"):
        assert isinstance(after[reader], tuple) and after[reader][0] == "refused", reader
