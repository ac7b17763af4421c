"""``course``, ``next`` and ``due`` as a script runs them: separate processes, real engine and
handout, SQLite file and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec

from pharmacist_tool.case import Course, Outcome, PregnancyTest, load_case, save_case
from pharmacist_tool.counselling.case_draft import CaseDraft, load_case_or_draft
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_path, run_cli
from tests.records.helpers import PASSWORD


def _cli(url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    done = run_cli("--database", url, *args, input=stdin)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def _finish(path: Path, test_on: dt.date, authorization: str) -> None:
    """This visit's prescription date (the test's day), test and authorization, every point
    confirmed, handed over."""
    draft = load_case_or_draft(str(path))
    draft = draft if isinstance(draft, CaseDraft) else CaseDraft.of(draft)
    draft.prescription.prescribed_on = test_on
    draft.prescription.authorization = authorization
    draft.pregnancy_tests = [PregnancyTest(date=test_on, result="negative")]
    if draft.carried is not None:  # each carried fact confirmed with the patient
        draft.carried.confirmed = list(draft.carried.facts)
    case = draft.require_complete()
    assessment = assess(case, load_for_counter())
    case = msgspec.structs.replace(
        case,
        checklist={item.id: True for item in assessment.checklist},
        resolutions={f.code: "Discussed" for f in assessment.findings if f.needs_resolution},
        outcome=Outcome(status="handed-over"),
    )
    save_case(case, path)


def test_course_next_and_due_commands(database_url: str, tmp_path: Path) -> None:
    url = database_url
    code, _, err = _cli(
        url, "users", "add", "rosei", "--role", "pharmacist", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, err
    today = dt.date.today()
    first = load_case(example_path("01"))
    first = msgspec.structs.replace(
        first,
        counselled_on=today - dt.timedelta(days=30),
        patient=msgspec.structs.replace(first.patient, programme_id="IP-77"),
        prescription=msgspec.structs.replace(
            first.prescription, prescribed_on=today - dt.timedelta(days=31)
        ),
        course=Course(fill_number=1),
        pregnancy_tests=[],
    )
    path = tmp_path / "visit1.json"
    save_case(first, path)
    _finish(path, today - dt.timedelta(days=31), "RMA-1")
    code, out, err = _cli(url, "sign", str(path), "--user", "rosei", "--password-stdin",
                          stdin=PASSWORD)  # fmt: skip
    assert code == 0, err
    record_id = out.strip()

    # next: today's visit, prefilled
    nxt = tmp_path / "visit2.json"
    code, out, err = _cli(url, "next", record_id, "-o", str(nxt))
    assert code == 0, err
    # this visit's prescription date is left empty: nothing runs on it until it is entered
    assert json.loads(nxt.read_text())["prescription"]["prescribed_on"] is None
    for command in (["assess", str(nxt)],
                    ["sign", str(nxt), "--user", "rosei", "--password-stdin"]):  # fmt: skip
        code, out, err = _cli(url, *command, stdin=PASSWORD)
        assert code == 2 and out == "", err
        assert "prescription.prescribed_on: not entered" in err
    second = load_case_or_draft(str(nxt))
    assert isinstance(second, CaseDraft) and second.not_entered() == ["prescription.prescribed_on"]
    assert second.counselled_on == today
    assert second.course == Course(
        fill_number=2, cumulative_mg_before=1200, previous_fill_on=first.counselled_on
    )
    assert second.pregnancy_tests == [] and second.prescription.authorization is None
    assert second.patient.programme_id == "IP-77"

    # due: the next fill is due today (30 days' supply from 30 days ago)
    code, out, err = _cli(url, "due", "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert {"what": "next-fill", "due_on": today.isoformat(), "patient": "Ana García",
            "date_of_birth": "2004-03-02", "programme_id": "IP-77",
            "record_id": int(record_id), "overdue": False} in lines  # fmt: skip

    _finish(nxt, today, "RMA-2")
    code, out, err = _cli(url, "sign", str(nxt), "--user", "rosei", "--password-stdin",
                          stdin=PASSWORD)  # fmt: skip
    assert code == 0, err
    code, out, err = _cli(url, "course", "--patient-id", "IP-77", "--json")
    assert code == 0, err
    by_id = json.loads(out)
    code, out, err = _cli(
        url, "course", "--patient", "ana garcia", "--date-of-birth", "2004-03-02", "--json"
    )
    assert code == 0, err
    assert json.loads(out) == by_id
    assert [f["record_id"] for f in by_id["fills"]] == [int(record_id), int(record_id) + 1]
    assert by_id["cumulative_mg"] == 2400 and by_id["cumulative_mg_per_kg"] == 38.71
    assert by_id["next_fill_due"] == (today + dt.timedelta(days=30)).isoformat()
    code, out, err = _cli(url, "course", "--patient-id", "IP-77")
    assert code == 0 and "Cumulative dose: 2400 mg (38.71 mg/kg" in out, err

    # bad input: exit 2 with a message naming what is wrong, nothing written
    code, _, err = _cli(url, "course", "--patient-id", "IP-00")
    assert code == 2 and "No signed record of a patient with programme id IP-00" in err
    code, _, err = _cli(url, "course", "--patient", "Ana García")
    assert code == 2 and "--date-of-birth" in err
    code, _, err = _cli(url, "next", "999", "-o", str(tmp_path / "none.json"))
    assert code == 2 and "There is no record 999" in err
    assert not (tmp_path / "none.json").exists()
    code, _, err = _cli(url, "due", "--on", "2026-02-30")
    assert code == 2 and "--on" in err
