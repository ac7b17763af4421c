"""A programme form's expiry on the due list ("annual form expires in 21 days").

The form's date and its last valid day are in the signed assessment of the record a due row
names (its ``duties``, as last amended); the due list shows them for the rows it lists when the
form expires within ``FORM_SHOWN_DAYS`` or has expired. Read for the rows shown only (one query
for at most a page of rows), so the course index needs no column for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from pharmacist_tool.records.course import DueItem
    from pharmacist_tool.records.db import Database

FORM_SHOWN_DAYS = 30
"""A form is shown on the due list from this many days before it expires."""


class _Duty(msgspec.Struct):
    form_valid_until: dt.date | None = None


class _Duties(msgspec.Struct):
    duties: list[_Duty] | None = None


_decode = msgspec.json.Decoder(_Duties).decode

LATEST_ASSESSMENT_SQL = (
    "SELECT r.id, COALESCE(a.assessment_json, r.assessment_json) FROM records r "
    "LEFT JOIN amendments a ON a.id = "
    "(SELECT MAX(m.id) FROM amendments m WHERE m.record_id = r.id) WHERE r.id IN ({marks})"
)


def form_expires_on(valid_until: dt.date) -> dt.date:
    """The first day the form is no longer valid."""
    return valid_until + dt.timedelta(days=1)


def form_words(valid_until: dt.date, on: dt.date) -> str:
    """ "annual form expires in 21 days", "… expires today", "… expired 3 days ago"."""
    days = (form_expires_on(valid_until) - on).days
    if days > 1:
        return f"annual form expires in {days} days"
    if days == 1:
        return "annual form expires tomorrow"
    if days == 0:
        return "annual form expires today"
    return f"annual form expired {-days} day{'s' * (days != -1)} ago"


def _valid_until(db: Database, record_ids: Sequence[int]) -> dict[int, dt.date]:
    marks = ", ".join(f":r{i}" for i in range(len(record_ids)))
    rows = db.read_rows(
        LATEST_ASSESSMENT_SQL.format(marks=marks),
        {f"r{i}": record_id for i, record_id in enumerate(record_ids)},
    )
    found = {}
    for record_id, assessment_json in rows:
        duties = _decode(assessment_json).duties or []
        days = [d.form_valid_until for d in duties if d.form_valid_until is not None]
        if days:
            found[int(record_id)] = min(days)
    return found


def with_form_dates(db: Database, items: list[DueItem], on: dt.date) -> list[DueItem]:
    """Each item whose record's programme form expires within ``FORM_SHOWN_DAYS`` of ``on``
    (or has expired) with the form's last valid day; the others as they are."""
    if not items:
        return items
    ids = sorted({item.record_id for item in items})
    until = _valid_until(db, ids)
    shown_from = on + dt.timedelta(days=FORM_SHOWN_DAYS)
    return [
        msgspec.structs.replace(item, form_valid_until=until[item.record_id])
        if item.record_id in until and form_expires_on(until[item.record_id]) <= shown_from
        else item
        for item in items
    ]
