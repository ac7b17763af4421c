"""Logging: a rotating log file in the user's log folder.

People see messages; the log keeps the traces.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from pharmacist_tool import paths

LOG_FILE_NAME = "pharmacist-tool.log"


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to the rotating file; return its path, or None when only stderr could be used."""
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, "_pharmacist_tool", False):
            filename = getattr(existing, "baseFilename", None)
            return Path(filename) if filename else None
    log_file: Path | None
    try:
        log_file = paths.log_dir() / LOG_FILE_NAME
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
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
