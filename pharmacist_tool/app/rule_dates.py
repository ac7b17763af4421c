"""The rule version in force, in words, with whether the pharmacy confirmed its effective date.

A pack marks a version whose effective date its sources disagree on
(``effective_from_unconfirmed``); the pharmacy confirms the date in Settings (an administrator's
audited, signed change: ``Settings.confirmed_rule_dates``). A confirmation holds for the date it
confirmed: when the date in force moves (a new pack, another date in the settings), it is
unconfirmed again until confirmed anew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pharmacist_tool.engine.assessment import Assessment
    from pharmacist_tool.knowledge.model import KnowledgeBase, RuleSetVersion


def date_key(pack: str, version_id: str) -> str:
    """How the settings name a rule version: ``PACK/VERSION``."""
    return f"{pack}/{version_id}"


def version_of(kb: KnowledgeBase | None, version_id: str) -> RuleSetVersion | None:
    """The rule version ``version_id`` of the pack (``None``: the pack has no such version)."""
    for rule_set in kb.rule_sets if kb else []:
        for version in rule_set.versions:
            if version.id == version_id:
                return version
    return None


def date_unconfirmed(
    pack: str, version: RuleSetVersion, effective_from: dt.date, confirmed: Mapping[str, dt.date]
) -> bool:
    """The pack marks the version's date unconfirmed, and the pharmacy has not confirmed the
    date in force (``effective_from``)."""
    if not version.effective_from_unconfirmed:
        return False
    return confirmed.get(date_key(pack, version.id)) != effective_from


def rule_version_words(
    kb: KnowledgeBase | None, assessment: Assessment | None, confirmed: Mapping[str, dt.date]
) -> str:
    """``rule version us-ipledge-2026 in force from 2026-11-15 (date unconfirmed — confirm in
    Settings)``, for the version the session was assessed under; empty before an assessment."""
    ref = assessment.knowledge_base if assessment is not None else None
    if ref is None:
        return ""
    text = f"rule version {ref.rules_version} in force from {ref.rules_effective_from.isoformat()}"
    version = version_of(kb, ref.rules_version)
    if version is not None and date_unconfirmed(
        ref.medicine, version, ref.rules_effective_from, confirmed
    ):
        text += " (date unconfirmed — confirm in Settings)"
    return text
