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
from typing import Any


def date_key(pack: str, version_id: str) -> str:
    """How the settings name a rule version: ``PACK/VERSION``."""
    return f"{pack}/{version_id}"


def version_of(kb: Any, version_id: str) -> Any:
    """The rule version ``version_id`` of the pack (``None``: the pack has no such version)."""
    for rule_set in getattr(kb, "rule_sets", None) or []:
        for version in rule_set.versions:
            if version.id == version_id:
                return version
    return None


def date_unconfirmed(
    pack: str, version: Any, effective_from: dt.date, confirmed: Mapping[str, dt.date]
) -> bool:
    """The pack marks the version's date unconfirmed, and the pharmacy has not confirmed the
    date in force (``effective_from``)."""
    if not getattr(version, "effective_from_unconfirmed", False):
        return False
    return confirmed.get(date_key(pack, version.id)) != effective_from


def rule_version_words(kb: Any, assessment: Any, confirmed: Mapping[str, dt.date]) -> str:
    """``rule version us-ipledge-2026 in force from 2026-11-15 (date unconfirmed — confirm in
    Settings)``, for the version the session was assessed under; empty before an assessment."""
    ref = getattr(assessment, "knowledge_base", None)
    if ref is None:
        return ""
    text = f"rule version {ref.rules_version} in force from {ref.rules_effective_from.isoformat()}"
    version = version_of(kb, ref.rules_version)
    if version is not None and date_unconfirmed(
        ref.medicine, version, ref.rules_effective_from, confirmed
    ):
        text += " (date unconfirmed — confirm in Settings)"
    return text
