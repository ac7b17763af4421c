"""Users, passwords, log-in, and who may change users.

Roles: ``pharmacist`` (counsels, signs and amends), ``technician`` (prepares a session, never
signs), ``admin`` (manages users, never signs; kept for older set-ups). Administrator rights are
a flag beside the role (``is_admin``), so a pharmacist-in-charge can both sign and add staff.
Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106).

Authority: the first user of an empty database may be created with no other authority (from the
console or the window's first-run dialog) and gets administrator rights besides the role given
(``create_first_admin``). Every later change needs an administrator who was authenticated just
now; each function below re-reads that administrator's row under the write lock:

- ``add_user(db, admin, username, role, password, full_name=…, is_admin=…)``
- ``change_role(db, admin, username, role)``, ``set_admin(db, admin, username, is_admin)``
- ``reset_password(db, admin, username, new_password)`` (and ``change_password`` for one's own)
- ``unlock_user(db, admin, username)``, ``deactivate_user(db, admin, username)``

Every change is a chained audit event naming the user changed (``subject_user_id``) and the
SHA-256 of what the row grants afterwards (``chain.user_state_digest``). ``verify`` checks every
user row against its newest such event, and so does every log-in: a role, password hash or lock
edited in the database directly, or a user inserted by SQL, is refused and named.

Log-in: five wrong passwords lock the account for 15 minutes. The attempt is claimed with one
conditional UPDATE before the password is checked, so parallel guessers get five checks in all,
not five each. A wrong name, a wrong password, a locked and a disabled account give the same
answer after the same work (one argon2 check, against a dummy hash when there is no claim).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import socket
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, func, or_, select, true, update
from sqlalchemy.orm import Session

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import chain, people, signing
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import USER_STATE_COLUMNS, AuditEvent, User
from pharmacist_tool.records.signature_check import KEY_COUNTERSIGNED, KEY_REGISTERED

log = logging.getLogger(__name__)

Role = Literal["pharmacist", "technician", "admin"]
ROLES: tuple[Role, ...] = ("pharmacist", "technician", "admin")
SIGNING_ROLES: frozenset[str] = frozenset({"pharmacist"})

RESET_WHY = "reset by an administrator"
"""The ``why`` of a ``password-changed`` event that leaves a one-time password to be changed."""
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
        "abcdefghij", "abc1234567", "aaaaaaaaaa", "1234567890a",
    }
)  # fmt: skip


def _is_medicine_name(folded: str) -> bool:
    """A product name of any medicine pack, alone or with digits after it."""
    from pharmacist_tool.knowledge import packs

    bare = folded.rstrip("0123456789")
    return any(
        bare in (product_id, *(n.casefold() for n in names))
        for entry in packs.index().packs.values()
        for product_id, names in entry.products.items()
    )


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
    is_admin: bool = False

    @property
    def printed_name(self) -> str:
        return self.full_name or self.username

    @property
    def can_sign(self) -> bool:
        return self.active and self.role in SIGNING_ROLES

    def locked_at(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class AuthenticatedUser:
    """A user whose password was checked just now (what signing, amending and the user
    changes take). ``is_admin`` is what the row said then; the user changes re-read it."""

    id: int
    username: str
    full_name: str
    role: str
    is_admin: bool = False
    signing_key: Ed25519PrivateKey | None = field(default=None, repr=False, compare=False)
    """The user's private signing key, opened with their password at this sign-in
    (``records.signing``): what every row they make is signed with."""

    @property
    def printed_name(self) -> str:
        return self.full_name or self.username

    @property
    def can_sign(self) -> bool:
        return self.role in SIGNING_ROLES

    def key(self, what: str) -> Ed25519PrivateKey:
        """The signing key, or a refusal: ``what`` needs a sign-in with the password."""
        if self.signing_key is None:
            raise UserError(
                f"{what}: {self.username}'s signing key is not open. Sign in again with the "
                "password (the key is opened only then)."
            )
        return self.signing_key


def _info(user: User) -> UserInfo:
    return UserInfo(
        is_admin=bool(user.is_admin),
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
    elif _is_medicine_name(folded):
        problems.append("it is the name of a medicine (easy to guess at a pharmacy)")
    if len(set(folded)) <= 2:
        problems.append("it repeats one or two characters")
    if username and normalise_username(username).casefold() in folded:
        problems.append("it contains the user name")
    if folded.isdigit() and folded in "01234567890123456789" + "98765432109876543210":
        problems.append("it is a run of consecutive digits")
    if not problems:
        problems = people.password_strength_problems(password, [username])
    return problems


def _check_new_password(password: str, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise UserError(
            "The password is too weak; choose a longer one, e.g. a few unrelated words:",
            details=problems,
        )


LOGIN_FAILED = (
    "Wrong user name or password, or the account is locked or disabled "
    f"({MAX_FAILED_LOGINS} wrong passwords lock it for {int(LOCKOUT.total_seconds() // 60)} "
    "minutes; an administrator can unlock it)."
)
"""The one answer to every failed log-in: it never tells which names exist or are locked."""


class LoginFailedError(UserError):
    """Wrong name or password, or a locked or disabled account (a message for people)."""


def console_account() -> str | None:
    """The operating-system account running this process, from the kernel's user id (never
    from an environment variable such as ``LOGNAME`` or ``USER``, which anyone can set)."""
    try:
        import pwd
    except ImportError:  # Windows: the account of the process token
        try:
            return os.getlogin()
        except OSError:
            return None
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def fold_printed_name(text: str) -> str:
    """Letter case, accents, punctuation, spacing and look-alike letters ignored (the UTS #39
    skeleton, ``people.printed_name_key``): two printed names that fold alike clash."""
    return people.printed_name_key(text)


# -- the chained history of each user -------------------------------------------------------


def _state_values(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in USER_STATE_COLUMNS}


def _state_event(
    session: Session,
    head: chain.Head,
    action: str,
    user: User,
    *,
    actor: User | None,
    at: dt.datetime,
    key: Ed25519PrivateKey | None,
    detail: dict[str, object] | None = None,
) -> None:
    """Append the chained event for a change to ``user`` (after the change is made), signed
    with ``key`` (the actor's; ``None`` only for a lock-out, which failed log-ins make)."""
    session.flush()
    values = _state_values(user)
    state = {k: v for k, v in chain.user_state(values).items() if k != "password_hash"}
    state["password_hash_sha256"] = hashlib.sha256(user.password_hash.encode()).hexdigest()
    body: dict[str, object] = {
        **(detail or {}),
        "user": user.username,
        "state": state,
        "state_sha256": chain.user_state_digest(values),
    }
    who = actor or user
    chain.append(
        session,
        head,
        AuditEvent(
            at=at,
            action=action,
            username=who.username,
            user_id=who.id,
            subject_user_id=user.id,
            record_id=None,
            amendment_id=None,
            detail=json.dumps(body, sort_keys=True, ensure_ascii=False),
            workstation=workstation(),
        ),
        key,
    )


def _event(
    session: Session,
    head: chain.Head,
    action: str,
    *,
    username: str | None,
    user_id: int | None,
    at: dt.datetime,
    detail: dict[str, object] | None = None,
    key: Ed25519PrivateKey | None = None,
    subject_user_id: int | None = None,
) -> None:
    chain.append(
        session,
        head,
        AuditEvent(
            at=at,
            action=action,
            username=username,
            user_id=user_id,
            subject_user_id=subject_user_id,
            record_id=None,
            amendment_id=None,
            detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
            workstation=workstation(),
        ),
        key,
    )


def _register_key(
    session: Session,
    head: chain.Head,
    user: User,
    new_key: Ed25519PrivateKey,
    *,
    signed_with: Ed25519PrivateKey,
    why: str,
) -> None:
    """Register ``user``'s new public key in the chain (``key-registered``), signed with their
    previous key, or, when they had none usable, with ``new_key`` itself: ``verify`` then names
    it as self-registered until an administrator countersigns it."""
    _event(
        session, head, KEY_REGISTERED, username=user.username, user_id=user.id, at=utcnow(),
        detail={"public_key": signing.public_key_text(new_key.public_key()), "why": why},
        key=signed_with, subject_user_id=user.id,
    )  # fmt: skip


def countersign_key(db: Database, admin: AuthenticatedUser, username: str) -> str:
    """An administrator confirms a user's self-registered key (``key-countersigned``), e.g.
    after seeing the user sign in; returns the key's public half."""
    with _admin_change(db, admin, "countersigning a key") as (session, head, _actor):
        user = _target(session, username, "countersigning a key")
        public = registered_key(session, user.id)
        if public is None:
            raise UserError(
                f"{user.username} has no signing key yet: it is made at their next sign-in"
            )
        _event(
            session, head, KEY_COUNTERSIGNED, username=admin.username, user_id=admin.id,
            at=utcnow(), detail={"public_key": public, "user": user.username},
            key=admin.signing_key, subject_user_id=user.id,
        )  # fmt: skip
        return public


def registered_key(session: Session, user_id: int) -> str | None:
    """The public key the chain registered last for ``user_id`` (``None``: none yet)."""
    found = session.execute(
        select(AuditEvent.detail)
        .where(
            AuditEvent.subject_user_id == user_id,
            AuditEvent.action.in_(("user-added", KEY_REGISTERED)),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    try:
        public = json.loads(found or "{}").get("public_key")
    except (ValueError, AttributeError):
        return None
    return public if isinstance(public, str) else None


def tamper_problem(session: Session, user: User) -> str | None:
    """Why ``user``'s row does not match its newest chained event (``None`` when it does)."""
    found = session.execute(
        select(AuditEvent.id, AuditEvent.action, AuditEvent.detail)
        .where(
            AuditEvent.subject_user_id == user.id,
            AuditEvent.action.in_(chain.USER_STATE_ACTIONS),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    newest = chain.parse_user_event(found[0], found[1], found[2]) if found else None
    return chain.user_problem(_state_values(user), newest)


def _refuse_tampered(session: Session, user: User, what: str) -> None:
    problem = tamper_problem(session, user)
    if problem:
        raise UserError(
            f"{what} is refused: the account {problem}. Run `pharmacist-tool verify` and ask "
            "the pharmacy's IT to look into it."
        )


# -- adding users ---------------------------------------------------------------------------


def count_users(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(User)).scalar_one())


def needs_first_admin(db: Database) -> bool:
    """True while the database has no user at all (the window then asks for the first one)."""
    return count_users(db) == 0


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}: use pharmacist, technician or admin")


def _check_printed_name(session: Session, printed: str, *, other_than: int | None) -> None:
    stmt = select(User.username, User.full_name).where(User.active == true())
    if other_than is not None:
        stmt = stmt.where(User.id != other_than)
    for username, full_name in session.execute(stmt):
        if people.names_clash(full_name or username, printed):
            raise UserError(
                f"{username} already signs as {full_name or username!r}: two active users may "
                "not share a printed name (add a middle initial or a qualification)"
            )


def _clean_full_name(full_name: str) -> str:
    full = " ".join(full_name.split())
    if len(full) > 200:
        raise UserError("The full name is too long (at most 200 characters)")
    if any(not ch.isprintable() for ch in full):
        raise UserError("The full name holds a control character: type it again")
    people.refuse_mixed_scripts(full)
    return full


@dataclass(frozen=True)
class PrintedNameClash:
    """Active users who sign under one printed name (possible in a database from before the
    rule): a record would not say which of them signed."""

    printed_name: str
    usernames: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{' and '.join(self.usernames)} are active and sign as {self.printed_name!r}: a "
            "record would not say which of them signed, so none of them can sign or amend "
            "until an administrator gives each a printed name of their own "
            '(`pharmacist-tool users rename NAME --full-name "…" --admin ADMIN '
            "--password-stdin`, or Rename… in Users, Ctrl+U)"
        )


def clashes_in(session: Session) -> list[PrintedNameClash]:
    groups: dict[str, list[tuple[str, str]]] = {}
    stmt = select(User.username, User.full_name).where(User.active == true())
    for username, full_name in session.execute(stmt.order_by(User.username)):
        printed = full_name or username
        groups.setdefault(fold_printed_name(printed), []).append((username, printed))
    return [
        PrintedNameClash(found[0][1], tuple(name for name, _ in found))
        for found in groups.values()
        if len(found) > 1
    ]


def printed_name_clashes(db: Database) -> list[PrintedNameClash]:
    """Every printed name that more than one active user signs under."""
    with db.session() as session:
        return clashes_in(session)


def refuse_shared_printed_name(session: Session, signer: AuthenticatedUser, what: str) -> None:
    """``what`` is refused while another active user signs under the signer's printed name."""
    for clash in clashes_in(session):
        if signer.username in clash.usernames:
            raise UserError(f"{what}: {clash}")


def _add(
    session: Session,
    head: chain.Head,
    username: str,
    role: str,
    password: str,
    full_name: str,
    *,
    actor: User | None,
    actor_key: Ed25519PrivateKey | None,
    is_admin: bool,
    detail: dict[str, object] | None = None,
) -> User:
    """Add a user with a signing key of their own, sealed under their password; the event
    registers its public key, signed by ``actor_key`` (the first user: by that key itself)."""
    _check_role(role)
    name = normalise_username(username)
    if not name or len(name) > 80 or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise UserError(
            "The user name must be 1 to 80 characters without spaces, e.g. rosei or ana.garcia"
        )
    _check_new_password(password, name)
    full = _clean_full_name(full_name)
    exists = session.execute(
        select(User.id).where(func.lower(User.username) == name.lower())
    ).first()
    if exists:
        raise UserError(f"There is already a user called {name!r}")
    _check_printed_name(session, full or name, other_than=None)
    now = utcnow()
    private = signing.new_key()
    user = User(
        signing_key=signing.seal(private, password),
        username=name,
        full_name=full or name,
        role=role,
        is_admin=is_admin or role == "admin",
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        created_by=actor.username if actor else None,
        failed_logins=0,
        locked_until=None,
        last_login_at=None,
    )
    session.add(user)
    _state_event(
        session,
        head,
        "user-added",
        user,
        actor=actor,
        at=now,
        key=actor_key or private,
        detail={
            "new_user": name,
            "role": role,
            "full_name": user.full_name,
            "public_key": signing.public_key_text(private.public_key()),
            **(detail or {}),
        },
    )
    return user


def create_first_admin(
    db: Database, username: str, password: str, *, full_name: str = "", role: str = "admin"
) -> UserInfo:
    """Create the first user of an empty database, with administrator rights besides ``role``
    (so a pharmacist-in-charge set up first can both sign and add staff). No other authority is
    needed; the audit event names the operating-system account that did it. Refused once any
    user exists."""
    with db.session(write=True) as session, chain.appending(session) as head:
        if session.execute(select(func.count()).select_from(User)).scalar_one():
            raise UserError(
                "This database already has users: an administrator adds new ones "
                "(users add NAME --admin ADMIN, the administrator's password on the second line)"
            )
        account = console_account()
        detail: dict[str, object] = {"first_user": True}
        if account:
            detail["console_account"] = account
        user = _add(
            session, head, username, role, password, full_name,
            actor=None, actor_key=None, is_admin=True, detail=detail,
        )  # fmt: skip
        return _info(user)


def _require_admin(session: Session, admin: AuthenticatedUser, what: str) -> User:
    """The administrator's row, re-read under the write lock: still active, still an
    administrator, still matching its chained history."""
    row = session.get(User, admin.id)
    if row is None or row.username != admin.username or not row.active:
        raise UserError(f"{what}: {admin.username} is no longer an active user")
    if not row.is_admin:
        raise UserError(
            f"Only an administrator can do this ({what}); {admin.username} is a {row.role} "
            "without administrator rights"
        )
    _refuse_tampered(session, row, what)
    return row


def require_admin(db: Database, admin: AuthenticatedUser, what: str) -> None:
    """Refuse (``UserError``) unless ``admin`` (signed in just now) is, as the records have it
    now, an active administrator whose row matches its chained history; ``what``: the action,
    in words, for the message."""
    with db.session() as session:
        _require_admin(session, admin, what)


@contextlib.contextmanager
def _admin_change(
    db: Database, admin: AuthenticatedUser, what: str
) -> Iterator[tuple[Session, chain.Head, User]]:
    admin.key(what[:1].upper() + what[1:])
    with db.session(write=True) as session, chain.appending(session) as head:
        yield session, head, _require_admin(session, admin, what)


def admin_change(
    db: Database, admin: AuthenticatedUser, what: str
) -> contextlib.AbstractContextManager[tuple[Session, chain.Head, User]]:
    """A change only an administrator may make (``with admin_change(…) as (session, head,
    admin_row)``): the administrator's row re-read under the write lock, the chain locked."""
    return _admin_change(db, admin, what)


def target_user(session: Session, username: str, what: str) -> User:
    """The user a change is about, refused when their row no longer matches the chain."""
    return _target(session, username, what)


def append_event(
    session: Session,
    head: chain.Head,
    action: str,
    *,
    username: str | None,
    user_id: int | None,
    at: dt.datetime,
    detail: dict[str, object],
    key: Ed25519PrivateKey | None,
    subject_user_id: int | None,
) -> int:
    """Append a chained audit event about a user; returns its id."""
    _event(
        session, head, action, username=username, user_id=user_id, at=at, detail=detail,
        key=key, subject_user_id=subject_user_id,
    )  # fmt: skip
    assert head.id is not None
    return head.id


def _target(session: Session, username: str, what: str, *, tampered_ok: bool = False) -> User:
    """The user to change. One whose row no longer matches the chain is not changed (that
    would write the edit into the chain as if the tool had made it); it may only be
    deactivated, the finding kept in that event."""
    name = normalise_username(username)
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        raise UserError(f"There is no user called {name!r}")
    if not tampered_ok:
        _refuse_tampered(session, user, what)
    return user


def _other_admins(session: Session, user: User) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(User)
            .where(User.is_admin == true(), User.active == true(), User.id != user.id)
        ).scalar_one()
    )


