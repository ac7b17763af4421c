"""The command-line actions that go through the records desk (``app.records``), the same
actions the records view takes: ``amend`` (the one amend action the window's steps sign with),
``verify``, ``export`` and ``backup``. ``cli.py`` declares the options. (``restore`` replaces a
database that may not open, so it does not go through a desk on it: ``exports.commands``.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pharmacist_tool.errors import UserError


def run_amend(args: argparse.Namespace) -> int:
    from pharmacist_tool.app.records import RecordsDesk
    from pharmacist_tool.case import load_case
    from pharmacist_tool.cli.records import EXIT_OK, _open, _read_passwords
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


def run_verify(args: argparse.Namespace) -> int:
    from pharmacist_tool.app.records import RecordsDesk
    from pharmacist_tool.cli.records import (
        EXIT_BROKEN,
        EXIT_OK,
        PROBLEMS_SHOWN,
        _count,
        _open,
        parse_expected_head,
    )

    given = getattr(args, "expect_head", None)
    expected = parse_expected_head(given) if given is not None else None
    with _open(args) as db:
        report = RecordsDesk(db, None).verify(expect_head=expected)
        where = db.describe()
    counts = report.counts
    print(
        f"Checked {where}: {_count(counts.get('records', 0), 'record')}, "
        f"{_count(counts.get('amendments', 0), 'amendment')}, "
        f"{_count(counts.get('audit_events', 0), 'audit event')}, "
        f"{_count(counts.get('users', 0), 'user')}."
    )
    print(f"Chain head: position {report.head_seq}, hash {report.head_hash}")
    for warning in report.warnings:
        print(f"Warning: {warning}")
    if report.intact:
        if expected is not None:
            print(f"The chain still holds the head written down (position {expected[0]}).")
        print("Intact: nothing was altered, removed or inserted out of order.")
        print("Write the head above in the paper log; check it later with --expect-head N:HASH.")
        return EXIT_OK
    print(f"BROKEN: {len(report.problems)} problem(s) found:")
    for problem in report.problems[:PROBLEMS_SHOWN]:
        print(f"  {problem}")
    if len(report.problems) > PROBLEMS_SHOWN:
        more = len(report.problems) - PROBLEMS_SHOWN
        print(f"  … and {more} more (the first {PROBLEMS_SHOWN} shown)")
    return EXIT_BROKEN


def run_export(args: argparse.Namespace) -> int:
    from pharmacist_tool.app.records import RecordFilter, RecordsDesk, parse_date
    from pharmacist_tool.cli.records import _open, _read_passwords
    from pharmacist_tool.records.users import authenticate

    flt = RecordFilter(
        patient=args.patient or "",
        since=parse_date(args.since, "--since", blank_ok=False),
        until=parse_date(args.until, "--until", blank_ok=False),
        medicine=args.medicine or "",
    )
    flt.check()
    if args.user is not None and not args.user.strip():
        raise UserError("--user is empty: name who exports, or leave --user out")
    if args.user and not getattr(args, "password_stdin", False):
        raise UserError(
            f"--user {args.user} needs that user's password: add --password-stdin and give it "
            "on standard input (the export is audited under that name), or leave --user out "
            "(the audit then names no user)"
        )
    with _open(args) as db:
        exporter = None
        if args.user:
            (password,) = _read_passwords([f"the user {args.user}"])
            exporter = authenticate(db, args.user, password, purpose="login").username
        result = RecordsDesk(db, exporter).export(args.format, Path(args.output), flt)
    noun = "record" if result.count == 1 else "records"
    print(f"Exported {result.count} {noun} as {args.format.upper()} to {result.path}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from pharmacist_tool import paths
    from pharmacist_tool.app.records import RecordsDesk
    from pharmacist_tool.cli.records import _open
    from pharmacist_tool.exports.backup import sqlite_path

    sqlite_path(paths.database_url(args.database))  # PostgreSQL: pg_dump's advice, first
    with _open(args) as db:  # creates/migrates as usual, so the file is this tool's
        check = RecordsDesk(db, None).backup(Path(args.output))
    print(
        f"Backed up {check.records} records and {check.amendments} amendments to {check.path} "
        f"(checked: intact, schema {check.schema_version})"
    )
    return 0
