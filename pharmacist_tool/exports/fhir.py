"""Counselling records as a FHIR R4 Bundle (JSON), written one entry at a time.

Each signed record becomes (see the HL7 standards listed in the README):

- ``Patient`` (once per patient and ``Practitioner`` once per pharmacist in a bundle): the
  course's patient (``pharmacist_tool.patient_identity``), so "Lucía García" and "Lucia Garcia"
  born the same day are one Patient, and so are records with and without the programme id that
  one name and date of birth carries; its id and ``identifier`` are the patient's export id (the
  CSV and JSON ``patient_id``), with the programme id as a second ``identifier`` when known;
- ``MedicationRequest``: the prescription; the programme's dispense authorization number (the
  iPLEDGE RMA in the US) is its ``identifier``, and also the ``MedicationDispense``'s;
- ``MedicationDispense``: handed over (``completed``, ``whenHandedOver``) or not (``declined``,
  with the reason);
- ``Procedure``: the counselling itself, category SNOMED CT 409063005 "Counseling"; the findings
  and what the pharmacist did about them are its notes;
- ``QuestionnaireResponse``: the counselling checklist, one boolean answer per item;
- ``DocumentReference``: the handout PDF exactly as printed (base64 data, SHA-1 ``hash`` as FHIR
  defines it, and the SHA-256 kept by the record as an identifier);
- a second ``DocumentReference`` (LOINC 51851-4 "Administrative note"), carrying the REMS
  dispense authorization number as the HL7 US Medication REMS IG (STU2) example does;
- ``Provenance``: the signature (who, when, the record's hash-chain values), and one more per
  amendment with its reason.

Each of these carries the medicine pack the record was assessed with as a ``meta.tag``
(system ``urn:pharmacist-tool:medicine-pack``, the pack as code, its version as version).

Resource ids are name-based UUIDs, so exporting the same record twice gives the same ids.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import IO, Any

import msgspec

from pharmacist_tool.patient_identity import PatientKey
from pharmacist_tool.records.course import HANDED_OVER
from pharmacist_tool.records.reading import RecordDetail, Signature, outcome_words

FHIR_VERSION = "4.0.1"
NAMESPACE = uuid.UUID("8b0c2f38-4d0e-5a57-9a4e-7e3f0c1d2a61")
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SYSTEM_USER = "urn:pharmacist-tool:user"
SYSTEM_PATIENT = "urn:pharmacist-tool:patient"
SYSTEM_PROGRAMME_ID = "urn:pharmacist-tool:programme-patient-id"
SYSTEM_RECORD = "urn:pharmacist-tool:record"
SYSTEM_SHA256 = "urn:pharmacist-tool:sha256"
SYSTEM_AUTHORIZATION = "urn:pharmacist-tool:rems-dispense-authorization"
SYSTEM_PACK = "urn:pharmacist-tool:medicine-pack"
SIGNATURE_TYPE = {
    "system": "urn:iso-astm:E1762-95:2013",
    "code": "1.2.840.10065.1.12.1.1",
    "display": "Author's Signature",
}


def resource_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def instant(value: dt.datetime) -> str:
    """A FHIR instant: always with a time zone (naive database times are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


def _ref(kind: str, rid: str, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"urn:uuid:{rid}", "type": kind}
    if display:
        ref["display"] = display
    return ref


def practitioner_id(signer: Signature) -> str:
    return resource_id("practitioner", signer.username)


def patient_resource(record: RecordDetail, key: PatientKey) -> dict[str, Any]:
    """The Patient of ``key`` (the course's patient of the record), named as in the record."""
    patient = record.current_case.patient
    identifiers: list[dict[str, Any]] = [{"system": SYSTEM_PATIENT, "value": key.public_id}]
    if key.programme_id:
        identifiers.append(
            {
                "type": {"text": "Programme patient number (iPLEDGE, NHS or the pharmacy's own)"},
                "system": SYSTEM_PROGRAMME_ID,
                "value": key.programme_id,
            }
        )
    return {
        "resourceType": "Patient",
        "id": key.public_id,
        "identifier": identifiers,
        "name": [{"text": patient.name}],
        "birthDate": patient.date_of_birth.isoformat(),
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": patient.handout_language}]
                },
                "preferred": True,
            }
        ],
    }


