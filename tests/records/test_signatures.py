"""Per-person signatures: forging a row needs its signer's password, not just write access.

Each attack is what an insider with write access to the database does: append a row with the
tool's own chain code (so every hash and link is right), in someone else's name, unsigned or
signed with a key of the attacker's own; ``verify`` exits 1 and names the row.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from pharmacist_tool.records import chain, service, users, writing
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import AuditEvent, Record, User
from pharmacist_tool.records.users import AuthenticatedUser
from tests.conftest import run_cli
from tests.records.conftest import signed_in
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for

ATTACKER_KEY = Ed25519PrivateKey.generate()


def _sign(db: Database, signer: AuthenticatedUser, name: str = "Ana García") -> int:
    case = finished_case(name)
    return writing.sign_record(db, signer, case, assessment_for(case), handout_for(case)).id


def _verify_cli(db: Database) -> tuple[int, str]:
    url = db.url.render_as_string(hide_password=False)
    done = run_cli("--database", url, "verify")
    return done.returncode, done.stdout.decode() + done.stderr.decode()


def _forge_record(db: Database, kim_id: int, key: Ed25519PrivateKey | None) -> int:
    """A copy of kim's record for another patient, appended as the tool would append it."""
    with db.session(write=True) as session, chain.appending(session) as head:
        original = session.execute(select(Record).order_by(Record.id).limit(1)).scalar_one()
        values = {
            c.key: getattr(original, c.key)
            for c in Record.__table__.columns
            if c.key not in ("id", "seq", "prev_hash", "row_hash", "signature")
        }
        values["patient_name"] = "Someone Else"
        forged = Record(**values)
        assert forged.user_id == kim_id
        chain.append(session, head, forged, key)
        chain.append(
            session,
            head,
            AuditEvent(
                at=forged.signed_at,
                action="sign",
                username="kim",
                user_id=kim_id,
                record_id=forged.id,
                amendment_id=None,
                detail="{}",
                workstation="x",
            ),
            key,
        )
        return forged.id


@pytest.fixture
def kim(db: Database, admin: AuthenticatedUser) -> AuthenticatedUser:
    users.add_user(db, admin, "kim", "pharmacist", PASSWORD, full_name="Kim Lee")
    return signed_in(db, users.get_user(db, "kim"))


@pytest.mark.parametrize("attacker_key", [None, ATTACKER_KEY], ids=["unsigned", "own-key"])
def test_a_record_forged_in_kims_name_is_named(
    db: Database, kim: AuthenticatedUser, attacker_key: Ed25519PrivateKey | None
) -> None:
    _sign(db, kim)
    assert service.verify(db).intact
    forged = _forge_record(db, kim.id, attacker_key)
    code, out = _verify_cli(db)
    assert code == 1, out
    assert f"record {forged}: " in out
    assert "kim" in out or "not signed" in out


@pytest.mark.parametrize("attacker_key", [None, ATTACKER_KEY], ids=["unsigned", "own-key"])
def test_a_role_change_forged_in_the_administrators_name_is_named(
    db: Database, admin: AuthenticatedUser, attacker_key: Ed25519PrivateKey | None
) -> None:
    """The technician promoted by SQL, with a chained "role changed" event naming the
    administrator as actor: the row matches the event, but the event is not the admin's."""
    users.add_user(db, admin, "tom", "technician", PASSWORD, full_name="Tom Moss")
    with db.session(write=True) as session, chain.appending(session) as head:
        tom = session.execute(select(User).where(User.username == "tom")).scalar_one()
        tom.role = "pharmacist"
        boss = session.get(User, admin.id)
        users._state_event(
            session, head, "role-changed", tom, actor=boss, at=users.utcnow(),
            key=attacker_key, detail={"from": "technician", "to": "pharmacist"},
        )  # fmt: skip
        event_id = head.id
    code, out = _verify_cli(db)
    assert code == 1, out
    assert f"audit event {event_id}: " in out


