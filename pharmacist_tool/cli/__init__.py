"""The command line (contract: ``case-file-and-cli.md``).

Every command but ``gui`` runs without a display and without importing Qt. Each command's module
is imported only when that command runs, so ``assess`` stays as quick as Python itself allows.
Bad input exits 2 with a message naming what is wrong; the log keeps any trace.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pharmacist_tool import APP_NAME, __version__, paths
from pharmacist_tool.errors import UserError

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2

Handler = Callable[[argparse.Namespace], int]


def _cmd_assess(args: argparse.Namespace) -> int:
    from pharmacist_tool.case import load_case
    from pharmacist_tool.engine import assess
    from pharmacist_tool.engine.assessment import encode_assessment
    from pharmacist_tool.knowledge import load_for_counter

    case = load_case(args.case)
    assessment = assess(case, load_for_counter(case.prescription.medicine))
    sys.stdout.buffer.write(encode_assessment(assessment))
    import gc

    gc.freeze()  # the process is about to end: spare it the full garbage collection at exit
    return EXIT_OK


def _cmd_handout(args: argparse.Namespace) -> int:
    from pharmacist_tool.cli.handout import run_handout

    return run_handout(args)


def _cmd_gui(args: argparse.Namespace) -> int:
    if not _display_available():
        raise UserError(
            "No display is available to open the counselling window "
            "(set DISPLAY, or QT_QPA_PLATFORM=offscreen for checks)."
        )
    from pharmacist_tool.gui.app import run_gui

    status: int = run_gui(case_path=args.case, smoke=args.smoke, database=args.database)
    return status


def _cmd_report(args: argparse.Namespace) -> int:
    from pharmacist_tool.cli.report import run_report

    return run_report(args)


def _records(name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        from pharmacist_tool.cli import records as commands

        handler: Handler = getattr(commands, name)
        return handler(args)

    return run


def _app(name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        from pharmacist_tool.cli import desk as commands

        handler: Handler = getattr(commands, name)
        return handler(args)

    return run


def _course(name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        from pharmacist_tool.cli import course as course_commands

        handler: Handler = getattr(course_commands, name)
        return handler(args)

    return run


def _rule_impact(args: argparse.Namespace) -> int:
    from pharmacist_tool.cli.rule_impact import run_rule_impact

    return run_rule_impact(args)


def _exports(name: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        from pharmacist_tool.cli import exports as commands

        handler: Handler = getattr(commands, name)
        return handler(args)

    return run


def _display_available() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _add_user_change_commands(
    users_sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """``users role|admin-rights|rename|reset-password|unlock|deactivate NAME --admin ADMIN``: each
    needs an administrator, whose password is the last line on standard input."""
    admin_help = "the administrator making the change (password on standard input)"
    changes = {
        "role": "give a user another role",
        "admin-rights": "give (--grant) or take (--revoke) administrator rights",
        "rename": "give a user another printed name (--full-name), the name they sign with",
        "reset-password": "set a new password (standard input: the new one, then the admin's)",
        "unlock": "lift a lock-out before its 15 minutes are over",
        "deactivate": "disable a user for good (their records keep their signature)",
        "countersign": "confirm a user's self-registered signing key (verify names it till then)",
    }
    for name, text in changes.items():
        parser = users_sub.add_parser(name, help=text)
        parser.add_argument("name")
        if name == "role":
            parser.add_argument(
                "--role", required=True, choices=["pharmacist", "technician", "admin"]
            )
        if name == "rename":
            parser.add_argument("--full-name", required=True, metavar="TEXT")
        if name == "admin-rights":
            group = parser.add_mutually_exclusive_group(required=True)
            group.add_argument("--grant", dest="grant", action="store_true")
            group.add_argument("--revoke", dest="grant", action="store_false")
        parser.add_argument("--admin", metavar="NAME", required=True, help=admin_help)
        parser.add_argument("--password-stdin", action="store_true", required=True)
        parser.set_defaults(handler=_records("run_users_change"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Counselling desk for high-risk medicines.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL of the records database "
        "(default: $PHARMACIST_TOOL_DATABASE, else an SQLite file in the user's data folder)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep data, settings and logs in DIR "
        "(default: $PHARMACIST_TOOL_HOME, else the user's folders)",
    )
    parser.set_defaults(handler=_cmd_gui, case=None, smoke=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the counselling window (the default)")
    gui.add_argument("case", nargs="?", help="a case file to open")
    gui.add_argument(
        "--smoke",
        action="store_true",
        help="open the window with the first example case, print the start-up time, exit",
    )
    gui.set_defaults(handler=_cmd_gui)

    assess = sub.add_parser("assess", help="print the assessment of a case as JSON")
    assess.add_argument("case", help="the case file (JSON)")
    assess.set_defaults(handler=_cmd_assess)

    handout = sub.add_parser("handout", help="write the patient's personalised handout (PDF)")
    handout.add_argument("case")
    handout.add_argument("-o", "--output", required=True, metavar="OUT.pdf")
    handout.add_argument("--large-print", action="store_true", default=None)
    handout.add_argument("--language", metavar="CODE", help="e.g. en, es")
    handout.add_argument("--paper", choices=["A4", "Letter"], help="default: from the settings")
    handout.set_defaults(handler=_cmd_handout)

    users = sub.add_parser("users", help="manage users")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    users_add = users_sub.add_parser(
        "add",
        help="create a user (the first one of a database becomes an administrator; "
        "later ones need --admin)",
    )
    users_add.add_argument("name")
    users_add.add_argument("--role", required=True, choices=["pharmacist", "technician", "admin"])
    users_add.add_argument("--full-name", default="", help="printed name used in signatures")
    users_add.add_argument("--password-stdin", action="store_true", required=True)
    users_add.add_argument(
        "--admin",
        metavar="NAME",
        help="the administrator who adds the user (needed once the database has users); "
        "standard input then holds the new password on its first line and the "
        "administrator's on the second",
    )
    users_add.add_argument(
        "--grant-admin", action="store_true", help="give the new user administrator rights too"
    )
    users_add.set_defaults(handler=_records("run_users_add"))
    users_password = users_sub.add_parser(
        "password",
        help="change your own password (standard input: the current one, then the new one)",
    )
    users_password.add_argument("name")
    users_password.add_argument("--password-stdin", action="store_true", required=True)
    users_password.set_defaults(handler=_records("run_users_password"))
    users_list = users_sub.add_parser("list", help="list users")
    users_list.set_defaults(handler=_records("run_users_list"))
    _add_user_change_commands(users_sub)

    _add_training_commands(sub)

    sign = sub.add_parser("sign", help="store a finished session as a signed record")
    sign.add_argument("case")
    sign.add_argument("--user", required=True)
    sign.add_argument("--password-stdin", action="store_true", required=True)
    sign.add_argument("--handout", metavar="PDF", help="the handout given (default: rendered now)")
    sign.set_defaults(handler=_records("run_sign"))

    amend = sub.add_parser("amend", help="add an amendment to a signed record")
    amend.add_argument("id")
    amend.add_argument("case")
    amend.add_argument("--user", required=True)
    amend.add_argument("--reason", required=True)
    amend.add_argument("--password-stdin", action="store_true", required=True)
    amend.set_defaults(handler=_app("run_amend"))

    records = sub.add_parser("records", help="list signed records")
    records.add_argument("--patient", metavar="TEXT")
    records.add_argument("--since", metavar="DATE")
    records.add_argument("--until", metavar="DATE")
    records.add_argument(
        "--medicine", metavar="NAME", help="only records of this medicine pack (or a product of it)"
    )
    records.add_argument("--json", action="store_true", help="one JSON object per line")
    records.set_defaults(handler=_records("run_records"))

    verify = sub.add_parser(
        "verify", help="check that no record, audit event or user was altered or removed"
    )
    verify.add_argument(
        "--expect-head",
        metavar="POSITION:HASH",
        help="a head printed by an earlier verify (e.g. written in the paper log): exit 1 "
        "unless the chain still carries that hash at that position",
    )
    verify.set_defaults(handler=_app("run_verify"))

    audit = sub.add_parser(
        "audit",
        help="list every audit event (users, exports, restores, sign-ins) with its actor and "
        "whether its signature verifies (an administrator; audited)",
    )
    audit.add_argument("--admin", metavar="NAME", help="the administrator reading it (needed)")
    audit.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the --admin's password from the first line of standard input",
    )
    audit.add_argument("--since", metavar="DATE", help="events on or after this day (UTC)")
    audit.add_argument("--user", metavar="NAME", help="events done by this user, or about them")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(handler=_records("run_audit"))

    _add_course_commands(sub)

    export = sub.add_parser("export", help="export records as CSV, JSON or FHIR")
    export.add_argument("--format", required=True, choices=["csv", "json", "fhir"])
    export.add_argument("-o", "--output", required=True, metavar="OUT")
    export.add_argument("--since", metavar="DATE")
    export.add_argument("--until", metavar="DATE")
    export.add_argument("--patient", metavar="TEXT")
    export.add_argument(
        "--medicine", metavar="NAME", help="only records of this medicine pack (or a product of it)"
    )
    export.add_argument(
        "--user",
        help="who exports, for the audit log (needs --password-stdin: that user's password)",
    )
    export.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the --user's password from the first line of standard input",
    )
    export.set_defaults(handler=_app("run_export"))

    backup = sub.add_parser("backup", help="copy the SQLite database safely, even while in use")
    backup.add_argument("-o", "--output", required=True, metavar="FILE")
    backup.set_defaults(handler=_app("run_backup"))

    restore = sub.add_parser("restore", help="replace the SQLite database with a backup")
    restore.add_argument("backup_file", metavar="FILE")
    restore.add_argument("--admin", metavar="NAME", help="the administrator who restores (needed)")
    restore.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the --admin's password from the first line of standard input",
    )
    restore.set_defaults(handler=_exports("run_restore"))
    return parser


def _add_training_commands(sub: Any) -> None:
    """``training add|list``: the staff-training register."""
    training = sub.add_parser("training", help="the staff-training register")
    training_sub = training.add_subparsers(dest="training_command", metavar="ACTION", required=True)
    add = training_sub.add_parser(
        "add", help="record that a person was trained on a programme (an administrator signs)"
    )
    add.add_argument("name", metavar="USER")
    add.add_argument(
        "programme",
        metavar="PROGRAMME",
        help="PACK/RULE-SET: a medicine pack and one of its rule sets",
    )
    add.add_argument("--on", required=True, metavar="DATE", help="the day of the training")
    add.add_argument(
        "--admin", metavar="NAME", required=True,
        help="the administrator who records it (password on standard input)",
    )  # fmt: skip
    add.add_argument("--password-stdin", action="store_true", required=True)
    add.set_defaults(handler=_records("run_training_add"))
    listing = training_sub.add_parser("list", help="each person's training: lapsed, due, in date")
    listing.add_argument("--on", metavar="DATE", help="the day judged (default: today)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=_records("run_training_list"))


def _add_course_commands(sub: Any) -> None:
    """``course``, ``next`` and ``due``: the patient's course across visits."""
    course = sub.add_parser("course", help="a patient's signed fills and cumulative dose")
    who = course.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient-id", metavar="ID", help="the programme's patient number")
    who.add_argument("--patient", metavar="NAME", help="the name (with --date-of-birth)")
    course.add_argument("--date-of-birth", metavar="DATE")
    course.add_argument("--json", action="store_true")
    course.set_defaults(handler=_course("run_course"))

    nxt = sub.add_parser("next", help="a case for the patient's next visit, from a record")
    nxt.add_argument("id", metavar="RECORD_ID")
    nxt.add_argument("-o", "--output", required=True, metavar="CASE.json")
    nxt.set_defaults(handler=_course("run_next"))

    due = sub.add_parser("due", help="next fills and tests due, and reversals to do")
    due.add_argument("--on", metavar="DATE", help="default: today")
    due.add_argument("--within", metavar="DAYS", type=int, default=7, help="default: 7")
    due.add_argument("--limit", type=int, default=100, help=argparse.SUPPRESS)
    due.add_argument("--json", action="store_true", help="one JSON object per line")
    due.set_defaults(handler=_course("run_due"))

    impact = sub.add_parser(
        "rule-impact", help="the active courses a dated rule version changes, and how"
    )
    impact.add_argument("version", metavar="VERSION_ID", help="PACK/VERSION as in the settings")
    impact.add_argument("--on", metavar="DATE", help="the day compared from (default: today)")
    impact.add_argument("--json", action="store_true")
    impact.set_defaults(handler=_rule_impact)

    report = sub.add_parser(
        "report", help="the monthly report for the pharmacist-in-charge and inspectors (PDF)"
    )
    report.add_argument("--since", required=True, metavar="DATE", help="first day (ISO date)")
    report.add_argument("--until", required=True, metavar="DATE", help="last day (ISO date)")
    report.add_argument("-o", "--output", required=True, metavar="REPORT.pdf")
    report.add_argument("--csv", metavar="OUT.csv", help="every figure with its record ids")
    report.add_argument("--user", required=True, help="who makes the report (audited)")
    report.add_argument("--password-stdin", action="store_true", required=True)
    report.set_defaults(handler=_cmd_report)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.data_dir:
            paths.set_home(args.data_dir)
        result: int = args.handler(args)
        return result
    except UserError as error:
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        code: int = getattr(error, "exit_code", EXIT_BAD_INPUT)  # 1: found broken, not bad input
        return code
    except KeyboardInterrupt:
        print(f"{APP_NAME}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:
        from pharmacist_tool.errors import DiskFullError, is_disk_full

        if is_disk_full(error):  # wherever it happened: a message, exit 2, nothing half-written
            print(f"{APP_NAME}: {DiskFullError('Stopped')}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return _report_unexpected()


def _report_unexpected() -> int:
    import logging

    from pharmacist_tool.logs import setup_logging

    log_file = setup_logging()
    logging.getLogger(APP_NAME).exception("unexpected error")
    where = f"Details are in {log_file}" if log_file else "The log file could not be written"
    print(
        f"{APP_NAME}: an unexpected error stopped the command; nothing was half-written. {where}.",
        file=sys.stderr,
    )
    return EXIT_PROBLEM


if __name__ == "__main__":
    raise SystemExit(main())