def _keep_an_admin(session: Session, user: User, what: str) -> None:
    if user.is_admin and user.active and _other_admins(session, user) == 0:
        raise UserError(
            f"{user.username} is the last administrator: give another user administrator "
            f"rights first ({what} would leave nobody who can add or unlock users)"
        )


def add_user(
    db: Database,
    admin: AuthenticatedUser,
    username: str,
    role: str,
    password: str,
    *,
    full_name: str = "",
    is_admin: bool = False,
) -> UserInfo:
    """An administrator (authenticated just now) adds a user; ``is_admin`` gives the new user
    administrator rights besides the role. Audited and chained (``user-added``)."""
    with _admin_change(db, admin, "adding a user") as (session, head, actor):
        return _info(
            _add(
                session,
                head,
                username,
                role,
                password,
                full_name,
                actor=actor,
                actor_key=admin.signing_key,
                is_admin=is_admin,
            )
        )


def change_role(db: Database, admin: AuthenticatedUser, username: str, role: str) -> UserInfo:
    """Give a user another role (``role-changed``). Role ``admin`` brings administrator
    rights; a user leaving role ``admin`` keeps them until ``set_admin`` removes them."""
    _check_role(role)
    with _admin_change(db, admin, "changing a role") as (session, head, actor):
        user = _target(session, username, "changing a role")
        if user.role == role:
            raise UserError(f"{user.username} is already a {role}")
        before = user.role
        user.role = role
        if role == "admin":
            user.is_admin = True
        _state_event(
            session, head, "role-changed", user, actor=actor, at=utcnow(),
            key=admin.signing_key,
            detail={"from": before, "to": role},
        )  # fmt: skip
        return _info(user)


