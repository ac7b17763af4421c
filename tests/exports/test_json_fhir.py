"""JSON export round-trips every stored value; the FHIR export validates as R4(B) resources."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from pharmacist_tool.case import Outcome
from pharmacist_tool.exports import fhir
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.exports.writers import read_json_export
from pharmacist_tool.records.chain import row_hash
from pharmacist_tool.records.course import course_of_record
from pharmacist_tool.records.models import Amendment, Record
from pharmacist_tool.records.reading import RecordFilter
from tests.conftest import run_cli
from tests.exports.conftest import (
    PASSWORD,
    TRICKY_NAMES,
    Counter,
    example_case,
    finished,
    open_counter,
)
from tests.records.conftest import BACKENDS, new_database_url


def _stored_rows(counter: Counter, model: type) -> dict[int, dict[str, object]]:
    columns = model.__table__.columns  # type: ignore[attr-defined]
    with counter.db.session() as session:
        return {row["id"]: dict(row) for row in session.execute(select(*columns)).mappings()}


def test_json_round_trips_every_record_exactly(filled: Counter, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    result = export_records(filled.db, "json", out, RecordFilter(), username="ana")
    header, records = read_json_export(out.read_bytes())
    assert header["count"] == result.count == len(records) == 6 + len(TRICKY_NAMES)
    stored = _stored_rows(filled, Record)
    stored_amendments = _stored_rows(filled, Amendment)
    assert {r["id"] for r in records} == set(stored)
    for record in records:
        amendments = record.pop("amendments")
        assert record == stored[record["id"]]  # every column, bytes and times included
        assert row_hash("records", record) == record["row_hash"]  # the chain still checks out
        assert hashlib.sha256(record["handout_pdf"]).hexdigest() == record["handout_sha256"]
        for amendment in amendments:
            assert amendment == stored_amendments[amendment["id"]]
            assert row_hash("amendments", amendment) == amendment["row_hash"]
    assert (
        sum(
            len(json.loads(out.read_bytes())["records"][i]["amendments"])
            for i in range(len(records))
        )
        == 1
    )


def test_fhir_bundle_validates_and_carries_the_record(filled: Counter, tmp_path: Path) -> None:
    out = tmp_path / "bundle.fhir.json"
    export_records(filled.db, "fhir", out, RecordFilter(), username="ana")
    bundle = Bundle.model_validate_json(out.read_bytes())  # R4B models (R4-compatible)
    assert bundle.type == "collection"
    kinds: dict[str, list[object]] = {}
    for entry in bundle.entry:
        kinds.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    n = 6 + len(TRICKY_NAMES)
    for kind in ("MedicationRequest", "MedicationDispense", "Procedure", "QuestionnaireResponse"):
        assert len(kinds[kind]) == n, kind
    assert len(kinds["Practitioner"]) == 1
    assert len(kinds["Provenance"]) == n + 1  # one signature each, one amendment
    # the handout exactly as stored, and its hashes
    with filled.db.session() as session:
        pdf = session.execute(select(Record.handout_pdf).where(Record.id == 2)).scalar_one()
    handouts = [d for d in kinds["DocumentReference"] if d.type.text.startswith("Patient handout")]
    assert len(handouts) == n
    data = [d.content[0].attachment.data for d in handouts]  # the models decode base64
    assert pdf in data
    # the authorization number: an identifier on the request and the dispense, and a REMS note
    dispense = kinds["MedicationDispense"][0]
    assert dispense.identifier[0].value == "RMA-0012345678"
    notes = [
        d
        for d in kinds["DocumentReference"]
        if d.type.coding and d.type.coding[0].code == "51851-4"
    ]
    assert notes and b"RMA-0012345678" in notes[0].content[0].attachment.data
    # references resolve inside the bundle
    full_urls = {e.fullUrl for e in bundle.entry}
    raw = json.loads(out.read_bytes())
    refs = _references(raw)
    assert refs and refs <= full_urls


def test_fhir_declined_counselling_is_a_completed_dispense_and_counselling_not_done(
    counter: Counter, tmp_path: Path
) -> None:
    """ "declined" means the patient declined counselling and the medicine was handed over."""
    case = finished(example_case("01"))
    case = msgspec.structs.replace(
        case, outcome=Outcome(status="declined", reason="Knows the medicine well")
    )
    counter.sign(case)
    out = tmp_path / "bundle.fhir.json"
    export_records(counter.db, "fhir", out, RecordFilter(), username="ana")
    bundle = Bundle.model_validate_json(out.read_bytes())
    resources = {e.resource.get_resource_type(): e.resource for e in bundle.entry}
    assert resources["MedicationDispense"].status == "completed"
    assert resources["MedicationDispense"].statusReasonCodeableConcept is None
    assert resources["Procedure"].status == "not-done"
    assert resources["Procedure"].statusReason.text == "Knows the medicine well"


def _references(value: object) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            found.add(ref)
        for item in value.values():
            found |= _references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def test_fhir_validation_is_strict() -> None:
    """The models refuse a wrong resource, so the validation above means something."""
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Bundle.model_validate(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "birthDate": "not a date"}}],
            }
        )


def test_empty_export_is_a_valid_bundle(counter: Counter, tmp_path: Path) -> None:
    out = tmp_path / "none.json"
    export_records(counter.db, "fhir", out, RecordFilter(), username=None)
    assert Bundle.model_validate_json(out.read_bytes()).entry is None


def test_export_command(filled: Counter, tmp_path: Path) -> None:
    url = str(filled.db.url)
    out = tmp_path / "cli.csv"
    done = run_cli(
        "--database",
        url,
        "export",
        "--format",
        "csv",
        "-o",
        str(out),
        "--since",
        "2026-04-01",
        "--user",
        "ana",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert b"Exported 6 records" in done.stdout
    bad = run_cli(
        "--database", url, "export", "--format", "csv", "-o", str(out), "--since", "April"
    )
    assert bad.returncode == 2
    assert b"--since" in bad.stderr and b"YYYY-MM-DD" in bad.stderr
    folder = run_cli(
        "--database", url, "export", "--format", "json", "-o", str(tmp_path / "nowhere" / "x.json")
    )
    assert folder.returncode == 2 and b"does not exist" in folder.stderr


@pytest.fixture(params=BACKENDS)
def any_counter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counter]:
    """A counter on an SQLite file, and on PostgreSQL."""
    for url in new_database_url(request.param, tmp_path):
        counter = open_counter(url)
        try:
            yield counter
        finally:
            counter.db.close()


def test_one_patient_spelt_two_ways_is_one_fhir_patient(
    any_counter: Counter, tmp_path: Path
) -> None:
    """Lucía García and Lucia Garcia, born the same day, are one course and one Patient; so is a
    record with the programme id that name carries. The bundle has as many Patients as there
    are courses, and the CSV and JSON name the same patient ids."""
    base = finished(example_case("01"))
    lucia = [
        any_counter.sign(finished(base, name=name, counselled_on=dt.date(2026, 3, 1 + i)))
        for i, name in enumerate(["Lucía García", "Lucia Garcia", "  LUCÍA   GARCÍA "])
    ]
    numbered = msgspec.structs.replace(base.patient, name="Lucia García", programme_id="IP-42")
    lucia.append(any_counter.sign(msgspec.structs.replace(base, patient=numbered)))
    other = any_counter.sign(finished(base, name="Lucía Garcés"))
    out = tmp_path / "bundle.fhir.json"
    export_records(any_counter.db, "fhir", out, RecordFilter(), username="ana")
    bundle = Bundle.model_validate_json(out.read_bytes())
    patients = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient"]
    courses = {
        tuple(f.record_id for f in course_of_record(any_counter.db, record_id).fills)
        for record_id in [*lucia, other]
    }
    assert courses == {tuple(lucia), (other,)}
    assert len(patients) == len(courses) == 2
    procedures = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Procedure"]
    by_record = {  # record id → the Patient its counselling is of
        int(next(i.value for i in p.identifier if i.system == fhir.SYSTEM_RECORD)): (
            p.subject.reference.removeprefix("urn:uuid:")
        )
        for p in procedures
    }
    lucia_id = by_record[lucia[0]]
    assert {by_record[r] for r in lucia} == {lucia_id} != {by_record[other]}
    (patient,) = [p for p in patients if p.id == lucia_id]
    assert {(i.system, i.value) for i in patient.identifier} == {
        (fhir.SYSTEM_PATIENT, lucia_id),
        (fhir.SYSTEM_PROGRAMME_ID, "IP-42"),
    }
    # the CSV and the JSON name the same patient
    csv_out, json_out = tmp_path / "all.csv", tmp_path / "all.json"
    export_records(any_counter.db, "csv", csv_out, RecordFilter(), username="ana")
    export_records(any_counter.db, "json", json_out, RecordFilter(), username="ana")
    with csv_out.open(encoding="utf-8-sig", newline="") as handle:
        csv_ids = {int(row["record_id"]): row["patient_id"] for row in csv.DictReader(handle)}
    json_ids = {
        item["record"]["id"]: item["patient_id"]
        for item in json.loads(json_out.read_bytes())["records"]
    }
    assert csv_ids == json_ids == by_record
