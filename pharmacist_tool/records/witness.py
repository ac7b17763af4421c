"""This computer's note of how far each records database's chain has reached.

Someone with write access to the database can remove its newest entries and rewind the chain
head: the chain that is left is whole, so ``verify`` alone cannot tell (only a head written
down earlier, ``verify --expect-head``, can). This note is a second place that such an editor
must find and edit too: a small file in this computer's data folder (``chain-seen.json``,
private to its owner), outside the database, that keeps per database the furthest position,
its hash and the highest id of each chained table that this computer wrote or verified.

- Every append (sign, amend, any audit event) continues after the noted position and ids, so a
  signature never reuses the number of a record signed before on this computer, even after the
  tail was removed; the removed entries then show as gaps to any ``verify``, anywhere.
- ``verify`` on this computer names a chain that now ends before the noted position, or holds
  another hash there.
- A restore through the tool notes the restored head (a restore never loses a signed record).

With PostgreSQL every counter keeps its own note, out of reach of whoever edits the server.
The note never stops a write: when it cannot be read or written, that is logged and the chain
goes on as before. A note that is there but cannot be read (garbage, a damaged entry) is never
started again by a write: ``verify`` fails and says so until someone checks the head against
the paper log and moves the note aside.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

FILE_NAME = "chain-seen.json"
CHAINED = ("records", "amendments", "audit_events")


@dataclass(frozen=True)
class Seen:
    """The furthest point of one database's chain this computer knows of."""

    seq: int
    hash: str
    ids: dict[str, int]
    """The highest id of each chained table then."""
    at: str
    """When it was noted (UTC, ISO)."""


def _sound(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    seq, digest, ids = entry.get("seq"), entry.get("hash"), entry.get("ids", {})
    return (
        type(seq) is int
        and seq >= 0
        and isinstance(digest, str)
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
        and isinstance(ids, dict)
        and all(type(v) is int and v >= 0 for v in ids.values())
    )


def database_key(url: URL) -> str:
    """Which database a note is about: the SQLite file's full path, or the PostgreSQL address
    (with its options, without a password)."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{Path(url.database or '').expanduser().resolve()}"
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


class Witness:
    """The note for one database, in ``folder`` (this computer's data folder)."""

    def __init__(self, key: str, folder: Path) -> None:
        self.key = key
        self.path = folder / FILE_NAME
        self._known: tuple[tuple[int, int, int], dict[str, Any]] | None = None
        """The note as last read or written, with the file's (inode, size, mtime) then: read
        again only when the file changed (each signature notes its head)."""

    def _stamp(self) -> tuple[int, int, int]:
        found = self.path.stat()
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def _read_all(self) -> dict[str, Any]:
        try:
            stamp = self._stamp()
            if self._known is not None and self._known[0] == stamp:
                return dict(self._known[1])
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("the chain note %s cannot be read; it is started again", self.path)
            return {}
        if not isinstance(data, dict):
            return {}
        self._known = (stamp, data)
        return dict(data)

    def damage(self) -> str | None:
        """Why the note cannot be trusted: unreadable, not JSON, or this database's entry not
        in the note's shape (``None``: sound, or not made yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            return f"cannot be read ({getattr(error, 'strerror', None) or error})"
        try:
            data = json.loads(text)
        except ValueError:
            return "is not a note this tool wrote (its contents are not JSON)"
        if not isinstance(data, dict):
            return "is not a note this tool wrote (it holds no entries)"
        entry = data.get(self.key)
        if entry is None:
            return None
        if not _sound(entry):
            return "is damaged for this database (its entry is not a position, hash and ids)"
        return None

    def seen(self) -> Seen | None:
        entry = self._read_all().get(self.key)
        if not isinstance(entry, dict):
            return None
        try:
            ids = {table: int(entry.get("ids", {}).get(table, 0)) for table in CHAINED}
            return Seen(int(entry["seq"]), str(entry["hash"]), ids, str(entry.get("at", "")))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("the chain note %s is damaged for %s", self.path, self.key)
            return None

    def note(self, seq: int, digest: str, ids: dict[str, int], *, replace: bool = False) -> None:
        """Keep ``seq``/``digest`` and the ids when they reach further than the note (or
        always, with ``replace``: after a restore). Never raises: a write is never undone for
        the note's sake."""
        if not replace and self.damage() is not None:
            # Started again, it would hide what it noted: it stays as found, verify says so.
            log.warning("the chain note %s is damaged; it is left as found", self.path)
            return
        try:
            data = self._read_all()
            old = data.get(self.key) if not replace else None
            entry: dict[str, Any] = {
                "seq": seq,
                "hash": digest,
                "ids": {table: int(ids.get(table, 0)) for table in CHAINED},
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            if isinstance(old, dict):
                if int(old.get("seq", 0)) >= seq:
                    entry.update(seq=old["seq"], hash=old["hash"], at=old.get("at", ""))
                old_ids = old.get("ids", {})
                entry["ids"] = {t: max(entry["ids"][t], int(old_ids.get(t, 0))) for t in CHAINED}
                if entry == old:
                    return
            data[self.key] = entry
            self._write(data)
        except (OSError, ValueError, TypeError):
            log.warning("could not note the chain head in %s", self.path, exc_info=True)

    def _write(self, data: dict[str, Any]) -> None:
        from pharmacist_tool.case import write_atomically

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps(data, indent=1, sort_keys=True).encode() + b"\n"
        write_atomically(self.path, body, durable=False)  # a new file, private (0600)
        self._known = (self._stamp(), data)
