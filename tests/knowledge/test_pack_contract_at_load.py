"""The pack contract is checked when a pack is loaded: a pack that breaks it is refused with a
message naming what is missing (never at assess time on a patient's line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.knowledge.packs import build_index


def _copy(tmp_path: Path, pack: str) -> Path:
    shutil.copytree(paths.resource("classes"), tmp_path / "classes")
    for name in ("isotretinoin", "acitretin", "valproate"):
        shutil.copytree(paths.resource("knowledge", name), tmp_path / "knowledge" / name)
    return tmp_path / "knowledge" / pack


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _refusal(folder: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_knowledge_base(folder.name, folder=folder)
    return caught.value.details


def test_an_unknown_class_is_refused_naming_it(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "valproate")

    def unknown(data: Any) -> None:
        data["interactions"][0]["class"] = "carbapenemz"

    _edit(folder / "interactions.json", unknown)
    assert any("refers to class 'carbapenemz'" in d for d in _refusal(folder))


def test_a_class_substance_with_a_wrong_name_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "valproate")

    def misnamed(data: Any) -> None:
        data["substances"][0]["name"] = "meropenum"

    _edit(tmp_path / "classes" / "carbapenems.json", misnamed)
    assert any("FV9J3JU8B1 as 'meropenum'" in d for d in _refusal(folder))


def test_a_substance_given_two_contraception_facts_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")

    def other_threshold(data: Any) -> None:
        data["substances"][0]["weakens_contraception"]["from_mg_per_day"] = 50

    _edit(tmp_path / "classes" / "rufinamide.json", other_threshold)
    assert any("rufinamide weakens contraception differently" in d for d in _refusal(folder))


def test_a_product_name_of_two_packs_is_refused_in_the_index(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")

    def steal(data: Any) -> None:
        data["products"][0]["names"].append("Claravis")

    _edit(folder / "products.json", steal)
    with pytest.raises(UserError) as caught:
        build_index(tmp_path / "knowledge", "isotretinoin")
    assert caught.value.details == ["'claravis' is a product of 'acitretin' and of 'isotretinoin'"]
