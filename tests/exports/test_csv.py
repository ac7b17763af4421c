"""CSV export: RFC 4180, UTF-8, safe against formula injection, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pharmacist_tool.exports import csv_safe
from pharmacist_tool.exports.files import ExportCancelled
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.exports.writers import CSV_COLUMNS
from pharmacist_tool.records.reading import RecordFilter, list_events
from tests.exports.conftest import TRICKY_NAMES, Counter


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def spreadsheet_value(cell: str) -> str | float:
    """How a spreadsheet reads a cell: a leading quote means text; a number parses as one;
    anything starting with a formula trigger would run as a formula (returned as 'FORMULA')."""
    if cell.startswith("'"):
        return cell[1:]
    try:
        return float(cell)
    except ValueError:
        pass
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "FORMULA"
    return cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_that_look_like_formulas_are_quoted(value: str, expected: str) -> None:
    assert csv_safe.safe_text(value) == expected


def test_numeric_columns_stay_numbers_text_columns_do_not_run() -> None:
    columns = [csv_safe.Column("note", "text"), csv_safe.Column("dose_change", "number")]
    out = io.StringIO(newline="")
    csv_safe.write_csv(out, columns, [["-2", -2.5], ["@SUM(A1)", -1], ["ok", 0.65]], bom=False)
    text = out.getvalue()
    assert text.endswith("\r\n")  # RFC 4180 line ends
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["note", "dose_change"]
    assert rows[1] == ["'-2", "-2.5"]
    assert spreadsheet_value(rows[1][0]) == "-2"
    assert spreadsheet_value(rows[1][1]) == -2.5
    assert rows[2] == ["'@SUM(A1)", "-1"]
    assert spreadsheet_value(rows[3][1]) == 0.65


def test_export_of_signed_records(filled: Counter, tmp_path: Path) -> None:
    out = tmp_path / "records.csv"
    result = export_records(filled.db, "csv", out, RecordFilter(), username="ana")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM for Excel
    rows = _read(out)
    assert result.count == len(rows) == 6 + len(TRICKY_NAMES)
    assert list(rows[0]) == [c.name for c in CSV_COLUMNS]
    names = [spreadsheet_value(r["patient_name"]) for r in rows]
    assert "FORMULA" not in names
    for name in TRICKY_NAMES:
        assert name in names  # shown as the exact text, never run
    for row in rows:
        for column in CSV_COLUMNS:
            cell = row[column.name]
            if column.kind == "number" and cell:
                assert isinstance(spreadsheet_value(cell), float), (column.name, cell)
            if column.kind == "text":
                assert spreadsheet_value(cell) != "FORMULA", (column.name, cell)
    first = rows[0]
    assert first["record_id"] == "1"
    assert first["patient_name"] == "Ana García-López"  # as last amended
    assert first["amendments"] == "1"
    assert first["last_amendment_reason"] == "Surname was misspelt"
    assert first["weight_kg"] == "62"
    assert first["daily_dose_mg"] == "40"
    assert first["authorization"] == "RMA-0012345678"
    assert first["signed_at"].endswith("+00:00")
    events = list_events(filled.db, action="export")
    assert events[0].username == "ana"
    assert events[0].detail["count"] == result.count
    assert events[0].detail["format"] == "csv"


def test_date_range_and_patient_filters(filled: Counter, tmp_path: Path) -> None:
    out = tmp_path / "april.csv"
    export_records(
        filled.db,
        "csv",
        out,
        RecordFilter(since=_d("2026-04-01"), until=_d("2026-04-03")),
        username="ana",
    )
    assert [spreadsheet_value(r["patient_name"]) for r in _read(out)] == TRICKY_NAMES[:3]
    export_records(
        filled.db, "csv", out, RecordFilter(patient="zoe", match="anywhere"), username="ana"
    )
    assert [r["patient_name"] for r in _read(out)] == [TRICKY_NAMES[5]]


def test_cancel_leaves_no_file(filled: Counter, tmp_path: Path) -> None:
    out = tmp_path / "cancelled.csv"
    with pytest.raises(ExportCancelled):
        export_records(
            filled.db, "csv", out, RecordFilter(), username="ana", cancelled=lambda: True
        )
    assert list(tmp_path.iterdir()) == [tmp_path / "records.sqlite3"] or not out.exists()
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cancelled")]


def test_failed_export_keeps_the_previous_file(filled: Counter, tmp_path: Path) -> None:
    out = tmp_path / "keep.csv"
    out.write_text("previous export\n", encoding="utf-8")

    def boom(done: int, total: int) -> None:
        if done:
            raise OSError("disk full")

    with pytest.raises(OSError):
        export_records(filled.db, "csv", out, RecordFilter(), username="ana", progress=boom)
    assert out.read_text(encoding="utf-8") == "previous export\n"


def _d(text: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_other_medicines_asked_has_a_column(counter: Counter, tmp_path: Path) -> None:
    import msgspec

    from tests.conftest import example_case
    from tests.exports.conftest import finished

    base = finished(example_case("01"))
    counter.sign(base)  # an older case: not recorded
    counter.sign(msgspec.structs.replace(base, other_medicines_asked=True, medicines=[]))
    counter.sign(msgspec.structs.replace(base, other_medicines_asked=True))
    out = tmp_path / "asked.csv"
    export_records(counter.db, "csv", out, RecordFilter(), username="ana")
    column = [row["other_medicines_asked"] for row in _read(out)]
    assert column == ["not recorded", "asked: takes none", "asked"]


def test_a_change_of_risk_category_and_the_carried_facts_have_columns(
    counter: Counter, tmp_path: Path
) -> None:
    import msgspec

    from pharmacist_tool.case import Carried, RiskCategoryChange
    from pharmacist_tool.engine.carried import carry
    from pharmacist_tool.errors import UserError
    from tests.conftest import example_case
    from tests.exports.conftest import finished

    base = finished(example_case("01"))
    last = carry(base, from_record=1)
    everything = list(last.facts)
    patient = msgspec.structs.replace(base.patient, can_get_pregnant=False)
    unexplained = msgspec.structs.replace(
        base, patient=patient, carried=Carried(from_record=1, facts=last.facts, confirmed=[])
    )
    with pytest.raises(UserError) as refused:
        counter.sign(unexplained)  # 7 facts not confirmed, and a change nobody explained
    assert (
        "Carried from the last visit and not confirmed: weight: 62 kg" in refused.value.details[0]
    )
    assert any("The risk category changed" in d for d in refused.value.details)
    counter.sign(base)  # a first visit: nothing carried
    counter.sign(
        msgspec.structs.replace(
            unexplained,
            carried=Carried(
                from_record=1,
                facts=last.facts,
                confirmed=[f for f in everything if f != "can get pregnant"],
            ),
            risk_category_change=RiskCategoryChange(
                before=True, now=False, decided_by="Dr R. Osei", reason="Hysterectomy"
            ),
        )
    )
    out = tmp_path / "carried.csv"
    export_records(counter.db, "csv", out, RecordFilter(), username="ana")
    rows = _read(out)
    assert [r["risk_category_change"] for r in rows] == [
        "",
        "from can get pregnant to cannot get pregnant, decided by Dr R. Osei: Hysterectomy",
    ]
    assert rows[0]["carried"] == ""
    assert rows[1]["carried"] == (
        "carried from record 1; confirmed: "
        + ", ".join(f for f in everything if f != "can get pregnant")
        + "; not confirmed as still true (changed this visit): can get pregnant"
    )
