"""Sessions in progress, saved on every change so that nothing typed is lost.

One session is two files in ``paths.drafts_dir()``, both written atomically:

- ``<id>.json``: the case itself (``pharmacist_tool.case.save_case``), readable by every command;
- ``<id>.meta.json``: what the window needs to put the pharmacist back where they were (the step,
  who was at the counter, which fields were not entered yet, where the case came from).

The case file is written first and the metadata second: a crash between the two leaves the newest
case with the previous metadata, which is still a consistent session. This module is Qt-free.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from typing import Any

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.case import Case, save_case, write_atomically

log = logging.getLogger(__name__)

META_SUFFIX = ".meta.json"
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
    """Case fields the pharmacist has not entered yet (the case holds a placeholder there)."""
    typed: dict[str, str] = msgspec.field(default_factory=dict)
    """Text typed that is not valid or not added yet (a half-typed date, a medicine not added)."""
    patient_name: str = ""
    medicine: str = ""


class Draft(msgspec.Struct, kw_only=True):
    meta: DraftMeta
    case: Case


def new_id() -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def _case_path(draft_id: str) -> Path:
    return paths.drafts_dir() / f"{draft_id}.json"


def _meta_path(draft_id: str) -> Path:
    return paths.drafts_dir() / f"{draft_id}{META_SUFFIX}"


def save_draft(meta: DraftMeta, case: Case) -> dt.datetime:
    """Save the session; returns the time it was saved."""
    now = dt.datetime.now().replace(microsecond=0)
    meta.updated = now
    meta.patient_name = case.patient.name
    meta.medicine = case.prescription.medicine
    save_case(case, _case_path(meta.id))
    write_atomically(
        _meta_path(meta.id), msgspec.json.format(msgspec.json.encode(meta), indent=2) + b"\n"
    )
    return now


def load_draft(draft_id: str) -> Draft:
    meta = msgspec.json.decode(_meta_path(draft_id).read_bytes(), type=DraftMeta)
    case = msgspec.json.decode(_case_path(draft_id).read_bytes(), type=Case)
    return Draft(meta=meta, case=case)


def list_drafts() -> list[DraftMeta]:
    """Sessions that were not signed, newest first. Damaged files are logged and skipped."""
    found: list[DraftMeta] = []
    for meta_file in paths.drafts_dir().glob(f"*{META_SUFFIX}"):
        try:
            meta = msgspec.json.decode(meta_file.read_bytes(), type=DraftMeta)
        except (OSError, msgspec.DecodeError) as error:
            log.warning("skipping unreadable draft %s: %s", meta_file, error)
            continue
        if _case_path(meta.id).is_file():
            found.append(meta)
    found.sort(key=lambda m: m.updated, reverse=True)
    return found


def remove_draft(draft_id: str) -> None:
    """Called once the session is signed: the record now holds it."""
    for path in (_meta_path(draft_id), _case_path(draft_id)):
        path.unlink(missing_ok=True)


def describe(meta: DraftMeta) -> dict[str, Any]:
    return {
        "patient": meta.patient_name or "(no name yet)",
        "medicine": meta.medicine or "",
        "updated": meta.updated.strftime("%d %b %Y %H:%M"),
    }
