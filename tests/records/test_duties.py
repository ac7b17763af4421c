"""The programme's duties across visits (SQLite file and PostgreSQL): a supply is signed only
with each duty recorded as a fact; the form's date is carried to the next visit and must be
confirmed there; the due list says when the annual form expires; the export carries the duties
and the form's date."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Case, SupplyDuty, load_case
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine import assess
from pharmacist_tool.errors import UserError
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.exports.writers import read_json_export
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records.course import due_items, next_visit
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import RecordFilter, get_record
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.records.writing import sign_record
from tests.conftest import FIXTURES, run_cli
from tests.records.helpers import handout_for

D = dt.date.fromisoformat
FIRST = FIXTURES / "duties" / "valproate-duties-recorded.json"
FORM = "risk-acknowledgement-form"
CARRIED_FORM = f"form seen: {FORM}"


def _sign(db: Database, who: AuthenticatedUser, case: Case) -> int:
    assessment = assess(case, load_for_counter(case.prescription.medicine))
    return sign_record(db, who, case, assessment, handout_for(case)).id


def _next_case(draft: CaseDraft, *, confirm_form: bool, duties: bool) -> Case:
    """This visit's prescription entered, every fixed carried fact confirmed, the form only when
    asked; this visit's other duties recorded when asked."""
    draft = msgspec.convert(msgspec.to_builtins(draft), CaseDraft)
    draft.prescription.prescribed_on = draft.counselled_on
    draft.checklist = dict(load_case(FIRST).checklist)
    assert draft.carried is not None
    draft.carried.confirmed = [
        key for key in draft.carried.facts if confirm_form or key != CARRIED_FORM
    ]
    if duties:
        draft.supply_duties |= {
            "patient-card": SupplyDuty(done=True),
            "patient-guide": SupplyDuty(done=True),
            "whole-original-pack": SupplyDuty(done=True),
        }
    from pharmacist_tool.case import Outcome

    draft.outcome = Outcome(status="handed-over")
    return draft.require_complete()


def test_the_forms_date_is_carried_and_must_be_confirmed(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    first = _sign(db, pharmacist, load_case(FIRST))
    draft = next_visit(db, first, D("2026-12-23"))
    assert draft.supply_duties == {FORM: SupplyDuty(done=True, form_date=D("2026-01-05"))}
    assert draft.carried is not None
    assert draft.carried.facts[CARRIED_FORM] == "dated 2026-01-05"

    with pytest.raises(UserError) as refused:
        _sign(db, pharmacist, _next_case(draft, confirm_form=False, duties=False))
    details = refused.value.details
    assert (
        "Carried from the last visit and not confirmed: form seen: risk-acknowledgement-form: "
        "dated 2026-01-05 (carried.confirmed: confirm it with the patient, or change it)"
    ) in details
    assert "Programme duty: Patient card given: not recorded (supply_duties.patient-card)" in (
        details
    )

    second = _sign(db, pharmacist, _next_case(draft, confirm_form=True, duties=True))
    stored = get_record(db, second)
    assert "form seen: risk-acknowledgement-form" in stored.facts.carried
    assert stored.facts.form_date == "2026-01-05"
    assert stored.facts.duties is not None
    assert "Annual Risk Acknowledgement Form seen (its date): seen, dated 2026-01-05 " in (
        "\n".join(stored.facts.duties)
    )

    # a new form seen this visit replaces the carried date: a change, not a confirmation
    changed = _next_case(next_visit(db, second, D("2027-01-22")), confirm_form=False, duties=True)
    changed.supply_duties[FORM] = SupplyDuty(done=True, form_date=D("2027-01-20"))
    third = _sign(db, pharmacist, changed)
    assert get_record(db, third).facts.form_valid_until == "2028-01-19"


def test_the_due_list_says_when_the_annual_form_expires(
    database_url: str, db: Database, pharmacist: AuthenticatedUser
) -> None:
    record = _sign(db, pharmacist, load_case(FIRST))  # form valid until 2027-01-04
    far = due_items(db, D("2026-11-26"), 40)  # the next fill is due; the form 40 days off
    assert [(i.what, i.form_valid_until) for i in far] == [("next-fill", None)]
    (soon,) = due_items(db, D("2026-12-21"), 7)
    assert (soon.record_id, soon.form_valid_until) == (record, D("2027-01-04"))
    (late,) = due_items(db, D("2027-01-10"), 7)  # the next fill overdue, and the form expired
    assert late.overdue and late.form_valid_until == D("2027-01-04")

    done = run_cli("--database", database_url, "due", "--on", "2026-12-21", "--within", "7",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(x) for x in done.stdout.decode().splitlines()]
    assert line["form"] == "annual form expires in 15 days"
    assert line["form_valid_until"] == "2027-01-04"
    text = run_cli("--database", database_url, "due", "--on", "2027-01-10")
    assert text.stdout.decode().splitlines()[-1] == (
        f"Robin Patel (record {record}): annual form expired 5 days ago (valid until 2027-01-04)"
    )


def test_the_export_carries_each_duty_and_the_forms_date(
    db: Database, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    record = _sign(db, pharmacist, load_case(FIRST))
    expired = load_case(FIRST)
    expired.patient.name = "Sam Reyes"
    expired.supply_duties[FORM] = SupplyDuty(done=False, reason="No form; GP asked for a review")
    other = _sign(db, pharmacist, expired)
    out = tmp_path / "records.csv"
    export_records(db, "csv", out, RecordFilter(), username=pharmacist)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {int(r["record_id"]): r for r in csv.DictReader(handle)}
    row = rows[record]
    assert row["programme_duties"].splitlines() == [
        "Patient card given: given",
        "Patient guide (leaflet) given: given",
        "Whole original pack dispensed: not given: Monitored dosage system; the documented "
        "risk assessment is on file",
        "Annual Risk Acknowledgement Form seen (its date): seen, dated 2026-01-05 (valid until "
        "2027-01-04)",
    ]
    assert row["duties_not_done"] == "whole-original-pack"
    assert (row["programme_form_date"], row["programme_form_valid_until"]) == (
        "2026-01-05",
        "2027-01-04",
    )
    assert row["programme_form_in_date"] == "true"
    assert rows[other]["duties_not_done"] == "whole-original-pack; risk-acknowledgement-form"
    assert rows[other]["programme_form_date"] == "" and rows[other]["programme_form_in_date"] == ""

    lossless = tmp_path / "records.json"
    export_records(db, "json", lossless, RecordFilter(), username=pharmacist)
    _, records = read_json_export(lossless.read_bytes())
    stored = {r["id"]: r for r in records}[record]
    assert json.loads(stored["case_json"])["supply_duties"][FORM] == {
        "done": True,
        "form_date": "2026-01-05",
    }
    duties = {d["id"]: d for d in json.loads(stored["assessment_json"])["duties"]}
    assert duties[FORM]["form_valid_until"] == "2027-01-04"