def rename_user(db: Database, admin: AuthenticatedUser, username: str, full_name: str) -> UserInfo:
    """Give a user another printed name (``printed-name-changed``): the name their signature
    carries from now on; records already signed keep the name they were signed with."""
    full = _clean_full_name(full_name)
    if not full:
        raise UserError('Give the new printed name, e.g. --full-name "Rita Osei, PharmD"')
    with _admin_change(db, admin, "changing a printed name") as (session, head, actor):
        user = _target(session, username, "changing a printed name")
        if user.full_name == full:
            raise UserError(f"{user.username} already signs as {full!r}")
        _check_printed_name(session, full, other_than=user.id)
        before = user.full_name
        user.full_name = full
        _state_event(
            session, head, "printed-name-changed", user, actor=actor, at=utcnow(),
            key=admin.signing_key,
            detail={"from": before, "to": full},
        )  # fmt: skip
        return _info(user)


def set_admin(db: Database, admin: AuthenticatedUser, username: str, is_admin: bool) -> UserInfo:
    """Give or take administrator rights (``admin-rights-changed``); the last administrator
    keeps them."""
    with _admin_change(db, admin, "changing administrator rights") as (session, head, actor):
        user = _target(session, username, "changing administrator rights")
        if bool(user.is_admin) == is_admin:
            raise UserError(
                f"{user.username} {'already has' if is_admin else 'has no'} administrator rights"
            )
        if not is_admin:
            if user.role == "admin":
                raise UserError(
                    f"{user.username} has the role admin, which is administrator rights: "
                    "change the role first"
                )
            _keep_an_admin(session, user, "taking the rights away")
        user.is_admin = is_admin
        _state_event(
            session, head, "admin-rights-changed", user, actor=actor, at=utcnow(),
            key=admin.signing_key,
            detail={"is_admin": is_admin},
        )  # fmt: skip
        return _info(user)