def practitioner_resource(signer: Signature) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id(signer),
        "identifier": [{"system": SYSTEM_USER, "value": signer.username}],
        "name": [{"text": signer.display}],
    }


def _medication(record: RecordDetail) -> dict[str, Any]:
    rx = record.current_case.prescription
    return {"text": f"{rx.medicine} {_num(rx.strength_mg)} mg"}


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _authorization_identifiers(record: RecordDetail) -> list[dict[str, Any]]:
    case = record.current_case
    number = case.prescription.authorization
    if not number:
        return []
    return [
        {
            "use": "official",
            "type": {"text": f"REMS dispense authorization number ({case.rule_set})"},
            "system": f"{SYSTEM_AUTHORIZATION}:{case.rule_set}",
            "value": number,
        }
    ]


def record_resources(record: RecordDetail, patient: PatientKey) -> list[dict[str, Any]]:
    """The resources of one record, except the shared Patient and Practitioner."""
    case = record.current_case
    rx = case.prescription
    rid = record.id
    patient_ref = _ref("Patient", patient.public_id, case.patient.name)
    signer_ref = _ref("Practitioner", practitioner_id(record.signature), record.signature.display)
    signed = instant(record.signed_at)
    ids = {
        kind: resource_id("record", rid, kind)
        for kind in (
            "MedicationRequest",
            "MedicationDispense",
            "Procedure",
            "QuestionnaireResponse",
            "DocumentReference",
            "RemsNote",
            "Provenance",
        )
    }
    record_identifier = [{"system": SYSTEM_RECORD, "value": str(rid)}]
    resources: list[dict[str, Any]] = []

    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": ids["MedicationRequest"],
        "identifier": _authorization_identifiers(record) or None,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": _medication(record),
        "subject": patient_ref,
        "authoredOn": rx.prescribed_on.isoformat(),
        "requester": {"display": rx.prescriber} if rx.prescriber else None,
        "dosageInstruction": [
            {
                "text": (
                    f"{rx.units_per_dose} × {_num(rx.strength_mg)} mg, "
                    f"{rx.doses_per_day} time(s) a day"
                ),
                "timing": {
                    "repeat": {"frequency": rx.doses_per_day, "period": 1, "periodUnit": "d"}
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": _num(rx.strength_mg * rx.units_per_dose),
                            "unit": "mg",
                            "system": UCUM,
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": rx.refills,
            "quantity": {"value": rx.quantity} if rx.quantity is not None else None,
            "expectedSupplyDuration": {
                "value": rx.days_supply,
                "unit": "days",
                "system": UCUM,
                "code": "d",
            },
        },
    }
    resources.append(request)

    handed_over = record.outcome in HANDED_OVER  # "declined": counselling declined, medicine given
    dispense: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": ids["MedicationDispense"],
        "identifier": _authorization_identifiers(record) or None,
        "status": "completed" if handed_over else "declined",
        "statusReasonCodeableConcept": (
            None if handed_over else {"text": record.outcome_reason or record.outcome}
        ),
        "medicationCodeableConcept": _medication(record),
        "subject": patient_ref,
        "performer": [{"actor": signer_ref}],
        "authorizingPrescription": [_ref("MedicationRequest", ids["MedicationRequest"])],
        "quantity": {"value": rx.quantity} if rx.quantity is not None else None,
        "daysSupply": {"value": rx.days_supply, "unit": "days", "system": UCUM, "code": "d"},
        "whenHandedOver": signed if handed_over else None,
    }
    resources.append(dispense)

    notes = [{"text": text} for text in _finding_notes(record)]
    if record.amendments:
        notes.append(
            {
                "text": f"Amended {len(record.amendments)} time(s) after signing; "
                "this export shows the record as last amended (see Provenance)."
            }
        )
    declined = record.outcome == "declined"
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": ids["Procedure"],
        "identifier": record_identifier,
        "status": "not-done" if declined else "completed",
        "statusReason": {"text": record.outcome_reason} if declined else None,
        "category": {
            "coding": [{"system": SNOMED, "code": "409063005", "display": "Counseling"}],
        },
        "code": {"text": f"Counselling for {rx.medicine} ({case.rule_set})"},
        "subject": patient_ref,
        "performedDateTime": case.counselled_on.isoformat(),
        "recorder": signer_ref,
        "performer": [{"actor": signer_ref}],
        "outcome": {"text": _outcome_text(record)},
        "report": [_ref("DocumentReference", ids["DocumentReference"])]
        if record.handout_sha256
        else None,
        "note": notes or None,
    }
    resources.append(procedure)

    questionnaire = f"urn:pharmacist-tool:questionnaire:{case.rule_set}"
    kb = (record.assessment or {}).get("knowledge_base") or {}
    if kb.get("version"):
        questionnaire += f"|{kb['version']}"
    items = [
        {
            "linkId": str(item_id),
            "text": title or None,
            "answer": [{"valueBoolean": bool(done)}],
        }
        for item_id, title, done in _checklist(record)
    ]
    resources.append(
        {
            "resourceType": "QuestionnaireResponse",
            "id": ids["QuestionnaireResponse"],
            "identifier": record_identifier[0],
            "questionnaire": questionnaire,
            "status": "completed",
            "subject": patient_ref,
            "authored": signed,
            "author": signer_ref,
            "partOf": [_ref("Procedure", ids["Procedure"])],
            "item": items or None,
        }
    )

    if record.handout_sha256:
        attachment: dict[str, Any] = {
            "contentType": "application/pdf",
            "language": case.patient.handout_language,
            "title": f"Handout for {case.patient.name}, {case.counselled_on.isoformat()}",
            "creation": signed,
        }
        if record.handout_pdf is not None:
            attachment["data"] = base64.b64encode(record.handout_pdf).decode("ascii")
            attachment["size"] = len(record.handout_pdf)
            attachment["hash"] = base64.b64encode(hashlib.sha1(record.handout_pdf).digest()).decode(
                "ascii"
            )
        resources.append(
            {
                "resourceType": "DocumentReference",
                "id": ids["DocumentReference"],
                "identifier": [{"system": SYSTEM_SHA256, "value": record.handout_sha256}],
                "status": "current",
                "docStatus": "final",
                "type": {"text": "Patient handout (counselling)"},
                "subject": patient_ref,
                "date": signed,
                "author": [signer_ref],
                "description": "The handout given to the patient, byte for byte as printed",
                "content": [{"attachment": attachment}],
                "context": {"related": [_ref("Procedure", ids["Procedure"])]},
            }
        )

    if rx.authorization:
        text = (
            f"REMS information for {case.patient.name}\n"
            f"Programme: {case.rule_set}\n"
            f"Medication: {rx.medicine} {_num(rx.strength_mg)} mg\n"
            f"Dispense authorization number: {rx.authorization}\n"
        )
        note_coding = {"system": LOINC, "code": "51851-4", "display": "Administrative note"}
        resources.append(
            {
                "resourceType": "DocumentReference",
                "id": ids["RemsNote"],
                "identifier": _authorization_identifiers(record),
                "status": "current",
                "type": {"coding": [note_coding], "text": "REMS administrative note"},
                "category": [{"coding": [note_coding]}],
                "subject": patient_ref,
                "date": signed,
                "description": "REMS dispense authorization",
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain",
                            "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                            "title": "REMS information",
                        }
                    }
                ],
                "context": {"related": [_ref("MedicationDispense", ids["MedicationDispense"])]},
            }
        )

    targets = [_ref(r["resourceType"], r["id"]) for r in resources]
    seal = msgspec.json.encode({"record_hash": record.row_hash, "previous_hash": record.prev_hash})
    resources.append(
        {
            "resourceType": "Provenance",
            "id": ids["Provenance"],
            "target": targets,
            "recorded": signed,
            "activity": {"text": "Signed counselling record"},
            "agent": [{"type": _agent_type("author"), "who": signer_ref}],
            "signature": [
                {
                    "type": [SIGNATURE_TYPE],
                    "when": signed,
                    "who": signer_ref,
                    "sigFormat": "application/json",
                    "data": base64.b64encode(seal).decode("ascii"),
                }
            ],
        }
    )
    for amendment in record.amendments:
        who = _ref(
            "Practitioner", practitioner_id(amendment.signature), amendment.signature.display
        )
        when = instant(amendment.signature.signed_at)
        amend_seal = msgspec.json.encode({"record_hash": amendment.row_hash})
        resources.append(
            {
                "resourceType": "Provenance",
                "id": resource_id("record", rid, "amendment", amendment.id),
                "target": targets,
                "recorded": when,
                "activity": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                            "code": "UPDATE",
                            "display": "revise",
                        }
                    ],
                    "text": "Amendment",
                },
                "reason": [{"text": amendment.reason}],
                "agent": [{"type": _agent_type("author"), "who": who}],
                "signature": [
                    {
                        "type": [SIGNATURE_TYPE],
                        "when": when,
                        "who": who,
                        "sigFormat": "application/json",
                        "data": base64.b64encode(amend_seal).decode("ascii"),
                    }
                ],
            }
        )
    tag = _pack_tag(record)
    for resource in resources if tag else ():
        resource["meta"] = {"tag": [tag]}
    return [_prune(r) for r in resources]


