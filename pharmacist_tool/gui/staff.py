"""The window's one door to the records' users: first run, the Users screen, who administers.

Every call the window makes about staff goes through here, so that the records' users API can
change in one place. Qt-free. The records module checks every right itself (who may add, change
or sign); this module only asks it and says in words what the window may offer.

The first user of an empty database is the pharmacist-in-charge: a pharmacist (signs) with
administrator rights (adds and manages staff), as the contract's December 2026 additions say.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pharmacist_tool.errors import UserError

ROLE_WORDS = {
    "pharmacist": "pharmacist (counsels and signs)",
    "technician": "technician (prepares sessions, never signs)",
    "admin": "administrator only (manages staff, never signs)",
}


def _users() -> Any:
    from pharmacist_tool.records import users

    return users


def roles() -> list[str]:
    return list(_users().ROLES)


def has_users(db: Any) -> bool:
    return not bool(_users().needs_first_admin(db))


def create_pharmacist_in_charge(
    db: Any, username: str, password: str, *, full_name: str = ""
) -> Any:
    """The first user of an empty database: a pharmacist with administrator rights."""
    return _users().create_first_admin(
        db, username, password, full_name=full_name, role="pharmacist"
    )


def list_staff(db: Any) -> list[Any]:
    return list(_users().list_users(db))


def is_admin(user: Any) -> bool:
    """The user holds administrator rights (given besides the role)."""
    return bool(getattr(user, "is_admin", False))


def can_administer(db: Any, user: Any) -> bool:
    """May this signed-in user manage staff? Only with administrator rights, as the records
    have them now (not as they were at sign-in)."""
    if user is None:
        return False
    found = _users().get_user(db, user.username)
    return found is not None and bool(found.active) and is_admin(found)


def check_admin(db: Any, username: str, password: str) -> Any:
    """The administrator's password, checked again for a change to staff."""
    if not password:
        raise UserError("Enter your own password (asked again for every change to staff)")
    return _users().authenticate(db, username, password, purpose="admin")


def add(
    db: Any,
    admin: Any,
    username: str,
    role: str,
    password: str,
    *,
    full_name: str = "",
    admin_rights: bool = False,
) -> Any:
    return _users().add_user(
        db, admin, username, role, password, full_name=full_name, is_admin=admin_rights
    )


def change_role(db: Any, admin: Any, username: str, role: str) -> Any:
    return _users().change_role(db, admin, username, role)


def set_admin_rights(db: Any, admin: Any, username: str, on: bool) -> Any:
    return _users().set_admin(db, admin, username, on)


def rename(db: Any, admin: Any, username: str, full_name: str) -> Any:
    return _users().rename_user(db, admin, username, full_name)


def printed_name_clashes(db: Any) -> list[str]:
    """Each printed name several active users sign under, in words for an administrator."""
    return [str(clash) for clash in _users().printed_name_clashes(db)]


def reset_password(db: Any, admin: Any, username: str, password: str) -> Any:
    return _users().reset_password(db, admin, username, password)


def unlock(db: Any, admin: Any, username: str) -> Any:
    return _users().unlock_user(db, admin, username)


def deactivate(db: Any, admin: Any, username: str) -> Any:
    return _users().deactivate_user(db, admin, username)


def status_words(user: Any, now: Any = None) -> str:
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


def _training() -> Any:
    from pharmacist_tool.records import training

    return training


def training_programmes() -> list[tuple[str, str]]:
    """(``PACK/RULE-SET``, its name) of every programme staff can be trained on."""
    return [(p.key, f"{p.name} ({p.pack})") for p in _training().programmes()]


def training_register(db: Any, on: dt.date) -> list[Any]:
    """Each active person's standing on each programme (``records.training.TrainingStatus``)."""
    return list(_training().register(db, on))


def training_alerts(register: list[Any], on: dt.date) -> list[str]:
    """What the pharmacist-in-charge must see: training lapsed, missing, or lapsing soon."""
    found = []
    for status in register:
        if status.state in ("lapsed", "missing", "due"):
            found.append(f"{status.username} — {status.programme}: {status.text(on)}")
    return found


def record_training(db: Any, admin: Any, username: str, programme: str, on: dt.date) -> Any:
    return _training().record_training(db, admin, username, programme, on)
