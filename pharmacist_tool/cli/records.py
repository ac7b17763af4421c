"""The records commands: ``users add|list|role|admin-rights|reset-password|unlock|deactivate``,
``sign``, ``records`` (``amend`` and ``verify``: ``app.commands``).

Each is ``(args: argparse.Namespace) -> int``; ``cli.py`` declares the options. Passwords come on
standard input (``--password-stdin``), one per line, never on the command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError

EXIT_OK = 0
EXIT_BROKEN = 1
PROBLEMS_SHOWN = 20
"""``verify`` prints the first problems and counts the rest."""
_RECORD_HEADINGS = (
    "ID", "COUNSELLED", "PATIENT", "BORN", "MEDICINE", "OUTCOME", "PHARMACIST", "SIGNED (UTC)",
    "AMENDED",
)  # fmt: skip


def _open(args: argparse.Namespace) -> Any:
    from pharmacist_tool.records.db import open_database

    return open_database(paths.database_url(getattr(args, "database", None)))


def _read_passwords(
    what: Sequence[str], stream: TextIO | None = None, *, new: int = 0
) -> list[str]:
    """One password per item of ``what``, in that order (``new``: how many of the first are
    new passwords). From a pipe: one a line. From a terminal: asked for without echo (and a new
    password twice), so it is neither shown nor kept in the shell's history."""
    stream = stream or sys.stdin
    if stream.isatty():
        import getpass

        passwords = []
        for index, name in enumerate(what):
            password = getpass.getpass(f"Password for {name}: ")
            if not password:
                raise UserError(f"No password given for {name}")
            if index < new and getpass.getpass("Type it again: ") != password:
                raise UserError(f"The two passwords typed for {name} differ: nothing was changed")
            passwords.append(password)
        return passwords
    lines: list[str] = []
    for name in what:
        line = stream.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise UserError(f"No password on standard input for {name} (one password a line)")
        lines.append(password)
    return lines


def _admin_from(
    args: argparse.Namespace, db: Any, before: Sequence[str] = ()
) -> tuple[Any, list[str]]:
    """Authenticate ``--admin NAME``: its password comes after the ``before`` ones."""
    from pharmacist_tool.records.users import authenticate

    admin_name: str | None = getattr(args, "admin", None)
    if not admin_name:
        raise UserError(
            "This needs an administrator: --admin NAME, with that administrator's password on "
            "standard input" + (" on the line after the new user's" if before else "")
        )
    *passwords, admin_password = _read_passwords(
        [*before, f"the administrator {admin_name}"], new=len(before)
    )
    return authenticate(db, admin_name, admin_password, purpose="admin"), passwords


def _describe_user(user: Any) -> str:
    rights = " with administrator rights" if user.is_admin and user.role != "admin" else ""
    return f"{user.role} {user.username} ({user.printed_name}){rights}"


def run_users_add(args: argparse.Namespace) -> int:
    """The first user of an empty database needs no authority and gets administrator rights
    besides the role; every later one needs ``--admin NAME`` (its password on the second
    line)."""
    from pharmacist_tool.records.users import add_user, create_first_admin, needs_first_admin

    new_user = f"the new user {args.name}"
    with _open(args) as db:
        if needs_first_admin(db):
            if getattr(args, "admin", None):
                raise UserError(
                    "This database has no users yet, so there is no administrator to vouch: "
                    "leave out --admin; the first user gets administrator rights"
                )
            (password,) = _read_passwords([new_user], new=1)
            user = create_first_admin(
                db, args.name, password, full_name=args.full_name or "", role=args.role
            )
            print(f"Added {_describe_user(user)}: the first user, so an administrator")
            return EXIT_OK
        admin, (password,) = _admin_from(args, db, [new_user])
        user = add_user(
            db,
            admin,
            args.name,
            args.role,
            password,
            full_name=args.full_name or "",
            is_admin=bool(getattr(args, "grant_admin", False)),
        )
    print(f"Added {_describe_user(user)}")
    return EXIT_OK