def reset_password(
    db: Database, admin: AuthenticatedUser, username: str, new_password: str
) -> UserInfo:
    """An administrator sets a new password for a user who forgot theirs
    (``password-changed``); the wrong-password count starts again."""
    with _admin_change(db, admin, "resetting a password") as (session, head, actor):
        user = _target(session, username, "resetting the password")
        _check_new_password(new_password, user.username)
        user.password_hash = _hasher.hash(new_password)
        user.failed_logins = 0
        user.signing_key = None  # sealed under the forgotten password; a new one at sign-in
        _state_event(
            session, head, "password-changed", user, actor=actor, at=utcnow(),
            key=admin.signing_key,
            detail={"why": RESET_WHY, "signing_key": "made anew at the user's own password"},
        )  # fmt: skip
        return _info(user)


def change_password(db: Database, username: str, old_password: str, new_password: str) -> None:
    """A user changes their own password (the old one checked as a log-in would)."""
    me = authenticate(db, username, old_password, purpose="password")
    _check_new_password(new_password, me.username)
    if new_password == old_password:
        raise UserError("Choose a password other than the one given to you")
    old_key, new_key = me.signing_key, signing.new_key()
    with db.session(write=True) as session, chain.appending(session) as head:
        user = session.get(User, me.id)
        assert user is not None
        user.password_hash = _hasher.hash(new_password)
        user.signing_key = signing.seal(new_key, new_password)
        if old_key is None:  # after a reset: the new key vouches for itself (verify names it)
            _register_key(
                session, head, user, new_key, signed_with=new_key,
                why="made at the password change after a reset by an administrator",
            )  # fmt: skip
        _state_event(
            session, head, "password-changed", user, actor=user, at=utcnow(),
            key=old_key or new_key, detail={"why": "changed by the user"},
        )  # fmt: skip
        if old_key is not None:
            _register_key(session, head, user, new_key, signed_with=old_key, why="password changed")


