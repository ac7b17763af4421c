"""The three export formats, each streamed from the database into a file.

- CSV: one row per record (as last amended), stable snake_case headers, safe to open in a
  spreadsheet (see ``csv_safe``).
- JSON: lossless. Every stored column of every record and amendment (the case and assessment
  JSON exactly as signed, the handout PDF bytes as base64, the hash-chain values), so the export
  can be checked against the chain and read back exactly (``read_json_export``); beside them,
  ``pack``: the medicine pack and its version as last amended.
- FHIR R4: a Bundle (see ``fhir``).

Each names the record's patient as the course knows them (``pharmacist_tool.patient_identity``):
the CSV's and the JSON's ``patient_id`` is the FHIR Patient's id, so the records of one patient
carry one id in every format, and a Bundle has as many Patients as the records have patients.

Every writer reads the records in batches and writes as it goes: memory stays flat however many
records there are. ``progress(done, total)`` is called after each batch; when ``cancelled()``
returns True the export stops with ``ExportCancelled`` and the caller's ``atomic_output`` removes
the partial file.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

import msgspec
from sqlalchemy import LargeBinary, select, text
from sqlalchemy.orm import Session

from pharmacist_tool.exports import csv_safe, fhir
from pharmacist_tool.exports.files import CancelCheck, ExportCancelled, ProgressCallback
from pharmacist_tool.patient_identity import PatientKey
from pharmacist_tool.records.models import Amendment, Record
from pharmacist_tool.records.patients import Patients, signed_patient_key
from pharmacist_tool.records.reading import (
    RecordDetail,
    RecordFilter,
    SignedCase,
    SignedFacts,
    decode_signed_assessment,
    decode_signed_case,
    iter_records,
    iter_rows,
    outcome_words,
)

JSON_FORMAT = "pharmacist-tool/records-export@1"
BATCH = 1000


def _never() -> bool:
    return False


# -- CSV ------------------------------------------------------------------------------------

C = csv_safe.Column
CSV_COLUMNS: tuple[csv_safe.Column, ...] = (
    C("record_id", "number", "the record's number in this database"),
    C("signed_at", "datetime", "when the pharmacist signed (ISO 8601, UTC)"),
    C("counselled_on", "date", "the counselling/dispensing date"),
    C("pharmacist", "text", "user name of the signing pharmacist"),
    C("pharmacist_name", "text", "printed name of the signing pharmacist"),
    C("patient_name", "text", ""),
    C("date_of_birth", "date", ""),
    C("rule_set", "text", "US-iPLEDGE, UK-PPP, EU-PPP"),
    C("medicine", "text", "as prescribed"),
    C("strength_mg", "number", ""),
    C("units_per_dose", "number", ""),
    C("doses_per_day", "number", ""),
    C("daily_dose_mg", "number", ""),
    C("weight_kg", "number", ""),
    C("dose_mg_per_kg_per_day", "number", ""),
    C("days_supply", "number", ""),
    C("quantity", "number", ""),
    C("refills", "number", ""),
    C("prescribed_on", "date", ""),
    C("prescriber", "text", ""),
    C("authorization", "text", "REMS dispense authorization (iPLEDGE RMA)"),
    C("can_get_pregnant", "boolean", ""),
    C("pregnancy_tests", "text", "each test as 'date result', separated by '; '"),
    C("contraception", "text", "each method as the patient said it, separated by '; '"),
    C("contraception_counted", "text", "each method said and whether the rules counted it"),
    C("other_medicines", "text", "each other medicine as the patient said it"),
    C("medicines_screened", "text", "each other medicine and what it was screened as"),
    C(
        "other_medicines_asked",
        "text",
        "asked: takes none, asked, not asked, or not recorded (signed before it was recorded)",
    ),
    C("outcome", "text", "handed over, not handed over, counselling declined"),
    C("outcome_reason", "text", ""),
    C("dispense", "text", "the assessment's verdict when signed"),
    C("findings", "text", "each finding in words with its resolution, one a line"),
    C("handout_sha256", "text", "SHA-256 of the handout PDF exactly as printed"),
    C("handout_language", "text", ""),
    C("knowledge_base_version", "text", ""),
    C("rules_version", "text", ""),
    C("amendments", "number", "how many amendments the record has"),
    C("last_amended_at", "datetime", ""),
    C("last_amendment_reason", "text", ""),
    C("record_hash", "text", "the record's hash in the tamper-evident chain"),
    C("pack", "text", "the medicine pack the record was assessed with"),
    C("pack_version", "text", "that pack's version (as last amended)"),
    C("pick_up_by", "date", "the last day the medicine may be picked up (the programme's window)"),
    C("next_pregnancy_test_due", "date", "when the next pregnancy test is due"),
    C("prepared_by", "text", "user name of the technician who prepared the session, if one did"),
    C("pregnancy_test_dates", "text", "each test's date, as in pregnancy_tests, separated by '; '"),
    C(
        "pregnancy_test_days_before_fill",
        "text",
        "each test's days before counselled_on, in the same order, separated by '; '",
    ),
    C("newest_pregnancy_test_date", "date", "the newest test (a positive first on the same day)"),
    C("newest_pregnancy_test_result", "text", "negative or positive"),
    C("newest_pregnancy_test_days_before_fill", "number", "days from that test to counselled_on"),
    C(
        "risk_category_change",
        "text",
        "a change of can_get_pregnant since the last visit: from, to, who decided it and why",
    ),
    C("carried", "text", "a next visit's facts carried from the last: confirmed or changed"),
    C("patient_id", "text", "the patient as the course knows them: the same in every export"),
    C("programme_duties", "text", "each programme duty on the supply and its value, one a line"),
    C("duties_not_done", "text", "ids of the duties recorded as not done, separated by '; '"),
    C("programme_form_date", "date", "the date of the programme's form seen (annual form)"),
    C("programme_form_valid_until", "date", "that form's last valid day"),
    C("programme_form_in_date", "boolean", "the form was in date on counselled_on"),
    C("duty_answers", "text", "each question asked and the answer, as 'id: answer', '; '"),
)


_CASE = 17
"""Where ``case_json`` is in ``_CSV_RECORD``."""
_CSV_RECORD = (
    Record.id,
    Record.signed_at,
    Record.counselled_on,
    Record.signer_username,
    Record.signer_full_name,
    Record.patient_name,
    Record.patient_date_of_birth,
    Record.rule_set,
    Record.medicine,
    Record.outcome,
    Record.outcome_reason,
    Record.dispense,
    Record.handout_sha256,
    Record.handout_language,
    Record.knowledge_base_version,
    Record.rules_version,
    Record.row_hash,
    Record.case_json,
    Record.assessment_json,
    Record.pack,
    Record.prepared_by,
)


def _datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


_TRIGGERS = csv_safe.FORMULA_TRIGGERS


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value[0] in _TRIGGERS else value


_num = csv_safe.format_number


def _patients(session: Session) -> Patients:
    """Who each record's patient is, read in the export's own snapshot."""
    return Patients(lambda sql: session.execute(text(sql)).all())


def _csv_row(
    row: Any, amendment: Any | None, amendment_count: int, patient: PatientKey
) -> list[str]:
    (
        rid,
        signed_at,
        counselled_on,
        username,
        full_name,
        patient_name,
        dob,
        rule_set,
        medicine,
        outcome,
        outcome_reason,
        dispense,
        handout_sha256,
        handout_language,
        kb_version,
        rules_version,
        row_hash,
        case_json,
        assessment_json,
        pack,
        prepared_by,
    ) = row
    last_amended_at = ""
    last_reason = ""
    if amendment is not None:
        patient_name = amendment.patient_name
        dob = amendment.patient_date_of_birth
        counselled_on = amendment.counselled_on
        outcome = amendment.outcome
        outcome_reason = amendment.outcome_reason
        handout_sha256 = amendment.handout_sha256
        handout_language = amendment.handout_language
        kb_version = amendment.knowledge_base_version
        rules_version = amendment.rules_version
        case_json = amendment.case_json
        assessment_json = amendment.assessment_json
        last_amended_at = _datetime(amendment.amended_at)
        last_reason = _text(amendment.reason)
    case = decode_signed_case(case_json)
    assessment = decode_signed_assessment(assessment_json)
    facts = SignedFacts.of(case, assessment)
    rx = case.prescription
    return [
        str(rid),
        _datetime(signed_at),
        counselled_on.isoformat(),
        _text(username),
        _text(full_name),
        _text(patient_name),
        dob.isoformat(),
        _text(rule_set),
        _text(medicine),
        _num(rx.strength_mg),
        str(rx.units_per_dose),
        str(rx.doses_per_day),
        _num(assessment.daily_dose_mg),
        _num(case.patient.weight_kg),
        _num(assessment.dose_mg_per_kg_per_day),
        str(rx.days_supply),
        "" if rx.quantity is None else str(rx.quantity),
        str(rx.refills),
        rx.prescribed_on,
        _text(rx.prescriber),
        _text(facts.authorization),
        "true" if case.patient.can_get_pregnant else "false",
        _text("; ".join(facts.pregnancy_tests)),
        _text("; ".join(facts.contraception_said)),
        _text("; ".join(facts.contraception_counted)),
        _text("; ".join(facts.medicines_said)),
        _text(
            "not recorded when signed"
            if facts.medicines_screened is None
            else "; ".join(facts.medicines_screened)
        ),
        _text(facts.other_medicines_asked),
        _text(outcome_words(outcome)),
        _text(outcome_reason),
        _text(dispense),
        _text("\n".join(facts.findings)),
        _text(handout_sha256),
        _text(handout_language),
        _text(kb_version),
        _text(rules_version),
        str(amendment_count),
        last_amended_at,
        last_reason,
        _text(row_hash),
        _text(pack),
        _text(kb_version),
        assessment.pick_up_by or "",
        assessment.next_pregnancy_test_due or "",
        _text(prepared_by),
        *_test_columns(case, counselled_on),
        _text(facts.risk_category_change),
        _text(facts.carried),
        patient.public_id,
        *_duty_columns(facts),
    ]


def _duty_columns(facts: SignedFacts) -> list[str]:
    if facts.duties is None:
        return ["", "", "", "", "", ""]
    in_date = facts.form_in_date
    return [
        _text("\n".join(facts.duties)),
        _text("; ".join(facts.duties_not_done)),
        facts.form_date,
        facts.form_valid_until,
        "" if in_date is None else ("true" if in_date else "false"),
        _text("; ".join(facts.duty_answers)),
    ]


def _test_columns(case: SignedCase, counselled_on: dt.date) -> list[str]:
    """The pregnancy tests as an inspector filters them: dates, days before the fill, and the
    newest test on its own."""
    dates = [dt.date.fromisoformat(t.date) for t in case.pregnancy_tests]
    days = [(counselled_on - day).days for day in dates]
    if not case.pregnancy_tests:
        return ["", "", "", "", ""]
    newest = max(case.pregnancy_tests, key=lambda t: (t.date, t.result == "positive"))
    return [
        "; ".join(day.isoformat() for day in dates),
        _text("; ".join(str(n) for n in days)),
        newest.date,
        _text(newest.result),
        str((counselled_on - dt.date.fromisoformat(newest.date)).days),
    ]


def _latest_amendments(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, int]]:
    """record id → (its newest amendment, how many it has), for the records in one batch."""
    if not ids:
        return {}
    rows = session.execute(
        select(
            Amendment.record_id,
            Amendment.amended_at,
            Amendment.reason,
            Amendment.patient_name,
            Amendment.patient_date_of_birth,
            Amendment.counselled_on,
            Amendment.outcome,
            Amendment.outcome_reason,
            Amendment.handout_sha256,
            Amendment.handout_language,
            Amendment.knowledge_base_version,
            Amendment.rules_version,
            Amendment.case_json,
            Amendment.assessment_json,
        )
        .where(Amendment.record_id.in_(ids))
        .order_by(Amendment.id)
    )
    latest: dict[int, tuple[Any, int]] = {}
    for row in rows:
        count = latest[row.record_id][1] + 1 if row.record_id in latest else 1
        latest[row.record_id] = (row, count)
    return latest


def write_csv(
    session: Session,
    flt: RecordFilter,
    handle: IO[str],
    *,
    total: int,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck = _never,
    bom: bool = True,
) -> int:
    if bom:
        handle.write("\ufeff")  # lets Excel read the file as UTF-8; other readers skip it
    writer = csv_safe.csv_writer(handle)
    writer.writerow([c.name for c in CSV_COLUMNS])
    patients = _patients(session)
    done = 0
    for rows in iter_rows(session, flt, _CSV_RECORD, batch=BATCH):
        if cancelled():
            raise ExportCancelled
        latest = _latest_amendments(session, [r[0] for r in rows])
        sources = [(r, *latest.get(r[0], (None, 0))) for r in rows]
        keys = patients.of(
            [signed_patient_key(a.case_json if a is not None else r[_CASE]) for r, a, _ in sources]
        )
        writer.writerows(
            _csv_row(r, a, n, key) for (r, a, n), key in zip(sources, keys, strict=True)
        )
        done += len(rows)
        if progress:
            progress(done, total)
    return done


# -- JSON -----------------------------------------------------------------------------------


def _with_patients(
    session: Session, records: Iterable[RecordDetail], batch: int = 200
) -> Iterator[tuple[RecordDetail, PatientKey]]:
    """Each record with the course's patient of it, resolved ``batch`` records at a time."""
    patients = _patients(session)
    waiting: list[RecordDetail] = []
    for record in records:
        waiting.append(record)
        if len(waiting) == batch:
            yield from _resolved(patients, waiting)
            waiting = []
    yield from _resolved(patients, waiting)


