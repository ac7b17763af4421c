"""``pharmacist-tool report --since DATE --until DATE -o REPORT.pdf [--csv OUT.csv]``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.records.reading import parse_date


def _date(text: str, what: str) -> dt.date:
    value = parse_date(text, what, blank_ok=False)
    if value is None:
        raise UserError(f"{what} needs a date (YYYY-MM-DD)")
    return value


def run_report(args: argparse.Namespace) -> int:
    from pharmacist_tool.cli.records import _read_passwords
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.users import authenticate
    from pharmacist_tool.reports.service import make_report
    from pharmacist_tool.settings import load_settings

    since = _date(args.since, "--since")
    until = _date(args.until, "--until")
    settings = load_settings()
    with open_database(paths.database_url(args.database)) as db:
        (password,) = _read_passwords([f"the user {args.user}"])
        user = authenticate(db, args.user, password, purpose="login")
        result = make_report(
            db,
            since,
            until,
            Path(args.output),
            csv_path=Path(args.csv) if args.csv else None,
            user=user,
            pharmacy=settings.pharmacy_name,
            paper=settings.paper_size,
        )
    count = len(result.figures.record_ids)
    print(f"Report of {count} records from {since} to {until} written to {result.pdf}")
    if result.csv:
        print(f"Its figures, with their record ids, are in {result.csv}")
    if not result.chain_intact:
        print("The records chain did NOT verify: the report says so; run `pharmacist-tool verify`.")
        return 1
    return 0