def unlock_user(db: Database, admin: AuthenticatedUser, username: str) -> UserInfo:
    """Lift a lock-out before its 15 minutes are over (``account-unlocked``)."""
    with _admin_change(db, admin, "unlocking a user") as (session, head, actor):
        user = _target(session, username, "unlocking")
        now = utcnow()
        if user.locked_until is None and not user.failed_logins:
            raise UserError(f"{user.username} is not locked")
        user.locked_until = None
        user.failed_logins = 0
        _state_event(
            session, head, "account-unlocked", user, actor=actor, at=now, key=admin.signing_key
        )
        return _info(user)


def deactivate_user(db: Database, admin: AuthenticatedUser, username: str) -> UserInfo:
    """Disable a user for good (``user-deactivated``): they can no longer log in or sign; their
    records keep their signature. Users are never deleted (the database refuses it)."""
    with _admin_change(db, admin, "deactivating a user") as (session, head, actor):
        user = _target(session, username, "deactivating", tampered_ok=True)
        if not user.active:
            raise UserError(f"{user.username} is already deactivated")
        finding = tamper_problem(session, user)
        _keep_an_admin(session, user, "deactivating them")
        user.active = False
        _state_event(
            session, head, "user-deactivated", user, actor=actor, at=utcnow(),
            key=admin.signing_key,
            detail={"found_changed_outside_the_tool": finding} if finding else None,
        )  # fmt: skip
        return _info(user)


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


