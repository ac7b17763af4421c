"""The records desk without the window: each action on a real SQLite file and the real
PostgreSQL, with its audit entry; an amendment entered as a session, prefilled from the record."""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.app.records import RecordFilter, RecordsDesk
from pharmacist_tool.app.session import CounterSession, Stands
from pharmacist_tool.case import Case, Outcome
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.carried import Provenance
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import get_record, list_events
from pharmacist_tool.records.usecases import sign
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.settings import Settings
from tests.conftest import example_case
from tests.records.helpers import PASSWORD


def _finished(name: str = "Ana García") -> Case:
    """Example 01 with every point confirmed, every finding answered and the outcome chosen."""
    case = example_case("01")
    case = msgspec.structs.replace(case, patient=msgspec.structs.replace(case.patient, name=name))
    assessment = assess(case, load_for_counter())
    return msgspec.structs.replace(
        case,
        checklist={item.id: True for item in assessment.checklist},
        resolutions={
            f.code: "Discussed with the patient" for f in assessment.findings if f.needs_resolution
        },
        outcome=Outcome(status="handed-over"),
    )


def _signed(db: Database, who: AuthenticatedUser, name: str = "Ana García") -> int:
    return sign(db, _finished(name), username=who.username, password=PASSWORD).id


def _corrected(session: CounterSession, weight: float) -> None:
    """What the window's steps do when the pharmacist types another weight."""
    assert session.case is not None
    session.case.patient.weight_kg = weight
    session.entered()
    session.assess(load_for_counter())


def test_an_amendment_is_the_record_as_a_session_with_a_reason(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    record_id = _signed(db, pharmacist)
    desk = RecordsDesk(db, pharmacist.username)
    session = desk.amendment_session(record_id)
    record = get_record(db, record_id)
    assert session.amending is not None and session.amending.record_id == record_id
    assert session.case is not None and session.case.require_complete() == record.case
    assert session.changes_from_record() == []  # nothing silently changed
    for path in ("patient.weight_kg", "prescription.prescribed_on", "counselled_on"):
        assert session.provenance_of(path) is Provenance.FROM_RECORD
    assert list_events(db, action="view", record_id=record_id)  # opening it is audited

    session.assess(load_for_counter())
    standing = [s for s in session.standing() if s.kind is Stands.AMENDMENT]
    assert [s.words for s in standing] == [
        f"Nothing is changed from record {record_id} yet: correct what was wrong, or cancel "
        "the amendment",
        "Give the reason for the amendment",
    ]
    weight = record.case.patient.weight_kg
    _corrected(session, weight + 4)
    assert session.provenance_of("patient.weight_kg") is Provenance.TYPED
    assert session.provenance_of("counselled_on") is Provenance.FROM_RECORD
    (change,) = session.changes_from_record()
    assert (change.path, change.before, change.now) == (
        "patient.weight_kg",
        str(weight),
        str(weight + 4),
    )
    assert session.missing() == ["Give the reason for the amendment"]
    session.set_amendment_reason("Weight re-measured at the counter")
    assert session.missing() == []
    assert session.autosave(step=6, user=pharmacist.username, durable=False) is None

    assert session.checked is not None
    amendment = desk.amend(
        record_id,
        session.checked,
        reason=session.amendment_reason,
        password=PASSWORD,
        settings=Settings(),
    )
    after = get_record(db, record_id)
    assert after.case_json == record.case_json  # the signed record never changes
    assert [a.reason for a in after.amendments] == ["Weight re-measured at the counter"]
    assert after.current_case.patient.weight_kg == weight + 4
    assert after.amendments[0].id == amendment.id
    (event,) = list_events(db, action="amend", record_id=record_id)
    assert event.username == pharmacist.username
    assert desk.verify().intact


def test_an_amendment_without_its_reason_or_password_stores_nothing(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    record_id = _signed(db, pharmacist)
    desk = RecordsDesk(db, pharmacist.username)
    session = desk.amendment_session(record_id)
    _corrected(session, 80)
    assert session.checked is not None
    with pytest.raises(UserError, match="reason"):
        desk.amend(record_id, session.checked, reason="  ", password=PASSWORD)
    with pytest.raises(UserError, match="Wrong user name or password"):
        desk.amend(record_id, session.checked, reason="Weight", password="not it")
    assert get_record(db, record_id).amendments == ()
    assert list_events(db, action="amend") == []


def test_list_reprint_export_verify_and_the_chain_head(
    db: Database, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    first = _signed(db, pharmacist, "Ana García")
    _signed(db, pharmacist, "Bea Lund")
    desk = RecordsDesk(db, pharmacist.username)
    everyone = RecordFilter()
    assert desk.count(everyone) == 2
    assert [r.patient_name for r in desk.page(RecordFilter(patient="bea"))] == ["Bea Lund"]
    assert (pharmacist.username, pharmacist.printed_name) in desk.users()

    assert desk.open(first).id == first
    pdf = desk.reprint(first)
    assert pdf.startswith(b"%PDF-")
    (reprinted,) = list_events(db, action="reprint")
    assert (reprinted.record_id, reprinted.username) == (first, pharmacist.username)

    out = tmp_path / "records.csv"
    result = desk.export("csv", out, everyone)
    assert result.count == 2
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 2
    (exported,) = list_events(db, action="export")
    assert exported.username == pharmacist.username

    head = desk.head()
    report = desk.verify(expect_head=(head.position, head.hash))
    assert report.intact and report.head_seq == head.position
    sheet = desk.head_sheet(Settings())
    assert sheet.pdf.startswith(b"%PDF-") and sheet.note.position == head.position


def test_backup_and_restore_through_the_desk(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    record_id = _signed(db, pharmacist)
    desk = RecordsDesk(db, admin.username)
    target = tmp_path / "backup.sqlite3"
    if db.sqlite_path is None:  # PostgreSQL: pg_dump's work, said before anything is recorded
        with pytest.raises(UserError, match="pg_dump"):
            desk.backup(target)
        assert list_events(db, action="backup") == [] and not target.exists()
        return
    check = desk.backup(target)
    assert check.records == 1 and target.exists()
    (event,) = list_events(db, action="backup")
    assert event.username == admin.username
    with pytest.raises(UserError):
        desk.restore(target, "not the password")
    restored = desk.restore(target, PASSWORD)
    assert restored.restored.records == 1
    assert get_record(db, record_id).id == record_id
    assert desk.verify().intact
