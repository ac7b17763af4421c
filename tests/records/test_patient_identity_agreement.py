"""The course, the due list, the records search and the FHIR export agree on who the patient is,
over accented, unaccented, upper and lower case and oddly spaced spellings of one name (real
signing, real engine, an SQLite file and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import msgspec
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pharmacist_tool.case import Case, Course, PregnancyTest
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import RecordFilter, fetch_page
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.test_course import _first_visit, _sign
from tests.test_patient_identity import typed

NAMES = [["Lucía", "García"], ["José", "Núñez", "Müller"], ["Zoë", "O'Connor"], ["Hélène"]]
FIRST_DAY = dt.date(2026, 9, 1)


def _visit(case: Case, name: str, born: dt.date, day: dt.date, fill: int) -> Case:
    """The first visit's case for another patient, on ``day``, with no programme id."""
    return msgspec.structs.replace(
        case,
        counselled_on=day,
        patient=msgspec.structs.replace(
            case.patient, name=name, date_of_birth=born, programme_id=None
        ),
        prescription=msgspec.structs.replace(
            case.prescription, prescribed_on=day, authorization=f"RMA-{born}-{fill}"
        ),
        pregnancy_tests=[PregnancyTest(date=day, result="negative")],
        course=Course(fill_number=fill),
    )


def _patients_in_bundle(path: Path) -> tuple[set[str], set[str]]:
    """The bundle's Patient ids, and the patients its MedicationRequests refer to."""
    bundle = Bundle.model_validate_json(path.read_bytes())  # R4B models (R4-compatible)
    patients = {e.resource.id for e in bundle.entry if e.resource.get_resource_type() == "Patient"}
    raw = json.loads(path.read_bytes())["entry"]
    subjects = {
        e["resource"]["subject"]["reference"].removeprefix("urn:uuid:")
        for e in raw
        if e["resource"]["resourceType"] == "MedicationRequest"
    }
    return patients, subjects


def test_course_due_search_and_fhir_agree_on_one_patient(
    db: Database, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    born_on = (dt.date(1995, 1, 1) + dt.timedelta(days=n) for n in itertools.count())
    base = _first_visit()

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.data(), st.sampled_from(NAMES))
    def one_patient(data: st.DataObject, words: list[str]) -> None:
        born = next(born_on)  # each example a patient of their own
        first, second = data.draw(typed(words)), data.draw(typed(words))
        later = FIRST_DAY + dt.timedelta(days=30)
        ids = [
            _sign(db, pharmacist, _visit(base, first, born, FIRST_DAY, 1)),
            _sign(db, pharmacist, _visit(base, second, born, later, 2)),
        ]
        # the course: one, found by either spelling and from either record
        for name in (first, second):
            found = course_records.find_course(db, name=name, date_of_birth=born)
            assert [f.record_id for f in found.fills] == ids
        for record_id in ids:
            assert [
                f.record_id for f in course_records.course_of_record(db, record_id).fills
            ] == ids
        # the due list: one next fill for the one patient, from the later visit
        due = [
            item
            for item in course_records.due_items(db, later + dt.timedelta(days=30), 0, limit=1000)
            if item.date_of_birth == born and item.what == "next-fill"
        ]
        assert [item.record_id for item in due] == [ids[1]]
        # the search: either spelling finds both records
        for name in (first, second):
            found_ids = {
                s.id for s in fetch_page(db, RecordFilter(patient=name, date_of_birth=born))
            }
            assert found_ids == set(ids)
        # the FHIR export: one Patient, the subject of both records
        out = tmp_path / f"{born}.fhir.json"
        export_records(db, "fhir", out, RecordFilter(date_of_birth=born), username=None)
        patients, subjects = _patients_in_bundle(out)
        assert len(patients) == 1 and subjects == patients

    one_patient()


def test_a_record_without_an_id_under_two_ids_is_no_ones_but_its_own(
    db: Database, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    """Two programme ids under one name and date of birth are two patients; a record of that
    name with no id is neither's: counted in neither course (named as a look-alike), its own
    patient on the due list and in the export, and the index still what verify makes."""
    from pharmacist_tool.records import service

    base, born = _first_visit(), dt.date(1988, 8, 8)
    later = FIRST_DAY + dt.timedelta(days=30)

    def visit(programme_id: str | None, day: dt.date, fill: int) -> int:
        case = _visit(base, "Ana García", born, day, fill)
        patient = msgspec.structs.replace(case.patient, programme_id=programme_id)
        return _sign(db, pharmacist, msgspec.structs.replace(case, patient=patient))

    first, second = visit("IP-1", FIRST_DAY, 1), visit("IP-2", FIRST_DAY, 1)
    bare = visit(None, later, 2)
    for programme_id, mine in (("IP-1", first), ("IP-2", second)):
        found = course_records.find_course(db, programme_id=programme_id)
        assert [f.record_id for f in found.fills] == [mine]
        assert bare in {r for s in found.similar for r in s.record_ids}
    assert [f.record_id for f in course_records.course_of_record(db, bare).fills] == [bare]
    due = course_records.due_items(db, FIRST_DAY + dt.timedelta(days=30), 30, limit=1000)
    assert sorted(i.record_id for i in due if i.what == "next-fill") == [first, second, bare]
    out = tmp_path / "ana.fhir.json"
    export_records(db, "fhir", out, RecordFilter(date_of_birth=born), username=None)
    assert len(_patients_in_bundle(out)[0]) == 3
    assert service.verify(db).intact