# -- log-in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    """One of the five password checks an account allows, taken before the check is made."""

    id: int
    password_hash: str
    attempt: int


def _claim_attempt(db: Database, name: str, now: dt.datetime) -> _Claim | None:
    """Count the attempt before the password is checked, in one conditional UPDATE (a row lock
    on PostgreSQL, the write lock on SQLite): only an active, unlocked account with fewer than
    five attempts outstanding gets one. ``None`` for every other name, after the same work."""
    users = cast(Table, User.__table__)
    with db.session(write=True) as session:
        row = session.execute(
            update(users)
            .where(
                users.c.username == name,
                users.c.active == true(),
                or_(users.c.locked_until.is_(None), users.c.locked_until <= now),
                users.c.failed_logins < MAX_FAILED_LOGINS,
            )
            .values(failed_logins=users.c.failed_logins + 1)
            .returning(users.c.id, users.c.password_hash, users.c.failed_logins)
        ).first()
    return _Claim(int(row[0]), str(row[1]), int(row[2])) if row else None


def password_matches(stored_hash: str, password: str) -> bool:
    """``password`` against an argon2 hash (``False`` for a damaged hash too)."""
    return _password_matches(stored_hash, password)


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(
    db: Database,
    username: str,
    password: str,
    *,
    purpose: Literal["login", "sign", "amend", "admin", "password"] = "login",
    now: dt.datetime | None = None,
) -> AuthenticatedUser:
    """Check a password. A ``login`` is audited; every failure is audited, and the fifth wrong
    password in a row locks the account for 15 minutes. Raises ``LoginFailedError``: the same
    message for a wrong name, a wrong password, a locked and a disabled account."""
    name = normalise_username(username)
    now = now or utcnow()
    claim = _claim_attempt(db, name, now)
    ok = _password_matches(claim.password_hash if claim else _DUMMY_HASH, password)
    if claim is None or not ok:
        _record_failure(db, name, claim, purpose, now)
        raise LoginFailedError(LOGIN_FAILED)
    return _record_success(db, claim, password, purpose, now)


