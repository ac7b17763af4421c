"""The static checks fail the run when they should.

Each test copies the package and the project settings to a temporary folder, plants one
violation there and runs the same command that ``scripts/test`` runs, from that folder. The
command must exit non-zero and name the planted file, so the failure is the plant's, not some
other file's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "pharmacist_tool"
BIN = Path(sys.executable).parent
# Every Qt-free package of the tool: a plant in any of them must be caught.
CORE_PACKAGES = sorted(
    p.name
    for p in PACKAGE.iterdir()
    if p.is_dir() and (p / "__init__.py").is_file() and p.name != "gui"
)


def _copy_project(destination: Path) -> Path:
    project = destination / "project"
    project.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE, project / "pharmacist_tool", ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", project / "pyproject.toml")
    if (REPO / ".mypy_cache").is_dir():  # scripts/test ran mypy just before: reuse its cache
        shutil.copytree(REPO / ".mypy_cache", project / ".mypy_cache")
    return project


def _plant(project: Path, relative: str, source: str) -> Path:
    path = project / relative
    path.write_text(source, encoding="utf-8")
    return path


def _run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first, so that the copy is analysed and not the package installed in the venv.
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_scripts_test_runs_every_check_and_stops_at_the_first_failure() -> None:
    script = (REPO / "scripts" / "test").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    order = [
        r'"\$bin/ruff" check \.',
        r'"\$bin/ruff" format --check \.',
        r'"\$bin/lint-imports"',
        r'"\$bin/mypy"',
        r"-m pytest",
    ]
    positions = []
    for pattern in order:
        match = re.search(pattern, script)
        assert match, f"scripts/test does not run {pattern}"
        positions.append(match.start())
    assert positions == sorted(positions), "the static checks must run before the tests"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci
    assert re.search(r"^scripts/test\b", ci, re.MULTILINE)


def test_ruff_check_fails_on_a_lint_error(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _plant(project, "pharmacist_tool/engine/planted_lint.py", "import os\n")
    result = _run(project, "ruff", "check", ".")
    assert result.returncode != 0
    assert "planted_lint.py" in result.stdout
    assert "F401" in result.stdout


def test_ruff_format_check_fails_on_unformatted_code(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _plant(project, "pharmacist_tool/engine/planted_format.py", "VALUES = {  'a':1 }\n")
    result = _run(project, "ruff", "format", "--check", ".")
    assert result.returncode != 0
    assert "planted_format.py" in result.stdout + result.stderr


QT_PLANT = "import PySide6.QtCore\n\nQT_VERSION = PySide6.QtCore.qVersion()\n"


def test_import_contract_fails_on_qt_in_any_core_package(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    # Lint-clean and type-clean: only the import contract can object to it.
    for package in CORE_PACKAGES:
        _plant(project, f"pharmacist_tool/{package}/planted_qt.py", QT_PLANT)
    result = _run(project, "lint-imports", "--no-cache")
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    missed = [p for p in CORE_PACKAGES if f"pharmacist_tool.{p}.planted_qt" not in result.stdout]
    assert not missed, f"a Qt import in these packages passed lint-imports: {missed}"


UPWARD_PLANTS = {
    # (where the plant goes, the layer above that it imports)
    "pharmacist_tool/records/planted_up.py": "pharmacist_tool.app.session",
    "pharmacist_tool/app/planted_up.py": "pharmacist_tool.gui.widgets",
    "pharmacist_tool/engine/planted_up.py": "pharmacist_tool.counselling.case_draft",
    "pharmacist_tool/knowledge/planted_up.py": "pharmacist_tool.engine.readiness",
}


def test_the_layers_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    """records below the application layer, which is below the window; the engine below the
    case being entered: an import the other way fails lint-imports, naming the plant."""
    project = _copy_project(tmp_path)
    for relative, above in UPWARD_PLANTS.items():
        _plant(project, relative, f"import {above}\n\nUSED = {above}.__name__\n")
    result = _run(project, "lint-imports", "--no-cache")
    assert result.returncode != 0, result.stdout
    assert "Layers:" in result.stdout and "BROKEN" in result.stdout
    for relative in UPWARD_PLANTS:
        module = relative.removesuffix(".py").replace("/", ".")
        assert module in result.stdout, f"an upward import in {module} passed lint-imports"


def test_the_layers_contract_holds_today(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    result = _run(project, "lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout
    assert "Layers:" in result.stdout


def test_import_contract_allows_qt_in_the_window(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _plant(project, "pharmacist_tool/gui/planted_qt.py", QT_PLANT)
    result = _run(project, "lint-imports", "--no-cache")
    assert "pharmacist_tool.gui.planted_qt" not in result.stdout


def test_mypy_fails_on_a_type_error_in_any_core_package(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    for package in CORE_PACKAGES:
        _plant(
            project,
            f"pharmacist_tool/{package}/planted_types.py",
            'def planted() -> int:\n    return "seven"\n',
        )
    result = _run(project, "mypy")
    assert result.returncode != 0
    missed = [
        p
        for p in CORE_PACKAGES
        if not re.search(rf"pharmacist_tool/{p}/planted_types\.py:2: error", result.stdout)
    ]
    assert not missed, f"a type error in these packages passed mypy: {missed}\n{result.stdout}"


def test_mypy_checks_the_window_code_strictly(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    _plant(
        project,
        "pharmacist_tool/gui/planted_types.py",
        'def planted() -> int:\n    return "seven"\n',
    )
    _plant(project, "pharmacist_tool/gui/planted_untyped.py", "def planted(x):\n    return x\n")
    result = _run(project, "mypy")
    assert result.returncode != 0
    assert "pharmacist_tool/gui/planted_types.py:2: error" in result.stdout, result.stdout
    assert "pharmacist_tool/gui/planted_untyped.py:1: error" in result.stdout, result.stdout


def test_mypy_is_strict_on_the_core(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    # Valid Python that only strict mode rejects: a function without annotations.
    _plant(project, "pharmacist_tool/engine/planted_untyped.py", "def planted(x):\n    return x\n")
    result = _run(project, "mypy")
    assert result.returncode != 0
    assert "planted_untyped.py:1: error" in result.stdout
    assert "no-untyped-def" in result.stdout
