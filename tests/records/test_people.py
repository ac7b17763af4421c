"""People: common and guessable passwords refused with zxcvbn's own explanation; look-alike
printed names (UTS #39 skeleton) and mixed-script names refused; log-ins killed after their
attempt was counted neither lose the attempt nor lock the account for ever. SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import people, service, users
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.people import names_clash, printed_name_key
from pharmacist_tool.records.users import AuthenticatedUser, LoginFailedError
from tests.conftest import run_cli
from tests.records.helpers import PASSWORD

WEAK = ["P@ssw0rd", "Password1!", "Summer2026", "Pharmacy1", "changeme", "Qwerty123!", "rosei2026"]


@pytest.mark.parametrize("weak", WEAK)
def test_a_guessable_password_is_refused_with_the_reason(
    db: Database, admin: AuthenticatedUser, weak: str
) -> None:
    with pytest.raises(UserError) as refused:
        users.add_user(db, admin, "rosei", "pharmacist", weak, full_name="Rita Osei")
    text = str(refused.value)
    assert "too weak" in text
    assert "too easy to guess" in text or "contains the user name" in text
    assert users.get_user(db, "rosei") is None


def test_the_command_line_shows_zxcvbns_advice(database_url: str) -> None:
    done = run_cli(
        "--database", database_url, "users", "add", "boss", "--role", "admin",
        "--password-stdin", input="Password1!\n",
    )  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "This is similar to a commonly used password." in err
    assert "Add another word or two." in err


def test_a_strong_passphrase_is_accepted(db: Database, admin: AuthenticatedUser) -> None:
    users.add_user(db, admin, "rosei", "pharmacist", "copper kettle autumn road", full_name="R O")
    assert users.get_user(db, "rosei") is not None


LOOK_ALIKES = {
    "cyrillic К": "\u041aim Lee",
    "cyrillic е": "Kim L\u0435e",
    "dotless ı": "K\u0131m Lee",
    "trailing dot": "Kim Lee.",
    "capitals": "KIM  LEE",
    "accent": "Kím Lee",
    "fullwidth": "Ｋim Lee",
}


@pytest.mark.parametrize("name", list(LOOK_ALIKES))
def test_a_look_alike_printed_name_is_refused(
    db: Database, admin: AuthenticatedUser, name: str
) -> None:
    users.add_user(db, admin, "kimlee", "pharmacist", PASSWORD, full_name="Kim Lee")
    printed = LOOK_ALIKES[name]
    assert names_clash(printed, "Kim Lee")
    with pytest.raises(UserError, match=r"alphabets|already signs as"):
        users.add_user(db, admin, "other", "pharmacist", PASSWORD, full_name=printed)
    users.add_user(db, admin, "other", "pharmacist", PASSWORD, full_name="Kim Leeds")
    with pytest.raises(UserError, match=r"alphabets|already signs as"):
        users.rename_user(db, admin, "other", printed)
    assert service.verify(db).intact


def test_mixed_scripts_are_refused_and_one_script_is_not() -> None:
    from pharmacist_tool.records.people import refuse_mixed_scripts

    with pytest.raises(UserError, match="Cyrillic, Latin"):
        refuse_mixed_scripts("\u041aim Lee")
    for fine in ("Ana García", "Zoë O'Brien-Smith", "Иван Петров", "Νίκος Παππάς", "李小龍"):
        refuse_mixed_scripts(fine)
    assert printed_name_key("Rita Osei") != printed_name_key("Rita Ose")


def test_log_ins_killed_after_their_attempt_lock_for_a_while_not_for_ever(
    db: Database, admin: AuthenticatedUser
) -> None:
    users.add_user(db, admin, "rosei", "pharmacist", PASSWORD, full_name="Rita Osei")
    now = users.utcnow()
    for _ in range(users.MAX_FAILED_LOGINS):
        # what a log-in killed after its attempt was counted leaves behind
        assert users._claim_attempt(db, "rosei", now) is not None
    with pytest.raises(LoginFailedError):  # still being checked, maybe: left to finish
        users.authenticate(db, "rosei", PASSWORD, now=now)
    info = users.get_user(db, "rosei")
    assert info is not None and not info.locked_at(now)
    after = now + people.UNFINISHED_AFTER + dt.timedelta(seconds=1)
    with pytest.raises(LoginFailedError):  # never reported back: they count …
        users.authenticate(db, "rosei", PASSWORD, now=after)
    info = users.get_user(db, "rosei")
    assert info is not None and info.locked_at(after)  # … as the usual lock, shown as locked
    later = after + users.LOCKOUT + dt.timedelta(seconds=1)
    assert users.authenticate(db, "rosei", PASSWORD, now=later).username == "rosei"
    report = service.verify(db)
    assert report.intact, report.problems
