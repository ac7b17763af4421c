"""``rule-impact VERSION_ID [--on DATE] [--json]``: every active course a dated rule version
changes, and how (``records.rule_impact`` finds them)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from pharmacist_tool.cli.records import _open
from pharmacist_tool.records.rule_impact import impact


def run_rule_impact(args: argparse.Namespace) -> int:
    from pharmacist_tool.records.reading import parse_date

    on = parse_date(args.on, "--on", blank_ok=False) or dt.date.today()
    with _open(args) as db:
        versions, changes, courses = impact(db, args.version, on)
    if args.json:
        out = {
            "pack": versions.pack,
            "rule_set": versions.rule_set.id,
            "version": versions.new.id,
            "effective_from": versions.new.effective_from.isoformat(),
            "compared_with": versions.old.id,
            "on": on.isoformat(),
            "changes": [
                {"field": c.field, "words": c.words, "concerns": c.concerns} for c in changes
            ],
            "courses": [c.to_json() for c in courses],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return 0
    print(
        f"{versions.pack} {versions.new.id} (from {versions.new.effective_from.isoformat()}) "
        f"compared with {versions.old.id}:"
    )
    for change in changes:
        print(f"- {change.words}")
    if not changes:
        print("- no rule differs")
    if not courses:
        print(f"No active course of {versions.rule_set.id} is changed.")
        return 0
    print(f"{len(courses)} active course(s) of {versions.rule_set.id} change:")
    for c in courses:
        pid = f", programme id {c.programme_id}" if c.programme_id else ""
        overdue = " (overdue)" if c.overdue else ""
        print(
            f"- {c.patient} (born {c.date_of_birth.isoformat()}{pid}), last fill record "
            f"{c.last_record_id}, next fill due {c.next_fill_due.isoformat()}{overdue}: "
            + "; ".join(c.changes)
        )
    return 0
