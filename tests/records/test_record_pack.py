"""Each record names the medicine pack it was assessed with; amendments use that pack again;
records signed before the pack was a column keep valid hashes, and their pack is still checked."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import undefer

from pharmacist_tool import paths
from pharmacist_tool.engine import assess
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records import chain, service, usecases, witness, writing
from pharmacist_tool.records.db import Database, alembic_config, open_database
from pharmacist_tool.records.guards import install_append_only_guards, remove_append_only_guards
from pharmacist_tool.records.models import AuditEvent, Record
from pharmacist_tool.records.reading import RecordFilter, fetch_page, get_record, list_events
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.helpers import (
    PASSWORD,
    assessment_for,
    finished_case,
    finished_pack_case,
    handout_for,
)

PACKS = Path(__file__).parents[1] / "fixtures" / "packs"
ACITRETIN = PACKS / "acitretin-uk-ppp-routine.json"
VALPROATE = PACKS / "valproate-uk-ppp-routine.json"


def sign_pack_case(db: Database, path: Path) -> int:
    case = finished_pack_case(path)
    summary = usecases.sign(
        db, case, username="rosei", password=PASSWORD, handout=handout_for(case, "Leaflet")
    )
    return summary.id


def test_a_record_stores_its_pack_and_version(db: Database, pharmacist: AuthenticatedUser) -> None:
    rid = sign_pack_case(db, ACITRETIN)
    record = get_record(db, rid)
    kb = load_for_counter(pack="acitretin")
    assert (record.pack, record.summary.knowledge_base_version) == ("acitretin", kb.version)
    assert record.stored["chain_format"] == 2
    assert record.summary.to_json()["pack"] == "acitretin"
    assert service.verify(db).intact


def test_the_pack_of_a_new_record_is_covered_by_its_hash(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    rid = sign_pack_case(db, ACITRETIN)
    with db.engine.begin() as conn:
        remove_append_only_guards(conn)
        conn.execute(text("UPDATE records SET pack = 'valproate' WHERE id = :id"), {"id": rid})
        install_append_only_guards(conn)
    problems = [str(p) for p in service.verify(db).problems]
    assert f"record {rid}: altered: its stored contents no longer match its hash" in problems


def test_amending_an_acitretin_record_assesses_it_with_the_acitretin_pack(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    rid = sign_pack_case(db, ACITRETIN)
    corrected = finished_pack_case(ACITRETIN)
    corrected.prescription.prescriber = "Dr A. Corrected"
    amendment = usecases.amend(
        db, rid, corrected, reason="prescriber's name", username="rosei", password=PASSWORD,
        handout=handout_for(corrected, "Leaflet"),
    )  # fmt: skip
    assert amendment.assessment["knowledge_base"]["medicine"] == "acitretin"
    assert amendment.pack_version == load_for_counter(pack="acitretin").version
    assert amendment.notice == ""
    (event,) = list_events(db, record_id=rid, action="amend")
    assert event.detail["pack"] == "acitretin"
    assert event.detail["record_pack_version"] == amendment.pack_version
    assert "pack_version_changed" not in event.detail


def test_an_amendment_naming_another_packs_medicine_is_refused(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    rid = sign_pack_case(db, ACITRETIN)
    other = finished_pack_case(VALPROATE)
    with pytest.raises(UserError, match="assessed with the acitretin pack") as caught:
        usecases.amend(
            db, rid, other, reason="wrong medicine", username="rosei", password=PASSWORD,
            handout=handout_for(other, "Leaflet"),
        )  # fmt: skip
    assert "new record" in str(caught.value)
    assert get_record(db, rid).amendments == ()


def test_an_amendment_says_when_the_packs_version_changed_since_the_record(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    case = finished_pack_case(ACITRETIN)
    kb = load_for_counter(pack="acitretin")
    found = assess(case, kb)
    older = msgspec.structs.replace(
        found, knowledge_base=msgspec.structs.replace(found.knowledge_base, version="2025.01.1")
    )  # as a record signed with an earlier version of the pack
    rid = writing.sign_record(db, pharmacist, case, older, handout_for(case)).id
    amendment = usecases.amend(
        db, rid, case, reason="dose rechecked", username="rosei", password=PASSWORD,
        handout=handout_for(case, "Leaflet"),
    )  # fmt: skip
    assert "version 2025.01.1" in amendment.notice and kb.version in amendment.notice
    assert amendment.pack_version == kb.version  # assessed with the pack in force, and says so
    (event,) = list_events(db, record_id=rid, action="amend")
    assert event.detail["record_pack_version"] == "2025.01.1"
    assert event.detail["pack_version_changed"] == amendment.notice
    assert get_record(db, rid).summary.knowledge_base_version == "2025.01.1"


def test_records_are_found_by_medicine_pack_or_product(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    acitretin = sign_pack_case(db, ACITRETIN)
    valproate = sign_pack_case(db, VALPROATE)
    assert [s.id for s in fetch_page(db, RecordFilter(medicine="acitretin"))] == [acitretin]
    assert [s.id for s in fetch_page(db, RecordFilter(medicine="Epilim"))] == [valproate]
    assert RecordFilter(medicine="Epilim").describe()["medicine"] == "Epilim"
    with pytest.raises(UserError, match="not a product of any medicine pack"):
        fetch_page(db, RecordFilter(medicine="aspirin"))


def _hashes_before_0006(db: Database, record_id: int) -> dict[str, str]:
    """The hashes the tool before 0006 gave the newest record and its sign event: over every
    column it had (no pack, no chain format)."""
    with db.session() as session:
        record = session.execute(
            select(Record).where(Record.id == record_id).options(undefer(Record.handout_pdf))
        ).scalar_one()
        values = {c.key: getattr(record, c.key) for c in Record.__table__.columns}
        event = session.execute(
            select(AuditEvent).where(AuditEvent.record_id == record_id)
        ).scalar_one()
        event_values = {c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns}
    for name in ("pack", "chain_format"):
        values.pop(name)
    event_values["prev_hash"] = record_hash = chain.row_hash("records", values)
    return {"record": record_hash, "event": chain.row_hash("audit_events", event_values)}


def test_migration_0006_names_the_pack_of_records_signed_before_it(
    database_url: str, db: Database, pharmacist: AuthenticatedUser
) -> None:
    case = finished_case()
    old = writing.sign_record(db, pharmacist, case, assessment_for(case), handout_for(case)).id
    hashes = _hashes_before_0006(db, old)
    with db.engine.begin() as conn:  # as a database from before the pack column
        command.downgrade(alembic_config(conn), "0005_course")
        remove_append_only_guards(conn)
        for sql in (
            "UPDATE records SET row_hash = :record WHERE id = :id",
            "UPDATE audit_events SET prev_hash = :record, row_hash = :event WHERE record_id = :id",
            "UPDATE chain_head SET head_hash = :event",
        ):
            conn.execute(text(sql), {**hashes, "id": old})
        install_append_only_guards(conn)
    # This computer noted the head it signed; the chain is now as the older tool left it.
    (paths.data_dir() / witness.FILE_NAME).unlink(missing_ok=True)
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM records WHERE id = :id"), {"id": old}).mappings()
        assert "pack" not in row.one()
    with open_database(database_url) as again:  # migrates to the head
        record = get_record(again, old)
        assert record.pack == "isotretinoin" and record.stored["chain_format"] is None
        assert service.verify(again).intact  # its hash was taken without the pack, and holds
        new = sign_pack_case(again, ACITRETIN)
        assert get_record(again, new).stored["chain_format"] == 2
        with again.engine.begin() as conn:  # the old record's pack, changed behind the tool
            remove_append_only_guards(conn)
            conn.execute(text("UPDATE records SET pack = 'acitretin' WHERE id = :id"), {"id": old})
            install_append_only_guards(conn)
        problems = [str(p) for p in service.verify(again).problems]
    assert problems == [
        f"record {old}: altered: its pack 'acitretin' is not what its signed data says "
        "('isotretinoin')"
    ]
    assert json.loads(record.assessment_json)["knowledge_base"]["medicine"] == "isotretinoin"