def test_a_key_swapped_in_the_users_row_cannot_sign_as_them(
    db: Database, kim: AuthenticatedUser
) -> None:
    """The attacker seals a key of their own under a password they chose, in kim's row: with
    that password they cannot log in (the password hash is kim's), and what kim signs after is
    signed with a key that is not the registered one only if the chain registers it."""
    from pharmacist_tool.records import signing

    with db.session(write=True) as session:
        row = session.get(User, kim.id)
        assert row is not None
        row.signing_key = signing.seal(ATTACKER_KEY, "attacker's own password")
    again = signed_in(db, users.get_user(db, "kim"))  # kim's password cannot open it
    _sign(db, again)
    report = service.verify(db)
    assert report.intact  # a new key, registered by kim alone …
    assert any("kim's signing key" in w and "registered by kim alone" in w for w in report.warnings)
    assert again.signing_key is not None


def test_every_signed_row_verifies_and_carries_a_signature(
    db: Database, admin: AuthenticatedUser, kim: AuthenticatedUser
) -> None:
    record_id = _sign(db, kim)
    case = finished_case("Ana García")
    writing.amend_record(db, record_id, kim, case, assessment_for(case), handout_for(case), "typo")
    users.change_role(db, admin, "kim", "technician")
    users.change_password(db, "boss", PASSWORD, "another long passphrase here")
    report = service.verify(db)
    assert report.intact, report.problems
    assert report.warnings == []
    with db.session() as session:
        for table, model in chain.CHAINED_TABLES.items():
            unsigned = session.execute(select(model.id).where(model.signature.is_(None))).all()
            if table == "audit_events":  # only what nobody can sign
                actions = {
                    session.get(AuditEvent, rid).action  # type: ignore[union-attr]
                    for (rid,) in unsigned
                }
                assert actions <= {"login", "login-failed", "logout", "view"}, actions
            else:
                assert unsigned == []


def test_signing_without_an_open_key_is_refused(db: Database, kim: AuthenticatedUser) -> None:
    from pharmacist_tool.errors import UserError

    bare = AuthenticatedUser(kim.id, kim.username, kim.full_name, kim.role)
    with pytest.raises(UserError, match="signing key is not open"):
        _sign(db, bare)


def test_a_reset_password_makes_a_new_key_at_sign_in_named_until_countersigned(
    db: Database, admin: AuthenticatedUser, kim: AuthenticatedUser
) -> None:
    from pharmacist_tool.errors import UserError

    first = _sign(db, kim)
    users.reset_password(db, admin, "kim", "a one time passphrase")  # the admin knows it
    with pytest.raises(UserError, match="password was reset by an administrator"):
        users.authenticate(db, "kim", "a one time passphrase", purpose="sign")
    url = db.url.render_as_string(hide_password=False)
    done = run_cli(
        "--database", url, "users", "password", "kim", "--password-stdin",
        input="a one time passphrase\na very own passphrase\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    kim_again = users.authenticate(db, "kim", "a very own passphrase", purpose="sign")
    _sign(db, kim_again, "Bea Two")
    report = service.verify(db)
    assert report.intact, report.problems  # the record under the old key stays valid
    assert any("kim's signing key" in w for w in report.warnings)
    done = run_cli(
        "--database", url, "users", "countersign", "kim", "--admin", "boss", "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"Countersigned kim's signing key" in done.stdout
    report = service.verify(db)
    assert report.intact and report.warnings == []
    with db.session() as session:
        assert session.get(Record, first) is not None
        events = session.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "key-countersigned")
        ).scalars()
        assert [json.loads(d)["user"] for d in events] == ["kim"]


def test_a_role_raised_under_an_unsigned_lock_out_is_named(
    db: Database, admin: AuthenticatedUser
) -> None:
    """A lock-out is the one user change nobody signs (failed log-ins make it): a genuine one
    verifies; one that raises a role besides is named."""
    users.add_user(db, admin, "tom", "technician", PASSWORD, full_name="Tom Moss")
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(users.LoginFailedError):
            users.authenticate(db, "tom", "not his password")
    assert service.verify(db).intact
    with db.session(write=True) as session, chain.appending(session) as head:
        tom = session.execute(select(User).where(User.username == "tom")).scalar_one()
        tom.role = "pharmacist"
        users._state_event(
            session, head, "account-locked", tom, actor=tom, at=users.utcnow(), key=None,
            detail={"until": "2099-01-01"},
        )  # fmt: skip
        event_id = head.id
    problems = [str(p) for p in service.verify(db).problems]
    assert any(p.startswith(f"audit event {event_id}: an unsigned lock-out") for p in problems)
