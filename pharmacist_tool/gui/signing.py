"""Signing in, unlocking and signing a record: the records service, imported only when needed.

SQLAlchemy is loaded the first time someone signs in, unlocks or signs, never at start-up.
The records service enforces who may sign (a pharmacist); the window only asks.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from pharmacist_tool.errors import UserError

if TYPE_CHECKING:
    from pharmacist_tool.case import Case
    from pharmacist_tool.handout import RenderOptions
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.records.users import AuthenticatedUser
    from pharmacist_tool.records.writing import HandoutLike
    from pharmacist_tool.settings import Settings

log = logging.getLogger(__name__)

_open: dict[str, Database] = {}


def database(url: str | None) -> Database:
    """The records database for this window (opened, created or migrated once)."""
    from pharmacist_tool import paths
    from pharmacist_tool.records.db import open_database

    key = paths.database_url(url)
    db = _open.get(key)
    if db is None:
        db = open_database(key)
        _open[key] = db
    return db


def close_all() -> None:
    for db in _open.values():
        try:
            db.close()
        except Exception:  # closing must never stop the window from closing
            log.exception("closing the records database")
    _open.clear()


class NoUsersError(UserError):
    """The records database has no user yet: the window offers to create the first one."""


def authenticate(
    name: str,
    password: str,
    url: str | None,
    purpose: Literal["login", "sign", "amend", "admin"] = "login",
) -> AuthenticatedUser:
    from pharmacist_tool.records.users import authenticate as check
    from pharmacist_tool.records.users import needs_first_admin

    db = database(url)
    if needs_first_admin(db):
        raise NoUsersError("No users are set up yet: create the first one.")
    if not name or not password:
        raise UserError("Enter your user name and password")
    return check(db, name, password, purpose=purpose)


def logout(user: AuthenticatedUser, url: str | None, reason: str) -> None:
    """Audit a log-out (``idle-lock`` when the window locked itself)."""
    from pharmacist_tool.records.users import logout as record

    try:
        record(database(url), user, reason=reason)
    except Exception:  # an audit write must never keep the window from locking
        log.exception("recording the log-out")


def sign_session(
    case: Case,
    name: str,
    password: str,
    url: str | None,
    *,
    kb: KnowledgeBase,
    settings: Settings,
    shown: HandoutLike | None,
    handout_options: RenderOptions,
    prepared_by: str | None,
) -> int:
    """Sign through the records' one use case: the password again, the handout shown (checked
    still current, so the patient takes home what is stored), who prepared the session."""
    from pharmacist_tool.records.usecases import sign

    if not name or not password:
        raise UserError("Enter your user name and password")
    summary = sign(
        database(url),
        case,
        username=name,
        password=password,
        kb=kb,
        settings=settings,
        previewed=shown,
        handout_options=handout_options,
        prepared_by=prepared_by,
    )
    return int(summary.id)
