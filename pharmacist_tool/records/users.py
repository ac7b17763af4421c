"""Users, passwords and log-in.

Roles: ``pharmacist`` (counsels, signs and amends), ``technician`` (prepares a session, never
signs), ``admin`` (adds users). Passwords are hashed with argon2id (argon2-cffi's defaults,
RFC 9106). Five failed log-ins in a row lock the account for 15 minutes; every log-in, failure
and lock-out is in the audit log.

The first user of an empty database may have any role (the window asks for the first
administrator: ``create_first_admin``); after that an administrator adds users.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import unicodedata
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import chain
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import AuditEvent, User

Role = Literal["pharmacist", "technician", "admin"]
ROLES: tuple[Role, ...] = ("pharmacist", "technician", "admin")
SIGNING_ROLES: frozenset[str] = frozenset({"pharmacist"})

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8  # NIST SP 800-63B's minimum for a chosen password
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that a wrong name takes as long as a wrong
# password and the time does not tell which names exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone here")

_COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd",
        "123456789", "1234567890", "0123456789", "12345678910", "qwertyuiop", "qwerty123",
        "qwerty1234", "1q2w3e4r5t", "1qaz2wsx3edc", "iloveyou", "iloveyou1", "letmein123",
        "welcome123", "welcome1234", "administrator", "admin12345", "adminadmin", "pharmacist",
        "pharmacist1", "pharmacy123", "pharmacy1234", "technician", "changeme123", "trustno1234",
        "football123", "baseball123", "monkey12345", "sunshine123", "princess123", "dragon12345",
        "abcdefghij", "abc1234567", "aaaaaaaaaa", "isotretinoin", "accutane123", "1234567890a",
    }
)  # fmt: skip


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def workstation() -> str:
    try:
        return socket.gethostname()[:200] or "unknown"
    except OSError:
        return "unknown"


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    full_name: str
    role: str
    active: bool
    created_at: dt.datetime
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None

    @property
    def printed_name(self) -> str:
        return self.full_name or self.username

    @property
    def can_sign(self) -> bool:
        return self.active and self.role in SIGNING_ROLES


@dataclass(frozen=True)
class AuthenticatedUser:
    """A user whose password was checked just now (what signing and amending take)."""

    id: int
    username: str
    full_name: str
    role: str

    @property
    def printed_name(self) -> str:
        return self.full_name or self.username

    @property
    def can_sign(self) -> bool:
        return self.role in SIGNING_ROLES


def _info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        active=user.active,
        created_at=user.created_at,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
    )


def normalise_username(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Why a new password is too weak (empty when it is fine)."""
    if not password:
        return ["the password is empty"]
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"it has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"it is longer than {MAX_PASSWORD_LENGTH} characters")
    folded = password.casefold()
    if folded in _COMMON_PASSWORDS:
        problems.append("it is one of the most common passwords")
    if len(set(folded)) <= 2:
        problems.append("it repeats one or two characters")
    if username and normalise_username(username).casefold() in folded:
        problems.append("it contains the user name")
    if folded.isdigit() and folded in "01234567890123456789" + "98765432109876543210":
        problems.append("it is a run of consecutive digits")
    return problems


def _check_new_password(password: str, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise UserError(
            "The password is too weak; choose a longer one, e.g. a few unrelated words:",
            details=problems,
        )


def _audit(
    session: Session,
    action: str,
    *,
    username: str | None,
    user_id: int | None,
    detail: dict[str, object] | None = None,
    at: dt.datetime | None = None,
) -> None:
    with chain.appending(session) as head:
        chain.append(
            session,
            head,
            AuditEvent(
                at=at or utcnow(),
                action=action,
                username=username,
                user_id=user_id,
                record_id=None,
                amendment_id=None,
                detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
                workstation=workstation(),
            ),
        )


def count_users(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(User)).scalar_one())


def needs_first_admin(db: Database) -> bool:
    """True while the database has no user at all (the window then asks for the first admin)."""
    return count_users(db) == 0


