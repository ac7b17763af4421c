"""Writing an export file so that nothing half-written is ever left behind.

The export is streamed into a hidden temporary file in the target folder; only when the last
byte is written and flushed to disk is it renamed over the target. A failure, a cancel from the
window or Ctrl+C removes the temporary file, so the target is either the old file (or absent) or
the complete new one.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from pharmacist_tool.errors import UserError

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


@contextlib.contextmanager
def atomic_binary(path: Path) -> Iterator[IO[bytes]]:
    """A file object that becomes ``path`` only if the block finishes without an exception."""
    target = check_target(path)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """As ``atomic_binary``, as UTF-8 text; ``newline=""`` keeps the CSV writer's CRLF."""
    with atomic_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield text
        text.flush()
        text.detach()
