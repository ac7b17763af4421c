"""The pack contract lists every finding code the engine raises, so a pack is refused at load
(not at assess time on a patient's line) when it lacks the wording of one."""

from __future__ import annotations

import re
from pathlib import Path

from pharmacist_tool import knowledge
from pharmacist_tool.knowledge import contract

ENGINE = Path(knowledge.__file__).parent.parent / "engine"
CODE = re.compile(
    r'"((?:medicine|pregnancy-test|prescription|dose|contraception|course|counselling)'
    r'\.[a-z-]+)"'
)
WORDED_BY_VARIANTS = {"contraception.weakened", "course.cumulative-dose"}
"""Raised only with one of their wording variants (``wording=``), which the contract lists."""


def test_every_code_the_engine_raises_is_in_the_contract() -> None:
    listed = Path(contract.__file__).read_text(encoding="utf-8")
    raised = {
        code for path in ENGINE.glob("*.py") for code in CODE.findall(path.read_text("utf-8"))
    }
    assert raised, "the engine's codes were not found"
    missing = sorted(c for c in raised - WORDED_BY_VARIANTS if f'"{c}"' not in listed)
    assert missing == []
