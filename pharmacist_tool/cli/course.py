"""The course commands: ``course``, ``next`` and ``due`` (``cli.py`` declares the options)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from pharmacist_tool.cli.records import _open, _print_table
from pharmacist_tool.errors import UserError
from pharmacist_tool.records.reading import parse_date, parse_record_id

EXIT_OK = 0

WHAT_LABELS = {
    "next-fill": "next fill",
    "pregnancy-test": "pregnancy test",
    "after-course-pregnancy-test": "pregnancy test after the course",
    "reverse-authorization": "reverse the authorization (not picked up)",
}
OUTCOME_WORDS = {
    "handed-over": "handed over",
    "not-handed-over": "NOT handed over",
    "declined": "counselling declined, handed over",
}


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else "-"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def run_course(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.course import find_course

    born = parse_date(args.date_of_birth, "--date-of-birth", blank_ok=False)
    if args.patient_id is None and (not args.patient or born is None):
        raise UserError("Give --patient-id ID, or --patient NAME with --date-of-birth DATE")
    with _open(args) as db:
        course = find_course(
            db, programme_id=args.patient_id, name=args.patient, date_of_birth=born
        )
    if args.json:
        sys.stdout.write(json.dumps(course.to_json(), ensure_ascii=False) + "\n")
    else:
        _print_course(course)
    for other in course.similar:
        print(
            f"Not merged: {other.name} (born {other.date_of_birth.isoformat()}"
            f"{', programme id ' + other.programme_id if other.programme_id else ''}; records "
            f"{', '.join(map(str, other.record_ids))}) has a similar name. Only the pharmacist "
            "can say it is the same patient; these records are not counted in this course.",
            file=sys.stderr,
        )
    return EXIT_OK


def _print_course(course: Any) -> None:
    s = course.summary
    pid = f", programme id {course.programme_id}" if course.programme_id else ""
    print(f"{course.name}, born {course.date_of_birth.isoformat()}{pid}")
    rows = [("RECORD", "COUNSELLED", "MEDICINE", "MG/DAY", "DAYS", "OUTCOME")]
    for f in course.fills:
        rows.append(
            (
                str(f.record_id),
                f.counselled_on.isoformat(),
                f.medicine,
                _number(f.daily_dose_mg),
                str(f.days_supply),
                OUTCOME_WORDS.get(f.outcome, f.outcome),
            )
        )
    _print_table(rows)
    print(
        f"Cumulative dose: {_number(s.cumulative_mg)} mg "
        f"({_number(s.cumulative_mg_per_kg)} mg/kg at the latest weight); "
        "only fills handed over count."
    )
    if s.ended:
        print("The course has ended (the last fill was marked as the last).")
    print(f"Next fill due: {_iso(s.next_fill_due)}")
    print(f"Next pregnancy test due: {_iso(s.next_pregnancy_test_due)}")
    _print_authorizations(course)


def _print_authorizations(course: Any) -> None:
    """Each authorization recorded for a fill not handed over and not yet reversed."""
    from pharmacist_tool.records.authorization_dates import authorization_expires_on
    from pharmacist_tool.records.course import handed_over

    for f in course.fills:
        if not f.authorization_number or handed_over(f) or f.authorization_reversed_on:
            continue
        expires = authorization_expires_on(f)
        until = f"expires {expires.isoformat()}" if expires else "has no pick-up window"
        print(
            f"Authorization {f.authorization_number} (record {f.record_id}, not handed over) "
            f"{until}: reverse it if the fill is not collected by then."
        )


def run_next(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pharmacist_tool.case import write_atomically
    from pharmacist_tool.counselling.case_draft import dump_draft
    from pharmacist_tool.records.course import next_visit
    from pharmacist_tool.records.input_checks import check_output_file

    record_id = parse_record_id(args.id)
    output = Path(args.output)
    check_output_file(output, "the next visit's case")
    with _open(args) as db:
        case = next_visit(db, record_id, dt.date.today())
    try:
        write_atomically(output, dump_draft(case))
    except OSError as error:
        raise UserError(f"Cannot write {output}: {error.strerror}") from error
    assert case.course is not None
    print(
        f"Wrote {args.output}: fill {case.course.fill_number} for {case.patient.name}; "
        "check each carried fact with the patient, then add this visit's prescription date, "
        "tests, authorization and checklist.",
        file=sys.stderr,
    )
    return EXIT_OK


def run_due(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.course import due_items
    from pharmacist_tool.records.input_checks import window_end

    on = parse_date(args.on, "--on", blank_ok=False) or dt.date.today()
    if args.within < 0:
        raise UserError(f"--within {args.within}: give a number of days, 0 or more")
    until = window_end(on, args.within)
    from pharmacist_tool.records.form_dates import form_words

    with _open(args) as db:
        items = due_items(db, on, args.within, limit=args.limit)
    if args.json:
        for item in items:
            data = item.to_json()
            if item.form_valid_until is not None:
                data["form"] = form_words(item.form_valid_until, on)
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return EXIT_OK
    if not items:
        print(f"Nothing falls due by {until.isoformat()}.")
        return EXIT_OK
    rows = [
        ("DUE", "WHAT", "PATIENT", "BORN", "PROGRAMME ID", "RECORD", "REVERSE IF NOT COLLECTED BY")
    ]
    for item in items:
        by = item.reverse_if_not_collected_by
        rows.append(
            (
                item.due_on.isoformat() + (" (overdue)" if item.overdue else ""),
                WHAT_LABELS.get(item.what, item.what),
                item.patient,
                item.date_of_birth.isoformat(),
                item.programme_id or "",
                str(item.record_id),
                by.isoformat() if by else "",
            )
        )
    _print_table(rows)
    forms = {(i.patient, i.record_id, i.form_valid_until) for i in items if i.form_valid_until}
    for patient, record_id, valid_until in sorted(forms, key=lambda f: (f[2], f[1])):
        print(
            f"{patient} (record {record_id}): {form_words(valid_until, on)} "
            f"(valid until {valid_until.isoformat()})"
        )
    return EXIT_OK
