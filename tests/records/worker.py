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


def _sign_forever(url: str, signer: users.AuthenticatedUser, ready: int) -> None:
    case, assessment, handout = _material(str(os.getpid()))
    db = open_database(url)
    os.write(ready, b"r")
    while True:
        writing.sign_record(db, signer, case, assessment, handout)  # type: ignore[arg-type]


def crash(url: str, username: str, password: str, kills: int, seed: int) -> int:
    """One kill in five lands while the child opens the database, at a random moment after the
    fork; the others at a random moment once it is signing (each signature takes a few ms)."""
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
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.03))
        else:
            ready, _, _ = select.select([read_end], [], [], 30)
            if not ready:
                raise SystemExit(f"child {pid} did not open the database within 30 s")
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
