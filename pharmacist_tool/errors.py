"""Errors written for people.

A ``UserError`` carries a message a pharmacist can act on; the command line prints it and exits 2,
the window shows it in a dialog. Anything else is a bug: it is logged with its trace.
"""


class UserError(Exception):
    """Bad input or a refused action, explained in plain words."""

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {line}" for line in self.details)


# -- a full disk ------------------------------------------------------------------------------

_FULL_ERRNOS = frozenset({28, 122, 27})  # ENOSPC, EDQUOT, EFBIG (the size this account may write)
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def is_disk_full(error: BaseException) -> bool:
    """True when ``error`` (an OS, SQLite, PostgreSQL or SQLAlchemy error, or one caused by
    such) says that there is no room left to write."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == _PG_DISK_FULL:
            return True
        text = str(current).lower()
        if "database or disk is full" in text or "no space left on device" in text:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


class DiskFullError(UserError):
    """There is no room left to write; nothing was half-written."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what}: the disk is full (no room left to write). Nothing was half-written; "
            "free some space (or ask IT) and try again."
        )


def describe_os_error(error: BaseException) -> str:
    """A short reason for an OS or database error, in words ("the disk is full", …)."""
    if is_disk_full(error):
        return "the disk is full"
    strerror = getattr(error, "strerror", None)
    return str(strerror or error)
