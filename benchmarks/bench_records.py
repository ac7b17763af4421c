"""Records at scale: 100,000 signed records, searched and exported, each beside its floor.

- first page of a name search through the window's query layer (``fetch_page``, the lazy model's
  call) vs SQLAlchemy's own ORM query with the same indexed filter, order and limit: goal <= 2x;
- CSV export of every record (``export_records``: the spreadsheet-safe writer, amendments, the
  audit event, the temporary file and rename) vs a raw ``sqlite3`` cursor + ``csv.writer`` over
  the same columns of the same rows: goal <= 2x.

The 100,000 records are bulk-inserted with their real hash chain (computed as signing does), so
``pharmacist-tool --database sqlite:///... verify`` accepts the database (``--verify`` checks it).

    .venv/bin/python benchmarks/bench_records.py [--records 100000] [--keep DIR] [--verify]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select

from benchmarks.common import Comparison, bench_record_values, paired_call_medians, report
from pharmacist_tool.case import Outcome, dump_case, load_case
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.patient_identity import fold_name
from pharmacist_tool.records import chain, signing
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.models import AuditEvent, Record
from pharmacist_tool.records.reading import RecordFilter, fetch_page
from pharmacist_tool.records.users import authenticate, create_first_admin

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tests" / "fixtures" / "examples" / "01-routine-can-get-pregnant.json"
FIRST = ["Ana", "Luis", "Maria", "John", "Priya", "Chloé", "Tomás", "Olivia", "Wei", "Fatima"]
LAST = [
    "García", "Smith", "Nguyen", "Müller", "O'Connor", "Rossi", "Kowalski", "Haddad", "Kim",
    "Silva", "Martin", "Brown", "López", "Novak", "Jensen", "Ivanova", "Tanaka", "Osei",
]  # fmt: skip


def _index_course(session: Any) -> None:
    """The course index the signed records make (what signing writes, and verify checks)."""
    from sqlalchemy import text

    from pharmacist_tool.records import course_check
    from pharmacist_tool.records.models import CourseDue, CourseFill

    fills = course_check.signed_fills(lambda sql: session.execute(text(sql)).all())
    session.execute(insert(CourseFill), [msgspec.structs.asdict(f) for f in fills.values()])
    due = course_check.expected_due(fills.values())
    columns = ("patient_key", "what", "due_on", "shown_until", "record_id", "patient_name",
               "patient_date_of_birth", "programme_id")  # fmt: skip
    if due:
        session.execute(insert(CourseDue), [dict(zip(columns, key, strict=True)) for key in due])


def _sign_row(key: Ed25519PrivateKey, table: str, values: dict[str, object]) -> None:
    """Sign and hash ``values`` as ``chain.append`` does (the same canonical bytes)."""
    data = chain.canonical_bytes(table, values)
    values["signature"] = signing.sign(key, data)
    values["row_hash"] = hashlib.sha256(data).hexdigest()


def build(url: str, n: int) -> Database:
    """Bulk-insert ``n`` signed records with a valid chain (one transaction)."""
    from pharmacist_tool.engine import assess
    from pharmacist_tool.knowledge import load_for_counter

    db = open_database(url)
    create_first_admin(db, "ana", "correct horse battery staple", full_name="Ana Pharmacist",
                       role="pharmacist")  # fmt: skip
    key = authenticate(db, "ana", "correct horse battery staple", purpose="sign").key("bench")
    base = load_case(EXAMPLE)
    base = msgspec.structs.replace(base, outcome=Outcome(status="handed-over"))
    kb = load_for_counter()
    assessment_json = encode_assessment(assess(base, kb)).decode()
    pdf = b"%PDF-1.4\n" + bytes(random.Random(1).randbytes(3_500)) + b"\n%%EOF\n"  # ~ a handout
    pdf_sha = hashlib.sha256(pdf).hexdigest()
    rng = random.Random(7)
    start = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
    with db.session(write=True) as session:
        head = chain.lock_head(session)
        seq, prev = head.seq, head.hash
        event_id = session.execute(select(func.max(AuditEvent.id))).scalar_one() or 0
        rows: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for i in range(1, n + 1):
            name = f"{rng.choice(LAST)} {rng.choice(FIRST)}"
            born = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(12000))
            signed = start + dt.timedelta(minutes=7 * i)
            patient = msgspec.structs.replace(base.patient, name=name, date_of_birth=born)
            case = msgspec.structs.replace(base, patient=patient, counselled_on=signed.date())
            seq += 1
            values = bench_record_values(
                id=i, seq=seq, prev_hash=prev, signed_at=signed,
                patient_name=name, patient_name_key=fold_name(name),
                patient_date_of_birth=born, counselled_on=signed.date(),
                rule_set=base.rule_set, medicine=base.prescription.medicine,
                pack=kb.medicine, chain_format=chain.CHAIN_FORMAT,
                case_json=dump_case(case).decode(), assessment_json=assessment_json,
                handout_pdf=pdf, handout_sha256=pdf_sha,
            )  # fmt: skip
            _sign_row(key, "records", values)
            prev = str(values["row_hash"])
            rows.append(values)
            seq += 1
            event_id += 1
            event: dict[str, object] = {
                "id": event_id, "seq": seq, "prev_hash": prev, "at": signed, "action": "sign",
                "username": "ana", "user_id": 1, "record_id": i,
                "detail": '{"outcome": "handed-over"}', "workstation": "bench",
            }  # fmt: skip
            _sign_row(key, "audit_events", event)
            prev = str(event["row_hash"])
            events.append(event)
            if len(rows) == 5000:
                session.execute(insert(Record), rows)
                session.execute(insert(AuditEvent), events)
                rows, events = [], []
        if rows:
            session.execute(insert(Record), rows)
            session.execute(insert(AuditEvent), events)
        _index_course(session)
        head.seq, head.hash, head.table, head.id = seq, prev, "audit_events", event_id
        chain.store_head(session, head)
    return db


CSV_COLUMNS_SQL = (
    "id, signed_at, counselled_on, signer_username, signer_full_name, patient_name, "
    "patient_date_of_birth, rule_set, medicine, outcome, outcome_reason, dispense, "
    "handout_sha256, handout_language, knowledge_base_version, rules_version, row_hash, "
    "case_json, assessment_json"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it")
    parser.add_argument("--verify", action="store_true", help="also run the chain verification")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-records-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "records.sqlite3"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    began = time.perf_counter()
    db = build(url, args.records)
    print(f"built {args.records:,} signed records in {time.perf_counter() - began:.1f} s: {path}")
    if args.verify:
        from pharmacist_tool.records.service import verify

        report_ = verify(db)
        print(f"verify: {'intact' if report_.intact else report_.problems[:3]}")

    flt = RecordFilter(patient="garc")  # ~1/18 of the records start with García

    def ours() -> object:
        return fetch_page(db, flt, sort="signed_at", descending=True, limit=100)

    def floor() -> object:  # the ORM, the same conditions (the start of any word of the name)
        with db.session() as session:
            stmt = (
                select(Record)
                .where(*flt.conditions())
                .order_by(Record.signed_at.desc(), Record.id.desc())
                .limit(100)
            )
            return session.execute(stmt).scalars().all()

    assert len(ours()) == len(floor()) == 100  # type: ignore[arg-type]
    search_ours, search_floor = paired_call_medians(ours, floor, runs=40, warmup=5)

    out = folder / "export.csv"
    raw_out = folder / "raw.csv"

    def export() -> object:
        return export_records(db, "csv", out, RecordFilter(), username="ana")

    def raw_export() -> object:
        """The same CSV written by hand: raw cursor, the JSON decoded, no guards, no audit."""
        decode = msgspec.json.decode
        severity = {"block": "Block", "warn": "Warning", "info": "Information"}
        outcome = {
            "handed-over": "handed over",
            "not-handed-over": "not handed over",
            "declined": "counselling declined",
        }
        not_counted = {
            "contraception.unrecognised": "not recognised, so not counted",
            "contraception.method-not-accepted": "not counted under these rules",
        }

        def finding(f: dict[str, object]) -> str:
            message, subject = str(f.get("message") or ""), f.get("subject")
            about = f" ({subject})" if subject and str(subject) not in message else ""
            if f.get("severity") == "info":
                done = "for information"
            elif f.get("programme_rule"):
                done = "a programme rule: cannot be overridden"
            else:
                text = " ".join(str(f.get("resolution") or "").split())
                done = f"resolved: {text}" if text else "not resolved"
            return f"{severity.get(str(f.get('severity')), '')}: {message}{about} — {done}"

        conn = sqlite3.connect(path)
        try:
            with raw_out.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                cursor = conn.execute(f"SELECT {CSV_COLUMNS_SQL} FROM records ORDER BY id")
                for row in cursor:
                    case, assessment = decode(row[17]), decode(row[18])
                    p, rx = case["patient"], case["prescription"]
                    found = assessment["findings"]
                    skipped = {
                        f["subject"]: not_counted[f["code"]]
                        for f in found
                        if f["code"] in not_counted and f.get("subject")
                    }
                    said = [m for m in case.get("contraception", []) if m.strip()]
                    screened = assessment.get("medicines_screened")
                    writer.writerow(
                        [*row[:9], rx["strength_mg"], rx["units_per_dose"], rx["doses_per_day"],
                         assessment["daily_dose_mg"], p["weight_kg"],
                         assessment["dose_mg_per_kg_per_day"], rx["days_supply"],
                         rx.get("quantity"), rx.get("refills"), rx["prescribed_on"],
                         rx.get("prescriber"), rx.get("authorization"), p["can_get_pregnant"],
                         "; ".join(f"{t['date']} {t['result']}"
                                   for t in case.get("pregnancy_tests", [])),
                         "; ".join(said),
                         "; ".join(f"{m}: {skipped.get(m, 'counted')}" for m in said),
                         "; ".join(m for m in case.get("medicines", []) if m.strip()),
                         "not recorded when signed" if screened is None else "; ".join(
                             f"{s['line']}: screened as {s['recognised_as']}" for s in screened),
                         outcome.get(row[9], row[9]), *row[10:12],
                         "\n".join(finding(f) for f in found),
                         *row[12:17]]
                    )  # fmt: skip
        finally:
            conn.close()
        return None

    csv_ours, csv_floor = paired_call_medians(export, raw_export, runs=5, warmup=1)
    db.close()
    return report(
        [
            Comparison(
                "records: first page of a name search",
                search_ours * 1000,
                search_floor * 1000,
                "SQLAlchemy ORM, same indexed query",
                "ms",
                2.0,
            ),
            Comparison(
                f"records: CSV export of {args.records:,}",
                csv_ours,
                csv_floor,
                "raw sqlite3 + csv, same rows and cells",
                "s",
                2.0,
            ),
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
