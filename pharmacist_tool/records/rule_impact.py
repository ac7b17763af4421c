"""``rule-impact``: which active courses a dated rule version changes, and how.

A course is active when its last handed-over fill's next fill is due within the next
``ACTIVE_AHEAD_DAYS`` days or is overdue by less than ``ACTIVE_OVERDUE_DAYS``. The changes are
the two versions' data compared (``knowledge.rule_changes``): the version in force on the day
asked, and the one named (or, when the named one is already in force, the one it replaced).
Every value comes from the course read model, whose rows ``verify`` checks against the signed
records; the rows read here are checked the same way before anything is shown.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.knowledge.model import KnowledgeBase, RuleSet, RuleSetVersion
from pharmacist_tool.knowledge.rule_changes import RuleChange, concerns_patient, rule_changes
from pharmacist_tool.records.course import (
    FILL_COLUMNS,
    HANDED_OVER,
    Fill,
    _fill,
    _group,
    _raw,
    summarise,
)

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database

ACTIVE_AHEAD_DAYS = 60
ACTIVE_OVERDUE_DAYS = 30
MAX_DAYS_SUPPLY = 366
"""The case's bound on ``days_supply``: no fill older than this plus the overdue days is active."""

_HANDED = ", ".join(f"'{o}'" for o in sorted(HANDED_OVER))
CANDIDATES_SQL = (
    f"SELECT {', '.join('f.' + c for c in FILL_COLUMNS)} FROM course_fills f "
    "JOIN records r ON r.id = f.record_id "
    "WHERE COALESCE(r.pack, :default_pack) = :pack AND f.rule_set = :rule_set "
    f"AND f.outcome IN ({_HANDED}) AND f.counselled_on >= :since"
)
"""The handed-over fills of the rule set recent enough to start an active course."""


class Versions(msgspec.Struct, frozen=True):
    pack: str
    rule_set: RuleSet
    old: RuleSetVersion
    new: RuleSetVersion


class CourseImpact(msgspec.Struct, frozen=True):
    patient: str
    date_of_birth: dt.date
    programme_id: str | None
    can_get_pregnant: bool
    last_record_id: int
    next_fill_due: dt.date
    overdue: bool
    changes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "date_of_birth": self.date_of_birth.isoformat(),
            "programme_id": self.programme_id,
            "can_get_pregnant": self.can_get_pregnant,
            "record_id": self.last_record_id,
            "next_fill_due": self.next_fill_due.isoformat(),
            "overdue": self.overdue,
            "changes": list(self.changes),
        }


def _packs_with(version_id: str) -> list[str]:
    from pharmacist_tool.knowledge import load_pack, packs

    return [
        name
        for name in packs.names()
        if any(v.id == version_id for r in load_pack(name).rule_sets for v in r.versions)
    ]


def resolve(key: str, on: dt.date) -> Versions:
    """The version named as the settings' ``rule_effective_dates`` name it (``PACK/VERSION``, or
    a version id one pack has), and the version it is compared with."""
    from pharmacist_tool.knowledge import packs

    pack, _, version_id = key.strip().rpartition("/")
    if not pack:
        found = _packs_with(version_id)
        if len(found) > 1:
            raise UserError(
                f"{version_id!r} is a rule version of more than one medicine pack "
                f"({', '.join(found)}): write PACK/{version_id}."
            )
        if not found:
            raise UserError(
                f"{key!r} is not a rule version of any medicine pack (packs: "
                f"{', '.join(packs.names())}); write PACK/VERSION as in the settings."
            )
        pack = found[0]
    kb = load_for_counter(pack=pack)
    for r in kb.rule_sets:
        for v in r.versions:
            if v.id == version_id:
                return Versions(pack, r, _compared_with(kb, r, v, on), v)
    known = ", ".join(v.id for r in kb.rule_sets for v in r.versions)
    raise UserError(f"{key!r}: the {pack} pack has no such rule version (known: {known}).")


def _compared_with(
    kb: KnowledgeBase, rule_set: RuleSet, new: RuleSetVersion, on: dt.date
) -> RuleSetVersion:
    """The version in force on ``on``; when that is ``new`` itself, the one in force before."""
    day = on if new.effective_from > on else new.effective_from - dt.timedelta(days=1)
    earlier = [v for v in rule_set.versions if v.effective_from <= day and v.id != new.id]
    if not earlier:
        raise UserError(
            f"{new.id}: no earlier version of {rule_set.id} in the {kb.medicine} pack to "
            "compare it with."
        )
    return max(earlier, key=lambda v: v.effective_from)


def _next_fill_due(fill: Fill) -> dt.date:
    return fill.counselled_on + dt.timedelta(days=fill.days_supply)


def _active(last: Fill, on: dt.date) -> bool:
    due = _next_fill_due(last)
    return (
        on - dt.timedelta(days=ACTIVE_OVERDUE_DAYS)
        < due
        <= on + dt.timedelta(days=ACTIVE_AHEAD_DAYS)
    )


def active_courses(db: Database, versions: Versions, on: dt.date) -> list[list[Fill]]:
    """Each active course of the rule set in the pack (its fills, oldest first)."""
    from pharmacist_tool.knowledge import packs
    from pharmacist_tool.records.course_check import RecordingReader, check_neighbourhood

    since = on - dt.timedelta(days=ACTIVE_OVERDUE_DAYS + MAX_DAYS_SUPPLY)
    params = {
        "pack": versions.pack,
        "default_pack": packs.default_pack(),
        "rule_set": versions.rule_set.id,
        "since": since,
    }
    rows = db.read_rows(CANDIDATES_SQL, params)
    read = RecordingReader(db.read_rows)
    seen: set[str] = set()
    courses = []
    for fill in sorted(map(_fill, rows), key=lambda f: (f.counselled_on, f.record_id)):
        if not _active(fill, on):
            continue
        found = _group(read, fill)
        if found.key in seen:
            continue
        seen.add(found.key)
        summary = summarise(found.fills)
        last = summary.last_handed_over
        if last is None or summary.ended or last.rule_set != versions.rule_set.id:
            continue
        if _active(last, on):
            courses.append(found.fills)
    check_neighbourhood(_raw(db), read.rows)  # refuses what verify would not accept
    return courses


def impact(
    db: Database, key: str, on: dt.date
) -> tuple[Versions, list[RuleChange], list[CourseImpact]]:
    versions = resolve(key, on)
    changes = rule_changes(versions.old, versions.new)
    found = []
    for fills in active_courses(db, versions, on):
        last = summarise(fills).last_handed_over
        assert last is not None
        newest = fills[-1]
        mine = tuple(c.words for c in changes if concerns_patient(c, newest.can_get_pregnant))
        if not mine:
            continue
        ids = [f.programme_id for f in fills if f.programme_id]
        due = _next_fill_due(last)
        found.append(
            CourseImpact(
                patient=newest.patient_name,
                date_of_birth=newest.patient_date_of_birth,
                programme_id=ids[-1] if ids else None,
                can_get_pregnant=newest.can_get_pregnant,
                last_record_id=last.record_id,
                next_fill_due=due,
                overdue=due < on,
                changes=mine,
            )
        )
    found.sort(key=lambda c: (c.next_fill_due, c.patient, c.last_record_id))
    return versions, changes, found
