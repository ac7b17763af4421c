"""A failed log-in takes about the same time whatever the reason, so the time does not tell
which user names exist or are locked: goal <= 1.25x of a wrong password, both ways.

Timed in turn (A B A B …) on one SQLite file: ``records.users.authenticate`` with a wrong
password for an existing user (the floor), against a locked account, an unknown name and a
deactivated account. Each runs one argon2id check (against a dummy hash when no attempt could
be claimed) and writes its audit event.

    .venv/bin/python benchmarks/bench_login.py [--runs 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Comparison, paired_call_medians, report
from pharmacist_tool.records import users
from pharmacist_tool.records.db import open_database

PASSWORD = "correct horse battery staple"
GOAL = 1.25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="bench-login-")) / "records.sqlite3"
    db = open_database(f"sqlite:///{path}")
    boss = users.create_first_admin(db, "boss", PASSWORD, full_name="Pat Boss")
    admin = users.authenticate(db, boss.username, PASSWORD, purpose="admin")
    # one wrong password each for a pool of users, so none of them reaches the lock-out
    pool = [f"p{i}" for i in range(3 * (args.runs + 3) // (users.MAX_FAILED_LOGINS - 1) + 2)]
    for name in ("locked", "gone", *pool):
        users.add_user(db, admin, name, "pharmacist", PASSWORD, full_name=f"P {name}")
    users.deactivate_user(db, admin, "gone")
    for _ in range(users.MAX_FAILED_LOGINS):
        _fail(db, "locked")
    turns = iter([name for name in pool for _ in range(users.MAX_FAILED_LOGINS - 1)])

    def wrong() -> object:
        _fail(db, next(turns))
        return None

    def as_floor(name: str) -> object:
        def attempt() -> object:
            _fail(db, name)
            return None

        return attempt

    comparisons = []
    for label, name in (("locked account", "locked"), ("unknown name", "nobody"),
                        ("deactivated account", "gone")):  # fmt: skip
        theirs, floor = paired_call_medians(as_floor(name), wrong, runs=args.runs, warmup=3)
        comparisons.append(
            Comparison(
                f"log-in: failed, {label}",
                theirs * 1000,
                floor * 1000,
                "wrong password",
                "ms",
                GOAL,
            )
        )
        comparisons.append(
            Comparison(
                f"log-in: wrong password vs {label}",
                floor * 1000,
                theirs * 1000,
                label,
                "ms",
                GOAL,
            )
        )
    db.close()
    return report(comparisons)


def _fail(db: object, name: str) -> None:
    try:
        users.authenticate(db, name, "not the password at all")  # type: ignore[arg-type]
    except users.LoginFailedError:
        return
    raise AssertionError(f"{name} logged in with a wrong password")


if __name__ == "__main__":
    raise SystemExit(main())
