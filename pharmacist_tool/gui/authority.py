"""Who may do what at the window: the records, exports, backup, restore, Settings and the audit
trail.

Qt-free. Each right is checked against the user's row as the records have it now (a role or
administrator right taken away since sign-in counts at once), and a refusal is a sentence for
the person at the counter. Nobody signed in may do none of these: patient data and the settings
that decide which rules apply are never open to whoever stands at the screen.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.records.users import UserInfo


class Right(enum.Enum):
    RECORDS = "look up, open and reprint signed records"
    EXPORT = "export records"
    BACKUP = "back up the records"
    RESTORE = "restore the records from a backup"
    SETTINGS = "change the settings"
    AUDIT = "read the audit trail"
    REPORT = "make the monthly report"


ANY_STAFF = frozenset({"pharmacist", "technician", "admin"})
PHARMACISTS = frozenset({"pharmacist"})

WHO_MAY: dict[Right, tuple[frozenset[str], bool]] = {
    # (the roles that may, whether administrator rights alone are enough)
    Right.RECORDS: (ANY_STAFF, True),
    Right.EXPORT: (PHARMACISTS, True),
    Right.BACKUP: (PHARMACISTS, True),
    Right.RESTORE: (frozenset(), True),
    Right.SETTINGS: (frozenset(), True),
    Right.AUDIT: (frozenset(), True),
    Right.REPORT: (frozenset(), True),
}

WHO_MAY_WORDS: dict[Right, str] = {
    Right.RECORDS: "any member of staff",
    Right.EXPORT: "a pharmacist or an administrator",
    Right.BACKUP: "a pharmacist or an administrator",
    Right.RESTORE: "an administrator",
    Right.SETTINGS: "an administrator",
    Right.AUDIT: "an administrator",
    Right.REPORT: "the pharmacist-in-charge or another administrator",
}


def allowed(user: UserInfo | None, right: Right) -> bool:
    if user is None or not user.active:
        return False
    roles, admin_enough = WHO_MAY[right]
    return user.role in roles or (admin_enough and user.is_admin)


def refusal(user: UserInfo | None, right: Right) -> str | None:
    """None when ``user`` may; else why not, in words."""
    if allowed(user, right):
        return None
    if user is None:
        return f"Sign in first (At the counter): only {WHO_MAY_WORDS[right]} may {right.value}."
    if not user.active:
        return f"{user.username} is deactivated and may not {right.value}."
    return f"Only {WHO_MAY_WORDS[right]} may {right.value}; {user.username} is a {user.role}" + (
        " with administrator rights." if user.is_admin else "."
    )


def current_user(db: Database, username: str | None) -> UserInfo | None:
    """The user's row now (None when nobody is signed in or the user is gone)."""
    if not username:
        return None
    from pharmacist_tool.records.users import get_user

    return get_user(db, username)


def check(db: Database, username: str | None, right: Right) -> str | None:
    """None when the signed-in ``username`` may exercise ``right`` now; else why not."""
    return refusal(current_user(db, username), right)
