"""The monthly report as an action: verify the chain, count, write the PDF and the CSV, audit.

The command line and the window both call ``make_report``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pharmacist_tool.errors import UserError
from pharmacist_tool.exports.files import check_target, part_beside
from pharmacist_tool.exports.service import audit
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.service import verified_head_note
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.reports.figures import MonthlyFigures, collect
from pharmacist_tool.reports.pdf import ReportHeader, render_report

CSV_HEADER = ("section", "figure", "medicine_rule_set", "count", "of", "percent", "record_ids")


@dataclass(frozen=True)
class ReportResult:
    pdf: Path
    csv: Path | None
    figures: MonthlyFigures
    chain_intact: bool


def make_report(
    db: Database,
    since: dt.date,
    until: dt.date,
    pdf_path: Path,
    *,
    csv_path: Path | None,
    user: AuthenticatedUser | None,
    pharmacy: str,
    paper: str,
) -> ReportResult:
    """Both files or neither; the audit event is committed before either is in place."""
    if since > until:
        raise UserError(f"The period is empty: {since.isoformat()} is after {until.isoformat()}.")
    pdf_target = check_target(Path(pdf_path).expanduser())
    csv_target = check_target(Path(csv_path).expanduser()) if csv_path else None
    if csv_target is not None and csv_target == pdf_target:
        raise UserError("The PDF and the CSV would be the same file: give two names.")
    note, report = verified_head_note(db)
    figures = collect(db, since, until)
    header = ReportHeader(
        pharmacy=pharmacy,
        chain_head=note.text,
        chain_intact=report.intact,
        chain_problems=len(report.problems),
        generated_at=dt.datetime.now(dt.UTC),
        generated_by=user.full_name if user else "the command line (no user named)",
    )
    pdf = render_report(figures, header, paper=paper)
    table = figures_csv(figures, header)

    def audit_it() -> None:
        audit(
            db,
            "report",
            username=user,
            detail={
                "since": since.isoformat(),
                "until": until.isoformat(),
                "records": len(figures.record_ids),
                "chain_head": note.text,
                "file": str(pdf_target),
                "csv": str(csv_target or ""),
            },
        )

    files = [(pdf_target, pdf)]
    if csv_target is not None:
        files.append((csv_target, table.encode("utf-8")))
    _write(files, audit_it)
    return ReportResult(pdf_target, csv_target, figures, report.intact)


def _write(files: list[tuple[Path, bytes]], audit_it: Callable[[], None]) -> None:
    """Each file is written in full beside its target, then the audit event is committed, then
    the files are put in place: nothing is readable under its name before it was audited."""
    with contextlib.ExitStack() as stack:
        parts = [(stack.enter_context(part_beside(target)), target, data) for target, data in files]
        for part, _, data in parts:
            with part.open("wb") as raw:
                raw.write(data)
                raw.flush()
                os.fsync(raw.fileno())
        audit_it()
        for part, target, _ in parts:
            part.replace(target)


def figures_csv(figures: MonthlyFigures, header: ReportHeader) -> str:
    """Every figure of the report, one a row, with every record id behind it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(["chain", "head", "", "", "", "", header.chain_head])
    for count in figures.supplies:
        for label, ids in (
            ("handed over", count.handed_over),
            ("not handed over", count.not_handed_over),
            ("counselling declined", count.declined),
        ):
            writer.writerow(["supplies", label, count.group, len(ids), "", "", _ids(ids)])
    for rate in figures.rates + figures.duty_rates:
        percent = "" if rate.percent is None else f"{rate.percent:.1f}"
        writer.writerow(
            ["rate", rate.label, rate.group, len(rate.met), len(rate.of), percent, _ids(rate.met)]
        )
        writer.writerow(
            [
                "rate missed",
                rate.label,
                rate.group,
                len(rate.missed),
                len(rate.of),
                "",
                _ids(rate.missed),
            ]
        )
    for item in figures.exceptions:
        writer.writerow(["exception", item.kind, "", 1, "", "", str(item.record_id)])
    return out.getvalue()


def _ids(ids: tuple[int, ...]) -> str:
    return " ".join(str(i) for i in ids)
