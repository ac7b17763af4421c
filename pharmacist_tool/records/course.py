"""The patient's course across monthly visits: ``course``, ``next`` and ``due``.

A patient is the same patient when the ``programme_id`` is the same (iPLEDGE patient ID, NHS
number, the pharmacy's own number); otherwise when the folded name (letter case and accents
ignored) and the date of birth are the same. Records of one person with and without a programme
id are one course when their name and date of birth agree. Two spellings of a name are never
merged here: the reader is told of them (``similar``), and only the pharmacist can decide.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Date, Integer, bindparam, delete, text
from sqlalchemy.orm import Session

from pharmacist_tool.case import Case, Course
from pharmacist_tool.errors import UserError
from pharmacist_tool.records.models import CourseDue, CourseFill
from pharmacist_tool.records.reading import fold_name, get_record

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
    programme_id = (case.patient.programme_id or "").strip() or None
    return {
        "programme_id": programme_id,
        "patient_name": case.patient.name,
        "patient_name_key": fold_name(case.patient.name),
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
    if before is not None and _identity(before) != _identity(row):
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
_DATES = frozenset(
    i for i, name in enumerate(FILL_COLUMNS) if name.endswith(("_on", "_due", "_by", "_birth"))
)

BY_PROGRAMME_ID_SQL = (
    f"SELECT {_COLUMNS_SQL} FROM course_fills WHERE programme_id = :pid "
    "OR patient_date_of_birth IN "
    "(SELECT patient_date_of_birth FROM course_fills WHERE programme_id = :pid)"
)
"""One indexed query: the patient's fills, and every fill with one of their dates of birth (the
fills from before the number was known, and the look-alike names to report)."""

BY_BIRTH_SQL = f"SELECT {_COLUMNS_SQL} FROM course_fills WHERE patient_date_of_birth = :born"


@dataclass(frozen=True, slots=True)
class Fill:
    """One row of ``course_fills``: a signed fill as last amended."""

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
    values = list(row)
    for i in _DATES:
        value = values[i]
        if isinstance(value, str):  # SQLite through text(): ISO text
            values[i] = dt.date.fromisoformat(value)
    for i in (6, 16):
        values[i] = bool(values[i])
    return Fill(*values)


_BY_ID = text(BY_PROGRAMME_ID_SQL)
_BY_BIRTH = text(BY_BIRTH_SQL).bindparams(bindparam("born", type_=Date()))


def _fills(session: Session, query: Any, params: Mapping[str, Any]) -> list[Fill]:
    return [_fill(row) for row in session.execute(query, params)]


def _identity(fill: Fill | CourseFill) -> tuple[str | None, str, dt.date]:
    return fill.programme_id, fill.patient_name_key, fill.patient_date_of_birth


def _ordered(fills: Iterable[Fill]) -> list[Fill]:
    unique = {f.record_id: f for f in fills}
    return sorted(unique.values(), key=lambda f: (f.counselled_on, f.record_id))


def _names_key(name_key: str, born: dt.date) -> str:
    return f"name:{name_key}|{born.isoformat()}"


@dataclass(frozen=True)
class _Found:
    key: str
    fills: list[Fill]
    others: list[Fill]
    """Fills of other patients born on one of the same days (for the look-alike names)."""


def _by_programme_id(session: Session, programme_id: str) -> _Found:
    rows = _fills(session, _BY_ID, {"pid": programme_id})
    names = {(f.patient_name_key, f.patient_date_of_birth) for f in rows if f.programme_id}
    mine = [
        f
        for f in rows
        if f.programme_id == programme_id
        or (f.programme_id is None and (f.patient_name_key, f.patient_date_of_birth) in names)
    ]
    taken = {f.record_id for f in mine}
    others = [f for f in rows if f.record_id not in taken]
    return _Found(f"id:{programme_id}", _ordered(mine), others)


def _by_name(session: Session, name_key: str, born: dt.date, *, strict: bool = True) -> _Found:
    """The fills of a name and date of birth. Two programme ids among them are two patients:
    refused (``strict``), else the fills without an id stand alone."""
    rows = _fills(session, _BY_BIRTH, {"born": born})
    named = [f for f in rows if f.patient_name_key == name_key]
    ids = sorted({f.programme_id for f in named if f.programme_id})
    if len(ids) == 1:
        return _by_programme_id(session, ids[0])
    if len(ids) > 1:
        if strict:
            raise UserError(
                f"More than one patient has this name and date of birth (programme ids "
                f"{', '.join(ids)}): find the patient with --patient-id."
            )
        named = [f for f in named if f.programme_id is None]
    taken = {f.record_id for f in named}
    others = [f for f in rows if f.record_id not in taken]
    return _Found(_names_key(name_key, born), _ordered(named), others)


def _group(session: Session, fill: Fill | CourseFill) -> _Found:
    if fill.programme_id:
        return _by_programme_id(session, fill.programme_id)
    return _by_name(session, fill.patient_name_key, fill.patient_date_of_birth, strict=False)


# -- the course ------------------------------------------------------------------------------


def handed_over(fill: Fill) -> bool:
    return fill.outcome in HANDED_OVER


def fill_mg(fill: Fill) -> float:
    return round(fill.daily_dose_mg * fill.days_supply, 2)


@dataclass(frozen=True)
class CourseSummary:
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
    base = fills[0].cumulative_mg_before or 0.0
    total = round(base + sum(fill_mg(f) for f in fills if handed_over(f)), 2)
    newest = fills[-1]
    given = [f for f in fills if handed_over(f)]
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


@dataclass(frozen=True)
class SimilarPatient:
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


@dataclass(frozen=True)
class PatientCourse:
    name: str
    date_of_birth: dt.date
    programme_id: str | None
    fills: tuple[Fill, ...]
    summary: CourseSummary
    similar: tuple[SimilarPatient, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON (and ``similar_not_merged``, the spellings left apart)."""

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
    keys = {f.patient_name_key for f in found.fills}
    alike = {
        name: any(names_alike(name, key) for key in keys)
        for name in {f.patient_name_key for f in found.others}
    }
    groups: dict[tuple[str, dt.date, str | None], list[Fill]] = {}
    for other in found.others:
        if alike[other.patient_name_key]:
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
    words, other_words = set(one.split()), set(other.split())
    if words and other_words and (words <= other_words or other_words <= words):
        return True
    return difflib.SequenceMatcher(None, one, other).ratio() >= SIMILAR_NAME_RATIO


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
    """The patient's course; ``UserError`` when there is no such patient."""
    with db.session() as session:
        if programme_id is not None and programme_id.strip():
            found = _by_programme_id(session, programme_id.strip())
            who = f"programme id {programme_id.strip()}"
        elif name and name.strip() and date_of_birth is not None:
            found = _by_name(session, fold_name(name), date_of_birth)
            who = f"{name.strip()}, born {date_of_birth.isoformat()}"
        else:
            raise UserError("Give the patient's programme id, or the name and date of birth")
        if not found.fills:
            raise UserError(f"No signed record of a patient with {who}")
        return _course(found)


