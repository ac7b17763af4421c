"""Rows written as the 2026-11-25 version wrote them (schemas 0001 and 0002): chained by hand
with the tool's own hash, users added with their ``user-added`` events, so that a test can
build a database that version left and upgrade it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, text

from pharmacist_tool.records import chain
from pharmacist_tool.records.models import GENESIS_HASH


class ChainOfThatEra:
    """Appends rows as that version did: each carries the previous row's hash."""

    def __init__(self, conn: Connection, at: dt.datetime) -> None:
        self.conn, self.at = conn, at
        self.seq, self.prev, self.events = 0, GENESIS_HASH, 0
        self.newest: tuple[str, int] = ("audit_events", 0)

    def append(self, table: str, row: dict[str, Any]) -> None:
        self.seq += 1
        row.update(seq=self.seq, prev_hash=self.prev)
        row["row_hash"] = self.prev = chain.row_hash(table, row)
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        self.conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), row)
        self.newest = (table, int(row["id"]))

    def event(self, action: str, name: str | None, uid: int | None, **detail: Any) -> None:
        self.events += 1
        self.append(
            "audit_events",
            {
                "id": self.events, "at": self.at, "action": action, "username": name,
                "user_id": uid, "record_id": detail.pop("record_id", None),
                "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
                "workstation": "counter-1",
            },
        )  # fmt: skip

    def add_user(
        self,
        uid: int,
        name: str,
        full_name: str,
        role: str,
        password_hash: str,
        by: tuple[int, str] | None = None,
    ) -> None:
        """A user row and its ``user-added`` event (``by``: the adding user's id and name;
        ``None``: the database's first user, who added themselves)."""
        self.conn.execute(
            text(
                "INSERT INTO users (id, username, full_name, role, password_hash, active,"
                " created_at, created_by, failed_logins) VALUES (:id, :u, :f, :r, :h, :a, :at,"
                " :by, 0)"
            ),
            {
                "id": uid, "u": name, "f": full_name, "r": role, "h": password_hash, "a": True,
                "at": self.at, "by": by[1] if by else None,
            },
        )  # fmt: skip
        adder = by or (uid, name)
        self.event("user-added", adder[1], adder[0], new_user=name, role=role, full_name=full_name)

    def close(self, *, with_newest: bool) -> None:
        """The chain head; ``with_newest``: schema 0002 on, which names the newest row."""
        newest = ", head_table = :t, head_id = :i" if with_newest else ""
        self.conn.execute(
            text(f"UPDATE chain_head SET seq = :s, head_hash = :h{newest} WHERE id = 1"),
            {"s": self.seq, "h": self.prev, "t": self.newest[0], "i": self.newest[1]},
        )