def _resolved(
    patients: Patients, records: list[RecordDetail]
) -> Iterator[tuple[RecordDetail, PatientKey]]:
    keys = patients.of([signed_patient_key(r.current_case_json) for r in records])
    return zip(records, keys, strict=True)


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _json_columns(stored: dict[str, Any]) -> dict[str, Any]:
    return {name: _json_value(value) for name, value in stored.items()}


def write_json(
    session: Session,
    flt: RecordFilter,
    handle: IO[bytes],
    *,
    total: int,
    exported_at: dt.datetime,
    exported_by: str,
    schema_version: str | None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck = _never,
) -> int:
    encoder = msgspec.json.Encoder()
    head = {
        "format": JSON_FORMAT,
        "exported_at": exported_at.isoformat(),
        "exported_by": exported_by,
        "schema_version": schema_version,
        "filter": flt.describe(),
        "encoding": {
            "bytes": "base64",
            "datetime": "ISO 8601, UTC",
            "case_json/assessment_json": "the exact JSON text that was signed",
        },
    }
    handle.write(encoder.encode(head)[:-1] + b',"records":[')
    done = 0
    for record, patient in _with_patients(
        session, iter_records(session, flt, include_handout=True)
    ):
        if done % 200 == 0:
            if cancelled():
                raise ExportCancelled
            if progress and done:
                progress(done, total)
        item = {
            "patient_id": patient.public_id,
            "record": _json_columns(record.stored),
            "amendments": [_json_columns(a.stored) for a in record.amendments],
            "case": msgspec.json.decode(record.case_json),
            "assessment": record.assessment,
            "pack": {"id": record.pack, "version": record.pack_version},
        }
        handle.write((b"\n" if done == 0 else b",\n") + encoder.encode(item))
        done += 1
    handle.write(b"\n]," + f'"count":{done}'.encode() + b"}\n")
    if progress:
        progress(done, total)
    return done