def _pack_tag(record: RecordDetail) -> dict[str, Any] | None:
    """The medicine pack the record was assessed with, as a ``meta.tag`` coding (its version as
    last amended, like the rest of the export)."""
    if not record.pack:
        return None
    return {
        "system": SYSTEM_PACK,
        "version": record.pack_version or None,
        "code": record.pack,
        "display": f"Assessed with the {record.pack} pack, version {record.pack_version}",
    }


def _agent_type(code: str) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "code": code,
            }
        ]
    }


def _outcome_text(record: RecordDetail) -> str:
    text = outcome_words(record.outcome).capitalize()
    return f"{text}: {record.outcome_reason}" if record.outcome_reason else text


def _finding_notes(record: RecordDetail) -> list[str]:
    return list(record.current.facts.findings)


def _checklist(record: RecordDetail) -> list[tuple[str, str, bool]]:
    entries = (record.assessment or {}).get("checklist")
    if entries:
        return [(str(e.get("id")), str(e.get("title") or ""), bool(e.get("done"))) for e in entries]
    return [(key, "", done) for key, done in record.current_case.checklist.items()]


def _prune(value: Any) -> Any:
    """Drop empty values (FHIR forbids empty elements and nulls)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [_prune(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


class BundleWriter:
    """Writes one Bundle of type ``collection`` entry by entry (memory stays flat)."""

    def __init__(self, handle: IO[bytes], *, exported_at: dt.datetime | None = None) -> None:
        self._handle = handle
        self._first = True
        self._seen: set[str] = set()
        self._encoder = msgspec.json.Encoder()
        when = exported_at or dt.datetime.now(dt.UTC)
        bundle_id = str(uuid.uuid4())
        head = {
            "resourceType": "Bundle",
            "id": bundle_id,
            "meta": {"lastUpdated": instant(when)},
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
            "type": "collection",
            "timestamp": instant(when),
        }
        encoded = self._encoder.encode(head)
        handle.write(encoded[:-1])  # the closing brace comes in close()

    def _entry(self, resource: dict[str, Any]) -> None:
        data = self._encoder.encode({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
        self._handle.write((b',"entry":[\n' if self._first else b",\n") + data)
        self._first = False

    def add(self, record: RecordDetail, patient: PatientKey) -> None:
        """The record's resources, and its patient's (``patient``: the course's patient of the
        record) and pharmacists' when the bundle has none yet."""
        if patient.public_id not in self._seen:
            self._seen.add(patient.public_id)
            self._entry(patient_resource(record, patient))
        signers = [record.signature, *(a.signature for a in record.amendments)]
        for signer in signers:
            practitioner = practitioner_resource(signer)
            if practitioner["id"] not in self._seen:
                self._seen.add(practitioner["id"])
                self._entry(practitioner)
        for resource in record_resources(record, patient):
            self._entry(resource)

    def close(self) -> None:
        # FHIR JSON has no empty arrays: a bundle without records has no "entry" at all.
        self._handle.write(b"}\n" if self._first else b"]}\n")
