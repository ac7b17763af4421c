"""Signs records in a loop until a stop file appears (a second counter, for the backup test).

Run as ``python -m tests.exports.signing_loop URL STOP_FILE``; prints one line per record.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pharmacist_tool.records.db import open_database
from pharmacist_tool.records.users import authenticate
from tests.conftest import example_case
from tests.exports.conftest import PASSWORD, Counter, finished


def main(url: str, stop: Path) -> None:
    db = open_database(url)
    counter = Counter(db, authenticate(db, "ana", PASSWORD, purpose="sign"))
    case = finished(example_case("01"))
    n = 0
    while not stop.exists():
        counter.sign(case)
        n += 1
        print(n, flush=True)
    db.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
