"""The conformance suite, run over every pack folder found under ``resources/knowledge/`` (a new
pack gets every check without a line written for it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pharmacist_tool import paths
from tests.conformance import checks

PACKS = checks.pack_folders(paths.resource("knowledge"))


def test_packs_are_found_by_folder() -> None:
    assert {p.name for p in PACKS} >= {"isotretinoin", "acitretin", "valproate"}


@pytest.mark.parametrize("name", sorted(checks.CHECKS))
@pytest.mark.parametrize("folder", PACKS, ids=lambda p: p.name)
def test_the_pack_passes(folder: Path, name: str) -> None:
    assert checks.CHECKS[name](folder) == []


@pytest.mark.parametrize("folder", PACKS, ids=lambda p: p.name)
def test_names_of_every_class_get_its_finding_in_every_rule_set(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    coverage = checks.class_coverage(folder)
    with capsys.disabled():
        for rule, rule_set, hit, total in checks.share_table(coverage):
            print(f"\n  {folder.name} {rule} {rule_set}: {hit}/{total} ({hit / total:.1%})", end="")
    assert coverage.problems() == []
