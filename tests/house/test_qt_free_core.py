"""Only the window imports Qt; the command line and the engine start without the heavy libraries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE_FILES

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "pharmacist_tool"
QT_MODULES = {"PySide6", "shiboken6"}
HEAVY_MODULES = {"PySide6", "shiboken6", "sqlalchemy", "alembic", "reportlab", "psycopg"}


def _imported_top_levels(source: str) -> set[str]:
    """Top-level packages a module imports, at any depth (inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
        elif (  # importlib.import_module("PySide6...") / __import__("PySide6...")
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
        ):
            names.add(node.args[0].value.partition(".")[0])
    return names


def test_no_module_outside_the_window_imports_qt() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "gui":
            continue
        found = _imported_top_levels(path.read_text(encoding="utf-8")) & QT_MODULES
        if found:
            offenders.append(f"{relative}: {', '.join(sorted(found))}")
    assert not offenders, "Qt imported outside pharmacist_tool/gui/: " + "; ".join(offenders)


def test_the_scan_sees_every_way_of_importing() -> None:
    source = "\n".join(
        [
            "import PySide6.QtCore",
            "from shiboken6 import Shiboken",
            "import importlib",
            "def late():",
            "    return importlib.import_module('PySide6.QtGui')",
        ]
    )
    assert {"PySide6", "shiboken6", "importlib"} <= _imported_top_levels(source)


def _modules_loaded_by(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return {name.partition(".")[0] for name in loaded}


def test_importing_the_command_line_and_engine_loads_no_heavy_library() -> None:
    loaded = _modules_loaded_by("import pharmacist_tool.cli, pharmacist_tool.engine")
    assert not loaded & HEAVY_MODULES, sorted(loaded & HEAVY_MODULES)


def test_assess_runs_without_qt_the_database_or_the_pdf_renderer() -> None:
    case = EXAMPLE_FILES[0]
    code = "\n".join(
        [
            "import contextlib, io",
            "from pharmacist_tool.cli import main",
            "with contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO())):",
            f"    status = main(['assess', {str(case)!r}])",
            "assert status == 0, status",
        ]
    )
    loaded = _modules_loaded_by(code)
    assert not loaded & HEAVY_MODULES, sorted(loaded & HEAVY_MODULES)
