"""What an inspector reads: the CSV and the read model carry pregnancy tests, contraception as said
and as counted, other medicines as screened, each finding in words with its resolution, the
authorization; the patient search finds the start of any word of the name (both backends)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Outcome
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records import reading
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.records.writing import sign_record
from tests.conftest import example_case, run_cli
from tests.records.helpers import assessment_for, finished_case, handout_for

CODE = re.compile(
    r"\b(?:contraception|interaction|pregnancy|prescription|dose|safety|counselling|medicine|"
    r"course|programme|checklist)\.[a-z-]+"
)  # an internal finding code, e.g. contraception.weakened


def _sign_real(db: Database, signer: AuthenticatedUser, **changes: object) -> int:
    """Example 01 with ``changes``, assessed by the real engine, every finding resolved."""
    kb = load_for_counter()
    case = msgspec.structs.replace(example_case("01"), **changes)  # type: ignore[arg-type]
    first = assess(case, kb)
    case = msgspec.structs.replace(
        case,
        checklist={item.id: True for item in first.checklist},
        resolutions={f.code: "Talked it through: she uses the IUD" for f in first.findings},
        outcome=Outcome(status="handed-over"),
    )
    assessment = assess(case, kb)
    return sign_record(db, signer, case, assessment, handout_for(case)).id


def test_the_csv_carries_what_an_inspector_checks(
    db: Database, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    _sign_real(
        db,
        pharmacist,
        contraception=["copper IUD", "male condoms", "moon charts"],
        medicines=["ibuprofen 200 mg as needed", "St John's wort"],
    )
    out = tmp_path / "records.csv"
    export_records(db, "csv", out, reading.RecordFilter(), username=None)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))

    assert row["pregnancy_tests"] == "2026-10-20 negative; 2026-11-21 negative"
    assert row["contraception"] == "copper IUD; male condoms; moon charts"
    counted = row["contraception_counted"].split("; ")
    assert counted[:2] == ["copper IUD: counted", "male condoms: counted"]
    assert counted[2] == "moon charts: not recognised, so not counted"
    assert row["other_medicines"] == "ibuprofen 200 mg as needed; St John's wort"
    assert row["medicines_screened"]  # the lines as screened, or that it was not recorded
    assert row["authorization"] == "RMA-0012345678"
    assert row["outcome"] == "handed over"

    findings = row["findings"].split("\n")
    assert findings, "the session had findings"
    assert any(f.startswith("Warning: ") for f in findings)
    assert any("resolved: Talked it through: she uses the IUD" in f for f in findings)
    assert "moon charts" in row["findings"]
    for text in (row["findings"], row["contraception_counted"], row["medicines_screened"]):
        assert not CODE.search(text), f"an internal code in what people read: {text}"
        assert "BLOCK" not in text and "WARN" not in text


def test_the_read_model_uses_what_the_assessment_screened_when_it_says() -> None:
    case = finished_case()
    case = msgspec.structs.replace(case, medicines=["Zoloft 50 mg", "Xyzzy"])
    assessment = json.loads(encode_assessment(assessment_for(case, block=True)))
    assessment["medicines_screened"] = [
        {"line": "Zoloft 50 mg", "recognised_as": "sertraline", "codes": []},
        {"line": "Xyzzy", "recognised_as": None, "codes": ["medicine.unrecognised"]},
    ]
    facts = reading.SignedFacts.of(
        reading.decode_signed_case(msgspec.json.encode(case)),
        reading.decode_signed_assessment(json.dumps(assessment)),
    )
    assert facts.medicines_screened == (
        "Zoloft 50 mg: screened as sertraline",
        "Xyzzy: not recognised, not screened (check by hand)",
    )
    (finding,) = facts.findings
    assert finding.startswith("Block: Doxycycline must not be taken with isotretinoin")
    assert finding.endswith("(doxycycline 100 mg) — not resolved")
    older = json.loads(encode_assessment(assessment_for(case)))
    older.pop("medicines_screened", None)
    signed_before = reading.SignedFacts.of(
        reading.decode_signed_case(msgspec.json.encode(case)),
        reading.decode_signed_assessment(json.dumps(older)),
    )
    assert signed_before.medicines_screened is None  # not known: the CSV says so


NAMES = ["Lucía Fernández", "Ana García-López", "Fernando Ruiz", "Zoë O'Brien", "María Pérez"]


def _sign_names(db: Database, signer: AuthenticatedUser) -> None:
    for name in NAMES:
        case = finished_case(name)
        sign_record(db, signer, case, assessment_for(case), handout_for(case))


@pytest.mark.parametrize(
    ("typed", "match", "found"),
    [
        ("fern", "start", ["Lucía Fernández", "Fernando Ruiz"]),
        ("FERNÁNDEZ", "start", ["Lucía Fernández"]),
        ("lucia fern", "start", ["Lucía Fernández"]),
        ("lopez", "start", ["Ana García-López"]),
        ("brien", "start", ["Zoë O'Brien"]),
        ("zoe", "start", ["Zoë O'Brien"]),
        ("ucia", "start", []),
        ("ucia", "anywhere", ["Lucía Fernández"]),
        ("nand", "anywhere", ["Lucía Fernández", "Fernando Ruiz"]),
        ("%", "start", []),
        ("", "start", NAMES),
    ],
)
def test_the_search_finds_the_start_of_any_word_of_the_name(
    db: Database, pharmacist: AuthenticatedUser, typed: str, match: str, found: list[str]
) -> None:
    _sign_names(db, pharmacist)
    flt = reading.RecordFilter(patient=typed, match=match)  # type: ignore[arg-type]
    rows = reading.fetch_page(db, flt, sort="id", descending=False)
    assert [r.patient_name for r in rows] == found
    assert reading.count_records(db, flt) == len(found)


def test_records_and_export_on_the_command_line_search_by_word(
    db: Database, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    _sign_names(db, pharmacist)
    url = db.url.render_as_string(hide_password=False)
    done = run_cli("--database", url, "records", "--json", "--patient", "fern")
    assert done.returncode == 0, done.stderr
    names = [json.loads(line)["patient_name"] for line in done.stdout.decode().splitlines()]
    assert names == ["Lucía Fernández", "Fernando Ruiz"]
    out = tmp_path / "fern.csv"
    done = run_cli(
        "--database", url, "export", "--format", "csv", "-o", str(out), "--patient", "fern"
    )
    assert done.returncode == 0, done.stderr
    assert b"Exported 2 records" in done.stdout
