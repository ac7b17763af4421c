"""Writing an export file so that nothing half-written is ever left behind.

The export is streamed into a hidden temporary file in the target folder (``.NAME.*.part``, private
to its owner); only when the last byte is written and flushed to disk, and the caller's
``before_publish`` (the audit event) has committed, is it renamed over the target. A failure, a
full disk, a cancel from the window or Ctrl+C removes the temporary file, so the target is either
the old file (or absent) or the complete new one, and an export that exists was audited.

A process killed outright (SIGKILL, a power cut) cannot clean up: each ``.part`` file is therefore
registered, while it is written, in the data folder's ``in-progress`` folder under a lock held by
the writing process; ``remove_stale_parts()`` (run whenever the records database is opened)
removes every registered ``.part`` file whose writer is gone.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from pharmacist_tool.errors import DiskFullError, UserError, is_disk_full

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""``(done, total)``: records written so far and how many the export holds."""

CancelCheck = Callable[[], bool]
"""Returns True when the person asked to stop; the export then stops and leaves no file."""


class ExportCancelled(Exception):  # noqa: N818 (a stop asked for, not an error)
    """The person stopped the export; no file was written."""


def check_target(path: Path) -> Path:
    """The output file, with a clear message when it cannot be written there."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"{path} is a folder; name the file to write, e.g. {path / 'records'}")
    parent = path.parent.resolve()
    if not parent.is_dir():
        raise UserError(f"The folder {parent} does not exist; create it or choose another.")
    if not os.access(parent, os.W_OK):
        raise UserError(f"The folder {parent} cannot be written to; choose another folder.")
    return parent / path.name


# -- registering the .part files being written ---------------------------------------------


def _registry() -> Path:
    from pharmacist_tool import paths

    folder = paths.data_dir() / "in-progress"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _try_lock(handle: IO[Any]) -> bool:
    """Take an exclusive lock on an open file without waiting; False when another holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def registered_part(part: Path) -> Iterator[None]:
    """Note ``part`` in the registry, locked while this block runs (the lock dies with the
    process, which is how a later start knows the file was abandoned)."""
    try:
        folder = _registry()
        fd, name = tempfile.mkstemp(dir=folder, suffix=".json")
    except OSError:
        log.warning("could not register %s as in progress", part, exc_info=True)
        yield
        return
    marker = Path(name)
    with os.fdopen(fd, "w+", encoding="utf-8") as handle:
        try:
            _try_lock(handle)
            handle.write(json.dumps({"part": str(part), "pid": os.getpid()}))
            handle.flush()
            yield
        finally:
            marker.unlink(missing_ok=True)


def remove_stale_parts() -> list[Path]:
    """Remove the ``.part`` files (and their registry entries) whose writer is gone."""
    removed: list[Path] = []
    try:
        markers = sorted(_registry().glob("*.json"))
    except OSError:
        return removed
    for marker in markers:
        try:
            with marker.open("r+", encoding="utf-8") as handle:
                if not _try_lock(handle):
                    continue  # still being written by a running export or backup
                try:
                    part = Path(json.loads(handle.read() or "{}").get("part", ""))
                except ValueError:
                    part = Path()
            if part.name.endswith(".part") and part.name.startswith("."):
                if part.exists():
                    part.unlink()
                    removed.append(part)
                    log.info("removed %s, left by an export or backup that was stopped", part)
                for sidecar in ("-journal", "-wal", "-shm"):
                    Path(f"{part}{sidecar}").unlink(missing_ok=True)
            marker.unlink(missing_ok=True)
        except OSError:
            log.warning("could not clean up after %s", marker, exc_info=True)
    return removed


@contextlib.contextmanager
def part_beside(target: Path) -> Iterator[Path]:
    """A new, empty, private ``.part`` file beside ``target``, registered while the block runs
    and removed if it raises (a full disk becomes ``DiskFullError``)."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with registered_part(tmp):
            yield tmp
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        for sidecar in ("-journal", "-wal", "-shm"):
            Path(f"{tmp}{sidecar}").unlink(missing_ok=True)
        if (
            isinstance(error, Exception)
            and not isinstance(error, UserError)
            and is_disk_full(error)
        ):
            raise DiskFullError(f"{target.name} was not written") from error
        raise


@contextlib.contextmanager
def atomic_binary(
    path: Path, before_publish: Callable[[], None] | None = None
) -> Iterator[IO[bytes]]:
    """A file object that becomes ``path`` only if the block finishes without an exception,
    after ``before_publish()`` (e.g. committing the audit event) has returned."""
    target = check_target(path)
    with part_beside(target) as tmp:
        with tmp.open("wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        if before_publish is not None:
            before_publish()
        tmp.replace(target)


@contextlib.contextmanager
def atomic_text(path: Path, before_publish: Callable[[], None] | None = None) -> Iterator[IO[str]]:
    """As ``atomic_binary``, as UTF-8 text; ``newline=""`` keeps the CSV writer's CRLF."""
    with atomic_binary(path, before_publish) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield text
        text.flush()
        text.detach()
