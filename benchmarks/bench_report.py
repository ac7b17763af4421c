"""The monthly report of one month among 100,000 signed records, beside its floor: goal <= 2x.

- ours: ``reports.service.make_report`` for one calendar month, as ``pharmacist-tool report``
  calls it (the PDF only: the chain verified, the month's records read and counted, the PDF
  rendered, the audit event, the file written in place);
- floor: the indexed queries the report needs, written by hand through the database driver
  (``sqlite3`` / ``psycopg`` on a connection of its own): the month's records by the indexed
  ``counselled_on`` with the columns the figures read, their amendments, and the chain head; plus
  the report's own PDF module (``render_report``) on figures computed before the timing, so the
  floor's PDF has the same pages, tables and charts as the report's (checked: same page count).
- the same, the whole chain in the floor (SQLite only): the report says whether the whole chain
  verified, which ``verify`` alone can say, so this floor adds ``bench_verify``'s signed floor
  (every chained row read raw, hashed, its Ed25519 signature checked): goal <= 2x.

The first goal is the issue's; it cannot hold while the report verifies the whole chain each
time (one month is ~6% of the records, the chain check reads all of them): the second figure
shows what the report costs beyond that check.

The records are spread over two years of monthly visits by 10,000 patients (``bench_course``'s
visits), across the packs and rule sets the report groups by (isotretinoin under US-iPLEDGE and
UK-PPP, acitretin, topiramate and valproate under UK-PPP, valproate under its US label), with
every outcome, some counselling points left unconfirmed, some authorizations to reverse and
some resolved warnings. Each record is assessed by the engine (once per variant and month; the
month's records share it) and signed as ``chain.append`` signs it (its canonical bytes hashed
and signed with the pharmacist's Ed25519 key), with its audit event and its course index rows,
so ``verify`` accepts the database. The rows are written through the driver in one transaction
(``bench_course``'s writers). The SQLite file is kept in the temporary folder, named by the
parameters and a digest of the code it depends on (``--rebuild`` makes it again); a PostgreSQL
schema is built each run.

    .venv/bin/python benchmarks/bench_report.py [--records 100000] [--runs 3] [--rebuild]
        [--month 2026-03] [--database postgresql://...]   # default: the kept SQLite file
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from sqlalchemy import func, select

from benchmarks.bench_course import (
    PDF,
    PDF_SHA,
    Tables,
    _table,
    driver_url,
    first_head,
    kept_sqlite_file,
    visits_in_order,
    write_postgresql,
    write_sqlite,
)
from benchmarks.bench_verify import _signer_public_key, raw_floor
from benchmarks.common import Comparison, bench_record_values, paired_call_medians, report
from pharmacist_tool.case import Case, Course, Outcome, ProgrammeCheck, dump_case, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records import chain, course_check, signing
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.models import AuditEvent, CourseDue, CourseFill, Record
from pharmacist_tool.records.users import AuthenticatedUser, authenticate
from pharmacist_tool.reports.figures import collect
from pharmacist_tool.reports.pdf import ReportHeader, render_report
from pharmacist_tool.reports.service import make_report

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "tests" / "fixtures" / "examples"
PASSWORD = "correct horse battery staple"
FILLS = 10
"""Monthly visits per patient: 100,000 records are 10,000 patients' courses."""

# (example, medicine, rule set, prescription changes, share of patients)
KINDS: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("01", "Claravis", "US-iPLEDGE", {}, 32),
    ("06", "isotretinoin", "UK-PPP", {}, 20),
    ("05", "Claravis", "US-iPLEDGE", {}, 3),  # cannot get pregnant, resolved interactions
    ("06", "acitretin", "UK-PPP", {"strength_mg": 25, "doses_per_day": 1, "quantity": 30}, 10),
    ("06", "topiramate", "UK-PPP", {"strength_mg": 100, "indication": "epilepsy"}, 15),
    ("06", "valproate", "UK-PPP", {"strength_mg": 500}, 15),
    ("01", "valproate", "US-label", {"strength_mg": 500}, 5),
]  # fmt: skip
OUTCOMES = [("handed-over", 86), ("not-handed-over", 10), ("declined", 4)]


def _kind_case(kind: int) -> Case:
    prefix, medicine, rule_set, changes, _ = KINDS[kind]
    base = load_case(next(EXAMPLES.glob(f"{prefix}-*.json")))
    rx = msgspec.structs.replace(base.prescription, medicine=medicine, **changes)
    return msgspec.structs.replace(base, rule_set=rule_set, prescription=rx)


