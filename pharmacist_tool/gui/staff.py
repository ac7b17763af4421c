"""The window's one door to the records' users: first run, the Users screen, who administers.

Every call the window makes about staff goes through here, so that the records' users API can
change in one place. Qt-free. The records module checks every right itself (who may add, change
or sign); this module only asks it and says in words what the window may offer.

The first user of an empty database is the pharmacist-in-charge: a pharmacist (signs) with
administrator rights (adds and manages staff), as the contract's December 2026 additions say.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pharmacist_tool.errors import UserError

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.records.training import TrainingEntry, TrainingStatus
    from pharmacist_tool.records.users import AuthenticatedUser, UserInfo

ROLE_WORDS = {
    "pharmacist": "pharmacist (counsels and signs)",
    "technician": "technician (prepares sessions, never signs)",
    "admin": "administrator only (manages staff, never signs)",
}


def roles() -> list[str]:
    from pharmacist_tool.records import users

    return list(users.ROLES)


def has_users(db: Database) -> bool:
    from pharmacist_tool.records import users

    return not bool(users.needs_first_admin(db))


def create_pharmacist_in_charge(
    db: Database, username: str, password: str, *, full_name: str = ""
) -> UserInfo:
    """The first user of an empty database: a pharmacist with administrator rights."""
    from pharmacist_tool.records import users

    return users.create_first_admin(db, username, password, full_name=full_name, role="pharmacist")


def list_staff(db: Database) -> list[UserInfo]:
    from pharmacist_tool.records import users

    return list(users.list_users(db))


def is_admin(user: UserInfo | AuthenticatedUser) -> bool:
    """The user holds administrator rights (given besides the role)."""
    return bool(getattr(user, "is_admin", False))


def can_administer(db: Database, user: AuthenticatedUser | None) -> bool:
    """May this signed-in user manage staff? Only with administrator rights, as the records
    have them now (not as they were at sign-in)."""
    from pharmacist_tool.records import users

    if user is None:
        return False
    found = users.get_user(db, user.username)
    return found is not None and bool(found.active) and is_admin(found)


def check_admin(db: Database, username: str, password: str) -> AuthenticatedUser:
    """The administrator's password, checked again for a change to staff."""
    from pharmacist_tool.records import users

    if not password:
        raise UserError("Enter your own password (asked again for every change to staff)")
    return users.authenticate(db, username, password, purpose="admin")


def add(
    db: Database,
    admin: AuthenticatedUser,
    username: str,
    role: str,
    password: str,
    *,
    full_name: str = "",
    admin_rights: bool = False,
) -> UserInfo:
    from pharmacist_tool.records import users

    return users.add_user(
        db, admin, username, role, password, full_name=full_name, is_admin=admin_rights
    )


def change_role(db: Database, admin: AuthenticatedUser, username: str, role: str) -> UserInfo:
    from pharmacist_tool.records import users

    return users.change_role(db, admin, username, role)


def set_admin_rights(db: Database, admin: AuthenticatedUser, username: str, on: bool) -> UserInfo:
    from pharmacist_tool.records import users

    return users.set_admin(db, admin, username, on)


def rename(db: Database, admin: AuthenticatedUser, username: str, full_name: str) -> UserInfo:
    from pharmacist_tool.records import users

    return users.rename_user(db, admin, username, full_name)


def printed_name_clashes(db: Database) -> list[str]:
    """Each printed name several active users sign under, in words for an administrator."""
    from pharmacist_tool.records import users

    return [str(clash) for clash in users.printed_name_clashes(db)]


def reset_password(
    db: Database, admin: AuthenticatedUser, username: str, password: str
) -> UserInfo:
    from pharmacist_tool.records import users

    return users.reset_password(db, admin, username, password)


def unlock(db: Database, admin: AuthenticatedUser, username: str) -> UserInfo:
    from pharmacist_tool.records import users

    return users.unlock_user(db, admin, username)


def deactivate(db: Database, admin: AuthenticatedUser, username: str) -> UserInfo:
    from pharmacist_tool.records import users

    return users.deactivate_user(db, admin, username)


def status_words(user: UserInfo, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    if not user.active:
        return "deactivated"
    locked = user.locked_until
    if locked is not None:
        if locked.tzinfo is None:
            locked = locked.replace(tzinfo=dt.UTC)
        if locked > now:
            return f"locked until {locked.astimezone():%H:%M}"
    return "active"


# -- the staff-training register -----------------------------------------------------------


def training_programmes() -> list[tuple[str, str]]:
    """(``PACK/RULE-SET``, its name) of every programme staff can be trained on."""
    from pharmacist_tool.records import training

    return [(p.key, f"{p.name} ({p.pack})") for p in training.programmes()]


def training_register(db: Database, on: dt.date) -> list[TrainingStatus]:
    """Each active person's standing on each programme."""
    from pharmacist_tool.records import training

    return list(training.register(db, on))


def training_alerts(register: list[TrainingStatus], on: dt.date) -> list[str]:
    """What the pharmacist-in-charge must see: training lapsed, missing, or lapsing soon."""
    found = []
    for status in register:
        if status.state in ("lapsed", "missing", "due"):
            found.append(f"{status.username} — {status.programme}: {status.text(on)}")
    return found


def record_training(
    db: Database, admin: AuthenticatedUser, username: str, programme: str, on: dt.date
) -> TrainingEntry:
    from pharmacist_tool.records import training

    return training.record_training(db, admin, username, programme, on)
