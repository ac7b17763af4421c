"""Logging: a rotating log file in the user's log folder.

People see messages; the log keeps the traces, never patient data: database errors carry no
statement values (every engine hides them), and the log file is private to its owner (0600, in
a 0700 folder), rotated files included.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
from pathlib import Path

from pharmacist_tool import paths

LOG_FILE_NAME = "pharmacist-tool.log"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file is created readable and writable by its owner only
    (before its first byte), and made so when it was there already."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        return io.TextIOWrapper(io.FileIO(fd, "a"), encoding=self.encoding, errors=self.errors)


def _private_folder(folder: Path) -> Path:
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    return folder


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to the rotating file; return its path, or None when only stderr could be used."""
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, "_pharmacist_tool", False):
            filename = getattr(existing, "baseFilename", None)
            return Path(filename) if filename else None
    log_file: Path | None
    try:
        log_file = _private_folder(paths.log_dir()) / LOG_FILE_NAME
        handler: logging.Handler = PrivateRotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        log_file = None
        handler = logging.StreamHandler()  # a read-only home must not stop the counter
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
    )
    handler._pharmacist_tool = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return log_file