def course_of_record(db: Database, record_id: int) -> PatientCourse:
    """The course the record belongs to."""
    with db.session() as session:
        fill = session.get(CourseFill, record_id)
        if fill is None:
            raise UserError(f"There is no record {record_id}")
        return _course(_group(session, fill))


# -- the next visit --------------------------------------------------------------------------


def next_visit(db: Database, record_id: int, today: dt.date) -> Case:
    """A case for the patient's next visit, prefilled from the record as last amended.

    Carried: the patient, rule set, product, strength, units, doses, days' supply, prescriber,
    contraception, medicines, alcohol and the course. Left empty for this visit: pregnancy
    tests, checklist, resolutions, outcome, authorization, the programme check and whether other
    medicines were asked (asked again at each visit)."""
    detail = get_record(db, record_id)
    signed = msgspec.json.decode(detail.current_case_json, type=Case)
    with db.session() as session:
        row = session.get(CourseFill, record_id)
        if row is None:  # get_record found it, so the course index is missing it
            raise UserError(f"Record {record_id} is missing from the course index")
        fills = _group(session, row).fills
    fill = next(f for f in fills if f.record_id == record_id)
    upto = [f for f in fills if (f.counselled_on, f.record_id) <= (fill.counselled_on, record_id)]
    given = handed_over(fill)
    if signed.course is not None:
        number = signed.course.fill_number + (1 if given else 0)
        before = signed.course.cumulative_mg_before + (fill_mg(fill) if given else 0)
        previous = fill.counselled_on if given else signed.course.previous_fill_on
    else:
        counted = [f for f in upto if handed_over(f)]
        number = len(counted) + 1
        before = summarise(upto).cumulative_mg
        previous = counted[-1].counselled_on if counted else None
    prescription = msgspec.structs.replace(
        signed.prescription, prescribed_on=today, authorization=None
    )
    return msgspec.structs.replace(
        signed,
        counselled_on=today,
        prescription=prescription,
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


# -- what falls due --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueItem:
    what: str
    due_on: dt.date
    patient: str
    date_of_birth: dt.date
    programme_id: str | None
    record_id: int
    overdue: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "due_on": self.due_on.isoformat(),
            "patient": self.patient,
            "date_of_birth": self.date_of_birth.isoformat(),
            "programme_id": self.programme_id,
            "record_id": self.record_id,
            "overdue": self.overdue,
        }


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


