"""The monthly report: every figure against a count made here, independently, from the same
signed records; the PDF read back; the CSV's record ids; the audit event; bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from pypdf import PdfReader

from pharmacist_tool.case import Case, Outcome, ProgrammeCheck, SupplyDuty
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.reading import list_events
from pharmacist_tool.records.users import AuthenticatedUser, authenticate, create_first_admin
from pharmacist_tool.records.writing import amend_record, sign_record
from pharmacist_tool.reports.service import make_report
from tests.conftest import example_case, run_cli
from tests.exports.conftest import handout_for
from tests.records.conftest import BACKENDS, new_database_url
from tests.records.helpers import PASSWORD, duties_done

START = dt.date(2026, 11, 1)
END = dt.date(2026, 11, 30)


@dataclass(frozen=True)
class Signed:
    record_id: int
    case: Case
    assessment: Assessment


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request.param, tmp_path)


def _session(
    prefix: str,
    day: dt.date | None = None,
    *,
    status: str = "handed-over",
    authorization: str | None = None,
) -> tuple[Case, Assessment]:
    """A session the way the window finishes it, through the real engine: every counselling
    point confirmed but when counselling was declined, every finding that may be resolved
    resolved."""
    case = example_case(prefix)
    case = msgspec.structs.replace(case, counselled_on=day or case.counselled_on)
    if authorization is not None:
        rx = msgspec.structs.replace(case.prescription, authorization=authorization)
        case = msgspec.structs.replace(case, prescription=rx)
    first = assess(case, load_for_counter(case.prescription.medicine))
    checklist = {item.id: status != "declined" for item in first.checklist}
    not_given = {}
    if status == "declined" and "patient-card" in {d.id for d in first.duties or []}:  # type: ignore[union-attr]
        not_given = {"patient-card": SupplyDuty(done=False, reason="Left before it was found")}
    resolutions = {f.code: "Prescriber confirmed the plan" for f in first.findings}
    reason = "" if status == "handed-over" else "Patient will come back next week"
    case = msgspec.structs.replace(
        case,
        checklist=checklist,
        resolutions=resolutions,
        outcome=Outcome(status=status, reason=reason),  # type: ignore[arg-type]
        programme_check=ProgrammeCheck(),
        supply_duties=duties_done(first, case.counselled_on) | not_given,
    )
    return case, assess(case, load_for_counter(case.prescription.medicine))


def _sign_month(db: Database, signer: AuthenticatedUser) -> list[Signed]:
    plan = [
        ("01", {}),
        ("01", {}),
        ("06", {}),
        ("05", {}),
        ("02", {}),  # a resolved interaction block, handed over
        ("01", {"status": "not-handed-over", "authorization": "RMA-77"}),
        ("06", {"status": "declined"}),
        ("03", {"status": "not-handed-over"}),
    ]
    signed = []
    for prefix, options in plan:
        case, assessment = _session(prefix, **options)  # type: ignore[arg-type]
        summary = sign_record(db, signer, case, assessment, handout_for(case))
        signed.append(Signed(summary.id, case, assessment))
    outside, assessment = _session("01", END + dt.timedelta(days=1), status="not-handed-over")
    sign_record(db, signer, outside, assessment, handout_for(outside))
    return signed


def _group(item: Signed) -> str:
    return f"{item.assessment.knowledge_base.medicine} / {item.case.rule_set}"


def _given(item: Signed) -> bool:
    assert item.case.outcome is not None
    return item.case.outcome.status in ("handed-over", "declined")


def _given_in_full(item: Signed) -> bool:
    """Every programme duty of the supply recorded as done."""
    return all(d.done for d in item.case.supply_duties.values())


def _expected_duty_rates(signed: list[Signed]) -> dict[tuple[str, str], tuple[list[int], int]]:
    rates: dict[tuple[str, str], tuple[list[int], int]] = {}
    for item in signed:
        if not _given(item):
            continue
        for entry in item.assessment.checklist:
            if entry.required:
                met, total = rates.get((_group(item), entry.title), ([], 0))
                rates[(_group(item), entry.title)] = (
                    [*met, item.record_id] if entry.done else met,
                    total + 1,
                )
        for duty in item.assessment.duties or []:  # type: ignore[union-attr]
            done = item.case.supply_duties.get(duty.id)
            met, total = rates.get((_group(item), duty.words), ([], 0))
            rates[(_group(item), duty.words)] = (
                [*met, item.record_id] if done is not None and done.done else met,
                total + 1,
            )
    return rates


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_figure_matches_a_count_made_from_the_same_records(url: str, tmp_path: Path) -> None:
    db = open_database(url)
    try:
        create_first_admin(db, "pic", PASSWORD, full_name="Pat In-Charge", role="pharmacist")
        signer = authenticate(db, "pic", PASSWORD, purpose="sign")
        signed = _sign_month(db, signer)
        pdf_path, csv_path = tmp_path / "november.pdf", tmp_path / "november.csv"
        result = make_report(
            db, START, END, pdf_path, csv_path=csv_path, user=signer, pharmacy="High St", paper="A4"
        )
        events = list_events(db, action="report")
    finally:
        db.close()
    assert result.chain_intact
    assert sorted(result.figures.record_ids) == sorted(s.record_id for s in signed)
    rows = _csv_rows(csv_path)

    # supplies per medicine and rule set, by outcome
    outcomes = Counter((_group(s), s.case.outcome.status) for s in signed if s.case.outcome)
    words = {"handed-over": "handed over", "not-handed-over": "not handed over"}
    words["declined"] = "counselling declined"
    for (group, status), count in outcomes.items():
        row = next(
            r
            for r in rows
            if r["section"] == "supplies"
            and r["medicine_rule_set"] == group
            and r["figure"] == words[status]
        )
        ids = [
            s.record_id for s in signed if _group(s) == group and s.case.outcome.status == status
        ]  # type: ignore[union-attr]
        assert int(row["count"]) == count and row["record_ids"].split() == [str(i) for i in ids]

    # each required duty's rate
    for (group, title), (met, total) in _expected_duty_rates(signed).items():
        row = next(
            r
            for r in rows
            if r["section"] == "rate" and r["figure"] == title and r["medicine_rule_set"] == group
        )
        assert (int(row["count"]), int(row["of"])) == (len(met), total), (group, title)
        assert row["record_ids"].split() == [str(i) for i in met]

    # exceptions: resolved warnings handed over, not handed over, declined, authorization
    resolved = {
        s.record_id
        for s in signed
        if _given(s) and any(f.severity in ("warn", "block") for f in s.assessment.findings)
    }
    flagged = {
        r["record_ids"] for r in rows if r["figure"] == "Handed over after a resolved warning"
    }
    assert flagged == {str(i) for i in resolved} and resolved
    not_reversed = [r for r in rows if r["figure"] == "Authorization not reversed"]
    to_reverse = [
        str(s.record_id)
        for s in signed
        if not _given(s) and (s.case.prescription.authorization or "").strip()
    ]
    assert [r["record_ids"] for r in not_reversed] == to_reverse and str(
        signed[5].record_id
    ) in to_reverse
    assert any(r["figure"] == "Not handed over" for r in rows)
    declined_uk = [s for s in signed if s.case.rule_set == "UK-PPP" and not _given_in_full(s)]
    duty_rows = [r for r in rows if r["figure"] == "Programme duty not done"]
    assert [r["record_ids"] for r in duty_rows] == [str(s.record_id) for s in declined_uk]
    assert declined_uk
    card = next(
        r for r in rows if r["section"] == "rate" and r["figure"] == "Patient reminder card given"
    )
    assert int(card["of"]) - int(card["count"]) == 1  # the card not given, counted as missed

    # the PDF says the same, with the chain head it was read under
    text = "".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "monthly report" in text and "High St" in text
    assert f"{len(signed)} signed records in the period" in text
    assert events and events[0].detail["chain_head"] in text
    assert "RMA-77" in text and "Patient will come back next week" in text
    assert PdfReader(pdf_path).metadata.title.startswith("Pregnancy prevention")  # type: ignore[union-attr]
    assert events[0].username == "pic" and events[0].detail["records"] == len(signed)


def test_an_amended_record_is_reported_as_last_amended(url: str, tmp_path: Path) -> None:
    """Two amendments: the figures read the last (the reversal it records), not the record as
    signed nor the first amendment; the record is still counted once."""
    db = open_database(url)
    try:
        create_first_admin(db, "pic", PASSWORD, full_name="Pat In-Charge", role="pharmacist")
        signer = authenticate(db, "pic", PASSWORD, purpose="sign")
        signed = _sign_month(db, signer)
        case, assessment = _session("01", status="not-handed-over", authorization="RMA-90")
        other = sign_record(db, signer, case, assessment, handout_for(case))
        for when in (None, START + dt.timedelta(days=3)):
            check = ProgrammeCheck(authorization_reversed_on=when)
            amended = msgspec.structs.replace(case, programme_check=check)
            again = assess(amended, load_for_counter(amended.prescription.medicine))
            amend_record(db, other.id, signer, amended, again, handout_for(amended), "reversal")
        result = make_report(
            db, START, END, tmp_path / "r.pdf", csv_path=None, user=signer, pharmacy="", paper="A4"
        )
    finally:
        db.close()
    assert result.chain_intact
    assert sorted(result.figures.record_ids) == sorted([*(s.record_id for s in signed), other.id])
    not_reversed = {
        item.record_id
        for item in result.figures.exceptions
        if item.kind == "Authorization not reversed"
    }
    to_reverse = {
        s.record_id
        for s in signed
        if not _given(s) and (s.case.prescription.authorization or "").strip()
    }
    assert not_reversed == to_reverse and signed[5].record_id in to_reverse


def test_a_broken_chain_is_said_on_the_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    db = open_database(url)
    try:
        create_first_admin(db, "pic", PASSWORD, full_name="Pat In-Charge", role="pharmacist")
        signer = authenticate(db, "pic", PASSWORD, purpose="sign")
        _sign_month(db, signer)
    finally:
        db.close()
    import sqlite3

    raw = sqlite3.connect(tmp_path / "r.sqlite3")
    raw.execute("DROP TRIGGER IF EXISTS records_no_update")
    triggers = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
    for name in triggers:
        raw.execute(f"DROP TRIGGER {name}")
    raw.execute("UPDATE records SET outcome = 'handed-over' WHERE id = 6")
    raw.commit()
    raw.close()
    db = open_database(url)
    try:
        signer = authenticate(db, "pic", PASSWORD, purpose="login")
        result = make_report(
            db, START, END, tmp_path / "r.pdf", csv_path=None, user=signer, pharmacy="", paper="A4"
        )
    finally:
        db.close()
    assert not result.chain_intact
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    assert "did NOT verify" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-11-30", "--until", "2026-11-01"], "is after"),
        (["--since", "2026-13-01", "--until", "2026-11-30"], "--since"),
        (["--since", "2026-11-01", "--until", "yesterday"], "--until"),
    ],
)
def test_bad_periods_exit_2_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    db = open_database(url)
    create_first_admin(db, "pic", PASSWORD, full_name="Pat In-Charge", role="pharmacist")
    db.close()
    out = tmp_path / "r.pdf"
    done = run_cli(
        "--database", url, "--data-dir", str(tmp_path / "home"), "report", *args,
        "-o", str(out), "--user", "pic", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr.decode()
    assert not out.exists()


def test_the_command_writes_the_report_and_its_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    db = open_database(url)
    create_first_admin(db, "pic", PASSWORD, full_name="Pat In-Charge", role="pharmacist")
    signer = authenticate(db, "pic", PASSWORD, purpose="sign")
    signed = _sign_month(db, signer)
    db.close()
    done = run_cli(
        "--database", url, "--data-dir", str(tmp_path / "home"), "report",
        "--since", START.isoformat(), "--until", END.isoformat(),
        "-o", str(tmp_path / "m.pdf"), "--csv", str(tmp_path / "m.csv"),
        "--user", "pic", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Report of {len(signed)} records" in done.stdout.decode()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "m.csv").read_text(encoding="utf-8"))))
    assert rows[0]["section"] == "chain"
    assert (tmp_path / "m.pdf").stat().st_mode & 0o777 == 0o600
