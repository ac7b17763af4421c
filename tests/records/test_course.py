"""The course across visits through the real engine and store (SQLite file and PostgreSQL):
three monthly fills of one patient, an amended fill and one not handed over, then ``course``,
``next`` and ``due`` checked exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from pharmacist_tool.case import Case, Course, Outcome, PregnancyTest, ProgrammeCheck
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine import assess
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records import service
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.records.writing import amend_record, sign_record
from tests.conftest import example_case
from tests.records.helpers import handout_for

KB = load_knowledge_base()
D = dt.date.fromisoformat


def _finish(case: Case, status: str = "handed-over", reason: str = "") -> tuple[Case, Any]:
    """Every counselling point confirmed and every finding resolved, as the window would."""
    first = assess(case, KB)
    case = msgspec.structs.replace(
        case,
        checklist={item.id: True for item in first.checklist},
        resolutions={f.code: "Discussed" for f in first.findings if f.needs_resolution},
        outcome=Outcome(status=status, reason=reason),  # type: ignore[arg-type]
    )
    return case, assess(case, KB)


def _sign(db: Database, who: AuthenticatedUser, case: Case, **outcome: str) -> int:
    case, assessment = _finish(case, **outcome)
    return sign_record(db, who, case, assessment, handout_for(case)).id


def _amend(db: Database, who: AuthenticatedUser, record_id: int, case: Case, why: str) -> None:
    status = case.outcome.status if case.outcome else "handed-over"
    reason = case.outcome.reason if case.outcome else ""
    case, assessment = _finish(case, status, reason)
    amend_record(db, record_id, who, case, assessment, handout_for(case), why)


def _this_visit(draft: CaseDraft, test_on: str, authorization: str) -> Case:
    """A next visit's case with this visit's prescription (dated the visit's day), test and
    authorization entered."""
    draft = msgspec.convert(msgspec.to_builtins(draft), CaseDraft)  # a copy
    draft.prescription.prescribed_on = draft.counselled_on
    draft.prescription.authorization = authorization
    draft.pregnancy_tests = [PregnancyTest(date=D(test_on), result="negative")]
    if draft.carried is not None:  # each carried fact confirmed with the patient
        draft.carried.confirmed = list(draft.carried.facts)
    return draft.require_complete()


def _first_visit() -> Case:
    case = example_case("01")  # US, can get pregnant, 62 kg, Claravis 20 mg x 1 x 2, 30 days
    return msgspec.structs.replace(
        case,
        counselled_on=D("2026-09-01"),
        patient=msgspec.structs.replace(case.patient, programme_id="IP-0001"),
        prescription=msgspec.structs.replace(
            case.prescription, prescribed_on=D("2026-08-31"), authorization="RMA-1"
        ),
        pregnancy_tests=[PregnancyTest(date=D("2026-08-31"), result="negative")],
        course=Course(fill_number=1),
    )


def _three_fills(db: Database, who: AuthenticatedUser) -> dict[str, Any]:
    r1 = _sign(db, who, _first_visit())
    case2 = course_records.next_visit(db, r1, D("2026-10-01"))
    r2 = _sign(db, who, _this_visit(case2, "2026-09-30", "RMA-2"))
    # the patient comes back after the 7-day window: not handed over
    case3 = course_records.next_visit(db, r2, D("2026-10-31"))
    r3 = _sign(
        db,
        who,
        _this_visit(case3, "2026-10-20", "RMA-3"),
        status="not-handed-over",
        reason="The pick-up window closed on 2026-10-26",
    )
    case4 = course_records.next_visit(db, r3, D("2026-11-02"))
    r4 = _sign(db, who, _this_visit(case4, "2026-11-01", "RMA-4"))
    return {"ids": (r1, r2, r3, r4), "case2": case2, "case4": case4}


def test_three_monthly_fills_course_next_and_due(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    made = _three_fills(db, pharmacist)
    r1, r2, r3, r4 = made["ids"]

    # next: carried facts, this visit's parts empty, the course counted on
    case2: CaseDraft = made["case2"]
    first = _first_visit()
    assert case2.counselled_on == D("2026-10-01")
    assert case2.prescription.prescribed_on is None  # each visit has a new prescription
    assert case2.not_entered() == ["prescription.prescribed_on"]
    assert case2.carried is not None and case2.carried.from_record == r1
    assert case2.carried.facts["weight"] == "62 kg" and case2.carried.confirmed == []
    assert "alcohol" not in case2.carried.facts  # not asked last time: asked now, not carried
    assert case2.course == Course(
        fill_number=2, cumulative_mg_before=1200, previous_fill_on=D("2026-09-01")
    )
    first_draft = CaseDraft.of(first)
    assert case2.patient == first_draft.patient
    assert case2.contraception == first.contraception and case2.medicines == first.medicines
    assert case2.alcohol == first.alcohol
    assert msgspec.structs.replace(case2.prescription, prescribed_on=D("2026-08-31")) == (
        msgspec.structs.replace(first_draft.prescription, authorization=None)
    )
    assert (case2.pregnancy_tests, case2.checklist, case2.resolutions) == ([], {}, {})
    assert case2.outcome is None and case2.prescription.authorization is None
    # after a fill not handed over, the next visit is the same fill number, nothing added
    assert made["case4"].course == Course(
        fill_number=3, cumulative_mg_before=2400, previous_fill_on=D("2026-10-01")
    )

    # the assessment's course fields on the third fill
    fourth = assess(_this_visit(made["case4"], "2026-11-01", "RMA-4"), KB)
    assert fourth.cumulative_mg == 3600
    assert fourth.cumulative_mg_per_kg == 58.06
    (finding,) = [f for f in fourth.findings if f.code == "course.cumulative-dose"]
    assert finding.severity == "info" and "Fill 3" in finding.message

    # the second fill is amended: 28 days' supply; its values win
    second = _this_visit(made["case2"], "2026-09-30", "RMA-2")
    amended = msgspec.structs.replace(
        second,
        prescription=msgspec.structs.replace(second.prescription, days_supply=28, quantity=56),
    )
    _amend(db, pharmacist, r2, amended, "Supply was 28 days, not 30")

    by_id = course_records.find_course(db, programme_id="IP-0001").to_json()
    by_name = course_records.find_course(
        db, name="ANA GARCIA", date_of_birth=D("2004-03-02")
    ).to_json()
    assert by_id == by_name
    assert by_id == {
        "patient": {"name": "Ana García", "date_of_birth": "2004-03-02", "programme_id": "IP-0001"},
        "fills": [
            {"record_id": r1, "counselled_on": "2026-09-01", "medicine": "Claravis",
             "daily_dose_mg": 40.0, "days_supply": 30, "outcome": "handed-over",
             "authorization_expires_on": "2026-09-06"},
            {"record_id": r2, "counselled_on": "2026-10-01", "medicine": "Claravis",
             "daily_dose_mg": 40.0, "days_supply": 28, "outcome": "handed-over",
             "authorization_expires_on": "2026-10-06"},
            {"record_id": r3, "counselled_on": "2026-10-31", "medicine": "Claravis",
             "daily_dose_mg": 40.0, "days_supply": 30, "outcome": "not-handed-over",
             "authorization_expires_on": "2026-10-26"},
            {"record_id": r4, "counselled_on": "2026-11-02", "medicine": "Claravis",
             "daily_dose_mg": 40.0, "days_supply": 30, "outcome": "handed-over",
             "authorization_expires_on": "2026-11-07"},
        ],
        "cumulative_mg": 3520.0,  # 1200 + 1120 (amended) + 1200; the fill not handed over: 0
        "cumulative_mg_per_kg": 56.77,
        "next_fill_due": "2026-12-02",
        "next_pregnancy_test_due": "2026-12-01",
        "similar_not_merged": [],
    }  # fmt: skip

    # due: the reversal of the authorization not picked up, this week's test and fill
    due = [i.to_json() for i in course_records.due_items(db, D("2026-11-28"), 7)]
    who = {"patient": "Ana García", "date_of_birth": "2004-03-02", "programme_id": "IP-0001"}
    assert due == [
        {"what": "reverse-authorization", "due_on": "2026-10-31", **who, "record_id": r3,
         "overdue": True, "reverse_if_not_collected_by": "2026-10-26",
         "authorization_expires_on": "2026-10-26"},
        {"what": "pregnancy-test", "due_on": "2026-12-01", **who, "record_id": r4,
         "overdue": False},
        {"what": "next-fill", "due_on": "2026-12-02", **who, "record_id": r4,
         "overdue": False},
    ]  # fmt: skip
    earlier = course_records.due_items(db, D("2026-11-20"), 7)  # the reversal waits until done
    assert [(i.what, i.record_id) for i in earlier] == [("reverse-authorization", r3)]

    # marked done: an amendment records the reversal; the item leaves the list
    third = course_records.next_visit(db, r2, D("2026-10-31"))
    reversed_case = msgspec.structs.replace(
        _this_visit(third, "2026-10-20", "RMA-3"),
        programme_check=ProgrammeCheck(
            authorization_via="website", authorization_reversed_on=D("2026-11-03")
        ),
        outcome=Outcome(status="not-handed-over", reason="The pick-up window closed"),
    )
    _amend(db, pharmacist, r3, reversed_case, "Authorization reversed on the website")
    due = course_records.due_items(db, D("2026-11-28"), 7)
    assert [(i.what, i.record_id) for i in due] == [("pregnancy-test", r4), ("next-fill", r4)]
    report = service.verify(db)  # the index written fill by fill is what verify rebuilds
    assert report.intact, report.problems


def test_the_last_fill_gives_the_test_after_the_course(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    r1 = _sign(db, pharmacist, _first_visit())
    last = course_records.next_visit(db, r1, D("2026-10-01"))
    last = msgspec.structs.replace(
        _this_visit(last, "2026-09-30", "RMA-2"),
        course=msgspec.structs.replace(last.course, last_fill=True),  # type: ignore[arg-type]
    )
    r2 = _sign(db, pharmacist, last)
    course = course_records.find_course(db, programme_id="IP-0001")
    # last dose 2026-10-30 (30 days from 2026-10-01), the test 30 days after
    assert course.summary.ended and course.summary.next_fill_due is None
    assert course.to_json()["next_pregnancy_test_due"] == "2026-11-29"
    due = course_records.due_items(db, D("2026-11-25"), 7)
    assert [(i.what, i.due_on, i.record_id) for i in due] == [
        ("after-course-pregnancy-test", D("2026-11-29"), r2)
    ]


def test_two_spellings_are_not_merged_but_named(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    def without_id(name: str) -> Case:
        case = _first_visit()
        patient = msgspec.structs.replace(case.patient, name=name, programme_id=None)
        return msgspec.structs.replace(case, patient=patient)

    r1 = _sign(db, pharmacist, without_id("Ana García"))
    r2 = _sign(db, pharmacist, without_id("Ana Garcia Lopez"))
    course = course_records.find_course(db, name="ana garcía", date_of_birth=D("2004-03-02"))
    assert [f.record_id for f in course.fills] == [r1]
    assert course.summary.cumulative_mg == 1200
    assert [s.to_json() for s in course.similar] == [
        {"name": "Ana Garcia Lopez", "date_of_birth": "2004-03-02", "programme_id": None,
         "record_ids": [r2]}
    ]  # fmt: skip
    with pytest.raises(UserError, match="No signed record"):
        course_records.find_course(db, programme_id="IP-9999")
    assert service.verify(db).intact


def test_rebuilding_the_index_gives_the_same_course(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    _three_fills(db, pharmacist)
    before = course_records.find_course(db, programme_id="IP-0001").to_json()
    due_before = course_records.due_items(db, D("2026-11-28"), 7)
    with db.session(write=True) as session:
        assert course_records.rebuild_course_index(session) == 4
    assert course_records.find_course(db, programme_id="IP-0001").to_json() == before
    assert course_records.due_items(db, D("2026-11-28"), 7) == due_before


def _rehash_as_then(conn: Any) -> None:
    """The chain as that schema's version wrote it: the downgrade dropped columns the rows'
    hashes covered (pack, chain_format, signature), which the upgrade's verification would
    rightly name; rows written then were hashed without them."""
    import hashlib

    import msgspec
    from sqlalchemy import inspect, text

    from pharmacist_tool.records import chain
    from pharmacist_tool.records.guards import (
        install_append_only_guards,
        remove_append_only_guards,
    )
    from pharmacist_tool.records.models import CHAINED_TABLES, GENESIS_HASH

    encode = msgspec.json.Encoder(order="sorted").encode
    rows = []
    for table, model in CHAINED_TABLES.items():
        present = {c["name"] for c in inspect(conn).get_columns(table)}
        names, converters = chain._stored_converters(model)
        kept = [(n, c) for n, c in zip(names, converters, strict=True) if n in present]
        found = conn.exec_driver_sql(f"SELECT {', '.join(n for n, _ in kept)} FROM {table}")
        for raw in found:
            values = {
                name: (convert(value) if convert and value is not None else value)
                for (name, convert), value in zip(kept, raw, strict=True)
            }
            rows.append((int(values["seq"]), table, values))
    remove_append_only_guards(conn)
    prev = GENESIS_HASH
    for _, table, values in sorted(rows, key=lambda row: row[0]):
        values["prev_hash"] = prev
        body = {k: v for k, v in values.items() if v is not None and k != "row_hash"}
        prev = hashlib.sha256(encode({**body, "_table": table})).hexdigest()
        conn.execute(
            text(f"UPDATE {table} SET prev_hash = :p, row_hash = :h WHERE id = :id"),
            {"p": values["prev_hash"], "h": prev, "id": values["id"]},
        )
    conn.execute(text("UPDATE chain_head SET head_hash = :h WHERE id = 1"), {"h": prev})
    install_append_only_guards(conn)


def test_migration_0005_builds_the_course_of_records_signed_before_it(
    database_url: str, pharmacist: AuthenticatedUser, db: Database
) -> None:
    from alembic import command

    from pharmacist_tool.records.db import alembic_config, open_database

    _three_fills(db, pharmacist)
    before = course_records.find_course(db, programme_id="IP-0001").to_json()
    due_before = course_records.due_items(db, D("2026-11-28"), 7)
    from alembic.script import ScriptDirectory

    before_course = ScriptDirectory.from_config(alembic_config()).get_revision("0005_course")
    assert before_course is not None
    with db.engine.begin() as conn:  # as a database from before the course
        command.downgrade(alembic_config(conn), str(before_course.down_revision))
        _rehash_as_then(conn)
    with db.engine.connect() as conn:
        assert "course_fills" not in set(
            conn.dialect.get_table_names(conn)  # type: ignore[attr-defined]
        )
    with open_database(database_url) as again:  # migrates to the head
        assert course_records.find_course(again, programme_id="IP-0001").to_json() == before
        assert course_records.due_items(again, D("2026-11-28"), 7) == due_before


def test_a_next_visit_with_a_carried_fact_not_confirmed_is_not_signed(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    r1 = _sign(db, pharmacist, _first_visit())
    draft = course_records.next_visit(db, r1, D("2026-10-01"))
    case = _this_visit(draft, "2026-09-30", "RMA-2")
    assert case.carried is not None
    unconfirmed = msgspec.structs.replace(
        case, carried=msgspec.structs.replace(case.carried, confirmed=["weight"])
    )
    with pytest.raises(UserError) as refused:
        _sign(db, pharmacist, unconfirmed)
    details = refused.value.details
    assert len(details) == len(case.carried.facts) - 1
    assert all(d.startswith("Carried from the last visit and not confirmed: ") for d in details)
    assert "weight" not in " ".join(details) and "prescriber: " in " ".join(details)
    assert [f.record_id for f in course_records.find_course(db, programme_id="IP-0001").fills] == [
        r1
    ]
