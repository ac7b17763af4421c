"""The command-line actions that go through the application layer: ``amend`` (the same amend
action the window's steps sign with, ``app.records``). ``cli.py`` declares the options."""

from __future__ import annotations

import argparse
import sys


def run_amend(args: argparse.Namespace) -> int:
    from pharmacist_tool.app.records import RecordsDesk
    from pharmacist_tool.case import load_case
    from pharmacist_tool.records.commands import EXIT_OK, _open, _read_passwords
    from pharmacist_tool.records.reading import get_record, parse_record_id

    record_id = parse_record_id(args.id)
    with _open(args) as db:
        get_record(db, record_id)  # a clear message before asking anything else
        case = load_case(args.case)
        (password,) = _read_passwords([f"the user {args.user}"])
        amendment = RecordsDesk(db, args.user).amend(
            record_id, case, reason=args.reason, password=password, what=str(args.case)
        )
    if amendment.notice:
        print(amendment.notice, file=sys.stderr)
    print(f"{record_id} amendment {amendment.id}")
    return EXIT_OK
