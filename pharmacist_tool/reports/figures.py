"""The monthly report's figures, read from the signed records (as last amended).

Every figure keeps the ids of the records it counts, so an inspector can trace any number on the
report back to the records behind it. No patient's name is kept: the report names records by id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec
from sqlalchemy import select

from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import Amendment, Record
from pharmacist_tool.records.reading import OUTCOME_WORDS, RecordFilter

TEST_WINDOW_CODES = frozenset({"pregnancy-test.missing", "pregnancy-test.too-old"})
"""The findings that say a supply had no negative pregnancy test recent enough."""
POSITIVE_TEST_CODES = frozenset(
    {"pregnancy-test.positive", "pregnancy-test.positive-then-negative"}
)


class _Finding(msgspec.Struct):
    code: str
    severity: str = ""
    message: str = ""
    programme_rule: bool = False


class _Checklist(msgspec.Struct):
    id: str
    title: str = ""
    required: bool = False
    done: bool = False


class _Duty(msgspec.Struct):
    id: str
    words: str = ""
    recorded: bool = False
    done: bool | None = None
    reason: str = ""
    form_expired: bool = False

    @property
    def met(self) -> bool:
        """Recorded as done, and a form seen was in date."""
        return self.recorded and bool(self.done) and not self.form_expired


class _KnowledgeBase(msgspec.Struct):
    medicine: str = ""


class _Assessment(msgspec.Struct):
    """The parts of a signed assessment the report reads (older and newer shapes alike)."""

    knowledge_base: _KnowledgeBase = msgspec.field(default_factory=_KnowledgeBase)
    findings: list[_Finding] = msgspec.field(default_factory=list)
    checklist: list[_Checklist] = msgspec.field(default_factory=list)
    duties: list[_Duty] = msgspec.field(default_factory=list)


class _Test(msgspec.Struct):
    date: dt.date
    result: str = ""


class _Patient(msgspec.Struct):
    can_get_pregnant: bool = False


class _Check(msgspec.Struct):
    authorization_reversed_on: dt.date | None = None


class _Prescription(msgspec.Struct):
    authorization: str | None = None


class _Case(msgspec.Struct):
    counselled_on: dt.date
    patient: _Patient
    prescription: _Prescription
    pregnancy_tests: list[_Test] = msgspec.field(default_factory=list)
    programme_check: _Check | None = None


_decode_case = msgspec.json.Decoder(_Case).decode
_decode_assessment = msgspec.json.Decoder(_Assessment).decode


@dataclass(frozen=True)
class Supply:
    """One signed record as the report reads it (as last amended)."""

    record_id: int
    counselled_on: dt.date
    pack: str
    rule_set: str
    outcome: str
    outcome_reason: str
    can_get_pregnant: bool
    newest_test: _Test | None
    findings: tuple[_Finding, ...]
    checklist: tuple[_Checklist, ...]
    duties: tuple[_Duty, ...]
    """The programme's duties on the supply, as recorded (signed since they were listed)."""
    authorization: str
    authorization_reversed_on: dt.date | None

    @property
    def handed_over(self) -> bool:
        """The medicine was handed over ("declined": the patient declined the counselling, not
        the medicine)."""
        return self.outcome in ("handed-over", "declined")

    @property
    def group(self) -> str:
        return f"{self.pack} / {self.rule_set}"

    def has_code(self, codes: frozenset[str]) -> bool:
        return any(f.code in codes for f in self.findings)


@dataclass(frozen=True)
class Rate:
    """A share of supplies: ``met`` of ``of`` (record ids of each)."""

    label: str
    group: str
    met: tuple[int, ...]
    of: tuple[int, ...]

    @property
    def percent(self) -> float | None:
        return 100.0 * len(self.met) / len(self.of) if self.of else None

    @property
    def missed(self) -> tuple[int, ...]:
        met = set(self.met)
        return tuple(i for i in self.of if i not in met)


@dataclass(frozen=True)
class Flagged:
    """A supply the pharmacist-in-charge should look at, and why."""

    record_id: int
    counselled_on: dt.date
    kind: str
    words: str


@dataclass(frozen=True)
class SupplyCount:
    group: str
    handed_over: tuple[int, ...]
    not_handed_over: tuple[int, ...]
    declined: tuple[int, ...]

    @property
    def total(self) -> int:
        return len(self.handed_over) + len(self.not_handed_over) + len(self.declined)


