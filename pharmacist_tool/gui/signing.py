"""Signing in, unlocking and signing a record: the records service, imported only when needed.

SQLAlchemy is loaded the first time someone signs in, unlocks or signs, never at start-up.
The records service enforces who may sign (a pharmacist); the window only asks.
"""

from __future__ import annotations

import logging
from typing import Any

from pharmacist_tool.errors import UserError

log = logging.getLogger(__name__)

_open: dict[str, Any] = {}


def database(url: str | None) -> Any:
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


def authenticate(name: str, password: str, url: str | None, purpose: str = "login") -> Any:
    from pharmacist_tool.records.users import authenticate as check
    from pharmacist_tool.records.users import needs_first_admin

    db = database(url)
    if needs_first_admin(db):
        raise NoUsersError("No users are set up yet: create the first one.")
    if not name or not password:
        raise UserError("Enter your user name and password")
    return check(db, name, password, purpose=purpose)  # type: ignore[arg-type]


def logout(user: Any, url: str | None, reason: str) -> None:
    """Audit a log-out (``idle-lock`` when the window locked itself)."""
    from pharmacist_tool.records.users import logout as record

    try:
        record(database(url), user, reason=reason)
    except Exception:  # an audit write must never keep the window from locking
        log.exception("recording the log-out")


def sign_session(
    window: Any, case: Any, assessment: Any, name: str, password: str, url: str | None
) -> int:
    """Check the password again, take the handout shown (checked still current), store it."""
    from pharmacist_tool.records.service import sign_record
    from pharmacist_tool.records.users import require_signer

    signer = authenticate(name, password, url, purpose="sign")
    require_signer(signer)
    handout = handout_to_store(window, case, assessment, signer)
    prepared_by = (
        window.user_name if window.user_name and window.user_name != signer.username else None
    )
    summary = sign_record(database(url), signer, case, assessment, handout, prepared_by=prepared_by)
    log.info("signed record %s", summary.id)
    return int(summary.id)


def handout_to_store(window: Any, case: Any, assessment: Any, signer: Any) -> Any:
    """The handout that goes with the record: the one previewed (and printed), so a reprint is
    identical. Rendering is deterministic, so it is rendered again from the case as it is now:
    if that differs, the patient's copy is out of date and signing waits for a new preview."""
    from pharmacist_tool.handout import render_handout

    shown = window.handout
    options = dict(window.handout_options) if shown is not None else {}
    options.setdefault("pharmacist", signer.printed_name)
    now = render_handout(case, assessment, window.ensure_kb(), window.settings, **options)
    if shown is None:
        return now
    if now.sha256 != shown.sha256:
        raise UserError(
            "The handout changed since it was previewed (the session was edited): preview and "
            "print it again (Ctrl+P) so the patient takes home what is stored, then sign."
        )
    return shown