def _add(
    session: Session,
    username: str,
    role: str,
    password: str,
    full_name: str,
    created_by: AuthenticatedUser | None,
    *,
    console_account: str | None = None,
) -> User:
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}: use pharmacist, technician or admin")
    name = normalise_username(username)
    if not name or len(name) > 80 or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise UserError(
            "The user name must be 1 to 80 characters without spaces, e.g. rosei or ana.garcia"
        )
    _check_new_password(password, name)
    full = " ".join(full_name.split())
    if len(full) > 200:
        raise UserError("The full name is too long (at most 200 characters)")
    exists = session.execute(
        select(User.id).where(func.lower(User.username) == name.lower())
    ).first()
    if exists:
        raise UserError(f"There is already a user called {name!r}")
    now = utcnow()
    user = User(
        username=name,
        full_name=full or name,
        role=role,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        created_by=created_by.username if created_by else None,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    detail: dict[str, object] = {"new_user": name, "role": role, "full_name": user.full_name}
    if console_account:
        detail["console_account"] = console_account
    _audit(
        session,
        "user-added",
        username=created_by.username if created_by else name,
        user_id=created_by.id if created_by else user.id,
        detail=detail,
        at=now,
    )
    return user


def create_first_admin(
    db: Database, username: str, password: str, *, full_name: str = "", role: str = "admin"
) -> UserInfo:
    """Create the first user of an empty database; refused once any user exists."""
    with db.session(write=True) as session:
        if session.execute(select(func.count()).select_from(User)).scalar_one():
            raise UserError("This database already has users: ask an administrator to add new ones")
        return _info(_add(session, username, role, password, full_name, None))


def add_user_at_console(
    db: Database, username: str, role: str, password: str, *, full_name: str = ""
) -> UserInfo:
    """``users add`` without ``--admin``, as the contract has it.

    The command line runs as the system account that owns the database file (readable by its
    owner only), which could change that file anyway; the audit event names that account."""
    import getpass

    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "unknown"
    with db.session(write=True) as session:
        user = _add(session, username, role, password, full_name, None, console_account=account)
        return _info(user)


def add_user(
    db: Database,
    admin: AuthenticatedUser,
    username: str,
    role: str,
    password: str,
    *,
    full_name: str = "",
) -> UserInfo:
    """An administrator adds a user (``admin`` must come from ``authenticate`` just now).

    While the database has no administrator (its first user was given another role), a
    pharmacist may add users, so that a pharmacy is never locked out of its own database."""
    with db.session(write=True) as session:
        if admin.role != "admin":
            admins = session.execute(
                select(func.count()).select_from(User).where(User.role == "admin", User.active)
            ).scalar_one()
            if admins or admin.role != "pharmacist":
                raise UserError(
                    f"Only an administrator can add users; {admin.username} is a {admin.role}"
                )
        return _info(_add(session, username, role, password, full_name, admin))


def list_users(db: Database) -> list[UserInfo]:
    with db.session() as session:
        users = session.execute(select(User).order_by(User.username)).scalars().all()
        return [_info(user) for user in users]


def get_user(db: Database, username: str) -> UserInfo | None:
    with db.session() as session:
        user = session.execute(
            select(User).where(User.username == normalise_username(username))
        ).scalar_one_or_none()
        return _info(user) if user else None


class LoginFailedError(UserError):
    """Wrong name or password, or a locked or disabled account (a message for people)."""


def authenticate(
    db: Database,
    username: str,
    password: str,
    *,
    purpose: Literal["login", "sign", "amend", "admin"] = "login",
    now: dt.datetime | None = None,
) -> AuthenticatedUser:
    """Check a password. A ``login`` is audited; every failure is audited and counted, and the
    fifth failure in a row locks the account for 15 minutes. Raises ``LoginFailedError``."""
    name = normalise_username(username)
    now = now or utcnow()
    with db.session() as session:
        user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
        stored_hash = user.password_hash if user else _DUMMY_HASH
        locked_until = user.locked_until if user else None
    if user is not None and locked_until is not None and locked_until > now:
        with db.session(write=True) as session:
            _audit(
                session,
                "login-failed",
                username=name,
                user_id=user.id,
                detail={"purpose": purpose, "why": "account locked"},
                at=now,
            )
        raise LoginFailedError(_locked_message(locked_until))
    try:
        ok: bool = _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if user is None or not ok or not user.active:
        _record_failure(db, name, user.id if user else None, purpose, now)
        raise LoginFailedError("Wrong user name or password")
    with db.session(write=True) as session:
        fresh = session.get(User, user.id)
        assert fresh is not None
        fresh.failed_logins = 0
        fresh.locked_until = None
        if purpose == "login":
            fresh.last_login_at = now
        if _hasher.check_needs_rehash(fresh.password_hash):
            fresh.password_hash = _hasher.hash(password)
        if purpose == "login":
            _audit(session, "login", username=name, user_id=user.id, at=now)
    return AuthenticatedUser(
        id=user.id, username=user.username, full_name=user.full_name, role=user.role
    )


def _locked_message(until: dt.datetime) -> str:
    local = until.astimezone()
    return (
        f"This account is locked after {MAX_FAILED_LOGINS} wrong passwords, until "
        f"{local:%H:%M} ({local:%Y-%m-%d}). Ask another pharmacist or an administrator, or "
        "wait."
    )


def _record_failure(
    db: Database, name: str, user_id: int | None, purpose: str, now: dt.datetime
) -> None:
    """Count and audit a failure; raise ``LoginFailedError`` when this one locks the account."""
    locked_until: dt.datetime | None = None
    with db.session(write=True) as session:
        why = "unknown user"
        if user_id is not None:
            user = session.get(User, user_id)
            assert user is not None
            if not user.active:
                why = "account disabled"
            else:
                why = "wrong password"
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = locked_until = now + LOCKOUT
                    user.failed_logins = 0
        _audit(
            session,
            "login-failed",
            username=name,
            user_id=user_id,
            detail={"purpose": purpose, "why": why},
            at=now,
        )
        if locked_until is not None:
            _audit(
                session,
                "account-locked",
                username=name,
                user_id=user_id,
                detail={"until": locked_until.isoformat(), "after_failures": MAX_FAILED_LOGINS},
                at=now,
            )
    if locked_until is not None:
        raise LoginFailedError("Wrong user name or password. " + _locked_message(locked_until))


def logout(db: Database, user: AuthenticatedUser, *, reason: str = "logout") -> None:
    """Record a log-out (``reason``: ``logout`` or ``idle-lock``)."""
    with db.session(write=True) as session:
        _audit(session, "logout", username=user.username, user_id=user.id, detail={"why": reason})


def require_signer(user: AuthenticatedUser) -> None:
    if not user.can_sign:
        raise UserError(
            f"Only a pharmacist can sign or amend a record; {user.username} is a {user.role}. "
            "A technician may prepare the session for a pharmacist to sign."
        )
