"""Who the patient is: one name folding and one key, for the course, the due list, the records
search and every export.

Two records are of one patient

- when they carry the same programme id (iPLEDGE patient ID, NHS number, the pharmacy's own
  number), whatever their names;
- otherwise when their folded names (letter case, accents and spacing ignored: "Lucía  García"
  and "LUCIA GARCIA") and their dates of birth are the same;
- and a record without a programme id is of the patient whose records under the same folded name
  and date of birth carry a programme id, when they carry exactly one. Two programme ids under
  one name and date of birth are two patients, and a record with neither stands alone: only the
  pharmacist can say whose it is.

Spellings that fold apart ("Ana Garcia" and "Ana García López") are never one patient here; the
course names them as look-alikes instead.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from collections.abc import Iterable

import msgspec

from pharmacist_tool.case import Patient

PUBLIC_ID_NAMESPACE = uuid.UUID("8b0c2f38-4d0e-5a57-9a4e-7e3f0c1d2a61")
"""Name-based UUIDs of patients in exports: the same patient, the same id, in every export."""


def fold_name(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: "  GARCÍA  Ana" → "garcia ana".

    The folded name is stored with every record (``patient_name_key``) and every course fill:
    changing what it does would part stored patients from their new records."""
    if text.isascii():  # nothing to decompose (most names; the course check folds each fill)
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def programme_id_of(text: str | None) -> str | None:
    """A programme id as typed, or ``None`` when none was (blank)."""
    return (text or "").strip() or None


def programme_key_text(programme_id: str) -> str:
    """The ``text`` of every key with this programme id, whatever its name and date of birth."""
    return f"id:{programme_id}"


class PatientKey(msgspec.Struct, frozen=True):
    """What one record says of who its patient is: the programme id (if any), the folded name
    and the date of birth. Two keys are of one patient when their ``text`` is the same; a key
    without a programme id may belong to a patient with one (``patient_of``). (A struct: one is
    made for every fill the course reads.)"""

    programme_id: str | None
    name: str
    """Folded (``fold_name``)."""
    date_of_birth: dt.date

    @classmethod
    def of(cls, patient: Patient) -> PatientKey:
        return cls.typed(patient.name, patient.date_of_birth, patient.programme_id)

    @classmethod
    def typed(
        cls, name: str, date_of_birth: dt.date, programme_id: str | None = None
    ) -> PatientKey:
        """The key of a name, date of birth and programme id as a person typed them."""
        return cls(programme_id_of(programme_id), fold_name(name), date_of_birth)

    @property
    def text(self) -> str:
        """The patient as the course index stores it (``course_due.patient_key``):
        ``id:<programme id>``, else ``name:<folded name>|<date of birth>``."""
        return programme_key_text(self.programme_id) if self.programme_id else self.name_text

    @property
    def name_text(self) -> str:
        """The key by the name and date of birth alone, as if no programme id were given."""
        return f"name:{self.name}|{self.date_of_birth.isoformat()}"

    @property
    def public_id(self) -> str:
        """The patient's id in exports (a name-based UUID of ``text``: the FHIR ``Patient``'s
        id, the CSV and JSON ``patient_id``)."""
        return str(uuid.uuid5(PUBLIC_ID_NAMESPACE, f"patient/{self.text}"))

    def same_name_and_birth(self, other: PatientKey) -> bool:
        return self.name == other.name and self.date_of_birth == other.date_of_birth


def same_patient(one: PatientKey, other: PatientKey, known: Iterable[PatientKey] = ()) -> bool:
    """Whether two records are of one patient, ``known`` being the keys of every record born on
    their days of birth (see ``patient_of``)."""
    known = list(known)
    return patient_of(one, known).text == patient_of(other, known).text


def programme_ids(key: PatientKey, known: Iterable[PatientKey]) -> set[str]:
    """The programme ids recorded under the key's folded name and date of birth."""
    return {k.programme_id for k in known if k.programme_id and k.same_name_and_birth(key)}


def patient_of(key: PatientKey, known: Iterable[PatientKey]) -> PatientKey:
    """The patient a record with ``key`` is of, ``known`` being the keys of (at least) every
    record with the same date of birth: its own programme id; else the one programme id
    recorded under its name and date of birth; else its name and date of birth."""
    if key.programme_id:
        return key
    ids = programme_ids(key, known)
    if len(ids) == 1:
        return PatientKey(ids.pop(), key.name, key.date_of_birth)
    return key