def _record_success(
    db: Database, claim: _Claim, password: str, purpose: str, now: dt.datetime
) -> AuthenticatedUser:
    rehash = _hasher.check_needs_rehash(claim.password_hash)
    with db.session(write=True) as session:
        user = session.get(User, claim.id)
        assert user is not None
        problem = tamper_problem(session, user)
        if not problem:
            user.failed_logins = 0
        sealed = user.signing_key
        pending = not problem and reset_pending(session, user.id)
        found = AuthenticatedUser(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            is_admin=bool(user.is_admin),
        )
    if pending and purpose in ("sign", "amend", "admin"):
        raise UserError(
            f"{found.username}'s password was reset by an administrator: choose your own before "
            f"signing (`pharmacist-tool users password {found.username} --password-stdin`: the "
            "password you were given, then your new one); your new signing key is made then."
        )
    key = None if problem or sealed is None else _open_key(sealed, password)
    made = signing.new_key() if not problem and not pending and key is None else None
    if made is not None:
        key = made
    found = replace(found, signing_key=key)
    if problem or purpose == "login" or rehash or made is not None:
        with db.session(write=True) as session, chain.appending(session) as head:
            user = session.get(User, claim.id)
            assert user is not None
            if problem:
                _event(
                    session, head, "login-failed", username=user.username, user_id=user.id,
                    at=now,
                    detail={"purpose": purpose, "why": "account changed outside pharmacist-tool"},
                )  # fmt: skip
            else:
                if purpose == "login":
                    user.last_login_at = now
                    _event(session, head, "login", username=user.username, user_id=user.id, at=now)
                if rehash:
                    user.password_hash = _hasher.hash(password)
                    _state_event(
                        session, head, "password-changed", user, actor=user, at=now, key=key,
                        detail={"why": "re-hashed with today's argon2 parameters"},
                    )  # fmt: skip
                if made is not None:
                    user.signing_key = signing.seal(made, password)
                    _register_key(
                        session, head, user, made, signed_with=made,
                        why="made at sign-in: the user had no signing key usable",
                    )  # fmt: skip
    if problem:
        raise LoginFailedError(
            f"This account cannot be used: it {problem.split(' ', 1)[1]}. Run "
            "`pharmacist-tool verify` and ask the pharmacy's IT to look into it."
        )
    return found


