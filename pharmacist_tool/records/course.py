"""The patient's course across monthly visits: ``course``, ``next`` and ``due``.

Who the patient is is decided by ``pharmacist_tool.patient_identity`` (the same key the due
list, the records search and the exports use): the same programme id, else the same folded name
and date of birth, a record without a programme id joining the one programme id recorded under
its name and date of birth. Two spellings of a name are never merged here: the reader is told of
them (``similar``), and only the pharmacist can decide.

Every value comes from the signed records as last amended, through the read model in
``course_fills`` (one row a record, written with the record or amendment in the same
transaction) and ``course_due`` (what falls due, recomputed with each fill of the patient).
Only fills whose medicine was handed over count toward the dose ("counselling declined" is
signed as approving the hand-over, so it counts too).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Date, bindparam, delete, text
from sqlalchemy.orm import Session

from pharmacist_tool.case import Case, Course
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine.carried import carried_duties, carry
from pharmacist_tool.errors import UserError
from pharmacist_tool.patient_identity import (
    PatientKey,
    patient_of,
    programme_id_of,
    programme_ids,
    programme_key_text,
)
from pharmacist_tool.records.models import CourseDue, CourseFill
from pharmacist_tool.records.reading import get_record

if TYPE_CHECKING:
    from pharmacist_tool.engine.assessment import Assessment
    from pharmacist_tool.records.db import Database

HANDED_OVER = frozenset({"handed-over", "declined"})
"""Outcomes whose signature approves handing the medicine over."""

OVERDUE_SHOWN_DAYS = 31
"""An overdue next fill or test stays on the due list this many days (a month of visits);
a reversal of an authorization stays until it is recorded as done."""

FOREVER = dt.date(9999, 12, 31)
DUE_KINDS = ("next-fill", "pregnancy-test", "after-course-pregnancy-test", "reverse-authorization")
SIMILAR_NAME_RATIO = 0.8


# -- from a signed case to its row -----------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def fill_values(case: Case, assessment: Mapping[str, Any]) -> dict[str, Any]:
    """The ``course_fills`` columns of one signed (or amended) case and its assessment."""
    rx, course = case.prescription, case.course
    after = assessment.get("after_course") or {}
    check = case.programme_check
    key = PatientKey.of(case.patient)
    return {
        "programme_id": key.programme_id,
        "patient_name": case.patient.name,
        "patient_name_key": key.name,
        "patient_date_of_birth": case.patient.date_of_birth,
        "can_get_pregnant": case.patient.can_get_pregnant,
        "weight_kg": case.patient.weight_kg,
        "counselled_on": case.counselled_on,
        "rule_set": case.rule_set,
        "medicine": str(assessment.get("product") or rx.medicine),
        "outcome": case.outcome.status if case.outcome else "not-handed-over",
        "daily_dose_mg": round(rx.daily_dose_mg, 2),
        "days_supply": rx.days_supply,
        "fill_number": course.fill_number if course else None,
        "cumulative_mg_before": course.cumulative_mg_before if course else None,
        "last_fill": bool(course and course.last_fill),
        "next_pregnancy_test_due": _date(assessment.get("next_pregnancy_test_due")),
        "after_course_test_due": _date(after.get("pregnancy_test_due")),
        "pick_up_by": _date(assessment.get("pick_up_by")),
        "authorization_number": (rx.authorization or "").strip() or None,
        "authorization_reversed_on": check.authorization_reversed_on if check else None,
    }


def _assessment_dict(assessment: Assessment | Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(assessment, str):
        data: dict[str, Any] = json.loads(assessment)
        return data
    if isinstance(assessment, Mapping):
        return assessment
    from pharmacist_tool.engine.assessment import encode_assessment

    decoded: dict[str, Any] = json.loads(encode_assessment(assessment))
    return decoded


def index_fill(
    session: Session,
    record_id: int,
    case: Case,
    assessment: Assessment | Mapping[str, Any] | str,
    *,
    amendment_id: int | None = None,
) -> None:
    """Write (or replace) the record's fill as signed or amended, and what falls due for the
    patient. Call it in the transaction that stores the record or the amendment."""
    values = fill_values(case, _assessment_dict(assessment))
    row = session.get(CourseFill, record_id)
    before: Fill | None = None
    if row is None:
        row = CourseFill(record_id=record_id, amendment_id=amendment_id, **values)
        session.add(row)
    else:
        before = Fill(
            record_id=record_id,
            amendment_id=row.amendment_id,
            **{k: getattr(row, k) for k in values},
        )
        row.amendment_id = amendment_id
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    refresh_due(session, row)
    if before is not None and patient_key(before) != patient_key(row):
        refresh_due(session, before)


def rebuild_course_index(session: Session) -> int:
    """Make ``course_fills`` and ``course_due`` again from the signed records (as last amended).

    Reads only the columns it needs, so it runs inside any later migration too."""
    session.execute(delete(CourseDue))
    session.execute(delete(CourseFill))
    latest: dict[int, tuple[int, str, str]] = {}
    for amendment_id, record_id, case_json, assessment_json in session.execute(
        text("SELECT id, record_id, case_json, assessment_json FROM amendments ORDER BY id")
    ):
        latest[int(record_id)] = (int(amendment_id), case_json, assessment_json)
    count = 0
    rows = session.execute(
        text("SELECT id, case_json, assessment_json FROM records ORDER BY id")
    ).all()
    for record_id, case_json, assessment_json in rows:
        amendment_id = None
        if record_id in latest:
            amendment_id, case_json, assessment_json = latest[record_id]
        case = msgspec.json.decode(case_json, type=Case)
        index_fill(session, int(record_id), case, assessment_json, amendment_id=amendment_id)
        count += 1
    return count


# -- who is the patient ----------------------------------------------------------------------

FILL_COLUMNS = (
    "record_id", "amendment_id", "programme_id", "patient_name", "patient_name_key",
    "patient_date_of_birth", "can_get_pregnant", "weight_kg", "counselled_on", "rule_set",
    "medicine", "outcome", "daily_dose_mg", "days_supply", "fill_number",
    "cumulative_mg_before", "last_fill", "next_pregnancy_test_due", "after_course_test_due",
    "pick_up_by", "authorization_number", "authorization_reversed_on",
)  # fmt: skip
_COLUMNS_SQL = ", ".join(FILL_COLUMNS)

BY_PROGRAMME_ID_SQL = (
    f"SELECT {_COLUMNS_SQL} FROM course_fills WHERE patient_date_of_birth IN "
    "(SELECT patient_date_of_birth FROM course_fills WHERE programme_id = :pid)"
)
"""One indexed query: every fill with one of the patient's dates of birth — their own fills
(each has its own date of birth), those from before the number was known, and the look-alike
names to report. (No ``programme_id = :pid OR …``: PostgreSQL would scan the table for it.)"""

BY_BIRTH_SQL = f"SELECT {_COLUMNS_SQL} FROM course_fills WHERE patient_date_of_birth = :born"


class Fill(msgspec.Struct, frozen=True):
    """One row of ``course_fills``: a signed fill as last amended (a struct: made by the
    thousand, and a dataclass's ``__init__`` would cost more than the query)."""

    record_id: int
    amendment_id: int | None
    programme_id: str | None
    patient_name: str
    patient_name_key: str
    patient_date_of_birth: dt.date
    can_get_pregnant: bool
    weight_kg: float
    counselled_on: dt.date
    rule_set: str
    medicine: str
    outcome: str
    daily_dose_mg: float
    days_supply: int
    fill_number: int | None
    cumulative_mg_before: float | None
    last_fill: bool
    next_pregnancy_test_due: dt.date | None
    after_course_test_due: dt.date | None
    pick_up_by: dt.date | None
    authorization_number: str | None
    authorization_reversed_on: dt.date | None


def _fill(row: Sequence[Any]) -> Fill:
    """A ``FILL_COLUMNS`` row as a ``Fill`` (unpacked by name: this runs for every row read)."""
    (record_id, amendment_id, programme_id, name, name_key, born, can_get_pregnant, weight,
     on, rule_set, medicine, outcome, dose, days, number, before, last_fill, test_due,
     after_due, pick_up_by, authorization, reversed_on) = row  # fmt: skip
    if born.__class__ is str:  # SQLite: dates are the ISO text they are stored as
        born, on = _iso(born), _iso(on)
        test_due = test_due and _iso(test_due)
        after_due = after_due and _iso(after_due)
        pick_up_by = pick_up_by and _iso(pick_up_by)
        reversed_on = reversed_on and _iso(reversed_on)
    return Fill(
        record_id, amendment_id, programme_id, name, name_key, born, bool(can_get_pregnant),
        weight, on, rule_set, medicine, outcome, dose, days, number, before, bool(last_fill),
        test_due, after_due, pick_up_by, authorization, reversed_on,
    )  # fmt: skip


_iso = dt.date.fromisoformat


Reader = Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]
"""Runs one of this module's SQL statements: ``Database.read_rows`` outside a transaction, or
``_in_session`` inside the transaction that writes a fill."""

