"""The patient each signed record is of, for the exports: the course's patient
(``pharmacist_tool.patient_identity``), read from the signed records as last amended, never from
the course index (which is outside the hash chain).

A record with a programme id is that id's patient. One without is of the one programme id
recorded under its folded name and date of birth, so the records of everyone born on its day are
read (once a day of birth, a batch of records at a time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from pharmacist_tool.patient_identity import PatientKey, patient_of

RawReader = Callable[[str], Sequence[Sequence[Any]]]
"""Runs one read-only statement (no parameters: dates are put in as literals)."""


class _Who(msgspec.Struct):
    name: str
    date_of_birth: dt.date
    programme_id: str | None = None


class _CaseWho(msgspec.Struct):
    """Who a signed case is about (the rest of the case is skipped unread)."""

    patient: _Who


_decode_who = msgspec.json.Decoder(_CaseWho).decode


def signed_patient_key(case_json: str | bytes) -> PatientKey:
    """What a signed case says of who its patient is."""
    who = _decode_who(case_json).patient
    return PatientKey.typed(who.name, who.date_of_birth, who.programme_id)


def _days(days: Iterable[dt.date]) -> str:
    return ", ".join(f"'{day.isoformat()}'" for day in sorted(days))


def _numbered_born_on_sql(days: Iterable[dt.date]) -> str:
    """Each record's case as last amended, of the records born on ``days`` as signed or as
    amended (an amendment may have changed the date of birth)."""
    listed = _days(days)
    return (
        "SELECT COALESCE(a.case_json, r.case_json) FROM records r LEFT JOIN amendments a ON "
        "a.id = (SELECT MAX(m.id) FROM amendments m WHERE m.record_id = r.id) "
        f"WHERE r.patient_date_of_birth IN ({listed}) OR r.id IN "
        f"(SELECT record_id FROM amendments WHERE patient_date_of_birth IN ({listed}))"
    )


class Patients:
    """The course's patient of each record's key, within one read (an export's snapshot)."""

    def __init__(self, run: RawReader) -> None:
        self._run = run
        self._numbered: dict[dt.date, list[PatientKey]] = {}
        """Each day of birth read: the keys with a programme id of the records born that day."""

    def of(self, keys: Sequence[PatientKey]) -> list[PatientKey]:
        """The patient of each key (a key with a programme id is its own)."""
        unread = {k.date_of_birth for k in keys if not k.programme_id} - self._numbered.keys()
        if unread:
            self._read(unread)
        return [
            key if key.programme_id else patient_of(key, self._numbered[key.date_of_birth])
            for key in keys
        ]

    def _read(self, days: set[dt.date]) -> None:
        for day in days:
            self._numbered[day] = []
        for (case_json,) in self._run(_numbered_born_on_sql(days)):
            try:
                key = signed_patient_key(str(case_json))
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # unreadable signed JSON: the chain's own check names that record
            if key.programme_id and key.date_of_birth in days:
                self._numbered[key.date_of_birth].append(key)