class Variants:
    """The case and signed assessment of each (kind, outcome, point missed, reversal left
    due, month): the engine runs once for each, on the month's first day."""

    def __init__(self) -> None:
        self.cases = [_kind_case(k) for k in range(len(KINDS))]
        self.made: dict[tuple[int, str, bool, bool, dt.date], tuple[Case, str, dict[str, Any]]]
        self.made = {}

    def get(
        self, kind: int, status: str, missed: bool, reversal_due: bool, day: dt.date
    ) -> tuple[Case, str, dict[str, Any]]:
        key = (kind, status, missed, reversal_due, day.replace(day=1))
        if key not in self.made:
            self.made[key] = self._make(*key)
        return self.made[key]

    def _make(
        self, kind: int, status: str, missed: bool, reversal_due: bool, day: dt.date
    ) -> tuple[Case, str, dict[str, Any]]:
        """As the window finishes a session: the points confirmed (one left out when
        ``missed``, all when counselling was declined), every finding that may be resolved
        resolved, the outcome and its reason. Every iPLEDGE supply has its authorization; one
        not handed over has its reversal recorded unless ``reversal_due``."""
        case = self.cases[kind]
        kb = load_for_counter(case.prescription.medicine)
        authorization = case.rule_set == "US-iPLEDGE" or reversal_due
        reversed_on = (
            day if authorization and status != "handed-over" and not reversal_due else None
        )
        rx = msgspec.structs.replace(
            case.prescription,
            prescribed_on=day,
            authorization=f"RMA-{kind}{day:%y%m}" if authorization else None,
        )
        tests = [msgspec.structs.replace(t, date=day) for t in case.pregnancy_tests]
        case = msgspec.structs.replace(case, counselled_on=day, prescription=rx,
                                       pregnancy_tests=tests)  # fmt: skip
        first = assess(case, kb)
        done = status != "declined"
        checklist = {item.id: done for item in first.checklist}
        if missed and done and first.checklist:
            checklist[first.checklist[-1].id] = False
        reason = "" if status == "handed-over" else "Patient will come back next week"
        case = msgspec.structs.replace(
            case,
            checklist=checklist,
            resolutions={f.code: "Prescriber confirmed the plan" for f in first.findings},
            outcome=Outcome(status=status, reason=reason),  # type: ignore[arg-type]
            programme_check=ProgrammeCheck(authorization_reversed_on=reversed_on),
        )
        text = encode_assessment(assess(case, kb)).decode()
        return case, text, json.loads(text)


def _sign(key: Any, table: str, values: dict[str, Any]) -> str:
    """Hash and sign ``values`` as ``chain.append`` does (the same canonical bytes)."""
    data = chain.canonical_bytes(table, values)
    values["signature"] = signing.sign(key, data)
    values["row_hash"] = hashlib.sha256(data).hexdigest()
    return str(values["row_hash"])


