"""``rule-impact``: the active courses a dated rule version changes and how, from signed
records (real engine and store, SQLite file and PostgreSQL), and the words computed from the two
versions' data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pytest

from pharmacist_tool.case import Case, Course, Outcome, PregnancyTest
from pharmacist_tool.engine import assess
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base, rule_set
from pharmacist_tool.knowledge.model import RuleSetVersion
from pharmacist_tool.knowledge.rule_changes import rule_changes
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.rule_impact import impact
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.records.writing import sign_record
from tests.conftest import example_case, run_cli
from tests.records.helpers import duties_done, handout_for

KB = load_knowledge_base()
D = dt.date.fromisoformat
ON = D("2026-11-10")  # the 2021 programme in force; the 2026 modification from 2026-11-15
NEW = "isotretinoin/us-ipledge-2026"


def _version(set_id: str, version_id: str) -> RuleSetVersion:
    found = rule_set(KB, set_id)
    assert found is not None
    return next(v for v in found.versions if v.id == version_id)


def _visit(
    name: str, pid: str, on: str, *, can_get_pregnant: bool = True, uk: bool = False
) -> Case:
    """A first fill counselled on ``on``: prescribed and tested the day before."""
    case = example_case("06" if uk else "01")
    day = D(on)
    before = day - dt.timedelta(days=1)
    patient = msgspec.structs.replace(
        case.patient, name=name, programme_id=pid, can_get_pregnant=can_get_pregnant
    )
    return msgspec.structs.replace(
        case,
        counselled_on=day,
        patient=patient,
        prescription=msgspec.structs.replace(
            case.prescription, prescribed_on=before, authorization=None if uk else f"RMA-{pid}"
        ),
        pregnancy_tests=[PregnancyTest(date=before, result="negative")] if can_get_pregnant else [],
        contraception=case.contraception if can_get_pregnant else [],
        course=Course(fill_number=1),
    )


def _sign(db: Database, who: AuthenticatedUser, case: Case, status: str = "handed-over") -> int:
    first = assess(case, KB)
    case = msgspec.structs.replace(
        case,
        checklist={item.id: True for item in first.checklist},
        resolutions={
            f.code: "Discussed with the patient" for f in first.findings if f.needs_resolution
        },
        outcome=Outcome(status=status, reason="" if status == "handed-over" else "Did not come"),  # type: ignore[arg-type]
        supply_duties=duties_done(first, case.counselled_on),
    )
    return sign_record(db, who, case, assess(case, KB), handout_for(case)).id


def _patients(db: Database, who: AuthenticatedUser) -> dict[str, int]:
    return {
        # next fill due 2026-11-19: active, can get pregnant
        "ana": _sign(db, who, _visit("Ana García", "IP-1", "2026-10-20")),
        # due 2026-11-24: active, cannot get pregnant
        "bo": _sign(db, who, _visit("Bo Lind", "IP-2", "2026-10-25", can_get_pregnant=False)),
        # due 2026-08-31: overdue 71 days, not active
        "cy": _sign(db, who, _visit("Cy Moss", "IP-3", "2026-08-01")),
        # never handed over: no course running
        "di": _sign(db, who, _visit("Di Park", "IP-4", "2026-11-05"), "not-handed-over"),
        # another rule set
        "ed": _sign(db, who, _visit("Ed Stone", "NHS-5", "2026-11-01", uk=True)),
    }


def test_the_2026_modification_changes_the_active_us_courses_each_by_its_patient(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    ids = _patients(db, pharmacist)
    versions, changes, courses = impact(db, NEW, ON)
    assert (versions.old.id, versions.new.id) == ("us-ipledge-2021", "us-ipledge-2026")
    assert {c.field for c in changes} == {
        "window_cannot_get_pregnant",
        "test_setting",
        "staff_training",
    }
    training = next(c for c in changes if c.field == "staff_training")
    assert training.words == "staff training, with records: every 365 days now (was none)"
    by_name = {c.patient: c for c in courses}
    assert sorted(by_name) == ["Ana García", "Bo Lind"]
    ana, bo = by_name["Ana García"], by_name["Bo Lind"]
    assert ana.last_record_id == ids["ana"] and ana.next_fill_due == D("2026-11-19")
    assert ana.changes == ("home test allowed at the next visit, where the prescriber allows it",)
    assert bo.last_record_id == ids["bo"] and not bo.overdue
    assert bo.changes == ("no 30-day pick-up window now (was 30 days from the prescription)",)


def test_active_is_due_within_60_days_or_overdue_under_30(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    ids = _patients(db, pharmacist)
    # Cy's fill (due 2026-08-31) is overdue by 29 days on 2026-09-29, by 30 on 2026-09-30
    on_29 = [c.last_record_id for c in impact(db, NEW, D("2026-09-29"))[2]]
    assert ids["cy"] in on_29
    on_30 = [c.last_record_id for c in impact(db, NEW, D("2026-09-30"))[2]]
    assert ids["cy"] not in on_30
    # Ana's next fill (2026-11-19) is 60 days ahead on 2026-09-20, 61 on 2026-09-19
    assert ids["ana"] in [c.last_record_id for c in impact(db, NEW, D("2026-09-20"))[2]]
    assert ids["ana"] not in [c.last_record_id for c in impact(db, NEW, D("2026-09-19"))[2]]


def test_a_version_already_in_force_is_compared_with_the_one_it_replaced(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    versions, _, _ = impact(db, "us-ipledge-2026", D("2026-12-01"))
    assert versions.old.id == "us-ipledge-2021"
    with pytest.raises(UserError, match="no earlier version"):
        impact(db, "isotretinoin/us-ipledge-2021", ON)
    with pytest.raises(UserError, match="no such rule version"):
        impact(db, "isotretinoin/us-ipledge-2030", ON)


def test_the_words_come_from_whatever_fields_differ() -> None:
    words = [
        c.words
        for c in rule_changes(_version("UK-PPP", "uk-ppp-2023"), _version("UK-PPP", "uk-ppp-2026"))
    ]
    assert words == [
        "a second prescriber for under-18s: no now (was yes)",
        "asked now: Asked about sexual function (any new problem since the last visit)",
    ]
    old = _version("UK-PPP", "uk-ppp-2026")
    new = msgspec.structs.replace(old, test_max_days_before_prescription=5, refills_allowed=True)
    changed = {c.field: c for c in rule_changes(old, new)}
    assert changed["test_max_days_before_prescription"].words == (
        "test must be at most this many days before the prescription: 5 now (was 3)"
    )
    assert changed["test_max_days_before_prescription"].concerns == "can-get-pregnant"
    assert changed["refills_allowed"].concerns == "can-get-pregnant"  # the version says so
    assert rule_changes(old, old) == []
    # reversed, the 2026 modification takes the home test away and brings the window back
    back = {
        c.field: c.words
        for c in rule_changes(
            _version("US-iPLEDGE", "us-ipledge-2026"), _version("US-iPLEDGE", "us-ipledge-2021")
        )
    }
    assert back["test_setting"].startswith("a home test no longer counts")
    assert (
        back["window_cannot_get_pregnant"] == "a 30-day pick-up window now, from the prescription"
    )


def test_the_command_prints_json_and_refuses_an_unknown_version(
    database_url: str, db: Database, pharmacist: AuthenticatedUser
) -> None:
    ids = _patients(db, pharmacist)
    done = run_cli("--database", database_url, "rule-impact", NEW, "--on", "2026-11-10", "--json")
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    assert out["compared_with"] == "us-ipledge-2021" and out["version"] == "us-ipledge-2026"
    assert [c["record_id"] for c in out["courses"]] == [ids["ana"], ids["bo"]]
    text = run_cli("--database", database_url, "rule-impact", NEW, "--on", "2026-11-10")
    assert text.returncode == 0 and b"home test allowed at the next visit" in text.stdout
    bad = run_cli("--database", database_url, "rule-impact", "us-ipledge-1999")
    assert bad.returncode == 2 and bad.stdout == b""
    assert b"not a rule version of any medicine pack" in bad.stderr


def test_the_pharmacys_confirmed_date_decides_what_is_in_force(isolated_home: object) -> None:
    from pharmacist_tool.records.rule_impact import resolve
    from pharmacist_tool.settings import Settings, save_settings

    assert resolve(NEW, D("2026-12-01")).old.id == "us-ipledge-2021"  # already in force
    save_settings(Settings(rule_effective_dates={NEW: D("2027-01-04")}))
    confirmed = resolve(NEW, D("2026-12-01"))
    assert (confirmed.old.id, confirmed.new.effective_from) == ("us-ipledge-2021", D("2027-01-04"))
    assert confirmed.pack == "isotretinoin" and confirmed.rule_set.id == "US-iPLEDGE"