def run_users_change(args: argparse.Namespace) -> int:
    """``users role|admin-rights|rename|reset-password|unlock|deactivate NAME --admin ADMIN``."""
    from pharmacist_tool.records import users

    action: str = args.users_command
    with _open(args) as db:
        if action == "reset-password":
            admin, (password,) = _admin_from(args, db, [f"the user {args.name}"])
            user = users.reset_password(db, admin, args.name, password)
            done = "New password set for"
        else:
            admin, _ = _admin_from(args, db)
            if action == "role":
                user = users.change_role(db, admin, args.name, args.role)
                done = "Role changed:"
            elif action == "admin-rights":
                user = users.set_admin(db, admin, args.name, args.grant)
                done = "Administrator rights " + ("given to" if args.grant else "taken from")
            elif action == "unlock":
                user = users.unlock_user(db, admin, args.name)
                done = "Unlocked"
            elif action == "rename":
                user = users.rename_user(db, admin, args.name, args.full_name)
                done = "Printed name changed:"
            elif action == "countersign":
                public = users.countersign_key(db, admin, args.name)
                print(f"Countersigned {args.name}'s signing key {public}")
                return EXIT_OK
            else:
                user = users.deactivate_user(db, admin, args.name)
                done = "Deactivated"
    print(f"{done} {_describe_user(user)}")
    return EXIT_OK


def run_users_password(args: argparse.Namespace) -> int:
    """``users password NAME --password-stdin``: the current password, then the new one (a
    one-time password from a reset must be changed so before its user signs)."""
    from pharmacist_tool.records.users import change_password

    current, new = _read_passwords([f"{args.name} (current)", f"{args.name} (new)"])
    with _open(args) as db:
        change_password(db, args.name, current, new)
    print(f"Password changed for {args.name}; a new signing key was made")
    return EXIT_OK


def run_users_list(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.users import list_users, printed_name_clashes, utcnow

    with _open(args) as db:
        users = list_users(db)
        clashes = printed_name_clashes(db)
    now = utcnow()
    rows = [("USER", "ROLE", "ADMIN", "NAME", "STATE", "LAST LOG-IN (UTC)")]
    for user in users:
        if not user.active:
            state = "disabled"
        elif user.locked_at(now):
            state = f"locked until {user.locked_until:%H:%M} UTC"
        else:
            state = "active"
        last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "-"
        admin = "yes" if user.is_admin else "-"
        rows.append((user.username, user.role, admin, user.printed_name, state, last))
    _print_table(rows)
    for clash in clashes:
        print(f"Warning: {clash}")
    return EXIT_OK


def _supplied_handout(args: argparse.Namespace, case: Any) -> Any:
    """``--handout PDF``: the handout given to the patient, stored as it is."""
    from pharmacist_tool.records.reading import StoredHandout

    given = getattr(args, "handout", None)
    if not given:
        return None
    from pharmacist_tool.records.input_checks import read_handout_file

    return StoredHandout.from_file_bytes(read_handout_file(Path(given)), case)


def run_sign(args: argparse.Namespace) -> int:
    from pharmacist_tool.case import load_case
    from pharmacist_tool.records.usecases import sign

    case = load_case(args.case)
    handout = _supplied_handout(args, case)
    with _open(args) as db:
        (password,) = _read_passwords([f"the user {args.user}"])
        record = sign(
            db,
            case,
            username=args.user,
            password=password,
            handout=handout,
            what=str(args.case),
        )
    print(record.id)
    return EXIT_OK


def run_records(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.reading import RecordFilter, iter_summaries, parse_date

    filters = RecordFilter(
        patient=args.patient or "",
        match="anywhere" if getattr(args, "anywhere", False) else "start",
        since=parse_date(args.since, "--since", blank_ok=False),
        until=parse_date(args.until, "--until", blank_ok=False),
        medicine=args.medicine or "",
    )
    filters.check()
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
                    s.date_of_birth.isoformat(),
                    s.medicine,
                    s.outcome_label,
                    s.pharmacist,
                    f"{s.signed_at:%Y-%m-%d %H:%M}",
                    str(s.amendments) if s.amendments else "",
                )
            )
    if len(rows) == 1:
        print("No records match.", file=sys.stderr)
        return EXIT_OK
    _print_table(rows)
    return EXIT_OK


_HEAD = re.compile(r"(\d{1,18}):([0-9a-fA-F]{64})")