_TEXT = {
    BY_PROGRAMME_ID_SQL: text(BY_PROGRAMME_ID_SQL),
    BY_BIRTH_SQL: text(BY_BIRTH_SQL).bindparams(bindparam("born", type_=Date())),
}


def _in_session(session: Session) -> Reader:
    def read(sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        return session.execute(_TEXT[sql], params).all()

    return read


def patient_key(fill: Fill | CourseFill) -> PatientKey:
    """What the fill's record says of who its patient is."""
    return PatientKey(fill.programme_id, fill.patient_name_key, fill.patient_date_of_birth)


def _row_key(row: Sequence[Any]) -> PatientKey:
    return PatientKey(row[_PID], row[_KEY], _as_date(row[_BORN]))


def _as_date(value: Any) -> dt.date:
    return _iso(value) if value.__class__ is str else value


_WHEN = attrgetter("counselled_on", "record_id")


def _ordered(fills: Iterable[Fill]) -> list[Fill]:
    """Oldest first (each query returns a record once)."""
    return sorted(fills, key=_WHEN)


class _Found(msgspec.Struct, frozen=True):
    key: str
    fills: list[Fill]
    others: list[Fill]
    """Fills of other patients born on one of the same days whose names look alike."""


_PID, _KEY, _BORN = (FILL_COLUMNS.index(c) for c in
                     ("programme_id", "patient_name_key", "patient_date_of_birth"))  # fmt: skip


def _look_alike(rows: Iterable[Sequence[Any]], keys: Iterable[str]) -> list[Fill]:
    """Of other patients' rows, the fills whose name looks like one of ``keys`` (only these
    are made into fills: most patients born the same day have nothing in common)."""
    alike = _alike_to(keys)
    seen: dict[str, bool] = {}
    found = []
    for row in rows:
        key = row[_KEY]
        if key not in seen:
            seen[key] = alike(key)
        if seen[key]:
            found.append(_fill(row))
    return found


def _by_programme_id(read: Reader, programme_id: str, *, similar: bool = True) -> _Found:
    rows = read(BY_PROGRAMME_ID_SQL, {"pid": programme_id})
    mine = [r for r in rows if r[_PID] == programme_id]
    others: list[Fill] = []
    if len(mine) < len(rows):  # fills from before the id was known, and others born that day
        names = {(r[_KEY], r[_BORN]) for r in mine}
        numbered: list[PatientKey] = []
        rest: list[Sequence[Any]] = []
        for r in rows:
            if r[_PID] is None and (r[_KEY], r[_BORN]) in names:
                # Theirs unless another programme id is recorded under the name too.
                numbered = numbered or [_row_key(n) for n in rows if n[_PID]]
                patient = patient_of(_row_key(r), numbered)
                (mine if patient.programme_id == programme_id else rest).append(r)
            elif r[_PID] != programme_id:
                rest.append(r)
        others = _look_alike(rest, {key for key, _ in names}) if similar else []
    return _Found(programme_key_text(programme_id), _ordered(map(_fill, mine)), others)


def _by_name(
    read: Reader, name_key: str, born: dt.date, *, strict: bool = True, similar: bool = True
) -> _Found:
    """The fills of a name and date of birth. Two programme ids among them are two patients:
    refused (``strict``), else the fills without an id stand alone."""
    rows = read(BY_BIRTH_SQL, {"born": born})
    key = PatientKey(None, name_key, born)
    named = [r for r in rows if r[_KEY] == name_key]
    ids = sorted(programme_ids(key, map(_row_key, named)))
    if len(ids) == 1:
        return _by_programme_id(read, ids[0], similar=similar)
    if len(ids) > 1:
        if strict:
            raise UserError(
                f"More than one patient has this name and date of birth (programme ids "
                f"{', '.join(ids)}): find the patient with --patient-id."
            )
        named = [r for r in named if r[_PID] is None]
    taken = {id(r) for r in named}
    others = _look_alike([r for r in rows if id(r) not in taken], [name_key]) if similar else []
    return _Found(key.text, _ordered(map(_fill, named)), others)


def _group(read: Reader, fill: Fill | CourseFill, *, similar: bool = True) -> _Found:
    """The fill's patient (``similar``: with the look-alike names of others born that day)."""
    if fill.programme_id:
        return _by_programme_id(read, fill.programme_id, similar=similar)
    return _by_name(
        read, fill.patient_name_key, fill.patient_date_of_birth, strict=False, similar=similar
    )


# -- the course ------------------------------------------------------------------------------


def handed_over(fill: Fill) -> bool:
    return fill.outcome in HANDED_OVER


def fill_mg(fill: Fill) -> float:
    return round(fill.daily_dose_mg * fill.days_supply, 2)


class CourseSummary(msgspec.Struct, frozen=True):
    """The figures of a course from its fills (oldest first)."""

    cumulative_mg: float
    cumulative_mg_per_kg: float | None
    next_fill_due: dt.date | None
    next_pregnancy_test_due: dt.date | None
    ended: bool
    last_handed_over: Fill | None


def summarise(fills: Sequence[Fill]) -> CourseSummary:
    """Doses before the first fill here (its ``cumulative_mg_before``) plus every handed-over
    fill; the weight of the newest visit; the dates from the newest fills."""
    if not fills:
        return CourseSummary(0, None, None, None, False, None)
    given = [f for f in fills if f.outcome in HANDED_OVER]
    base = fills[0].cumulative_mg_before or 0.0
    total = round(base + sum([f.daily_dose_mg * f.days_supply for f in given]), 2)
    newest = fills[-1]
    last = given[-1] if given else None
    ended = bool(last and last.last_fill)
    next_fill = None
    if last is not None and not ended:
        next_fill = last.counselled_on + dt.timedelta(days=last.days_supply)
    test = last.after_course_test_due if ended and last else newest.next_pregnancy_test_due
    return CourseSummary(
        cumulative_mg=total,
        cumulative_mg_per_kg=round(total / newest.weight_kg, 2),
        next_fill_due=next_fill,
        next_pregnancy_test_due=test,
        ended=ended,
        last_handed_over=last,
    )


class SimilarPatient(msgspec.Struct, frozen=True):
    """Records with the same date of birth and a name that looks alike: not merged."""

    name: str
    date_of_birth: dt.date
    programme_id: str | None
    record_ids: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "programme_id": self.programme_id,
            "record_ids": list(self.record_ids),
        }


