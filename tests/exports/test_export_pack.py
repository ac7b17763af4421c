"""Every export carries the medicine pack each record was assessed with, and its version: CSV
columns, the JSON record and its ``pack``, and a ``meta.tag`` on each FHIR resource of the record
(validated as R4B). On SQLite and PostgreSQL, one record of each pack."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from pharmacist_tool.engine import assess
from pharmacist_tool.exports.fhir import SYSTEM_PACK
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records.reading import RecordFilter
from pharmacist_tool.records.writing import sign_record
from tests.conftest import EXAMPLE_FILES
from tests.exports.conftest import Counter, handout_for, open_counter
from tests.records.conftest import BACKENDS, new_database_url
from tests.records.helpers import finished_pack_case

FIXTURES = Path(__file__).parents[1] / "fixtures" / "packs"
CASES = {"isotretinoin": next(p for p in EXAMPLE_FILES if p.stem.startswith("05-"))} | {
    path.stem.split("-")[0]: path for path in sorted(FIXTURES.glob("*.json"), reverse=True)
}
"""One case of every pack: the first example's, and one of each pack case found (not a hand
list: a new pack's case is exported the day it is added)."""


@pytest.fixture(params=BACKENDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counter]:
    for url in new_database_url(request.param, tmp_path):
        counter = open_counter(url)
        try:
            yield counter
        finally:
            counter.db.close()


def _sign_each_pack(shop: Counter) -> dict[str, tuple[int, str]]:
    """pack → (record id, the pack's version)."""
    signed = {}
    for pack, path in CASES.items():
        case = finished_pack_case(path)
        kb = load_for_counter(case.prescription.medicine)
        summary = sign_record(shop.db, shop.signer, case, assess(case, kb), handout_for(case))
        signed[pack] = (summary.id, kb.version)
    return signed


def test_csv_json_and_fhir_carry_each_records_pack(shop: Counter, tmp_path: Path) -> None:
    signed = _sign_each_pack(shop)
    expected = {rid: (pack, version) for pack, (rid, version) in signed.items()}

    export_records(shop.db, "csv", tmp_path / "all.csv", RecordFilter(), username="ana")
    text = (tmp_path / "all.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {int(r["record_id"]): (r["pack"], r["pack_version"]) for r in rows} == expected

    export_records(shop.db, "json", tmp_path / "all.json", RecordFilter(), username="ana")
    document = json.loads((tmp_path / "all.json").read_bytes())
    for item in document["records"]:
        rid = item["record"]["id"]
        assert (item["pack"]["id"], item["pack"]["version"]) == expected[rid]
        assert (item["record"]["pack"], item["record"]["knowledge_base_version"]) == expected[rid]
        assert item["record"]["chain_format"] == 2

    export_records(shop.db, "fhir", tmp_path / "all.fhir.json", RecordFilter(), username="ana")
    data = (tmp_path / "all.fhir.json").read_bytes()
    Bundle.model_validate_json(data)  # R4B models (R4-compatible)
    tags: dict[str, set[tuple[str, str]]] = {}
    for entry in json.loads(data)["entry"]:
        resource = entry["resource"]
        for tag in resource.get("meta", {}).get("tag", []):
            assert tag["system"] == SYSTEM_PACK
            tags.setdefault(resource["resourceType"], set()).add((tag["code"], tag["version"]))
    for kind in ("MedicationRequest", "MedicationDispense", "Procedure", "Provenance"):
        assert tags[kind] == set(expected.values()), kind
    assert "Patient" not in tags  # shared by records of any pack


@pytest.mark.parametrize("pack", list(CASES))
def test_an_export_of_one_medicine_holds_only_its_records(
    shop: Counter, tmp_path: Path, pack: str
) -> None:
    signed = _sign_each_pack(shop)
    out = tmp_path / f"{pack}.csv"
    result = export_records(shop.db, "csv", out, RecordFilter(medicine=pack), username="ana")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert result.count == 1
    assert [(int(r["record_id"]), r["pack"]) for r in rows] == [(signed[pack][0], pack)]