def parse_expected_head(text: str) -> tuple[int, str]:
    """``POSITION:HASH`` as ``verify`` printed it (``position N, hash H`` is accepted too)."""
    cleaned = text.strip().removeprefix("position ").replace(", hash ", ":")
    found = _HEAD.fullmatch(cleaned)
    if not found:
        raise UserError(
            f"--expect-head {text!r} is not POSITION:HASH: give the position and the 64-digit "
            "hash that verify printed, e.g. 1842:3f9a…c07e"
        )
    return int(found[1]), found[2].lower()


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


_AUDIT_HEADINGS = ("ID", "AT (UTC)", "ACTION", "ACTOR", "ABOUT", "DETAIL", "SIGNATURE")


def run_audit(args: argparse.Namespace) -> int:
    """``audit --admin NAME --password-stdin [--since DATE] [--user NAME] [--json]``: every
    audit event with its actor and whether its signature verifies, for an administrator (the
    reading is audited)."""
    from pharmacist_tool.records.audit_trail import read_as_administrator
    from pharmacist_tool.records.reading import parse_date

    since = parse_date(args.since, "--since", blank_ok=False)
    with _open(args) as db:
        admin, _ = _admin_from(args, db)
        trail = read_as_administrator(db, admin, since=since, user=args.user)
    if trail.chain_problems:
        print(
            f"The records chain does NOT verify ({trail.chain_problems} problem(s)): run "
            "`pharmacist-tool verify`. Events it names are marked 'does not verify'.",
            file=sys.stderr,
        )
    if args.json:
        for line in trail.lines:
            sys.stdout.write(json.dumps(line.to_json(), ensure_ascii=False) + "\n")
        return EXIT_OK
    if not trail.lines:
        print("No audit events match.", file=sys.stderr)
        return EXIT_OK
    rows = [_AUDIT_HEADINGS]
    for line in trail.lines:
        rows.append(
            (
                str(line.id),
                f"{line.at:%Y-%m-%d %H:%M:%S}",
                line.action,
                line.actor or "-",
                line.subject or "",
                line.detail_text(),
                line.signature.upper() if not line.verifies else line.signature,
            )
        )
    _print_table(rows)
    return EXIT_OK


def run_training_add(args: argparse.Namespace) -> int:
    """``training add USER PROGRAMME --on DATE --admin NAME --password-stdin``."""
    from pharmacist_tool.records.reading import parse_date
    from pharmacist_tool.records.training import find_programme, record_training

    trained_on = parse_date(args.on, "--on", blank_ok=False)
    if trained_on is None:
        raise UserError("--on needs the day of the training (YYYY-MM-DD)")
    programme = find_programme(args.programme)
    with _open(args) as db:
        admin, _ = _admin_from(args, db)
        entry = record_training(db, admin, args.name, programme.key, trained_on)
    print(
        f"Recorded: {entry.username} trained on {programme.name} ({entry.programme}) on "
        f"{entry.trained_on.isoformat()} (audit event {entry.event_id}, signed by "
        f"{entry.recorded_by})"
    )
    return EXIT_OK


def run_training_list(args: argparse.Namespace) -> int:
    """``training list [--on DATE] [--json]``: each person's standing; lapsed and due first
    in the words, all of it in the JSON."""
    from pharmacist_tool.records.reading import parse_date
    from pharmacist_tool.records.training import register

    on = parse_date(args.on, "--on", blank_ok=True) or dt.date.today()
    with _open(args) as db:
        found = register(db, on)
    if args.json:
        for status in found:
            sys.stdout.write(json.dumps(status.to_json(on), ensure_ascii=False) + "\n")
        return EXIT_OK
    rows = [("USER", "ROLE", "PROGRAMME", "STATE", "DETAIL")]
    rows += [(s.username, s.role, s.programme, s.state.upper(), s.text(on)) for s in found]
    _print_table(rows)
    lapsed = [s for s in found if s.state in ("lapsed", "missing") and s.required_before_signing]
    if lapsed:
        names = ", ".join(sorted({s.username for s in lapsed}))
        print(f"Cannot sign under those programmes until their training is recorded: {names}")
    return EXIT_OK
