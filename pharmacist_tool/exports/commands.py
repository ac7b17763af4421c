"""The ``export``, ``backup`` and ``restore`` commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pharmacist_tool import paths
from pharmacist_tool.exports.queries import RecordFilter, parse_date

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database


def _open(args: argparse.Namespace) -> Database:
    from pharmacist_tool.records.db import open_database

    return open_database(paths.database_url(args.database))


def run_export(args: argparse.Namespace) -> int:
    from pharmacist_tool.exports.service import export_records

    flt = RecordFilter(
        patient=args.patient or "",
        match="anywhere",
        since=parse_date(args.since, "--since"),
        until=parse_date(args.until, "--until"),
    )
    flt.check()
    with _open(args) as db:
        result = export_records(db, args.format, Path(args.output), flt, username=args.user)
    noun = "record" if result.count == 1 else "records"
    print(f"Exported {result.count} {noun} as {args.format.upper()} to {result.path}")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from pharmacist_tool.exports.backup import backup_database, sqlite_path
    from pharmacist_tool.exports.service import audit

    url = paths.database_url(args.database)
    sqlite_path(url)  # refuses PostgreSQL with the pg_dump advice before anything else
    with _open(args) as db:  # creates/migrates as usual, so the file is this tool's
        pass
    check = backup_database(url, Path(args.output))
    with _open(args) as db:
        audit(
            db,
            "backup",
            username=None,
            detail={"file": str(check.path), "records": check.records},
        )
    print(
        f"Backed up {check.records} records and {check.amendments} amendments to {check.path} "
        f"(checked: intact, schema {check.schema_version})"
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from pharmacist_tool.exports.backup import restore_database
    from pharmacist_tool.exports.service import audit

    url = paths.database_url(args.database)
    result = restore_database(url, Path(args.backup_file))
    with _open(args) as db:
        audit(
            db,
            "restore",
            username=None,
            detail={
                "from": str(Path(args.backup_file).resolve()),
                "previous_copy": str(result.previous_copy or ""),
                "records": result.restored.records,
            },
        )
    print(
        f"Restored {result.restored.records} records and {result.restored.amendments} "
        f"amendments from {Path(args.backup_file).resolve()}"
    )
    if result.previous_copy:
        print(f"The database as it was before is kept at {result.previous_copy}")
    return 0
