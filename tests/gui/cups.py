"""A real CUPS print queue for the printing tests: CUPS-PDF writes each job to a PDF file.

``.ci/run`` installs and starts it; this fixture does the same where it can (as root, with
apt-get), so the tests also run on a developer's machine, and skips with the reason otherwise.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

QUEUE = "PDF"
PACKAGES = ["cups", "printer-driver-cups-pdf"]
CONF = Path("/etc/cups/cups-pdf.conf")


@dataclass(frozen=True)
class PdfQueue:
    name: str
    out: Path
    """Where CUPS-PDF writes the jobs of this user (``Out`` in cups-pdf.conf)."""

    def printed(self) -> set[Path]:
        return set(self.out.glob("*.pdf")) if self.out.is_dir() else set()

    def wait_for_new(self, before: set[Path], status: str = "", timeout: float = 60.0) -> Path:
        """The file a job just sent produced (complete: readable as a PDF). ``status``: the
        window's words for the job sent ("… (job 31) …"): then the file of that job (CUPS-PDF
        names each file after its job), whatever else reached the queue meanwhile."""
        import pypdf

        job = re.search(r"\(job (\d+)\)", status)
        mine = f"-job_{job.group(1)}.pdf" if job else ".pdf"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(self.printed() - before):
                if not path.name.endswith(mine):
                    continue
                try:
                    pypdf.PdfReader(str(path)).pages[0]
                except Exception:
                    continue  # still being written
                return path
            time.sleep(0.2)
        jobs = subprocess.run(["lpstat", "-W", "all", "-o"], capture_output=True, text=True)
        raise AssertionError(f"no PDF came out of the {self.name} queue: {jobs.stdout}")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False)


def _scheduler_running() -> bool:
    return shutil.which("lpstat") is not None and "is running" in _run("lpstat", "-r").stdout


def _output_dir() -> Path:
    home = pwd.getpwuid(os.getuid()).pw_dir
    out = "${HOME}/PDF"
    if CONF.exists():
        for line in CONF.read_text().splitlines():
            if line.strip().startswith("Out "):
                out = line.split(None, 1)[1].strip()
    return Path(out.replace("${HOME}", home).replace("${USER}", pwd.getpwuid(os.getuid()).pw_name))


def ensure_pdf_queue() -> PdfQueue:
    root = os.geteuid() == 0
    if shutil.which("lp") is None or not Path("/usr/lib/cups/backend/cups-pdf").exists():
        if not (root and shutil.which("apt-get")):
            pytest.skip("CUPS and CUPS-PDF are not installed (apt-get install cups "
                        "printer-driver-cups-pdf)")  # fmt: skip
        done = _run("apt-get", "install", "-y", "-q", *PACKAGES)
        if done.returncode != 0:
            _run("apt-get", "update", "-q")
            done = _run("apt-get", "install", "-y", "-q", *PACKAGES)
        if done.returncode != 0:
            pytest.skip(f"installing CUPS failed: {done.stderr[-300:]}")
    if not _scheduler_running():
        if not root:
            pytest.skip("the CUPS scheduler is not running (and starting it needs root)")
        _run("/usr/sbin/cupsd")
        deadline = time.monotonic() + 20
        while not _scheduler_running() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _scheduler_running():
            pytest.skip("the CUPS scheduler did not start")
    if QUEUE not in _run("lpstat", "-e").stdout.split():
        drivers = _run("lpinfo", "-m").stdout
        found = re.search(r"^(\S*CUPS-PDF_opt\.ppd)", drivers, re.M) or re.search(
            r"^(\S*CUPS-PDF\S*\.ppd)", drivers, re.M
        )
        if found is None:
            pytest.skip("no CUPS-PDF driver is listed by lpinfo -m")
        done = _run("lpadmin", "-p", QUEUE, "-v", "cups-pdf:/", "-E", "-m", found.group(1))
        if done.returncode != 0:
            pytest.skip(f"adding the {QUEUE} queue failed: {done.stderr.strip()}")
    return PdfQueue(name=QUEUE, out=_output_dir())


@pytest.fixture(scope="session")
def pdf_queue() -> Iterator[PdfQueue]:
    yield ensure_pdf_queue()