def _column_decoders(model: Any) -> dict[str, Callable[[Any], Any]]:
    decoders: dict[str, Callable[[Any], Any]] = {}
    for column in model.__table__.columns:
        if isinstance(column.type, LargeBinary):
            decoders[column.key] = lambda v: None if v is None else base64.b64decode(v)
        else:
            python_type = getattr(column.type, "impl", column.type).python_type
            if python_type is dt.datetime:
                decoders[column.key] = lambda v: None if v is None else dt.datetime.fromisoformat(v)
            elif python_type is dt.date:
                decoders[column.key] = lambda v: None if v is None else dt.date.fromisoformat(v)
    return decoders


def _decode_columns(
    data: dict[str, Any], decoders: dict[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    return {k: decoders[k](v) if k in decoders else v for k, v in data.items()}


def read_json_export(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a JSON export back: (its header, and for each record its stored columns with
    ``"amendments"``: the amendments' stored columns), typed as the database returns them."""
    document = msgspec.json.decode(data)
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise ValueError(f"not a {JSON_FORMAT} file")
    record_decoders = _column_decoders(Record)
    amendment_decoders = _column_decoders(Amendment)
    records = []
    for item in document.pop("records"):
        record = _decode_columns(item["record"], record_decoders)
        record["amendments"] = [_decode_columns(a, amendment_decoders) for a in item["amendments"]]
        records.append(record)
    return document, records


# -- FHIR -----------------------------------------------------------------------------------


def write_fhir(
    session: Session,
    flt: RecordFilter,
    handle: IO[bytes],
    *,
    total: int,
    exported_at: dt.datetime,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck = _never,
) -> int:
    bundle = fhir.BundleWriter(handle, exported_at=exported_at)
    done = 0
    for record, patient in _with_patients(
        session, iter_records(session, flt, include_handout=True)
    ):
        if done % 200 == 0:
            if cancelled():
                raise ExportCancelled
            if progress and done:
                progress(done, total)
        bundle.add(record, patient)
        done += 1
    bundle.close()
    if progress:
        progress(done, total)
    return done


__all__ = [
    "CSV_COLUMNS",
    "JSON_FORMAT",
    "read_json_export",
    "write_csv",
    "write_fhir",
    "write_json",
]
