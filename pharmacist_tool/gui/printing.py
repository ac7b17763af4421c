"""Printing the handout through the system's print service (CUPS), as the stored PDF itself.

Where CUPS runs (Linux, macOS), the PDF's bytes go to the queue as they are (``lp``): vector
text, the page size the sheet was made for (``-o media=Letter`` or ``A4``), nothing scaled. The
job's title never carries the patient's name (print queues are listed to anyone on the network).
Elsewhere the window draws the pages through Qt at the sheet's own paper size
(``handout_view.print_with_qt``). The setting ``print_through`` chooses: ``auto`` (CUPS where
its scheduler answers), ``cups`` or ``qt``. This module imports no Qt.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from pharmacist_tool.errors import UserError

log = logging.getLogger(__name__)

TIMEOUT = 15.0
PAPER_POINTS = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}


def _env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "LANG": "C"}  # lpstat's words are parsed


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        args, input=data, capture_output=True, timeout=TIMEOUT, env=_env(), check=False
    )


def cups_running() -> bool:
    """True when the ``lp`` client is installed and the CUPS scheduler answers."""
    if shutil.which("lp") is None or shutil.which("lpstat") is None:
        return False
    try:
        done = _run(["lpstat", "-r"])
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and b"is running" in done.stdout


def through_cups(print_through: str) -> bool:
    """Print through CUPS (else through Qt), as the setting ``print_through`` says."""
    if print_through == "qt":
        return False
    if print_through == "cups":
        return True
    return cups_running()


def cups_queues() -> list[str]:
    """The print queues CUPS knows (``lpstat -e``); empty when none or CUPS is not running."""
    try:
        done = _run(["lpstat", "-e"])
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    return [line.strip() for line in done.stdout.decode(errors="replace").splitlines() if line]


def cups_default() -> str | None:
    try:
        done = _run(["lpstat", "-d"])
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"system default destination:\s*(\S+)", done.stdout.decode(errors="replace"))
    return found.group(1) if found else None


def paper_of(sizes: list[tuple[float, float]]) -> str | None:
    """``A4`` or ``Letter`` when the first page is that size (within a point), else None."""
    if not sizes:
        return None
    w, h = sizes[0]
    for name, (pw, ph) in PAPER_POINTS.items():
        if abs(w - pw) <= 1.5 and abs(h - ph) <= 1.5:
            return name
    return None


@dataclass(frozen=True)
class Sent:
    queue: str
    job: str
    """The print service's job id, e.g. ``FrontDesk-12``."""


def print_with_cups(pdf: bytes, *, paper: str, queue: str | None, title: str) -> Sent:
    """Send the PDF to a CUPS queue as it is. Raises ``UserError`` with what went wrong."""
    target = queue or cups_default()
    if not target:
        raise UserError(
            "No printer is chosen and this machine has no default printer: choose one in "
            "Settings (Ctrl+,)."
        )
    if target not in cups_queues():
        raise UserError(
            f"There is no printer called “{target}” on this machine: choose another in "
            "Settings (Ctrl+,)."
        )
    args = ["lp", "-d", target, "-o", f"media={paper}", "-o", "print-scaling=none"]
    args += ["-t", title, "-"]
    try:
        done = _run(args, pdf)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.exception("lp failed")
        raise UserError(f"The print service did not answer ({type(error).__name__}).") from error
    text = (done.stdout + done.stderr).decode(errors="replace").strip()
    if done.returncode != 0:
        log.error("lp exit %s: %s", done.returncode, text)
        raise UserError(f"The printer refused the handout: {text or 'no reason given'}")
    found = re.search(r"request id is (\S+)", text)
    job = found.group(1) if found else "?"
    log.info("handout sent to %s as job %s (%s, %d bytes)", target, job, paper, len(pdf))
    return Sent(queue=target, job=job)
