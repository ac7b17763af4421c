"""Users, signing, refusing an unfinished session, amending, the audit log and the queries, on a
real SQLite file and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pwd

import pytest

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import reading, service, users, writing
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.conftest import signed_in
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for

# -- users ----------------------------------------------------------------------------------


def test_the_first_user_gets_admin_rights_and_later_ones_need_an_admin(db: Database) -> None:
    assert users.needs_first_admin(db)
    first = users.create_first_admin(
        db, "rosei", PASSWORD, full_name="Rita Osei", role="pharmacist"
    )
    # a pharmacist-in-charge set up first can both sign and add staff
    assert (first.role, first.is_admin, first.can_sign) == ("pharmacist", True, True)
    assert first.printed_name == "Rita Osei"
    assert not users.needs_first_admin(db)
    with pytest.raises(UserError, match="already has users"):
        users.create_first_admin(db, "boss", PASSWORD)
    tech = users.add_user(db, signed_in(db, first), "tech", "technician", PASSWORD)
    assert not tech.is_admin
    with pytest.raises(UserError, match="Only an administrator"):
        users.add_user(db, signed_in(db, tech), "tech2", "technician", PASSWORD)
    # administrator rights may be given beside any role; role admin always has them
    ph2 = users.add_user(db, signed_in(db, first), "ph2", "pharmacist", PASSWORD, is_admin=True)
    boss = users.add_user(db, signed_in(db, ph2), "boss", "admin", PASSWORD)
    assert ph2.is_admin and boss.is_admin and not boss.can_sign
    added = {e.detail["new_user"]: e for e in reading.list_events(db, action="user-added")}
    assert added["rosei"].detail["first_user"] is True
    assert added["rosei"].detail["console_account"] == pwd.getpwuid(os.getuid()).pw_name
    assert added["tech"].username == "rosei"  # who vouched


def test_no_audit_field_comes_from_the_environment(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "somebody-else")
    users.create_first_admin(db, "rosei", PASSWORD, role="pharmacist")
    (event,) = reading.list_events(db, action="user-added")
    assert event.detail["console_account"] != "somebody-else"


def test_admin_adds_users_and_names_are_unique(db: Database, admin: AuthenticatedUser) -> None:
    users.add_user(db, admin, "tech1", "technician", PASSWORD, full_name="Tom Tech")
    with pytest.raises(UserError, match="already a user called"):
        users.add_user(db, admin, "TECH1", "technician", PASSWORD)
    with pytest.raises(UserError, match="Unknown role"):
        users.add_user(db, admin, "x", "owner", PASSWORD)
    with pytest.raises(UserError, match="user name"):
        users.add_user(db, admin, "has space", "technician", PASSWORD)
    names = [(u.username, u.role) for u in users.list_users(db)]
    assert names == [("boss", "admin"), ("tech1", "technician")]
    added = [e for e in reading.list_events(db, action="user-added")]
    assert {e.detail["new_user"] for e in added} == {"boss", "tech1"}


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("", "empty"),
        ("short1", "at least 8"),
        ("password123", "most common"),
        ("aaaaaaaaaaaa", "repeats"),
        ("1234567890", "consecutive digits"),
        ("xxnewuserxx99", "user name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    db: Database, admin: AuthenticatedUser, password: str, why: str
) -> None:
    with pytest.raises(UserError) as caught:
        users.add_user(db, admin, "newuser", "pharmacist", password)
    assert why in str(caught.value)
    assert users.get_user(db, "newuser") is None


def test_passwords_are_stored_as_argon2_hashes(db: Database, admin: AuthenticatedUser) -> None:
    from sqlalchemy import select

    from pharmacist_tool.records.models import User

    with db.session() as session:
        stored = session.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_authenticate_audits_logins_and_failures(db: Database, admin: AuthenticatedUser) -> None:
    user = users.authenticate(db, "boss", PASSWORD)
    assert user == admin
    with pytest.raises(users.LoginFailedError, match="Wrong user name or password"):
        users.authenticate(db, "boss", PASSWORD + "x")
    with pytest.raises(users.LoginFailedError, match="Wrong user name or password"):
        users.authenticate(db, "nobody", PASSWORD)
    users.logout(db, user)
    actions = [(e.action, e.username) for e in reversed(reading.list_events(db))]
    assert actions[-4:] == [
        ("login", "boss"),
        ("login-failed", "boss"),
        ("login-failed", "nobody"),
        ("logout", "boss"),
    ]


def test_five_failures_lock_the_account_for_fifteen_minutes(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    for _ in range(5):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "rosei", "wrong password here", now=start)
    # the right password does not open a locked account
    with pytest.raises(users.LoginFailedError):
        users.authenticate(db, "rosei", PASSWORD, now=start + dt.timedelta(minutes=14))
    assert users.authenticate(db, "rosei", PASSWORD, now=start + dt.timedelta(minutes=16))
    locked = reading.list_events(db, action="account-locked")
    assert len(locked) == 1 and locked[0].username == "rosei"
    whys = [e.detail["why"] for e in reversed(reading.list_events(db, action="login-failed"))]
    assert whys == ["wrong password"] * 5 + ["account locked"]
    assert service.verify(db).intact


def test_locked_unknown_disabled_and_wrong_give_the_same_answer(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    """Nothing in the answer tells whether a name exists, is locked or is disabled."""
    users.add_user(db, admin, "gone", "pharmacist", PASSWORD, full_name="G One")
    users.deactivate_user(db, admin, "gone")
    for _ in range(5):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "rosei", "wrong password here")
    answers = set()
    for name, password in (
        ("rosei", PASSWORD),  # locked, right password
        ("rosei", "wrong password here"),  # locked
        ("nobody", PASSWORD),  # unknown
        ("gone", PASSWORD),  # disabled
        ("boss", "wrong password here"),  # wrong
    ):
        with pytest.raises(users.LoginFailedError) as caught:
            users.authenticate(db, name, password)
        answers.add(str(caught.value))
    assert answers == {users.LOGIN_FAILED}
    assert "Wrong user name or password" in users.LOGIN_FAILED


def test_a_success_resets_the_failure_count(db: Database, pharmacist: AuthenticatedUser) -> None:
    for _ in range(4):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "rosei", "wrong password here")
    users.authenticate(db, "rosei", PASSWORD)
    for _ in range(4):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "rosei", "wrong password here")
    assert users.authenticate(db, "rosei", PASSWORD).username == "rosei"
    assert reading.list_events(db, action="account-locked") == []


# -- signing --------------------------------------------------------------------------------


def test_sign_stores_everything_an_inspector_asks_for(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    case = finished_case()
    assessment = assessment_for(case)
    handout = handout_for(case)
    before = dt.datetime.now(dt.UTC)
    summary = writing.sign_record(db, pharmacist, case, assessment, handout, prepared_by="tech1")
    record = reading.get_record(db, summary.id, include_handout=True)

    assert record.case == case
    assert json.loads(record.assessment_json)["knowledge_base"]["version"] == "2026.11.1"
    assert record.summary.outcome == "handed-over"
    assert record.summary.patient_name == "Ana García"
    assert record.summary.knowledge_base_version == "2026.11.1"
    assert record.summary.rules_version == "US-iPLEDGE-2026-11"
    assert record.handout_pdf == handout.pdf
    assert record.handout_sha256 == hashlib.sha256(handout.pdf).hexdigest()
    assert record.prepared_by == "tech1"
    sig = record.signature
    assert (sig.username, sig.printed_name, sig.role) == ("rosei", "Rita Osei", "pharmacist")
    assert before <= sig.signed_at <= dt.datetime.now(dt.UTC)
    assert sig.meaning == "Counselled the patient and approved hand-over of the medicine"
    assert sig.line().startswith("Signed by Rita Osei (pharmacist) on ")
    events = reading.list_events(db, record_id=summary.id)
    assert [e.action for e in events] == ["sign"]
    assert events[0].detail["handout_sha256"] == record.handout_sha256


@pytest.mark.parametrize(
    ("status", "reason", "meaning"),
    [
        ("not-handed-over", "Pregnancy test older than 7 days", "not handed over"),
        ("declined", "Patient in a hurry, had counselling last month", "declined counselling"),
    ],
)
def test_the_signature_says_what_it_means(
    db: Database, pharmacist: AuthenticatedUser, status: str, reason: str, meaning: str
) -> None:
    case = finished_case(status=status, reason=reason)
    summary = writing.sign_record(db, pharmacist, case, assessment_for(case), handout_for(case))
    record = reading.get_record(db, summary.id)
    assert meaning in record.signature.meaning
    assert record.summary.outcome_reason == reason


def test_a_reprint_is_byte_identical(db: Database, pharmacist: AuthenticatedUser) -> None:
    case = finished_case()
    handout = handout_for(case)
    summary = writing.sign_record(db, pharmacist, case, assessment_for(case), handout)
    again = reading.get_handout(db, summary.id)
    assert again.pdf == handout.pdf and again.sha256 == handout.sha256
    writing.record_event(db, "reprint", user=pharmacist, record_id=summary.id)
    assert reading.list_events(db, record_id=summary.id)[0].action == "reprint"


def test_an_unfinished_session_is_refused_with_what_is_missing(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    case = finished_case()
    with pytest.raises(UserError) as caught:
        writing.sign_record(
            db, pharmacist, case, assessment_for(case, storage_done=False), handout_for(case)
        )
    assert caught.value.details == ["Counselling point not confirmed: Storage (storage)"]
    no_outcome = finished_case()
    import msgspec

    no_outcome = msgspec.structs.replace(no_outcome, outcome=None)
    with pytest.raises(UserError) as caught:
        writing.sign_record(db, pharmacist, no_outcome, assessment_for(case), handout_for(case))
    assert "Choose the outcome" in caught.value.details[0]
    with pytest.raises(UserError) as caught:
        writing.sign_record(
            db, pharmacist, case, assessment_for(case, block=True), handout_for(case)
        )
    assert caught.value.details[0].startswith("BLOCK interaction.tetracyclines")
    assert reading.count_records(db) == 0


@pytest.mark.parametrize("role", ["technician", "admin"])
def test_only_a_pharmacist_signs(db: Database, admin: AuthenticatedUser, role: str) -> None:
    info = users.add_user(db, admin, f"a{role}", role, PASSWORD)
    case = finished_case()
    with pytest.raises(UserError, match="Only a pharmacist"):
        writing.sign_record(db, signed_in(db, info), case, assessment_for(case), handout_for(case))
    assert reading.count_records(db) == 0


def test_a_handout_whose_hash_does_not_match_is_not_stored(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    import dataclasses

    case = finished_case()
    handout = dataclasses.replace(handout_for(case), sha256="0" * 64)
    with pytest.raises(UserError, match="do not match"):
        writing.sign_record(db, pharmacist, case, assessment_for(case), handout)


# -- amending -------------------------------------------------------------------------------


def test_an_amendment_leaves_the_original_unchanged(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    case = finished_case()
    summary = writing.sign_record(db, pharmacist, case, assessment_for(case), handout_for(case))
    before = reading.get_record(db, summary.id, include_handout=True)

    corrected = finished_case(name="Ana García López")
    amendment = writing.amend_record(
        db,
        summary.id,
        pharmacist,
        corrected,
        assessment_for(corrected),
        handout_for(corrected, "Corrected handout"),
        "Surname was incomplete",
    )
    after = reading.get_record(db, summary.id, include_handout=True)
    assert after.stored == before.stored
    assert after.handout_pdf == before.handout_pdf
    assert after.case == case
    assert [a.id for a in after.amendments] == [amendment.id]
    assert after.amendments[0].case == corrected
    assert after.amendments[0].reason == "Surname was incomplete"
    assert after.amendments[0].signature.username == "rosei"
    assert "Amended" in after.amendments[0].signature.meaning
    assert after.current_case_json == after.amendments[0].case_json
    assert reading.get_handout(db, summary.id, amendment.id).pdf != before.handout_pdf
    assert [e.action for e in reading.list_events(db, record_id=summary.id)] == ["amend", "sign"]
    assert service.verify(db).intact


def test_amend_needs_a_reason_a_record_and_a_pharmacist(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    case = finished_case()
    summary = writing.sign_record(db, pharmacist, case, assessment_for(case), handout_for(case))
    args = (case, assessment_for(case), handout_for(case))
    with pytest.raises(UserError, match="reason"):
        writing.amend_record(db, summary.id, pharmacist, *args, "   ")
    with pytest.raises(UserError, match="no record 99"):
        writing.amend_record(db, 99, pharmacist, *args, "typo")
    with pytest.raises(UserError, match="Only a pharmacist"):
        writing.amend_record(db, summary.id, admin, *args, "typo")
    assert reading.get_record(db, summary.id).amendments == ()


# -- reading --------------------------------------------------------------------------------


def _sign_many(db: Database, pharmacist: AuthenticatedUser) -> None:
    people = [
        ("Ana García", "2026-11-20", "handed-over", ""),
        ("ANA GARCIA", "2026-11-21", "not-handed-over", "Test too old"),
        ("Bob Stone", "2026-11-22", "handed-over", ""),
        ("Chen 100%_Li", "2026-11-23", "declined", "Counselled last month"),
    ]
    for name, day, status, reason in people:
        case = finished_case(name, status, reason, dt.date.fromisoformat(day))
        writing.sign_record(db, pharmacist, case, assessment_for(case), handout_for(case))


def test_search_filters_sorts_and_pages(db: Database, pharmacist: AuthenticatedUser) -> None:
    _sign_many(db, pharmacist)
    F = reading.RecordFilter  # noqa: N806

    def count(flt: reading.RecordFilter) -> int:
        return reading.count_records(db, flt)

    page = reading.fetch_page(db, F(patient="garcía"), sort="counselled_on", descending=False)
    assert [r.patient_name for r in page] == ["Ana García", "ANA GARCIA"]
    assert count(F(patient="100%_")) == 1
    assert count(F(patient="0%", match="anywhere")) == 1
    assert count(F(patient="%")) == 0  # no word starts with "%"
    assert count(F(patient="%", match="anywhere")) == 1
    assert count(F(since=dt.date(2026, 11, 21), until=dt.date(2026, 11, 22))) == 2
    assert reading.fetch_page(db, F(outcome="declined"))[0].patient_name == "Chen 100%_Li"
    assert count(F(pharmacist="Rita Osei")) == 4
    assert count(F(pharmacist="rosei")) == 4
    assert count(F(pharmacist="nobody")) == 0
    first = reading.fetch_page(db, sort="patient", descending=False, limit=3)
    last = first[-1]
    second = reading.fetch_page(
        db, sort="patient", descending=False, after=(last.sort_value, last.id), limit=3
    )
    assert count(F()) == 4 and len(first) == 3 and len(second) == 1
    assert first[-1].patient_name == "Bob Stone"
    assert second[0].patient_name.startswith("Chen")


def test_iterators_stream_everything_in_order(db: Database, pharmacist: AuthenticatedUser) -> None:
    _sign_many(db, pharmacist)
    with db.session() as session:
        details = list(reading.iter_records(session, batch=3, include_handout=True))
        assert [d.id for d in details] == [1, 2, 3, 4]
        assert all(d.handout_pdf and d.handout_pdf.startswith(b"%PDF-") for d in details)
        assert "handout_pdf" in details[0].stored
        lean = list(reading.iter_records(session, reading.RecordFilter(patient="ana"), batch=1))
    assert [d.id for d in lean] == [1, 2] and lean[0].handout_pdf is None
    summaries = list(reading.iter_summaries(db, batch=2))
    assert [s.counselled_on.day for s in summaries] == [20, 21, 22, 23]
    with pytest.raises(UserError, match="no record 42"):
        reading.get_record(db, 42)


def test_record_event_keeps_what_the_window_and_exports_report(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    event_id = writing.record_event(
        db, "export", user="rosei", detail={"format": "csv", "count": 12}
    )
    (event,) = reading.list_events(db, action="export")
    assert event.id == event_id and event.detail == {"format": "csv", "count": 12}
    with pytest.raises(ValueError, match="unknown audit action"):
        writing.record_event(db, "shred")
    assert service.verify(db).intact
