"""The desktop build puts files where the code looks for them when frozen.

Building takes minutes (``scripts/build-app`` does it and smoke-runs the result); these checks
are the quick half: the destinations named in ``build.spec`` are the ones the code resolves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pharmacist_tool import paths
from pharmacist_tool.records import db

REPO = Path(__file__).resolve().parents[2]
SPEC = (REPO / "build.spec").read_text(encoding="utf-8")


def test_frozen_resources_are_looked_for_where_the_spec_puts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "_internal"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert paths.resources_dir() == bundle / "resources"
    assert '(str(ROOT / "resources"), "resources")' in SPEC


def test_migrations_are_found_beside_the_records_package() -> None:
    records_package = Path(db.__file__).resolve().parent
    assert records_package / "migrations" == db.MIGRATIONS_DIR
    assert (db.MIGRATIONS_DIR / "env.py").is_file()
    assert any((db.MIGRATIONS_DIR / "versions").glob("*.py"))
    # Frozen, records/db.py runs from <bundle>/pharmacist_tool/records/: the spec copies the
    # scripts there.
    assert 'Path("pharmacist_tool/records/migrations")' in SPEC


def test_the_spec_reads_name_and_version_from_pyproject() -> None:
    assert 'PROJECT["name"]' in SPEC
    assert 'PROJECT["version"]' in SPEC
    assert "upx=True" not in SPEC