def make_rows(
    head: chain.Head, signer: AuthenticatedUser, first_event: int, records: int
) -> Tables:
    """``records`` monthly visits signed in date order after ``head``, each with its audit
    event and course rows, as signing writes them."""
    key = signer.key("bench")
    visits, people = visits_in_order(records // FILLS, FILLS)
    rng = random.Random(23)
    kinds = rng.choices(range(len(KINDS)), [k[4] for k in KINDS], k=len(people))
    variants = Variants()
    tables = Tables()
    tables.rows[_table(AuditEvent)] = []
    seq, prev = head.seq, head.hash
    fills: list[course_records.Fill] = []
    for i, (day, p, number) in enumerate(visits, start=1):
        name, name_key, born, pid = people[p]
        (status,) = rng.choices([o[0] for o in OUTCOMES], [o[1] for o in OUTCOMES])
        missed = rng.random() < 0.08
        due = status == "not-handed-over" and rng.random() < 0.5
        case, assessment_json, assessment = variants.get(kinds[p], status, missed, due, day)
        case = msgspec.structs.replace(
            case,
            counselled_on=day,
            patient=msgspec.structs.replace(
                case.patient, name=name, date_of_birth=born, programme_id=pid
            ),
            prescription=msgspec.structs.replace(case.prescription, prescribed_on=day),
            pregnancy_tests=[msgspec.structs.replace(t, date=day) for t in case.pregnancy_tests],
            course=Course(fill_number=number, previous_fill_on=day - dt.timedelta(days=30)
                          if number > 1 else None, last_fill=number == FILLS),
        )  # fmt: skip
        signed_at = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(seconds=i % 30000)
        values = bench_record_values(
            id=i, seq=seq + 1, prev_hash=prev, signed_at=signed_at,
            patient_name=name, patient_name_key=name_key,
            patient_date_of_birth=born, counselled_on=day,
            rule_set=case.rule_set, medicine=case.prescription.medicine,
            pack=assessment["knowledge_base"]["medicine"], chain_format=chain.CHAIN_FORMAT,
            case_json=dump_case(case).decode(), assessment_json=assessment_json,
            handout_pdf=PDF, handout_sha256=PDF_SHA,
            outcome=status, outcome_reason=case.outcome.reason if case.outcome else "",
            dispense="ok" if status == "handed-over" else "not-dispensed",
        )  # fmt: skip
        prev = _sign(key, "records", values)
        tables.add(Record, values)
        event = {
            "id": first_event + i, "seq": seq + 2, "prev_hash": prev, "at": signed_at,
            "action": "sign", "username": "ana", "user_id": 1, "record_id": i,
            "detail": json.dumps({"outcome": status}), "workstation": "bench",
        }  # fmt: skip
        prev = _sign(key, "audit_events", event)
        tables.add(AuditEvent, event)
        seq += 2
        fill = course_records.fill_values(case, assessment)
        tables.add(CourseFill, {"record_id": i, "amendment_id": None, **fill})
        fills.append(course_records.Fill(record_id=i, amendment_id=None, **fill))
    head.seq, head.hash, head.table = seq, prev, "audit_events"
    head.id = first_event + len(visits)
    _add_due(tables, fills)
    return tables


def _add_due(tables: Tables, fills: list[course_records.Fill]) -> None:
    """The due list the signed records make (what signing writes, and verify checks)."""
    columns = ("patient_key", "what", "due_on", "shown_until", "record_id", "patient_name",
               "patient_date_of_birth", "programme_id")  # fmt: skip
    for due_id, key in enumerate(course_check.expected_due(fills), start=1):
        tables.add(CourseDue, {"id": due_id, **dict(zip(columns, key, strict=True))})


def build(db: Database, records: int) -> None:
    """Write the signed records, their events and course rows into ``db`` (new, but for its
    schema)."""
    head = first_head(db)
    signer = authenticate(db, "ana", PASSWORD, purpose="sign")
    with db.session() as session:
        events = session.execute(select(func.max(AuditEvent.id))).scalar_one() or 0
    tables = make_rows(head, signer, events, records)
    if db.dialect == "sqlite":
        path = db.sqlite_path
        assert path is not None
        db.engine.dispose()
        write_sqlite(path, tables, head)
    else:
        write_postgresql(driver_url(db), tables, head)


def kept_sqlite(records: int, rebuild: bool) -> tuple[Path, float | None]:
    """The report database for ``records`` (``kept_sqlite_file``)."""
    sources = [
        Path(__file__),
        REPO / "benchmarks" / "bench_course.py",
        *sorted(EXAMPLES.glob("0*.json")),
        *sorted((REPO / "pharmacist_tool" / "records").glob("*.py")),
        *sorted((REPO / "pharmacist_tool" / "engine").glob("*.py")),
        *sorted((REPO / "resources" / "knowledge").rglob("*.json")),
    ]
    return kept_sqlite_file(f"report-{records}", sources, lambda db: build(db, records), rebuild)


MONTH_SQL = (
    "SELECT id, counselled_on, pack, rule_set, outcome, outcome_reason, case_json, "
    "assessment_json FROM records WHERE counselled_on >= {m} AND counselled_on <= {m} "
    "ORDER BY id"
)
AMENDMENTS_SQL = (
    "SELECT a.record_id, a.outcome, a.outcome_reason, a.case_json, a.assessment_json "
    "FROM amendments a JOIN records r ON r.id = a.record_id "
    "WHERE r.counselled_on >= {m} AND r.counselled_on <= {m} ORDER BY a.id"
)
HEAD_SQL = "SELECT seq, head_hash FROM chain_head WHERE id = 1"


def driver_floor(db: Database) -> tuple[Any, Callable[[dt.date, dt.date], Sequence[Any]]]:
    """(connection, the month's queries) through the driver itself, on a connection of its own
    kept open (autocommit), for the floor."""
    if db.dialect == "sqlite":
        conn: Any = sqlite3.connect(str(db.sqlite_path), isolation_level=None)
        mark = "?"

        def args(since: dt.date, until: dt.date) -> tuple[Any, ...]:
            return since.isoformat(), until.isoformat()

    else:
        import psycopg

        conn = psycopg.connect(driver_url(db), autocommit=True)
        mark = "%s"

        def args(since: dt.date, until: dt.date) -> tuple[Any, ...]:
            return since, until

    month_sql, amendments_sql = (sql.format(m=mark) for sql in (MONTH_SQL, AMENDMENTS_SQL))

    def month(since: dt.date, until: dt.date) -> Sequence[Any]:
        rows = conn.execute(month_sql, args(since, until)).fetchall()
        conn.execute(amendments_sql, args(since, until)).fetchall()
        conn.execute(HEAD_SQL).fetchall()
        return rows  # type: ignore[no-any-return]

    return conn, month


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def measure(db: Database, total: int, month: dt.date, runs: int) -> list[Comparison]:
    since = month.replace(day=1)
    until = (since + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    user = authenticate(db, "ana", PASSWORD, purpose="login")
    conn, month_rows = driver_floor(db)
    out = Path(tempfile.mkdtemp(prefix="bench-report-"))
    first = make_report(db, since, until, out / "report.pdf", csv_path=None, user=user,
                        pharmacy="Bench Pharmacy", paper="A4")  # fmt: skip
    assert first.chain_intact, "the built records did not verify"
    count = len(first.figures.record_ids)
    assert count == len(month_rows(since, until)), count
    figures = collect(db, since, until)
    header = ReportHeader(
        pharmacy="Bench Pharmacy",
        chain_head=f"{2 * total + 1}:" + "0" * 64,
        chain_intact=True,
        chain_problems=0,
        generated_at=dt.datetime.now(dt.UTC),
        generated_by=user.full_name,
    )
    pages = _pages(render_report(figures, header, paper="A4"))
    assert pages == _pages(first.pdf.read_bytes()), "the floor's PDF is not the report's pages"
    kinds = ", ".join(
        f"{n:,} {kind.lower()}" for kind, n in sorted(figures.exception_kinds.items())
    )
    print(f"{since:%B %Y}: {count:,} records, {pages} pages; exceptions: {kinds}")

    def ours() -> object:
        return make_report(db, since, until, out / "report.pdf", csv_path=None, user=user,
                           pharmacy="Bench Pharmacy", paper="A4")  # fmt: skip

    def floor() -> object:
        month_rows(since, until)
        return render_report(figures, header, paper="A4")

    ours_s, floor_s = paired_call_medians(ours, floor, runs=runs, warmup=0)
    figures_ = [
        Comparison(
            f"report: one month ({count:,} records) of {total:,} ({db.dialect})",
            ours_s,
            floor_s,
            "the month's indexed SQL via the driver + the same PDF",
            "s",
            2.0,
        )
    ]
    if db.sqlite_path is not None:  # the whole chain's floor is bench_verify's, SQLite only
        public = _signer_public_key(db.sqlite_path)

        def floor_with_chain() -> object:
            raw_floor(Path(db.sqlite_path or ""), public)
            return floor()

        with_chain_s, chain_floor_s = paired_call_medians(
            ours, floor_with_chain, runs=runs, warmup=0
        )
        figures_.append(
            Comparison(
                f"report: one month of {total:,}, whole chain in the floor",
                with_chain_s,
                chain_floor_s,
                "the same + every chained row read, hashed, signature checked",
                "s",
                2.0,
            )
        )
    conn.close()
    return figures_


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--month", default="2026-03", help="the month reported (YYYY-MM)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", metavar="URL", help="a PostgreSQL server (a new schema)")
    parser.add_argument("--rebuild", action="store_true", help="build the SQLite file again")
    args = parser.parse_args()
    month = dt.date.fromisoformat(f"{args.month}-01")
    if not args.database:
        path, took = kept_sqlite(args.records, args.rebuild)
        how = f"built in {took:.1f} s" if took is not None else f"kept from an earlier run: {path}"
        print(f"{args.records:,} signed records ({how})")
        with open_database(f"sqlite:///{path}") as db:
            return report(measure(db, args.records, month, args.runs))
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in args.database else "?"
        url = f"{args.database}{separator}options={quote(f'-csearch_path={schema}')}"
        with open_database(url) as db:
            began = time.perf_counter()
            build(db, args.records)
            print(f"{args.records:,} signed records (built in "
                  f"{time.perf_counter() - began:.1f} s, {db.dialect})")  # fmt: skip
            return report(measure(db, args.records, month, args.runs))
    finally:
        with psycopg.connect(args.database, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    raise SystemExit(main())
