"""The authorization's dates on the due list and in a course, read from the course index.

An authorization (iPLEDGE's RMA) is valid until the fill's last day to hand over, the rule
set's pick-up window (``pick_up_by`` in the signed assessment): it expires then, and a fill not
collected by then has its authorization reversed. A rule set with no window for the patient
gives no date (the reversal is due from the day the fill was recorded not handed over).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from pharmacist_tool.records.course import DueItem, Fill
    from pharmacist_tool.records.db import Database

REVERSE = "reverse-authorization"


def authorization_expires_on(fill: Fill) -> dt.date | None:
    """The last day the fill's authorization is valid (None: no authorization, or no window)."""
    return fill.pick_up_by if fill.authorization_number else None


def _pick_up_by(db: Database, record_ids: Sequence[int]) -> dict[int, dt.date | None]:
    marks = ", ".join(f":r{i}" for i in range(len(record_ids)))
    rows = db.read_rows(
        f"SELECT record_id, pick_up_by FROM course_fills WHERE record_id IN ({marks})",
        {f"r{i}": record_id for i, record_id in enumerate(record_ids)},
    )
    return {
        int(record_id): dt.date.fromisoformat(day) if isinstance(day, str) else day
        for record_id, day in rows
    }


def with_authorization_dates(db: Database, items: list[DueItem]) -> list[DueItem]:
    """Each reversal on the list with the day to reverse by if not collected (the day the
    authorization expires); the other items as they are."""
    ids = sorted({item.record_id for item in items if item.what == REVERSE})
    if not ids:
        return items
    days = _pick_up_by(db, ids)
    return [
        msgspec.structs.replace(item, reverse_if_not_collected_by=days.get(item.record_id))
        if item.what == REVERSE
        else item
        for item in items
    ]
