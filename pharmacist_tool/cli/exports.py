"""The ``restore`` command (``export`` and ``backup`` go through the records desk:
``app.commands``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError


def run_restore(args: argparse.Namespace) -> int:
    from pharmacist_tool.cli.records import _read_passwords
    from pharmacist_tool.exports.backup import admin_in_backup, restore_database, sqlite_path

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
