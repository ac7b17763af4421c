"""The window and the application layer are typed at their seam with the core: no ``Any``.

Every annotation in ``pharmacist_tool/gui`` and ``pharmacist_tool/app`` names a real type (the
core's types are imported for the checker only, so the window still starts without them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pharmacist_tool

PACKAGE = Path(pharmacist_tool.__file__).parent
SEAM = ("gui", "app")


def _uses_of_any(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "typing":
            found += [f"line {node.lineno}: imports Any" for a in node.names if a.name == "Any"]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "Any"
            and isinstance(node.value, ast.Name)
            and node.value.id == "typing"
        ):
            found.append(f"line {node.lineno}: typing.Any")
    return found


def test_no_module_of_the_window_or_the_application_layer_uses_any() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): uses
        for part in SEAM
        for path in sorted((PACKAGE / part).rglob("*.py"))
        if (uses := _uses_of_any(path))
    }
    assert offenders == {}


def test_a_planted_any_is_found(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("from typing import Any\n\n\ndef f(x: Any) -> None: ...\n")
    assert _uses_of_any(planted) == ["line 1: imports Any"]
