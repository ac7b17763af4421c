"""``pharmacist-tool assess CASE``: JSON out as the contract says, lean imports, same bytes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import example_path, run_cli

PACKS = Path(__file__).resolve().parents[2] / "resources" / "knowledge"

HEAVY = [
    "PySide6",
    "shiboken6",
    "sqlalchemy",
    "reportlab",
    "alembic",
    "logging.handlers",
    "importlib.metadata",
    "pydantic",
    "jsonschema",
    "pharmacist_tool.records",
    "pharmacist_tool.handout",
    "pharmacist_tool.gui",
]


def test_assess_prints_the_contract_json() -> None:
    done = run_cli("assess", str(example_path("02")))
    assert done.returncode == 0, done.stderr
    a = json.loads(done.stdout)
    assert a["format"] == "pharmacist-tool/assessment@1"
    assert a["knowledge_base"]["medicine"] == "isotretinoin"
    pack = json.loads((PACKS / "isotretinoin" / "knowledge.json").read_text())
    assert a["knowledge_base"]["version"] == pack["version"]
    assert a["knowledge_base"]["rule_set"] == "US-iPLEDGE"
    assert a["knowledge_base"]["rules_effective_from"] == "2026-11-15"
    assert a["dispense"] == "do-not-dispense"
    f = a["findings"][0]
    assert set(f) >= {"code", "category", "severity", "subject", "message", "action", "sources"}
    assert f["code"] == "interaction.tetracyclines" and f["subject"].startswith("doxycycline")
    assert {"id", "title", "required", "done"} <= set(a["checklist"][0])
    assert a["daily_dose_mg"] == 80 and a["dose_mg_per_kg_per_day"] == 1.0
    assert a["pick_up_by"] is None and a["next_pregnancy_test_due"] is None


def test_assess_output_is_the_same_bytes_every_time() -> None:
    path = str(example_path("05"))
    assert run_cli("assess", path).stdout == run_cli("assess", path).stdout


def test_assess_imports_no_window_database_or_pdf_code() -> None:
    script = (
        "import sys\n"
        "from pharmacist_tool.cli import main\n"
        f"code = main(['assess', {str(example_path('01'))!r}])\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert b"HEAVY []" in done.stderr, done.stderr


def test_effective_date_from_settings_changes_the_rules_used(isolated_home: object) -> None:
    from pharmacist_tool.settings import Settings, save_settings

    save_settings(Settings(rule_effective_dates={"us-ipledge-2026": dt.date(2027, 1, 4)}))
    a = json.loads(run_cli("assess", str(example_path("01"))).stdout)
    assert a["knowledge_base"]["rules_version"] == "us-ipledge-2021"
    assert a["knowledge_base"]["rules_effective_from"] == "2021-12-13"
