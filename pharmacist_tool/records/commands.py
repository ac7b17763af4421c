"""The records commands: ``users add|list``, ``sign``, ``amend``, ``records``, ``verify``.

Each is ``(args: argparse.Namespace) -> int``; ``cli.py`` declares the options. Passwords come on
standard input (``--password-stdin``), one per line, never on the command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError

EXIT_OK = 0
EXIT_BROKEN = 1
_RECORD_HEADINGS = (
    "ID", "COUNSELLED", "PATIENT", "BORN", "MEDICINE", "OUTCOME", "PHARMACIST", "SIGNED (UTC)",
    "AMENDED",
)  # fmt: skip


def _open(args: argparse.Namespace) -> Any:
    from pharmacist_tool.records.db import open_database

    return open_database(paths.database_url(getattr(args, "database", None)))


def _read_passwords(count: int, what: list[str], stream: TextIO | None = None) -> list[str]:
    stream = stream or sys.stdin
    lines: list[str] = []
    for name in what[:count]:
        line = stream.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise UserError(f"No password on standard input for {name} (one password a line)")
        lines.append(password)
    return lines


def run_users_add(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.users import (
        add_user,
        add_user_at_console,
        authenticate,
        create_first_admin,
    )

    admin_name: str | None = getattr(args, "admin", None)
    with _open(args) as db:
        from pharmacist_tool.records.users import needs_first_admin

        if needs_first_admin(db):
            (password,) = _read_passwords(1, [f"the new user {args.name}"])
            user = create_first_admin(
                db, args.name, password, full_name=args.full_name or "", role=args.role
            )
        else:
            if not admin_name:
                (password,) = _read_passwords(1, [f"the new user {args.name}"])
                user = add_user_at_console(
                    db, args.name, args.role, password, full_name=args.full_name or ""
                )
                print(f"Added {user.role} {user.username} ({user.printed_name})")
                return EXIT_OK
            password, admin_password = _read_passwords(
                2, [f"the new user {args.name}", f"the administrator {admin_name}"]
            )
            admin = authenticate(db, admin_name, admin_password, purpose="admin")
            user = add_user(
                db, admin, args.name, args.role, password, full_name=args.full_name or ""
            )
    print(f"Added {user.role} {user.username} ({user.printed_name})")
    return EXIT_OK


def run_users_list(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.users import list_users, utcnow

    with _open(args) as db:
        users = list_users(db)
    now = utcnow()
    rows = [("USER", "ROLE", "NAME", "STATE", "LAST LOG-IN (UTC)")]
    for user in users:
        if not user.active:
            state = "disabled"
        elif user.locked_until and user.locked_until > now:
            state = f"locked until {user.locked_until:%H:%M} UTC"
        else:
            state = "active"
        last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "-"
        rows.append((user.username, user.role, user.printed_name, state, last))
    _print_table(rows)
    return EXIT_OK


def _assess(case: Any) -> tuple[Any, Any]:
    from pharmacist_tool.engine import assess
    from pharmacist_tool.knowledge import load_for_counter

    kb = load_for_counter()
    return assess(case, kb), kb


def _handout_for(
    args: argparse.Namespace, case: Any, assessment: Any, kb: Any, pharmacist: str
) -> Any:
    from pharmacist_tool.records.service import StoredHandout

    given = getattr(args, "handout", None)
    if given:
        path = Path(given)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UserError(f"Cannot read the handout {path}: {error.strerror}") from error
        return StoredHandout.from_file_bytes(data, case)
    from pharmacist_tool.handout import render_handout
    from pharmacist_tool.settings import load_settings

    return render_handout(case, assessment, kb, load_settings(), pharmacist=pharmacist)


def _prepare(args: argparse.Namespace, db: Any, purpose: str) -> tuple[Any, Any, Any, Any]:
    """Load and assess the case, check the password, render the handout."""
    from pharmacist_tool.case import load_case
    from pharmacist_tool.engine.readiness import missing_for_signing
    from pharmacist_tool.records.users import authenticate, require_signer

    case = load_case(args.case)
    (password,) = _read_passwords(1, [f"the user {args.user}"])
    signer = authenticate(db, args.user, password, purpose=purpose)  # type: ignore[arg-type]
    require_signer(signer)
    assessment, kb = _assess(case)
    missing = missing_for_signing(case, assessment)
    if missing:
        raise UserError(
            f"{args.case} is not finished and cannot be signed. Still to do:", details=missing
        )
    handout = _handout_for(args, case, assessment, kb, signer.printed_name)
    return case, assessment, signer, handout


def run_sign(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.service import sign_record

    with _open(args) as db:
        case, assessment, signer, handout = _prepare(args, db, "sign")
        record = sign_record(db, signer, case, assessment, handout)
    print(record.id)
    return EXIT_OK


def _record_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit() or int(cleaned) < 1:
        raise UserError(f"{text!r} is not a record id (a whole number, as `sign` printed it)")
    return int(cleaned)


def run_amend(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.service import amend_record, get_record

    record_id = _record_id(args.id)
    with _open(args) as db:
        get_record(db, record_id)  # a clear message before asking anything else
        case, assessment, signer, handout = _prepare(args, db, "amend")
        amendment = amend_record(db, record_id, signer, case, assessment, handout, args.reason)
    print(f"{record_id} amendment {amendment.id}")
    return EXIT_OK


def _parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-25"
        ) from None


def run_records(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.service import RecordFilter, iter_summaries

    filters = RecordFilter(
        patient=args.patient,
        since=_parse_date(args.since, "--since"),
        until=_parse_date(args.until, "--until"),
    )
    if filters.since and filters.until and filters.since > filters.until:
        raise UserError("--since is after --until: no record can match")
    out = sys.stdout
    with _open(args) as db:
        if args.json:
            for summary in iter_summaries(db, filters):
                out.write(json.dumps(summary.to_json(), ensure_ascii=False) + "\n")
            return EXIT_OK
        rows = [_RECORD_HEADINGS]
        for s in iter_summaries(db, filters):
            rows.append(
                (
                    str(s.id),
                    s.counselled_on.isoformat(),
                    s.patient_name,
                    s.patient_date_of_birth.isoformat(),
                    s.medicine,
                    s.outcome_label,
                    s.pharmacist,
                    f"{s.signed_at:%Y-%m-%d %H:%M}",
                    str(s.amendment_count) if s.amendment_count else "",
                )
            )
    if len(rows) == 1:
        print("No records match.", file=sys.stderr)
        return EXIT_OK
    _print_table(rows)
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.service import verify

    with _open(args) as db:
        report = verify(db)
        where = db.describe()
    counts = report.counts
    print(
        f"Checked {where}: {_count(counts.get('records', 0), 'record')}, "
        f"{_count(counts.get('amendments', 0), 'amendment')}, "
        f"{_count(counts.get('audit_events', 0), 'audit event')}."
    )
    print(f"Chain head: position {report.head_seq}, hash {report.head_hash}")
    if report.intact:
        print("Intact: nothing was altered, removed or inserted out of order.")
        return EXIT_OK
    print(f"BROKEN: {len(report.problems)} problem(s) found:")
    for problem in report.problems:
        print(f"  {problem}")
    return EXIT_BROKEN


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [min(max(len(row[i]) for row in rows), 40) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            (cell if len(cell) <= width else cell[: width - 1] + "…").ljust(width)
            for cell, width in zip(row, widths, strict=True)
        ]
        print("  ".join(cells).rstrip())
