"""``other_medicines_asked``: read from the case, refused when it contradicts the lines, kept
in the signed record, and absent in older cases (not recorded)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Outcome, load_case, parse_case, save_case
from pharmacist_tool.engine import assess
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records import reading
from pharmacist_tool.records.db import open_database
from tests.conftest import example_path, run_cli

PASSWORD = "correct horse battery staple"


def _example(**changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(example_path("01").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def test_a_case_without_it_loads_as_not_recorded() -> None:
    case = load_case(example_path("01"))
    assert case.other_medicines_asked is None
    assert reading.asked_words(case.other_medicines_asked, case.medicines) == "not recorded"


@pytest.mark.parametrize(
    ("asked", "medicines", "words"),
    [
        (True, [], "asked: takes none"),
        (True, ["ibuprofen 200 mg"], "asked"),
        (False, [], "not asked"),
    ],
)
def test_it_is_read_and_put_in_words(asked: bool, medicines: list[str], words: str) -> None:
    case = parse_case(json.dumps(_example(other_medicines_asked=asked, medicines=medicines)))
    assert case.other_medicines_asked is asked
    assert reading.asked_words(case.other_medicines_asked, case.medicines) == words


def test_not_asked_with_lines_given_is_refused() -> None:
    with pytest.raises(UserError) as caught:
        parse_case(json.dumps(_example(other_medicines_asked=False, medicines=["ibuprofen"])))
    assert any("other_medicines_asked" in d for d in caught.value.details)


def test_a_wrong_type_names_the_field() -> None:
    with pytest.raises(UserError, match="other_medicines_asked: must be true or false"):
        parse_case(json.dumps(_example(other_medicines_asked="yes")))


def _finished_case(tmp_path: Path) -> Path:
    case = parse_case(json.dumps(_example(other_medicines_asked=True, medicines=[])))
    assessment = assess(case, load_for_counter())
    case = msgspec.structs.replace(
        case,
        checklist={item.id: True for item in assessment.checklist},
        resolutions={f.code: "Discussed" for f in assessment.findings if f.needs_resolution},
        outcome=Outcome(status="handed-over"),
    )
    path = tmp_path / "asked.json"
    save_case(case, path)
    return path


def test_assess_and_sign_on_the_command_line_keep_it(tmp_path: Path) -> None:
    case_path = _finished_case(tmp_path)
    done = run_cli("assess", str(case_path))
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    done = run_cli(
        "--database", url, "users", "add", "rosei", "--role", "pharmacist", "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_example(other_medicines_asked=False, medicines=["ibuprofen"])))
    done = run_cli("assess", str(bad))
    assert done.returncode == 2 and b"other_medicines_asked" in done.stderr
    done = run_cli(
        "--database", url, "sign", str(case_path), "--user", "rosei", "--password-stdin",
        input=PASSWORD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record_id = int(done.stdout)
    db = open_database(url)
    try:
        detail = reading.get_record(db, record_id)
        assert json.loads(detail.case_json)["other_medicines_asked"] is True
        assert detail.case.other_medicines_asked is True
        assert detail.facts.other_medicines_asked == "asked: takes none"
        from pharmacist_tool.gui.records_view import record_html  # the window's record view

        assert (
            "Asked about other medicines, supplements and herbal products: asked: takes none."
            in record_html(detail)
        )
    finally:
        db.close()
    # The next visit asks again: the prefilled case does not say "asked".
    next_case = tmp_path / "next.json"
    done = run_cli("--database", url, "next", str(record_id), "-o", str(next_case))
    assert done.returncode == 0, done.stderr
    assert json.loads(next_case.read_text())["other_medicines_asked"] is None
