"""The pack contract lists every finding code the engine raises, so a pack is refused at load
(not at assess time on a patient's line) when it lacks the wording of one."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from pharmacist_tool import knowledge
from pharmacist_tool.case import Case
from pharmacist_tool.knowledge import contract

ENGINE = Path(knowledge.__file__).parent.parent / "engine"
CODE = re.compile(
    r'"((?:medicine|pregnancy-test|prescription|dose|contraception|course|counselling)'
    r'\.[a-z-]+)"'
)
WORDED_BY_VARIANTS = {"contraception.weakened", "course.cumulative-dose"}
"""Raised only with one of their wording variants (``wording=``), which the contract lists."""


def case_field_paths() -> set[str]:
    """The case's own fields by dotted path (``prescription.medicine``). The engine names them
    when it says which values a carried fact is made of; a field is not a finding code."""
    paths: set[str] = set()
    for field in msgspec.structs.fields(Case):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            paths |= {f"{field.name}.{f.name}" for f in msgspec.structs.fields(field.type)}
    return paths


def test_a_case_field_is_never_also_a_finding_code() -> None:
    listed = Path(contract.__file__).read_text(encoding="utf-8")
    assert "prescription.medicine" in case_field_paths()
    assert sorted(p for p in case_field_paths() if f'"{p}"' in listed) == []


def test_every_code_the_engine_raises_is_in_the_contract() -> None:
    listed = Path(contract.__file__).read_text(encoding="utf-8")
    raised = {
        code for path in ENGINE.glob("*.py") for code in CODE.findall(path.read_text("utf-8"))
    }
    assert raised, "the engine's codes were not found"
    findings = raised - WORDED_BY_VARIANTS - case_field_paths()
    missing = sorted(c for c in findings if f'"{c}"' not in listed)
    assert missing == []