@dataclass(frozen=True)
class MonthlyFigures:
    since: dt.date
    until: dt.date
    supplies: tuple[SupplyCount, ...]
    rates: tuple[Rate, ...]
    """The headline rates per medicine and rule set: tests inside the window, and every
    counselling point confirmed."""
    duty_rates: tuple[Rate, ...]
    """Each counselling point or programme duty on its own."""
    exceptions: tuple[Flagged, ...]
    record_ids: tuple[int, ...] = field(default=())

    @property
    def exception_kinds(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for item in self.exceptions:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        return kinds


_COLUMNS = (
    Record.id,
    Record.pack,
    Record.rule_set,
    Record.outcome,
    Record.outcome_reason,
    Record.case_json,
    Record.assessment_json,
)


def read_supplies(db: Database, since: dt.date, until: dt.date) -> Iterator[Supply]:
    """Every record counselled in the range, as last amended, oldest first (one snapshot: the
    range's records by the indexed date, and their amendments, in two statements)."""
    conditions = RecordFilter(since=since, until=until).conditions()
    with db.snapshot() as session:
        amended: dict[int, tuple[str, str]] = {}
        in_range = select(Record.id).where(*conditions)
        stmt = (
            select(Amendment.record_id, Amendment.case_json, Amendment.assessment_json)
            .where(Amendment.record_id.in_(in_range))
            .order_by(Amendment.id)
        )
        for record_id, case_json, assessment_json in session.execute(stmt):
            amended[record_id] = (case_json, assessment_json)  # the last one stays
        rows = session.execute(select(*_COLUMNS).where(*conditions).order_by(Record.id))
        for record_id, pack, rule_set, outcome, reason, case_json, assessment_json in rows:
            case_json, assessment_json = amended.get(record_id, (case_json, assessment_json))
            yield _supply(record_id, pack, rule_set, outcome, reason, case_json, assessment_json)


def _supply(
    record_id: int,
    pack: str | None,
    rule_set: str,
    outcome: str,
    outcome_reason: str,
    case_json: str,
    assessment_json: str,
) -> Supply:
    case = _decode_case(case_json)
    assessment = _decode_assessment(assessment_json)
    tests = sorted(case.pregnancy_tests, key=lambda t: (t.date, t.result == "positive"))
    check = case.programme_check
    return Supply(
        record_id=record_id,
        counselled_on=case.counselled_on,
        pack=pack or assessment.knowledge_base.medicine,
        rule_set=rule_set,
        outcome=outcome,
        outcome_reason=outcome_reason,
        can_get_pregnant=case.patient.can_get_pregnant,
        newest_test=tests[-1] if tests else None,
        findings=tuple(assessment.findings),
        checklist=tuple(assessment.checklist),
        duties=tuple(assessment.duties),
        authorization=(case.prescription.authorization or "").strip(),
        authorization_reversed_on=check.authorization_reversed_on if check else None,
    )


def collect(db: Database, since: dt.date, until: dt.date) -> MonthlyFigures:
    supplies = list(read_supplies(db, since, until))
    return figures_of(supplies, since, until)


def figures_of(supplies: list[Supply], since: dt.date, until: dt.date) -> MonthlyFigures:
    return MonthlyFigures(
        since=since,
        until=until,
        supplies=tuple(_supply_counts(supplies)),
        rates=tuple(_test_rates(supplies)) + tuple(_all_points_rates(supplies)),
        duty_rates=tuple(_duty_rates(supplies)),
        exceptions=tuple(sorted(_exceptions(supplies), key=lambda e: (e.kind, e.record_id))),
        record_ids=tuple(s.record_id for s in supplies),
    )


def _supply_counts(supplies: list[Supply]) -> Iterator[SupplyCount]:
    groups: dict[str, list[Supply]] = {}
    for supply in supplies:
        groups.setdefault(supply.group, []).append(supply)
    for group in sorted(groups):
        members = groups[group]
        yield SupplyCount(
            group=group,
            handed_over=_ids(s for s in members if s.outcome == "handed-over"),
            not_handed_over=_ids(s for s in members if s.outcome == "not-handed-over"),
            declined=_ids(s for s in members if s.outcome == "declined"),
        )


def _ids(supplies: Iterable[Supply]) -> tuple[int, ...]:
    return tuple(s.record_id for s in supplies)


def _test_rates(supplies: list[Supply]) -> Iterator[Rate]:
    """Per medicine and rule set: of the supplies handed over to a patient who can get
    pregnant, those with a negative test inside the rule set's window (no finding said the test
    was missing or too old, and the newest test was negative)."""
    groups: dict[str, list[Supply]] = {}
    for supply in supplies:
        if supply.handed_over and supply.can_get_pregnant:
            groups.setdefault(supply.group, []).append(supply)
    for group in sorted(groups):
        members = groups[group]
        yield Rate(
            label="Negative pregnancy test inside the window",
            group=group,
            met=_ids(s for s in members if _test_in_window(s)),
            of=_ids(members),
        )


def _test_in_window(supply: Supply) -> bool:
    newest = supply.newest_test
    return (
        newest is not None
        and newest.result == "negative"
        and not supply.has_code(TEST_WINDOW_CODES | POSITIVE_TEST_CODES)
    )


def _all_points_rates(supplies: list[Supply]) -> Iterator[Rate]:
    """Per medicine and rule set: of the supplies handed over, those where every counselling
    point and programme duty was recorded as done."""
    groups: dict[str, list[Supply]] = {}
    for supply in supplies:
        if supply.handed_over and (supply.checklist or supply.duties):
            groups.setdefault(supply.group, []).append(supply)
    for group in sorted(groups):
        members = groups[group]
        yield Rate(
            label="Every counselling point and duty done",
            group=group,
            met=_ids(
                s
                for s in members
                if all(item.done for item in s.checklist) and all(d.met for d in s.duties)
            ),
            of=_ids(members),
        )


def _duty_rates(supplies: list[Supply]) -> Iterator[Rate]:
    """Per medicine and rule set, each checklist duty: of the supplies handed over where the
    programme asked it, those where it was recorded as done."""
    asked: dict[tuple[str, str], list[tuple[Supply, _Checklist]]] = {}
    titles: dict[tuple[str, str], str] = {}
    for supply in supplies:
        if not supply.handed_over:
            continue
        for item in supply.checklist:
            key = (supply.group, item.id)
            asked.setdefault(key, []).append((supply, item))
            titles.setdefault(key, item.title or item.id)
    for key in sorted(asked):
        pairs = asked[key]
        yield Rate(
            label=titles[key],
            group=key[0],
            met=tuple(s.record_id for s, item in pairs if item.done),
            of=tuple(s.record_id for s, _ in pairs),
        )
    yield from _programme_duty_rates(supplies)


def _programme_duty_rates(supplies: list[Supply]) -> Iterator[Rate]:
    """Per medicine and rule set, each programme duty (cards given, forms seen in date): of the
    supplies handed over where the programme asked it, those where it was recorded as done (a
    form: seen and in date on the day)."""
    asked: dict[tuple[str, str], list[tuple[Supply, _Duty]]] = {}
    for supply in supplies:
        if supply.handed_over:
            for duty in supply.duties:
                asked.setdefault((supply.group, duty.words or duty.id), []).append((supply, duty))
    for (group, words), pairs in sorted(asked.items()):
        yield Rate(
            label=words,
            group=group,
            met=tuple(s.record_id for s, duty in pairs if duty.met),
            of=tuple(s.record_id for s, _ in pairs),
        )


def _exceptions(supplies: list[Supply]) -> Iterator[Flagged]:
    for supply in supplies:
        yield from _exceptions_of(supply)


def _exceptions_of(supply: Supply) -> Iterator[Flagged]:
    def item(kind: str, words: str) -> Flagged:
        return Flagged(supply.record_id, supply.counselled_on, kind, words)

    if supply.handed_over:
        for finding in supply.findings:
            if finding.severity in ("warn", "block"):
                yield item(
                    "Handed over after a resolved warning",
                    f"{finding.code}: {finding.message}".strip(": "),
                )
        for duty in supply.duties:
            if not duty.met:
                why = duty.reason or ("form expired" if duty.form_expired else "not recorded")
                yield item("Programme duty not done", f"{duty.words or duty.id}: {why}")
        if supply.can_get_pregnant and supply.has_code(TEST_WINDOW_CODES):
            yield item(
                "Handed over without a negative test in the window",
                "the assessment said the test was missing or too old",
            )
    reason = supply.outcome_reason.strip() or "no reason recorded"
    if supply.outcome != "handed-over":
        yield item(OUTCOME_WORDS.get(supply.outcome, supply.outcome).capitalize(), reason)
    reversal_due = supply.authorization and supply.authorization_reversed_on is None
    if not supply.handed_over and reversal_due:
        yield item(
            "Authorization not reversed",
            f"authorization {supply.authorization} recorded; no reversal recorded",
        )
