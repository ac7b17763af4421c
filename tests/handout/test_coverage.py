"""Every pack's coverage is cited data: each key point of its official materials (the outline)
is listed with its sources and their versions, mapped to the sheet's words or left to the leaflet
with a reason, and each figure it cites is the figure the sheet prints. The check runs over every
pack found under ``resources/knowledge``, and is shown to fail on a removed point and a changed
figure. (That a mapped point's words reach a rendered sheet is checked for every pack's cases in
``test_pack_sheets`` and ``test_truth``.)"""

from __future__ import annotations

import msgspec
import pytest

from pharmacist_tool.handout.wording import (
    CoverageFile,
    coverage_problems,
    load_coverage,
    load_facts,
    load_wording,
)
from pharmacist_tool.knowledge import load_pack
from pharmacist_tool.knowledge.model import Source
from tests.handout.conftest import handout_packs


def problems(medicine: str, coverage: CoverageFile | None = None) -> list[str]:
    facts = load_facts(medicine)
    wording = load_wording("en", medicine)
    assert wording is not None
    register: dict[str, Source] = {**load_pack(medicine).sources, **facts.sources}
    return coverage_problems(coverage or load_coverage(medicine), facts, wording.data, register)


@pytest.mark.parametrize("medicine", handout_packs())
def test_every_key_point_is_listed_cited_and_mapped(medicine: str) -> None:
    assert problems(medicine) == []
    coverage = load_coverage(medicine)
    kb = load_pack(medicine)
    assert {f for g in coverage.guides for f in g.families} == {r.family for r in kb.rule_sets}
    for guide in coverage.guides:
        assert len(guide.outline) >= 15, guide.id


@pytest.mark.parametrize("medicine", handout_packs())
def test_a_removed_point_is_caught(medicine: str) -> None:
    coverage = load_coverage(medicine)
    guide = coverage.guides[0]
    removed = guide.points[0]
    fewer = msgspec.structs.replace(guide, points=guide.points[1:])
    changed = msgspec.structs.replace(coverage, guides=[fewer, *coverage.guides[1:]])
    assert f"{guide.id}: key point {removed.id!r} is not listed" in problems(medicine, changed)


def test_some_pack_cites_figures() -> None:
    cited = [m for m in handout_packs() for g in load_coverage(m).guides for p in g.points
             if p.figures]  # fmt: skip
    assert cited


@pytest.mark.parametrize("medicine", handout_packs())
def test_a_changed_figure_is_caught(medicine: str) -> None:
    coverage = load_coverage(medicine)
    for g_index, guide in enumerate(coverage.guides):
        for p_index, point in enumerate(guide.points):
            for name, figure in point.figures.items():
                other = msgspec.structs.replace(point, figures={**point.figures, name: figure + 1})
                points = [*guide.points[:p_index], other, *guide.points[p_index + 1 :]]
                guides = list(coverage.guides)
                guides[g_index] = msgspec.structs.replace(guide, points=points)
                found = problems(medicine, msgspec.structs.replace(coverage, guides=guides))
                said = f"the sheet prints {name} = {figure}, the source says {figure + 1}"
                assert any(said in p for p in found), (guide.id, point.id, name)


def test_every_pack_with_a_handout_has_a_routine_case_to_check_it_with() -> None:
    from tests.handout.conftest import routine_case_files

    missing = [pack for pack, files in routine_case_files().items() if not files]
    assert not missing, (
        f"packs {missing} have handout wording but no routine case "
        "(tests/fixtures/packs/<pack>-<rule set>-routine.json): their sheets go unchecked"
    )
