"""Child processes for the crash and concurrency tests (run as ``python -m tests.records.worker``).

- ``sign URL USER PASSWORD COUNT``: check the password once (argon2 is slow on purpose), then sign
  COUNT records through the service with a pre-rendered handout; print how many were signed.
- ``crash URL USER PASSWORD KILLS SEED``: fork a child that signs in a loop, SIGKILL it after a
  random delay, KILLS times; print how many children were killed.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sys
import time

from pharmacist_tool.records import users, writing
from pharmacist_tool.records.db import open_database
from tests.records.helpers import assessment_for, finished_case, handout_for


def _material(tag: str) -> tuple[object, object, object]:
    case = finished_case(f"Patient {tag}")
    return case, assessment_for(case), handout_for(case, f"Handout for {tag}")


def sign(url: str, username: str, password: str, count: int) -> int:
    with open_database(url) as db:
        signer = users.authenticate(db, username, password, purpose="sign")
        case, assessment, handout = _material(str(os.getpid()))
        for _ in range(count):
            writing.sign_record(db, signer, case, assessment, handout)  # type: ignore[arg-type]
    return count


def _sign_forever(url: str, signer: users.AuthenticatedUser, progress: int) -> None:
    """Writes ``r`` once the database is open and ``s`` once the first signature is committed."""
    case, assessment, handout = _material(str(os.getpid()))
    db = open_database(url)
    os.write(progress, b"r")
    writing.sign_record(db, signer, case, assessment, handout)  # type: ignore[arg-type]
    os.write(progress, b"s")
    while True:
        writing.sign_record(db, signer, case, assessment, handout)  # type: ignore[arg-type]


def _wait_for(read_end: int, marker: bytes, pid: int) -> None:
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([read_end], [], [], 30)
        if not ready:
            raise SystemExit(f"child {pid} did not write {marker!r} within 30 s")
        chunk = os.read(read_end, 8)
        if not chunk:
            raise SystemExit(f"child {pid} closed its pipe before writing {marker!r}")
        seen += chunk


def crash(url: str, username: str, password: str, kills: int, seed: int) -> int:
    """One kill in five lands while the child opens the database, at a random moment after the
    fork; two in five at a random moment once it is signing, perhaps inside its first signature;
    the rest at a random moment after its first signature is committed. The last kind makes sure
    whole records exist to check however slow the disk is (on a busy machine a first signature can
    take longer than the random delay)."""
    with open_database(url) as db:  # closed before any fork
        signer = users.authenticate(db, username, password, purpose="sign")
    rng = random.Random(seed)
    for _ in range(kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                _sign_forever(url, signer, write_end)
            finally:
                os._exit(3)
        os.close(write_end)
        moment = rng.random()
        if moment < 0.2:
            time.sleep(rng.uniform(0.0, 0.03))
        else:
            _wait_for(read_end, b"s" if moment >= 0.6 else b"r", pid)
            time.sleep(rng.uniform(0.0, 0.04))
        os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            raise SystemExit(f"child {pid} ended by itself (status {status}) before the kill")
    return kills


def main(argv: list[str]) -> int:
    mode, url, username, password, *rest = argv
    if mode == "sign":
        print(sign(url, username, password, int(rest[0])))
    elif mode == "crash":
        print(crash(url, username, password, int(rest[0]), int(rest[1])))
    else:
        raise SystemExit(f"unknown mode {mode}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