def reset_pending(session: Session, user_id: int) -> bool:
    """Whether the user's password is still the one an administrator set (a reset): it must be
    changed before they sign, so that no one else ever holds their signing key."""
    found = session.execute(
        select(AuditEvent.detail)
        .where(AuditEvent.subject_user_id == user_id, AuditEvent.action == "password-changed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    try:
        return bool(json.loads(found or "{}").get("why") == RESET_WHY)
    except (ValueError, AttributeError):
        return False


def _open_key(sealed: str, password: str) -> Ed25519PrivateKey | None:
    """The user's signing key; ``None`` when it cannot be opened with the password that was
    just accepted (replaced behind the tool's back): a new one is made and self-registered,
    so that ``verify`` names it until an administrator countersigns it."""
    try:
        return signing.open_sealed(sealed, password)
    except signing.SigningKeyError:
        log.warning("a signing key could not be opened with its user's password")
        return None


def _record_failure(
    db: Database, name: str, claim: _Claim | None, purpose: str, now: dt.datetime
) -> None:
    """Audit a failure (and, at the fifth wrong password in a row, lock the account)."""
    with db.session(write=True) as session, chain.appending(session) as head:
        user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
        if user is None:
            why = "unknown user"
        elif not user.active:
            why = "account disabled"
        elif claim is None:
            locked = user.locked_until is not None and user.locked_until > now
            why = "account locked" if locked else "too many attempts at once"
            if not locked and people.attempts_left_unfinished(
                session, user.id, user.username, user.failed_logins, MAX_FAILED_LOGINS, now
            ):
                claim = _Claim(user.id, "", MAX_FAILED_LOGINS)  # locked below, for a while
                why = "attempts left unfinished"
        else:
            why = "wrong password"
        _event(
            session, head, "login-failed", username=name, user_id=user.id if user else None,
            at=now, detail={"purpose": purpose, "why": why},
        )  # fmt: skip
        if user is not None and claim is not None and claim.attempt >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            _state_event(
                session,
                head,
                "account-locked",
                user,
                actor=user,
                at=now,
                key=None,
                detail={
                    "until": user.locked_until.isoformat(),
                    "after_failures": MAX_FAILED_LOGINS,
                },
            )


def locked_message(until: dt.datetime) -> str:
    """For an administrator's screen (never for the one logging in: see ``LOGIN_FAILED``)."""
    local = until.astimezone()
    return f"locked until {local:%H:%M} ({local:%Y-%m-%d})"


def logout(db: Database, user: AuthenticatedUser, *, reason: str = "logout") -> None:
    """Record a log-out (``reason``: ``logout`` or ``idle-lock``)."""
    with db.session(write=True) as session, chain.appending(session) as head:
        _event(
            session, head, "logout", username=user.username, user_id=user.id, at=utcnow(),
            detail={"why": reason},
        )  # fmt: skip


def require_signer(user: AuthenticatedUser) -> None:
    if not user.can_sign:
        raise UserError(
            f"Only a pharmacist can sign or amend a record; {user.username} is a {user.role}. "
            "A technician may prepare the session for a pharmacist to sign."
        )
