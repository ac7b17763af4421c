"""The one way records are written: signing, amending and the audit log.

Everything here takes an open ``Database`` (``db.open_database``) and returns plain frozen
dataclasses from ``reading``: no session or ORM object leaves this module.

- ``sign_record(db, signer, case, assessment, handout)`` stores a finished session;
- ``amend_record(db, record_id, signer, case, assessment, handout, reason)`` appends an amendment;
- ``record_event(db, action, user=…, record_id=…, detail=…)`` appends an audit event (view,
  print, reprint, export, …).

Who may sign, and the session's whole path (password, assessment, handout, then these), is
``usecases``; what the signature covers and how it is read back is ``reading``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmacist_tool import __version__
from pharmacist_tool.case import Case, dump_case
from pharmacist_tool.engine.assessment import Assessment, encode_assessment
from pharmacist_tool.engine.readiness import missing_for_signing
from pharmacist_tool.errors import UserError
from pharmacist_tool.patient_identity import PatientKey
from pharmacist_tool.records import chain, course
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import Amendment, AuditEvent, Record, User
from pharmacist_tool.records.reading import (
    MAX_ID,
    AmendmentDetail,
    RecordSummary,
    amendment_detail,
    summary_of,
)
from pharmacist_tool.records.users import (
    AuthenticatedUser,
    refuse_shared_printed_name,
    require_signer,
    utcnow,
    workstation,
)

AUDIT_ACTIONS = frozenset(
    {
        "sign",
        "amend",
        "view",
        "print",
        "reprint",
        "export",
        "report",
        "export-abandoned",
        "login",
        "logout",
        "login-failed",
        "account-locked",
        "user-added",
        "backup",
        "restore",
        "settings-changed",
        "audit-read",
    }
)

SIGNATURE_MEANINGS: dict[str, str] = {
    "handed-over": "Counselled the patient and approved hand-over of the medicine",
    "not-handed-over": "Recorded that the medicine was not handed over",
    "declined": "Recorded that the patient declined counselling, and approved hand-over",
}
AMENDMENT_MEANING = "Amended the counselling record (the original is kept unchanged)"


class HandoutLike(Protocol):
    """What signing needs of a handout (``pharmacist_tool.handout.Handout`` has it)."""

    @property
    def pdf(self) -> bytes: ...
    @property
    def sha256(self) -> str: ...
    @property
    def template_version(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def large_print(self) -> bool: ...
    @property
    def paper(self) -> str: ...


# -- writing --------------------------------------------------------------------------------


def _check_ready(case: Case, assessment: Assessment) -> None:
    missing = missing_for_signing(case, assessment)
    if missing:
        raise UserError("The session is not finished; before signing:", details=missing)


def _handout_fields(handout: HandoutLike) -> dict[str, Any]:
    pdf = bytes(handout.pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    if handout.sha256 and handout.sha256 != digest:
        raise UserError("The handout's bytes do not match its SHA-256: it was not stored")
    return {
        "handout_pdf": pdf,
        "handout_sha256": digest,
        "handout_template_version": str(handout.template_version)[:80],
        "handout_language": str(handout.language)[:10],
        "handout_large_print": bool(handout.large_print),
        "handout_paper": str(handout.paper)[:20],
        "handout_source": str(getattr(handout, "source", "rendered"))[:20],
    }


def _event(
    session: Session,
    head: Any,
    action: str,
    *,
    at: dt.datetime,
    username: str | None,
    user_id: int | None,
    record_id: int | None = None,
    amendment_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    key: Ed25519PrivateKey | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        action=action,
        username=username,
        user_id=user_id,
        record_id=record_id,
        amendment_id=amendment_id,
        detail=json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False, default=str),
        workstation=workstation(),
    )
    chain.append(session, head, event, key)
    return event


def sign_record(
    db: Database,
    signer: AuthenticatedUser,
    case: Case,
    assessment: Assessment,
    handout: HandoutLike,
    *,
    prepared_by: str | None = None,
) -> RecordSummary:
    """Store a finished session as a signed record (``signer`` authenticated just now).

    Refuses a non-pharmacist and an unfinished session (``UserError`` listing what is missing).
    The record, its audit event and the chain head move together in one transaction.
    """
    require_signer(signer)
    key = signer.key("Not signed")
    _check_ready(case, assessment)
    assert case.outcome is not None
    kb = assessment.knowledge_base
    values = _handout_fields(handout)
    now = utcnow()
    record = Record(
        signed_at=now,
        user_id=signer.id,
        signer_username=signer.username,
        signer_full_name=signer.printed_name,
        signer_role=signer.role,
        signature_meaning=SIGNATURE_MEANINGS[case.outcome.status],
        prepared_by=prepared_by,
        workstation=workstation(),
        app_version=__version__,
        patient_name=case.patient.name,
        patient_name_key=PatientKey.of(case.patient).name,
        patient_date_of_birth=case.patient.date_of_birth,
        counselled_on=case.counselled_on,
        rule_set=case.rule_set,
        medicine=assessment.product or case.prescription.medicine,
        outcome=case.outcome.status,
        outcome_reason=case.outcome.reason,
        dispense=assessment.dispense,
        knowledge_base_version=kb.version,
        rules_version=kb.rules_version,
        rules_effective_from=kb.rules_effective_from,
        pack=kb.medicine,
        case_json=dump_case(case).decode("utf-8"),
        assessment_json=encode_assessment(assessment).decode("utf-8"),
        **values,
    )
    with db.session(write=True) as session, chain.appending(session) as head:
        refuse_shared_printed_name(session, signer, "Not signed")
        chain.append(session, head, record, key)
        course.index_fill(session, record.id, case, assessment)  # the course across visits
        _event(
            session,
            head,
            "sign",
            key=key,
            at=now,
            username=signer.username,
            user_id=signer.id,
            record_id=record.id,
            detail={
                "outcome": record.outcome,
                "handout_sha256": record.handout_sha256,
                "meaning": record.signature_meaning,
            },
        )
    return summary_of(record, 0)


def amend_record(
    db: Database,
    record_id: int,
    signer: AuthenticatedUser,
    case: Case,
    assessment: Assessment,
    handout: HandoutLike,
    reason: str,
    *,
    audit_detail: Mapping[str, Any] | None = None,
) -> AmendmentDetail:
    """Append an amendment to a signed record; the record itself never changes.
    ``audit_detail``: more for the amendment's audit event (the pack it was assessed with)."""
    require_signer(signer)
    key = signer.key("Not amended")
    reason = " ".join(reason.split())
    if not reason:
        raise UserError("Give the reason for the amendment (--reason)")
    if len(reason) > 2000:
        raise UserError("The reason is too long (at most 2000 characters)")
    _check_ready(case, assessment)
    assert case.outcome is not None
    values = _handout_fields(handout)
    now = utcnow()
    amendment = Amendment(
        record_id=record_id,
        amended_at=now,
        user_id=signer.id,
        signer_username=signer.username,
        signer_full_name=signer.printed_name,
        signer_role=signer.role,
        signature_meaning=AMENDMENT_MEANING,
        reason=reason,
        workstation=workstation(),
        app_version=__version__,
        patient_name=case.patient.name,
        patient_date_of_birth=case.patient.date_of_birth,
        counselled_on=case.counselled_on,
        outcome=case.outcome.status,
        outcome_reason=case.outcome.reason,
        knowledge_base_version=assessment.knowledge_base.version,
        rules_version=assessment.knowledge_base.rules_version,
        case_json=dump_case(case).decode("utf-8"),
        assessment_json=encode_assessment(assessment).decode("utf-8"),
        **values,
    )
    if not 1 <= record_id <= MAX_ID:
        raise UserError(f"There is no record {record_id}")
    with db.session(write=True) as session:
        if session.execute(select(Record.id).where(Record.id == record_id)).first() is None:
            raise UserError(f"There is no record {record_id}")
        refuse_shared_printed_name(session, signer, "Not amended")
        with chain.appending(session) as head:
            chain.append(session, head, amendment, key)
            course.index_fill(session, record_id, case, assessment, amendment_id=amendment.id)
            _event(
                session,
                head,
                "amend",
                key=key,
                at=now,
                username=signer.username,
                user_id=signer.id,
                record_id=record_id,
                amendment_id=amendment.id,
                detail={
                    **dict(audit_detail or {}),
                    "reason": reason,
                    "handout_sha256": amendment.handout_sha256,
                },
            )
    return amendment_detail(amendment, include_handout=False)


def record_event(
    db: Database,
    action: str,
    *,
    user: AuthenticatedUser | str | None = None,
    record_id: int | None = None,
    amendment_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append an audit event; returns its id. ``action``: one of ``AUDIT_ACTIONS``
    (the window: view, print, reprint, login/logout; the exports: export)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; use one of {sorted(AUDIT_ACTIONS)}")
    username = user.username if isinstance(user, AuthenticatedUser) else user
    user_id = user.id if isinstance(user, AuthenticatedUser) else None
    with db.session(write=True) as session:
        if user_id is None and username:
            user_id = session.execute(
                select(User.id).where(User.username == username)
            ).scalar_one_or_none()
        with chain.appending(session) as head:
            event = _event(
                session,
                head,
                action,
                at=utcnow(),
                username=username,
                user_id=user_id,
                record_id=record_id,
                amendment_id=amendment_id,
                detail=detail,
                key=user.signing_key if isinstance(user, AuthenticatedUser) else None,
            )
        return event.id
