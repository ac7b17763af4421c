"""Signing, amending and reprinting, start to end: the one path the command line and the window
both take (no Qt here; the window passes plain data).

- ``sign(db, case, username=…, password=…)``: check the password (a pharmacist's), assess the
  case, refuse it while anything stands, take the handout (rendered now, a supplied PDF, or the
  one previewed, checked still current), store the signed record;
- ``amend(db, record_id, case, reason=…, username=…, password=…)``: the same for a correction,
  assessed with the record's own medicine pack (its version now, said when it changed);
- ``reprint(db, record_id, username=…)``: the stored handout's exact bytes, audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from pharmacist_tool.case import Case
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.engine.readiness import missing_for_signing
from pharmacist_tool.errors import UserError
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import (
    AmendmentDetail,
    RecordDetail,
    RecordSummary,
    get_handout,
    get_record,
)
from pharmacist_tool.records.training import refuse_lapsed_training
from pharmacist_tool.records.users import AuthenticatedUser, authenticate, require_signer
from pharmacist_tool.records.writing import HandoutLike, amend_record, record_event, sign_record

log = logging.getLogger(__name__)

HANDOUT_CHANGED = (
    "The handout changed since it was previewed (the session was edited): preview and print it "
    "again (Ctrl+P) so the patient takes home what is stored, then sign."
)


def _signer(db: Database, username: str, password: str, purpose: str) -> AuthenticatedUser:
    if not username or not password:
        raise UserError("Enter the user name and password of the pharmacist who signs")
    signer = authenticate(db, username, password, purpose=purpose)  # type: ignore[arg-type]
    require_signer(signer)
    return signer


def _assessed(case: Case, kb: Any, what: str) -> tuple[Assessment, Any]:
    from pharmacist_tool.engine import assess

    if kb is None:
        from pharmacist_tool.knowledge import load_for_counter

        kb = load_for_counter(case.prescription.medicine)
    assessment = assess(case, kb)
    missing = missing_for_signing(case, assessment)
    if missing:
        raise UserError(
            f"{what} is not finished and cannot be signed. Still to do:", details=missing
        )
    return assessment, kb


def record_pack(record: RecordDetail, case: Case) -> Any:
    """The record's own medicine pack, loaded by its name, for assessing a correction of it.

    A corrected session that names another pack's product is refused: a different medicine is
    a new record, not an amendment. (A record without a pack column, which only a database
    altered by hand has, is read with the pack its corrected session names.)"""
    from pharmacist_tool.knowledge import load_for_counter, packs

    if not record.pack:
        return load_for_counter(case.prescription.medicine)
    try:
        named = packs.pack_for(case.prescription.medicine)
    except UserError:
        named = record.pack  # not a product of any pack: the assessment says so
    if named != record.pack:
        raise UserError(
            f"Record {record.id} was assessed with the {record.pack} pack, but the corrected "
            f"session names {case.prescription.medicine!r}, a product of {named}. An amendment "
            "corrects the same medicine's session; sign a new record for another medicine."
        )
    return load_for_counter(pack=record.pack)


def pack_change(record: RecordDetail, kb: Any) -> str:
    """What to say when the record's pack has another version now than when it was signed
    (the tool holds only the current one: the amendment is assessed with it, and says so)."""
    signed = record.summary.knowledge_base_version
    if not record.pack or kb.version == signed:
        return ""
    return (
        f"Record {record.id} was signed with the {record.pack} pack version {signed}; this "
        f"amendment was assessed with version {kb.version}, the one in force now. The signed "
        "record keeps its own version and findings."
    )


def _handout(
    case: Case,
    assessment: Assessment,
    kb: Any,
    settings: Any,
    signer: AuthenticatedUser,
    *,
    given: HandoutLike | None,
    previewed: HandoutLike | None,
    options: Mapping[str, Any] | None,
) -> HandoutLike:
    """The handout stored with the record: a supplied file as it is; otherwise rendered now
    (deterministic, so a previewed one must come out byte-identical, or it is out of date)."""
    if given is not None:
        return given
    from pharmacist_tool.handout import render_handout

    if settings is None:
        from pharmacist_tool.settings import load_settings

        settings = load_settings()
    chosen = dict(options or {}) if previewed is not None else {}
    chosen.setdefault("pharmacist", signer.printed_name)
    now = render_handout(case, assessment, kb, settings, **chosen)
    if previewed is None:
        return now
    if now.sha256 != previewed.sha256:
        raise UserError(HANDOUT_CHANGED)
    return previewed


def _signable(
    db: Database,
    signer: AuthenticatedUser,
    case: Case,
    kb: Any,
    what: str,
    settings: Any,
    handout: HandoutLike | None,
    previewed: HandoutLike | None,
    handout_options: Mapping[str, Any] | None,
) -> tuple[Assessment, Any, HandoutLike]:
    """What a signature or an amendment stores, once the case is finished and the signer's
    training (where the rule version asks for it) is in date: its assessment, the pack it was
    assessed with, and the handout."""
    assessment, kb = _assessed(case, kb, what)
    refuse_lapsed_training(db, signer, kb, assessment, dt.date.today())
    chosen = _handout(
        case,
        assessment,
        kb,
        settings,
        signer,
        given=handout,
        previewed=previewed,
        options=handout_options,
    )
    return assessment, kb, chosen


def sign(
    db: Database,
    case: Case,
    *,
    username: str,
    password: str,
    kb: Any = None,
    settings: Any = None,
    handout: HandoutLike | None = None,
    previewed: HandoutLike | None = None,
    handout_options: Mapping[str, Any] | None = None,
    prepared_by: str | None = None,
    what: str = "The session",
) -> RecordSummary:
    """Sign a finished session. ``handout``: a supplied PDF stored as it is; ``previewed``: the
    handout the patient was shown (with the ``handout_options`` it was rendered with), stored
    only if it is still what the case gives; neither: rendered now. ``prepared_by``: who
    prepared the session, when not the signer."""
    signer = _signer(db, username, password, "sign")
    assessment, kb, chosen = _signable(
        db, signer, case, kb, what, settings, handout, previewed, handout_options
    )
    helper = prepared_by if prepared_by and prepared_by != signer.username else None
    summary = sign_record(db, signer, case, assessment, chosen, prepared_by=helper)
    log.info("signed record %s", summary.id)
    return summary


def amend(
    db: Database,
    record_id: int,
    case: Case,
    *,
    reason: str,
    username: str,
    password: str,
    kb: Any = None,
    settings: Any = None,
    handout: HandoutLike | None = None,
    previewed: HandoutLike | None = None,
    handout_options: Mapping[str, Any] | None = None,
    what: str = "The corrected session",
) -> AmendmentDetail:
    """Add an amendment to a signed record (which never changes), assessed with the record's
    own medicine pack; ``notice`` of the result says when that pack's version changed.
    ``handout``, ``previewed``, ``handout_options``: as for ``sign``."""
    record = get_record(db, record_id)  # a clear message before the password is checked
    if not " ".join(reason.split()):
        raise UserError("Give the reason for the amendment")
    if kb is None:
        kb = record_pack(record, case)
    signer = _signer(db, username, password, "amend")
    assessment, kb, chosen = _signable(
        db, signer, case, kb, what, settings, handout, previewed, handout_options
    )
    notice = pack_change(record, kb)
    detail: dict[str, Any] = {
        "pack": assessment.knowledge_base.medicine,
        "pack_version": assessment.knowledge_base.version,
        "record_pack_version": record.summary.knowledge_base_version,
    }
    if notice:
        detail["pack_version_changed"] = notice
    amendment = amend_record(
        db, record_id, signer, case, assessment, chosen, reason, audit_detail=detail
    )
    log.info("amended record %s (amendment %s)", record_id, amendment.id)
    return dataclasses.replace(amendment, notice=notice)


def reprint(
    db: Database,
    record_id: int,
    *,
    username: str | AuthenticatedUser | None,
    amendment_id: int | None = None,
) -> bytes:
    """The handout of a record, the very bytes printed at signing; the reprint is audited."""
    stored = get_handout(db, record_id, amendment_id)
    pdf = stored.pdf
    record = get_record(db, record_id)
    version = next(
        (a.pack_version for a in record.amendments if a.id == amendment_id),
        record.summary.knowledge_base_version,
    )
    record_event(
        db,
        "reprint",
        user=username,
        record_id=record_id,
        amendment_id=amendment_id,
        detail={
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "bytes": len(pdf),
            "pack": record.pack,
            "pack_version": version,
        },
    )
    return pdf
