"""Users are in the chain: every way of changing the users table behind the tool's back (a role
raised, a password hash swapped, administrator rights given, a lock lifted, a user inserted or
deleted) is named by verify and refused at log-in, on SQLite and PostgreSQL. Only an
administrator changes users, each change audited and chained; lock-out holds against parallel
guessers."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import reading, service, users, writing
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import User
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.conftest import signed_in
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for, raw_sql

TECH_PASSWORD = "a technician's own passphrase"


@pytest.fixture
def staff(db: Database, admin: AuthenticatedUser) -> Iterator[dict[str, AuthenticatedUser]]:
    """boss (admin), rosei (pharmacist), tom (technician)."""
    rita = users.add_user(db, admin, "rosei", "pharmacist", PASSWORD, full_name="Rita Osei")
    tom = users.add_user(db, admin, "tom", "technician", TECH_PASSWORD, full_name="Tom Moss")
    yield {"boss": admin, "rosei": signed_in(db, rita), "tom": signed_in(db, tom, TECH_PASSWORD)}


def problems(db: Database) -> list[str]:
    report = service.verify(db)
    return [str(p) for p in report.problems]


def sign_as(db: Database, signer: AuthenticatedUser) -> None:
    case = finished_case()
    writing.sign_record(db, signer, case, assessment_for(case), handout_for(case))


# -- direct edits of the users table ----------------------------------------------------------


def test_a_technician_raised_to_pharmacist_by_sql_is_caught_and_cannot_sign(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    raw_sql(db, ["UPDATE users SET role = 'pharmacist' WHERE username = 'tom'"])
    found = problems(db)
    assert len(found) == 1, found
    assert found[0].startswith(f"user {staff['tom'].id}: 'tom' was changed outside")
    assert "role is 'pharmacist', the chain says 'technician'" in found[0]
    with pytest.raises(users.LoginFailedError, match="cannot be used") as caught:
        users.authenticate(db, "tom", TECH_PASSWORD, purpose="sign")
    assert "role is 'pharmacist'" in str(caught.value)
    refused = reading.list_events(db, action="login-failed")[0]
    assert refused.detail["why"] == "account changed outside pharmacist-tool"


def test_a_swapped_password_hash_is_caught_and_refused(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    """The technician copies their own hash onto the pharmacist, to sign as her."""
    with db.session() as session:
        tom_hash = session.execute(
            select(User.password_hash).where(User.username == "tom")
        ).scalar_one()
    raw_sql(db, ["UPDATE users SET password_hash = %s WHERE username = 'rosei'"], [(tom_hash,)])
    found = problems(db)
    assert found == [
        f"user {staff['rosei'].id}: 'rosei' was changed outside pharmacist-tool since audit event "
        f"{_last_user_event(db, 'rosei')} (user-added): its password hash was replaced"
    ]
    with pytest.raises(users.LoginFailedError, match="password hash was replaced"):
        users.authenticate(db, "rosei", TECH_PASSWORD, purpose="sign")


def _last_user_event(db: Database, username: str) -> int:
    events = [e for e in reading.list_events(db) if e.detail.get("user") == username]
    return events[0].id


def test_administrator_rights_given_by_sql_are_caught_and_give_no_authority(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    raw_sql(db, ["UPDATE users SET is_admin = TRUE WHERE username = 'tom'"])
    assert "administrator rights is True, the chain says False" in problems(db)[0]
    forged = dataclasses.replace(staff["tom"], is_admin=True)
    with pytest.raises(UserError, match="changed outside pharmacist-tool"):
        users.add_user(db, forged, "mallory", "pharmacist", PASSWORD, full_name="M")
    assert users.get_user(db, "mallory") is None


def test_a_lock_lifted_by_sql_is_caught(db: Database, staff: dict[str, AuthenticatedUser]) -> None:
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "rosei", "a wrong guess here")
    assert service.verify(db).intact
    raw_sql(db, ["UPDATE users SET locked_until = NULL, failed_logins = 0"])
    found = problems(db)
    assert len(found) == 1 and "lock is None, the chain says" in found[0], found


def test_a_user_inserted_by_sql_is_caught_and_cannot_log_in(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    known = PasswordHasher().hash("the intruder's password")
    raw_sql(
        db,
        [
            "INSERT INTO users (id, username, full_name, role, is_admin, password_hash, active, "
            "created_at, failed_logins) VALUES (99, 'mallory', 'Mallory', 'pharmacist', TRUE, %s, "
            "TRUE, '2026-12-01 10:00:00', 0)"
        ],
        [(known,)],
    )
    found = problems(db)
    assert found == [
        "user 99: 'mallory' is not in the chain: added outside pharmacist-tool (or its history "
        "was removed); it must not sign"
    ]
    with pytest.raises(users.LoginFailedError, match="not in the chain"):
        users.authenticate(db, "mallory", "the intruder's password", purpose="sign")
    assert reading.count_records(db) == 0


def test_a_user_cannot_be_deleted_and_a_deletion_by_sql_is_caught(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    from sqlalchemy import delete
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="never deleted"), db.session(write=True) as session:
        session.execute(delete(User).where(User.username == "tom"))
    raw_sql(db, ["DELETE FROM users WHERE username = 'tom'"])
    found = problems(db)
    assert len(found) == 1 and found[0].startswith(f"user {staff['tom'].id}: 'tom' was removed")


def test_every_change_through_the_tool_keeps_verify_intact(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    boss = staff["boss"]
    users.change_role(db, boss, "tom", "pharmacist")
    users.set_admin(db, boss, "tom", True)
    users.reset_password(db, boss, "rosei", "a brand new passphrase")
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "rosei", "a wrong guess here")
    users.unlock_user(db, boss, "rosei")
    assert users.authenticate(db, "rosei", "a brand new passphrase").can_sign
    users.change_password(db, "tom", TECH_PASSWORD, "the second passphrase")
    tom = users.authenticate(db, "tom", "the second passphrase")
    assert tom.is_admin and tom.can_sign
    sign_as(db, tom)
    users.deactivate_user(db, tom, "rosei")
    with pytest.raises(users.LoginFailedError):
        users.authenticate(db, "rosei", "a brand new passphrase")
    report = service.verify(db)
    assert report.intact, report.problems
    actions = [e.action for e in reversed(reading.list_events(db)) if e.detail.get("state")]
    assert actions == [
        "user-added", "user-added", "user-added", "role-changed", "admin-rights-changed",
        "password-changed", "account-locked", "account-unlocked", "password-changed",
        "user-deactivated",
    ]  # fmt: skip


def test_only_an_administrator_changes_users(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    rita, boss = staff["rosei"], staff["boss"]
    changes: list[Callable[[], object]] = [
        lambda: users.add_user(db, rita, "x1", "technician", PASSWORD, full_name="X One"),
        lambda: users.change_role(db, rita, "tom", "pharmacist"),
        lambda: users.set_admin(db, rita, "tom", True),
        lambda: users.reset_password(db, rita, "tom", "another good passphrase"),
        lambda: users.unlock_user(db, rita, "tom"),
        lambda: users.deactivate_user(db, rita, "tom"),
    ]
    for change in changes:
        with pytest.raises(UserError, match="Only an administrator"):
            change()
    with pytest.raises(UserError, match="last administrator"):
        users.deactivate_user(db, boss, "boss")
    users.deactivate_user(db, boss, "tom")
    with pytest.raises(UserError, match="no longer an active user"):
        users.add_user(db, staff["tom"], "x2", "technician", PASSWORD, full_name="X Two")
    assert service.verify(db).intact


def test_two_active_users_never_share_a_printed_name(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    with pytest.raises(UserError, match="already signs as 'Rita Osei'"):
        users.add_user(db, staff["boss"], "rita2", "pharmacist", PASSWORD, full_name="RITA  OSÉI")
    users.add_user(db, staff["boss"], "rita2", "pharmacist", PASSWORD, full_name="Rita B. Osei")


# -- lock-out against parallel guessers ---------------------------------------------------------


def test_parallel_guessers_get_five_password_checks_in_all(
    db: Database, staff: dict[str, AuthenticatedUser]
) -> None:
    guessers, rounds = 12, 2
    start = threading.Barrier(guessers)
    answers: list[str] = []

    def guess(index: int) -> None:
        start.wait()
        for attempt in range(rounds):
            try:
                users.authenticate(db, "rosei", f"guess {index}-{attempt} is wrong")
            except users.LoginFailedError as error:
                answers.append(str(error))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(answers) == guessers * rounds
    assert set(answers) == {users.LOGIN_FAILED}
    whys = [e.detail["why"] for e in reading.list_events(db, action="login-failed")]
    assert len(whys) == guessers * rounds
    assert whys.count("wrong password") == users.MAX_FAILED_LOGINS, whys
    assert len(reading.list_events(db, action="account-locked")) == 1
    with pytest.raises(users.LoginFailedError):  # and it stays locked for the right password
        users.authenticate(db, "rosei", PASSWORD)
    assert service.verify(db).intact


@pytest.mark.parametrize("full_name", ["Rita\x1b[2J Osei", "Rita\x00Osei", "Rita\u202eiseO"])
def test_a_printed_name_with_a_control_character_is_refused(
    db: Database, admin: AuthenticatedUser, full_name: str
) -> None:
    with pytest.raises(UserError, match="control character"):
        users.add_user(db, admin, "rosei", "pharmacist", PASSWORD, full_name=full_name)
    with pytest.raises(UserError, match="1 to 80 characters without spaces"):
        users.add_user(db, admin, "ros\x07ei", "pharmacist", PASSWORD, full_name="Rita Osei")
    assert [u.username for u in users.list_users(db)] == [admin.username]
    assert service.verify(db).intact
