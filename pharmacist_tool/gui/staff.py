"""The window's one door to the records' users: first run, the Users screen, who administers.

Every call the window makes about staff goes through here, so that the records' users API can
change in one place. Qt-free. The records module checks every right itself (who may add, change
or sign); this module only asks it and says in words what the window may offer.

The first user of an empty database is the pharmacist-in-charge: a pharmacist (signs) with
administrator rights (adds and manages staff), as the contract's December 2026 additions say.
Until the records keep administrator rights apart from the role, a pharmacist administers while
the database has no administrator (``records.users.add_user`` allows exactly that).
"""

from __future__ import annotations

from typing import Any

from pharmacist_tool.errors import UserError

ROLE_WORDS = {
    "pharmacist": "pharmacist (counsels and signs)",
    "technician": "technician (prepares sessions, never signs)",
    "admin": "administrator (manages staff, never signs)",
}

# Changes the Users screen offers, by the records function that makes each one. A change whose
# function the records do not have yet is shown but disabled, saying so.
CHANGES = {
    "role": "change_role",
    "password": "reset_password",
    "unlock": "unlock_user",
    "deactivate": "deactivate_user",
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
    """The user holds administrator rights (the role, or rights given besides the role)."""
    return bool(getattr(user, "is_admin", False)) or getattr(user, "role", "") == "admin"


def can_administer(db: Any, user: Any) -> bool:
    """May this signed-in user manage staff? An administrator; or, while the database has no
    active administrator, a pharmacist (the pharmacist-in-charge set up at first run)."""
    if user is None:
        return False
    if is_admin(user):
        return True
    if getattr(user, "role", "") != "pharmacist":
        return False
    return not any(is_admin(u) and u.active for u in list_staff(db))


def check_admin(db: Any, username: str, password: str) -> Any:
    """The administrator's password, checked again for a change to staff."""
    if not password:
        raise UserError("Enter your own password (asked again for every change to staff)")
    return _users().authenticate(db, username, password, purpose="admin")


def add(
    db: Any, admin: Any, username: str, role: str, password: str, *, full_name: str = ""
) -> Any:
    return _users().add_user(db, admin, username, role, password, full_name=full_name)


def supports(change: str) -> bool:
    return hasattr(_users(), CHANGES[change])


def _change(change: str) -> Any:
    function = getattr(_users(), CHANGES[change], None)
    if function is None:
        raise UserError(
            "This version of the records cannot make that change yet; "
            "use the command line (pharmacist-tool users --help)."
        )
    return function


def change_role(db: Any, admin: Any, username: str, role: str) -> Any:
    return _change("role")(db, admin, username, role)


def reset_password(db: Any, admin: Any, username: str, password: str) -> Any:
    return _change("password")(db, admin, username, password)


def unlock(db: Any, admin: Any, username: str) -> Any:
    return _change("unlock")(db, admin, username)


def deactivate(db: Any, admin: Any, username: str) -> Any:
    return _change("deactivate")(db, admin, username)


def status_words(user: Any, now: Any = None) -> str:
    import datetime as dt

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