def refresh_due(session: Session, fill: Fill | CourseFill) -> None:
    """Recompute what falls due for the patient this fill belongs to."""
    found = _group(session, fill)
    key, fills = found.key, found.fills
    stale = {key}
    if fill.programme_id:  # fills without the id, once apart, now belong to this patient
        stale |= {_names_key(f.patient_name_key, f.patient_date_of_birth) for f in fills}
    session.execute(delete(CourseDue).where(CourseDue.patient_key.in_(sorted(stale))))
    newest = fills[-1] if fills else None
    for what, due_on, source in due_for(fills):
        assert newest is not None
        shown = FOREVER if what == "reverse-authorization" else due_on + _OVERDUE
        session.add(
            CourseDue(
                patient_key=key,
                what=what,
                due_on=due_on,
                shown_until=shown,
                record_id=source.record_id,
                patient_name=newest.patient_name,
                patient_date_of_birth=newest.patient_date_of_birth,
                programme_id=next((f.programme_id for f in fills if f.programme_id), None),
            )
        )
    session.flush()


_OVERDUE = dt.timedelta(days=OVERDUE_SHOWN_DAYS)

DUE_SQL = (
    "SELECT what, due_on, patient_name, patient_date_of_birth, programme_id, record_id "
    "FROM course_due WHERE due_on <= :until AND shown_until >= :on "
    "ORDER BY due_on, patient_name, record_id LIMIT :limit OFFSET :offset"
)
"""The due list's one query (the benchmark's floor runs the same through the driver)."""

_DUE_QUERY = text(DUE_SQL).bindparams(
    bindparam("until", type_=Date()),
    bindparam("on", type_=Date()),
    bindparam("limit", type_=Integer()),
    bindparam("offset", type_=Integer()),
)


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
    with db.session() as session:
        rows = session.execute(
            _DUE_QUERY,
            {"until": until, "on": on, "limit": max(limit, 0), "offset": max(offset, 0)},
        ).all()
    as_date = dt.date.fromisoformat if rows and isinstance(rows[0][1], str) else _same
    items = []
    for what, due_on, name, born, programme_id, record_id in rows:
        day = as_date(due_on)
        items.append(DueItem(what, day, name, as_date(born), programme_id, record_id, day < on))
    return items


def _same(value: Any) -> Any:
    return value
