"""Logging: a rotating log file in the user's log folder.

People see messages; the log keeps the traces.
"""

from __future__ import annotations

import logging
import logging.handlers

from pharmacist_tool import paths

LOG_FILE_NAME = "pharmacist-tool.log"


def setup_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_pharmacist_tool", False) for h in root.handlers):
        return
    try:
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            paths.log_dir() / LOG_FILE_NAME, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()  # a read-only home must not stop the counter
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
    )
    handler._pharmacist_tool = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
