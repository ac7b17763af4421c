"""The seven steps of a session at the counter, and which step shows each finding."""

from __future__ import annotations

import enum

from pharmacist_tool.engine.assessment import Finding
from pharmacist_tool.knowledge.model import KnowledgeBase


class Step(enum.IntEnum):
    PATIENT = 0
    PRESCRIPTION = 1
    PREGNANCY = 2
    MEDICINES = 3
    COUNSELLING = 4
    STORAGE = 5
    REVIEW = 6


class StepState(enum.Enum):
    DONE = "done"
    READY = "ready"
    """The review step: nothing stands before signing."""
    TODO = "todo"
    ATTENTION = "attention"
    BLOCKED = "blocked"
    NOT_NEEDED = "n/a"


STEP_OF_PACK_STEP = {
    "patient": Step.PATIENT,
    "prescription": Step.PRESCRIPTION,
    "pregnancy": Step.PREGNANCY,
    "medicines": Step.MEDICINES,
    "counselling": Step.COUNSELLING,
    "storage": Step.STORAGE,
}
"""The step of each step name a pack's data uses."""
_STEP_OF_CODE_PREFIX = {
    "patient": Step.PATIENT,
    "dose": Step.PATIENT,
    "product": Step.PATIENT,
    "prescription": Step.PRESCRIPTION,
    "programme": Step.PRESCRIPTION,
    "authorization": Step.PRESCRIPTION,
    "supply": Step.PRESCRIPTION,
    "refills": Step.PRESCRIPTION,
    "pregnancy": Step.PREGNANCY,
    "contraception": Step.PREGNANCY,
    "interaction": Step.MEDICINES,
    "medicines": Step.MEDICINES,
}
_STEP_OF_CATEGORY = {
    "dose": Step.PATIENT,
    "prescription": Step.PRESCRIPTION,
    "pregnancy-prevention": Step.PREGNANCY,
    "interaction": Step.MEDICINES,
    "safety": Step.COUNSELLING,
    "counselling": Step.COUNSELLING,
}


def step_of(finding: Finding, kb: KnowledgeBase | None) -> Step:
    """The step where the pharmacist can act on a finding: as the pack says."""
    if kb is not None:
        return STEP_OF_PACK_STEP[kb.step_of(finding.code, finding.category)]
    code = finding.code
    if "alcohol" in code:
        return Step.MEDICINES
    prefix = code.split(".", 1)[0]
    if prefix in _STEP_OF_CODE_PREFIX:
        return _STEP_OF_CODE_PREFIX[prefix]
    return _STEP_OF_CATEGORY.get(finding.category, Step.COUNSELLING)


def is_storage_item(kb: KnowledgeBase | None, item_id: str) -> bool:
    """The pack puts this checklist item on the storage step (its ``step``)."""
    items = kb.checklist if kb is not None else []
    return any(item.id == item_id and item.step == "storage" for item in items)