class PatientCourse(msgspec.Struct, frozen=True):
    name: str
    date_of_birth: dt.date
    programme_id: str | None
    fills: tuple[Fill, ...]
    summary: CourseSummary
    similar: tuple[SimilarPatient, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON (and ``similar_not_merged``, the spellings left apart)."""

        from pharmacist_tool.records.authorization_dates import authorization_expires_on

        def iso(day: dt.date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "patient": {
                "name": self.name,
                "date_of_birth": self.date_of_birth.isoformat(),
                "programme_id": self.programme_id,
            },
            "fills": [
                {
                    "record_id": f.record_id,
                    "counselled_on": f.counselled_on.isoformat(),
                    "medicine": f.medicine,
                    "daily_dose_mg": f.daily_dose_mg,
                    "days_supply": f.days_supply,
                    "outcome": f.outcome,
                    "authorization_expires_on": iso(authorization_expires_on(f)),
                }
                for f in self.fills
            ],
            "cumulative_mg": self.summary.cumulative_mg,
            "cumulative_mg_per_kg": self.summary.cumulative_mg_per_kg,
            "next_fill_due": iso(self.summary.next_fill_due),
            "next_pregnancy_test_due": iso(self.summary.next_pregnancy_test_due),
            "similar_not_merged": [s.to_json() for s in self.similar],
        }


def _similar(found: _Found) -> tuple[SimilarPatient, ...]:
    groups: dict[tuple[str, dt.date, str | None], list[Fill]] = {}
    for other in found.others:
        group = (other.patient_name_key, other.patient_date_of_birth, other.programme_id)
        groups.setdefault(group, []).append(other)
    return tuple(
        SimilarPatient(
            name=rows[-1].patient_name,
            date_of_birth=born,
            programme_id=programme_id,
            record_ids=tuple(sorted(r.record_id for r in rows)),
        )
        for (_, born, programme_id), rows in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
        )
    )


def names_alike(one: str, other: str) -> bool:
    """Folded names that may be one person's: close spelling, or one's words all in the
    other ("ana garcia" and "ana garcia lopez")."""
    return _alike_to([other])(one)


def _alike_to(keys: Iterable[str]) -> Callable[[str], bool]:
    """``names_alike(name, key)`` for any of ``keys``, each key's matcher made once."""
    matchers = [(set(key.split()), difflib.SequenceMatcher(None, "", key)) for key in keys]

    def alike(name: str) -> bool:
        words = set(name.split())
        for key_words, matcher in matchers:
            if words and key_words and (words <= key_words or key_words <= words):
                return True
            matcher.set_seq1(name)
            # The quick upper bounds first (difflib's own idiom): most names differ at once.
            if (
                matcher.real_quick_ratio() >= SIMILAR_NAME_RATIO
                and matcher.quick_ratio() >= SIMILAR_NAME_RATIO
                and matcher.ratio() >= SIMILAR_NAME_RATIO
            ):
                return True
        return False

    return alike


def _course(found: _Found) -> PatientCourse:
    fills = found.fills
    newest = fills[-1]
    ids = [f.programme_id for f in fills if f.programme_id]
    return PatientCourse(
        name=newest.patient_name,
        date_of_birth=newest.patient_date_of_birth,
        programme_id=ids[-1] if ids else None,
        fills=tuple(fills),
        summary=summarise(fills),
        similar=_similar(found),
    )


def find_course(
    db: Database,
    *,
    programme_id: str | None = None,
    name: str | None = None,
    date_of_birth: dt.date | None = None,
) -> PatientCourse:
    """The patient's course; ``UserError`` when there is no such patient.

    By programme id it is one statement (no transaction needed to see one state); by name, a
    second one only when the name carries a programme id."""
    from pharmacist_tool.records.course_check import RecordingReader, check_neighbourhood

    read = RecordingReader(db.read_rows)
    wanted_id = programme_id_of(programme_id)
    if wanted_id is not None:
        found = _by_programme_id(read, wanted_id)
        who = f"programme id {wanted_id}"
    elif name and name.strip() and date_of_birth is not None:
        key = PatientKey.typed(name, date_of_birth)
        found = _by_name(read, key.name, key.date_of_birth)
        who = f"{name.strip()}, born {date_of_birth.isoformat()}"
    else:
        raise UserError("Give the patient's programme id, or the name and date of birth")
    born = [date_of_birth] if date_of_birth is not None else []
    made = [*found.fills, *found.others]
    check_neighbourhood(_raw(db), read.rows, born, made)  # refuses what verify would not accept
    if not found.fills:
        raise UserError(f"No signed record of a patient with {who}")
    return _course(found)


def _raw(db: Database) -> Callable[[str], Sequence[Sequence[Any]]]:
    return lambda sql: db.read_rows(sql, {})


def _checked_group(session: Session, fill: CourseFill) -> _Found:
    """The fill's patient, refused when the index read disagrees with the signed records."""
    from pharmacist_tool.records.course_check import RecordingReader, check_neighbourhood

    read = RecordingReader(_in_session(session))
    read.rows[fill.record_id] = [getattr(fill, name) for name in FILL_COLUMNS]
    found = _group(read, fill)
    made = [*found.fills, *found.others]
    check_neighbourhood(lambda sql: session.execute(text(sql)).all(), read.rows, made=made)
    return found


def course_of_record(db: Database, record_id: int) -> PatientCourse:
    """The course the record belongs to."""
    with db.session() as session:
        fill = session.get(CourseFill, record_id)
        if fill is None:
            raise UserError(f"There is no record {record_id}")
        return _course(_checked_group(session, fill))


# -- the next visit --------------------------------------------------------------------------


def next_visit(db: Database, record_id: int, today: dt.date) -> CaseDraft:
    """A case for the patient's next visit, prefilled from the record as last amended.

    Carried: the patient, rule set, product, strength, units, doses, days' supply, prescriber,
    contraception, medicines, alcohol and the course. Left empty for this visit: the
    prescription's date (each visit has a new prescription, and its date decides the validity
    windows), pregnancy tests, checklist, resolutions, outcome, authorization, the programme
    check and whether other medicines were asked (asked again at each visit). Of the
    programme's duties, only a form seen with its date is carried (to be confirmed). A draft, not a
    case: it is not complete until the prescription's date is entered."""
    detail = get_record(db, record_id)
    signed = msgspec.json.decode(detail.current_case_json, type=Case)
    with db.session() as session:
        row = session.get(CourseFill, record_id)
        if row is None:  # get_record found it, so the course index is missing it
            raise UserError(f"Record {record_id} is missing from the course index")
        fills = _checked_group(session, row).fills
    fill = next(f for f in fills if f.record_id == record_id)
    upto = [f for f in fills if (f.counselled_on, f.record_id) <= (fill.counselled_on, record_id)]
    # Counted from the fills as last amended, never from the record's own signed course: an
    # earlier fill amended to "not handed over" after this record was signed no longer counts.
    counted = [f for f in upto if handed_over(f)]
    before_here = (fills[0].fill_number or 1) - 1  # fills before the first one at this pharmacy
    number = before_here + len(counted) + 1
    before = summarise(upto).cumulative_mg
    previous = counted[-1].counselled_on if counted else None
    if previous is None and signed.course is not None:
        previous = signed.course.previous_fill_on
    following = msgspec.structs.replace(
        signed,
        counselled_on=today,
        pregnancy_tests=[],
        checklist={},
        resolutions={},
        outcome=None,
        programme_check=None,
        other_medicines_asked=None,  # asked again at each visit
        course=Course(
            fill_number=number,
            cumulative_mg_before=round(before, 2),
            previous_fill_on=previous,
            last_fill=False,
        ),
    )
    following = msgspec.structs.replace(
        following,
        carried=carry(signed, from_record=record_id),
        risk_category_change=None,
        supply_duties=carried_duties(signed),  # a form's date; each duty asked again
    )
    draft = CaseDraft.of(following)
    draft.prescription.prescribed_on = None
    draft.prescription.authorization = None
    return draft


# -- what falls due --------------------------------------------------------------------------


class DueItem(msgspec.Struct, frozen=True):
    """One line of the due list (a struct, for the same reason as ``Fill``)."""

    what: str
    due_on: dt.date
    patient: str
    date_of_birth: dt.date
    programme_id: str | None
    record_id: int
    overdue: bool = False
    reverse_if_not_collected_by: dt.date | None = None
    """A reversal: the fill's last day to hand over, when its authorization expires."""
    form_valid_until: dt.date | None = None
    """The last valid day of the programme form the record saw, when it expires within
    ``form_dates.FORM_SHOWN_DAYS`` of the day asked about, or has expired."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "what": self.what,
            "due_on": self.due_on.isoformat(),
            "patient": self.patient,
            "date_of_birth": self.date_of_birth.isoformat(),
            "programme_id": self.programme_id,
            "record_id": self.record_id,
            "overdue": self.overdue,
        }
        if self.what == "reverse-authorization":
            day = self.reverse_if_not_collected_by
            data["reverse_if_not_collected_by"] = day.isoformat() if day else None
            data["authorization_expires_on"] = data["reverse_if_not_collected_by"]
        if self.form_valid_until is not None:
            data["form_valid_until"] = self.form_valid_until.isoformat()
        return data


def due_for(fills: Sequence[Fill]) -> list[tuple[str, dt.date, Fill]]:
    """What falls due for one patient's fills (oldest first)."""
    if not fills:
        return []
    summary = summarise(fills)
    items: list[tuple[str, dt.date, Fill]] = []
    last = summary.last_handed_over
    newest = fills[-1]
    if summary.next_fill_due and last is not None:
        items.append(("next-fill", summary.next_fill_due, last))
    if summary.ended and last is not None and last.after_course_test_due:
        items.append(("after-course-pregnancy-test", last.after_course_test_due, last))
    elif not summary.ended and newest.next_pregnancy_test_due:
        items.append(("pregnancy-test", newest.next_pregnancy_test_due, newest))
    for i, fill in enumerate(fills):
        if handed_over(fill) or not fill.authorization_number or fill.authorization_reversed_on:
            continue
        used_later = any(
            handed_over(f) and f.authorization_number == fill.authorization_number
            for f in fills[i + 1 :]
        )
        if used_later:
            continue
        due_on = fill.counselled_on
        if fill.pick_up_by and fill.pick_up_by >= fill.counselled_on:
            due_on = fill.pick_up_by + dt.timedelta(days=1)
        items.append(("reverse-authorization", due_on, fill))
    return items


def due_rows(found: _Found) -> list[dict[str, Any]]:
    """The ``course_due`` rows (without their ids) of one patient's fills."""
    fills = found.fills
    newest = fills[-1] if fills else None
    rows = []
    for what, due_on, source in due_for(fills):
        assert newest is not None
        shown = FOREVER if what == "reverse-authorization" else due_on + _OVERDUE
        rows.append(
            {
                "patient_key": found.key,
                "what": what,
                "due_on": due_on,
                "shown_until": shown,
                "record_id": source.record_id,
                "patient_name": newest.patient_name,
                "patient_date_of_birth": newest.patient_date_of_birth,
                "programme_id": next((f.programme_id for f in fills if f.programme_id), None),
            }
        )
    return rows


def refresh_due(session: Session, fill: Fill | CourseFill) -> None:
    """Recompute what falls due for the patient this fill belongs to."""
    found = _group(_in_session(session), fill)
    key, fills = found.key, found.fills
    stale = {key}
    if fill.programme_id:  # fills without the id, once apart, now belong to this patient
        stale |= {patient_key(f).name_text for f in fills}
    session.execute(delete(CourseDue).where(CourseDue.patient_key.in_(sorted(stale))))
    for row in due_rows(found):
        session.add(CourseDue(**row))
    session.flush()


_OVERDUE = dt.timedelta(days=OVERDUE_SHOWN_DAYS)

DUE_SQL = (
    "SELECT what, due_on, patient_name, patient_date_of_birth, programme_id, record_id "
    "FROM course_due WHERE due_on <= :until AND shown_until >= :on "
    "ORDER BY due_on, patient_name, record_id LIMIT :limit OFFSET :offset"
)
"""The due list's one query (the benchmark's floor runs the same through the driver)."""


def due_items(
    db: Database,
    on: dt.date,
    within: int = 7,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[DueItem]:
    """What falls due by ``on`` + ``within`` days, overdue first (oldest due first)."""
    if within < 0:
        raise UserError("--within: give a number of days, 0 or more")
    try:
        until = on + dt.timedelta(days=within)
    except OverflowError:
        until = dt.date.max
    params = {"until": until, "on": on, "limit": max(limit, 0), "offset": max(offset, 0)}
    from pharmacist_tool.records.course_check import check_due_rows

    rows = db.read_rows(DUE_SQL, params)
    if rows and isinstance(rows[0][1], str):  # SQLite: dates as the ISO text they are stored as
        iso, on_text = dt.date.fromisoformat, on.isoformat()  # ISO text sorts as the dates do
        items = [
            DueItem(what, iso(due), name, iso(born), pid, record_id, due < on_text)
            for what, due, name, born, pid, record_id in rows
        ]
    else:
        items = [
            DueItem(what, due, name, born, pid, record_id, due < on)
            for what, due, name, born, pid, record_id in rows
        ]
    check_due_rows(_raw(db), items)  # refuses a row verify would not accept
    from pharmacist_tool.records.authorization_dates import with_authorization_dates
    from pharmacist_tool.records.form_dates import with_form_dates

    return with_form_dates(db, with_authorization_dates(db, items), on)
