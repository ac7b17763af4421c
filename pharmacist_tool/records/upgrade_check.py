"""What every migration that runs over existing rows does first: verify the database as found.

A migration adopts what it finds into the next era of the chain (0003 writes a ``user-recorded``
event carrying each user row's digest, 0005 derives the course index from the records, 0006
fills each record's pack, 0007 begins the signatures). A row altered, forged or removed before
it would be vouched for from then on, so the migration refuses instead: the upgrade is one
transaction (SQLite's DDL included: the tool issues its own ``BEGIN``), and a refusal rolls it
back, leaving the database as it was.

Before schema 0003 users were not in the chain: what a user row may hold is what the chained
events of that era say about it. The version of that era added users (``user-added``: name,
role, printed name, at the moment the row was made) and never changed a role, a printed name or
the active flag, nor removed a user; every event naming a user id names that user by their
name; a lock was set only with an ``account-locked`` event. Its events carried no digest of a
password, so a password hash replaced before schema 0003 cannot be told from the rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import chain
from pharmacist_tool.records.models import CHAINED_TABLES

_users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("username", sa.String()),
    sa.column("full_name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("active", sa.Boolean()),
    sa.column("created_at", sa.DateTime()),
    sa.column("created_by", sa.String()),
    sa.column("locked_until", sa.DateTime()),
)
_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime()),
    sa.column("action", sa.String()),
    sa.column("username", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("detail", sa.Text()),
)


def refuse_unless_verified(conn: sa.Connection, migration: str) -> None:
    """Raise ``UserError`` naming every problem (the first 20) when the database as found does
    not verify; ``migration``: the schema about to be applied, for the message."""
    inspector = sa.inspect(conn)
    found = chain.FoundSchema(
        {
            table: frozenset(column["name"] for column in inspector.get_columns(table))
            for table in (*CHAINED_TABLES, "users")
        }
    )
    with Session(bind=conn) as session:
        report = chain.verify_chain(session, found=found)
    conn.execution_options(stream_results=False)  # verify streams its reads on this connection
    problems = list(report.problems)
    if not found.users_in_chain:
        problems += users_against_their_era(conn)
    if problems:
        shown = [str(problem) for problem in problems[:20]]
        if len(problems) > len(shown):
            shown.append(f"… and {len(problems) - len(shown)} more")
        raise UserError(
            "The records database does not verify, so it is not upgraded (nothing was "
            f"changed; the upgrade to schema {migration} stopped before it began): run "
            "`pharmacist-tool verify` with the version that made it, and ask the pharmacy's IT "
            "to look into it.",
            details=shown,
        )


@dataclass(frozen=True)
class _Added:
    event_id: int
    at: dt.datetime
    by_name: str | None
    by_id: int | None
    role: object
    full_name: object


def users_against_their_era(conn: sa.Connection) -> list[chain.Problem]:
    """Each user row (schema 0001 or 0002) against the chained events of its era: one line for
    each row that differs, naming the user and what differs."""
    added: dict[str, _Added] = {}
    names_by_id: dict[int, list[tuple[int, str]]] = {}
    locks: dict[int, dt.datetime | None] = {}
    for event in conn.execute(sa.select(_events).order_by(_events.c.id)).mappings():
        detail = _detail(event["detail"])
        uid, name = event["user_id"], event["username"]
        if uid is not None and name is not None:
            names_by_id.setdefault(int(uid), []).append((int(event["id"]), str(name)))
        if event["action"] == "user-added" and isinstance(detail.get("new_user"), str):
            added[detail["new_user"]] = _Added(
                int(event["id"]),
                event["at"],
                name,
                uid,
                detail.get("role"),
                detail.get("full_name"),
            )
        if event["action"] == "account-locked" and uid is not None:
            locks[int(uid)] = _utc_moment(detail.get("until"))
    problems: list[chain.Problem] = []
    seen: set[str] = set()
    for row in conn.execute(sa.select(_users).order_by(_users.c.id)).mappings():
        seen.add(str(row["username"]))
        user = dict(row)
        problems += _user_problems(user, added.get(str(user["username"])), locks)
        problems += _names_problems(user, names_by_id.get(int(user["id"]), []))
    for name in sorted(set(added) - seen):
        problems.append(
            chain.Problem(
                "audit_events",
                added[name].event_id,
                f"adds {name!r}, who is no longer among the users: removed",
            )
        )
    return problems


def _detail(text: object) -> dict[str, Any]:
    try:
        data = json.loads(str(text or "{}"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _user_problems(
    row: Mapping[str, Any], added: _Added | None, locks: Mapping[int, dt.datetime | None]
) -> list[chain.Problem]:
    name, uid = row["username"], int(row["id"])
    if added is None:
        return [
            chain.Problem(
                "users",
                uid,
                f"{name!r} has no 'user-added' audit event: added outside pharmacist-tool (or "
                "its event was removed); it must not sign",
            )
        ]
    differs = [
        f"{word} is {found!r}, its 'user-added' event (audit event {added.event_id}) says {said!r}"
        for word, found, said in (
            ("role", row["role"], added.role),
            ("printed name", row["full_name"], added.full_name),
            ("created at", _moment_text(row["created_at"]), _moment_text(added.at)),
        )
        if found != said
    ]
    if row["created_by"] is None:
        if added.by_id != uid:
            differs.append(
                f"it is marked as its own first user, but audit event {added.event_id} says "
                f"{added.by_name!r} added it"
            )
    elif row["created_by"] != added.by_name:
        differs.append(
            f"created by {row['created_by']!r}, audit event {added.event_id} says {added.by_name!r}"
        )
    if not row["active"]:
        differs.append("it is inactive, and that version had no way to deactivate a user")
    locked = row["locked_until"]
    if locked is not None and locks.get(uid) != _utc_moment(locked):
        differs.append(f"it is locked until {locked:%Y-%m-%d %H:%M}, with no event locking it")
    return [
        chain.Problem("users", uid, f"{name!r} was changed outside pharmacist-tool: {problem}")
        for problem in differs
    ]


def _utc_moment(value: object) -> dt.datetime | None:
    """A moment as naive UTC, as the rows keep it (an event's detail wrote it with its offset,
    ``2026-11-25T09:15:00+00:00``); ``None`` when it is not one."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _moment_text(value: object) -> object:
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value


def _names_problems(row: Mapping[str, Any], named: list[tuple[int, str]]) -> list[chain.Problem]:
    """That version never renamed a user: every event about this id names them as the row."""
    wrong = [(event_id, name) for event_id, name in named if name != row["username"]]
    if not wrong:
        return []
    event_id, name = wrong[0]
    more = f" (and {len(wrong) - 1} more events)" if len(wrong) > 1 else ""
    return [
        chain.Problem(
            "users",
            int(row["id"]),
            f"{row['username']!r} was changed outside pharmacist-tool: audit event {event_id} "
            f"names this user {name!r}{more}",
        )
    ]
