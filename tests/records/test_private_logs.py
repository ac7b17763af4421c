"""Nothing private in the log: a signature that fails on a database error mid-sign leaves a
trace without the patient's name, date of birth, weight or authorization number, in a log file
only its owner can read (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from pharmacist_tool import paths
from pharmacist_tool.case import load_case
from pharmacist_tool.logs import setup_logging
from pharmacist_tool.records.db import open_database
from tests.conftest import run_cli
from tests.records.helpers import PASSWORD, raw_sql
from tests.records.test_cli import _finished

FAIL_SQLITE = (
    "CREATE TRIGGER storage_failure BEFORE INSERT ON course_fills "
    "BEGIN SELECT RAISE(ABORT, 'storage failure'); END"
)
FAIL_POSTGRES = [
    "CREATE FUNCTION storage_failure() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'storage failure'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER storage_failure BEFORE INSERT ON course_fills "
    "FOR EACH ROW EXECUTE FUNCTION storage_failure()",
]


def test_a_failed_signature_logs_no_patient_data(
    database_url: str, tmp_path: Path, isolated_home: Path
) -> None:
    case_file = _finished(tmp_path)
    case = load_case(case_file)
    add = run_cli(
        "--database", database_url, "users", "add", "rosei", "--role", "pharmacist",
        "--full-name", "Rita Osei", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    with open_database(database_url) as db:
        raw_sql(db, [FAIL_SQLITE] if db.dialect == "sqlite" else FAIL_POSTGRES)

    done = run_cli(
        "--database", database_url, "sign", str(case_file), "--user", "rosei",
        "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    log_dir = isolated_home / "logs"
    (log_file,) = log_dir.glob("pharmacist-tool.log*")
    text = log_file.read_text(encoding="utf-8")
    assert "storage failure" in text and "Traceback" in text  # the trace is kept …
    assert "hidden due to hide_parameters" in text
    authorization = case.prescription.authorization
    assert authorization
    for private in (
        case.patient.name,
        case.patient.date_of_birth.isoformat(),
        authorization,
        f"{case.patient.weight_kg}",
    ):
        assert private not in text, private  # … never the patient's data
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize("before", [0o644, 0o666])
def test_an_existing_log_and_its_folder_are_made_private(isolated_home: Path, before: int) -> None:
    folder = paths.log_dir()
    folder.chmod(0o755)
    log_file = folder / "pharmacist-tool.log"
    log_file.write_text("old line\n")
    log_file.chmod(before)
    root = logging.getLogger()
    kept = list(root.handlers)
    for earlier in kept:  # a window opened earlier in this process set up its own log file
        if getattr(earlier, "_pharmacist_tool", False):
            root.removeHandler(earlier)
    try:
        assert setup_logging() == log_file
        assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    finally:
        for handler in root.handlers[:]:
            if handler not in kept:
                root.removeHandler(handler)
                handler.close()
        for earlier in kept:
            if earlier not in root.handlers:
                root.addHandler(earlier)
