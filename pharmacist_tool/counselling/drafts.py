"""Sessions in progress, saved on every change so that nothing typed is lost.

One session is one file, ``paths.drafts_dir() / <id>.json``, written atomically (the same
write-then-rename as ``pharmacist_tool.case.save_case``): the case as entered so far (a
``CaseDraft``: ``null`` where nothing is entered yet), plus a ``draft`` member with what the
window needs to put the pharmacist back where they were (the step, who was at the counter, text
typed but not valid or not added yet). A case reader ignores the ``draft`` member, so a draft
whose case is complete is also a case file (``pharmacist-tool assess <draft>`` works). Drafts
saved before the draft held ``null`` kept a stand-in value and listed the field in
``draft.unset``; they load with those fields not entered. One file means a crash can never
pair a newer case with older metadata. This module is Qt-free.

Written on every change without ``fsync`` (a killed process keeps what the operating system
holds) and with ``fsync`` at step changes, when the pharmacist pauses and when the session leaves
the screen.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.case import Carried, write_atomically
from pharmacist_tool.counselling.case_draft import CaseDraft, decode_draft

log = logging.getLogger(__name__)

DRAFT_FORMAT = "pharmacist-tool/draft@1"


class DraftMeta(msgspec.Struct, kw_only=True):
    format: str = DRAFT_FORMAT
    id: str
    created: dt.datetime
    updated: dt.datetime
    step: int = 0
    user: str = ""
    source: str = ""
    """The case file the session was opened from, if any."""
    unset: list[str] = msgspec.field(default_factory=list)
    """Read from older drafts only: fields not entered yet, when the case held a stand-in
    value there (a draft now holds ``null``; this is written empty)."""
    typed: dict[str, str] = msgspec.field(default_factory=dict)
    """Text typed that is not valid or not added yet (a half-typed date, a medicine not added)."""
    patient_name: str = ""
    medicine: str = ""
    carried: dict[str, str] = msgspec.field(default_factory=dict)
    """Read from older drafts only: a next visit's facts carried from the last one (fact → its
    value then); the case's own ``carried`` holds them now (this is written empty)."""
    confirmed: list[str] = msgspec.field(default_factory=list)
    """Read from older drafts only: the carried facts confirmed as still true."""


class Draft(msgspec.Struct, kw_only=True):
    meta: DraftMeta
    case: CaseDraft


class _DraftPart(msgspec.Struct):
    """Only the ``draft`` member of a draft file (the rest is skipped when listing)."""

    draft: DraftMeta


def new_id() -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{os.urandom(3).hex()}"


def draft_path(draft_id: str) -> Path:
    return paths.drafts_dir() / f"{draft_id}.json"


def save_draft(meta: DraftMeta, case: CaseDraft, *, durable: bool = True) -> dt.datetime:
    """Save the session (case and metadata together, atomically); returns when it was saved.
    ``durable=False``: no ``fsync`` (see ``case.write_atomically``)."""
    now = dt.datetime.now().replace(microsecond=0)
    meta.updated = now
    meta.patient_name = case.patient.name
    meta.medicine = case.prescription.medicine
    meta.unset = []
    meta.carried, meta.confirmed = {}, []
    document = {**msgspec.to_builtins(case), "draft": msgspec.to_builtins(meta)}
    write_atomically(
        draft_path(meta.id),
        msgspec.json.format(msgspec.json.encode(document)) + b"\n",
        durable=durable,
    )
    return now


def load_draft(draft_id: str) -> Draft:
    data = draft_path(draft_id).read_bytes()
    meta = msgspec.json.decode(data, type=_DraftPart).draft
    case = decode_draft(data)
    case.forget(meta.unset)  # an older draft: its stand-in values were never entered
    meta.unset = []
    if meta.carried and case.carried is None:  # an older draft kept them beside the case
        case.carried = Carried(facts=meta.carried, confirmed=meta.confirmed)
    meta.carried, meta.confirmed = {}, []
    return Draft(meta=meta, case=case)


def list_drafts() -> list[DraftMeta]:
    """Sessions that were not signed, newest first. Damaged files are logged and skipped."""
    found: list[DraftMeta] = []
    for path in paths.drafts_dir().glob("*.json"):
        try:
            meta = msgspec.json.decode(path.read_bytes(), type=_DraftPart).draft
        except (OSError, msgspec.DecodeError) as error:
            log.warning("skipping unreadable draft %s: %s", path, error)
            continue
        if meta.id == path.stem:
            found.append(meta)
    found.sort(key=lambda m: m.updated, reverse=True)
    return found


def remove_draft(draft_id: str) -> None:
    """Called once the session is signed: the record now holds it."""
    draft_path(draft_id).unlink(missing_ok=True)


def describe(meta: DraftMeta) -> dict[str, Any]:
    return {
        "patient": meta.patient_name or "(no name yet)",
        "medicine": meta.medicine or "",
        "updated": meta.updated.strftime("%d %b %Y %H:%M"),
    }
