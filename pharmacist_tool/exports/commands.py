"""The ``export``, ``backup`` and ``restore`` commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.records.reading import RecordFilter, parse_date

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database


def _open(args: argparse.Namespace) -> Database:
    from pharmacist_tool.records.db import open_database

    return open_database(paths.database_url(args.database))


def run_export(args: argparse.Namespace) -> int:
    from pharmacist_tool.exports.service import export_records

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
            from pharmacist_tool.records.commands import _read_passwords
            from pharmacist_tool.records.users import authenticate

            (password,) = _read_passwords([f"the user {args.user}"])
            exporter = authenticate(db, args.user, password, purpose="login")
        result = export_records(db, args.format, Path(args.output), flt, username=exporter)
    noun = "record" if result.count == 1 else "records"
    print(f"Exported {result.count} {noun} as {args.format.upper()} to {result.path}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from pharmacist_tool.exports.backup import backup_database, sqlite_path
    from pharmacist_tool.exports.service import audit

    url = paths.database_url(args.database)
    sqlite_path(url)  # refuses PostgreSQL with the pg_dump advice before anything else
    with _open(args) as db:  # creates/migrates as usual, so the file is this tool's
        # first, so that the backup holds its own event: restoring the newest backup then
        # loses nothing (a restore refuses a backup that lacks any event of the live database)
        audit(db, "backup", username=None, detail={"file": str(Path(args.output).resolve())})
    check = backup_database(url, Path(args.output))
    print(
        f"Backed up {check.records} records and {check.amendments} amendments to {check.path} "
        f"(checked: intact, schema {check.schema_version})"
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from pharmacist_tool.exports.backup import admin_in_backup, restore_database, sqlite_path
    from pharmacist_tool.records.commands import _read_passwords

    url = paths.database_url(args.database)
    sqlite_path(url)  # refuses PostgreSQL with the pg_restore advice before anything else
    if not args.admin or not args.password_stdin:
        raise UserError(
            "A restore needs an administrator: add --admin NAME --password-stdin and give "
            "their password on standard input (it is checked against the backup's users)."
        )
    (password,) = _read_passwords([f"the administrator {args.admin}"])
    admin = admin_in_backup(Path(args.backup_file), args.admin, password)
    result = restore_database(url, Path(args.backup_file), admin)
    print(
        f"Restored {result.restored.records} records and {result.restored.amendments} "
        f"amendments from {Path(args.backup_file).resolve()}"
    )
    if result.previous_copy:
        print(f"The database as it was before is kept at {result.previous_copy}")
    return 0
