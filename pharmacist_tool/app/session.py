"""One counselling session at the counter: the case as entered so far, where each value came
from, what is not asked yet, its assessment, what stands before signing and each step's state
(typed objects, not strings), and its autosave. Qt-free.

The window shows what this object says. Its pages write what the pharmacist typed into
``case`` (a ``CaseDraft``: ``None`` where nothing is entered yet) and report, per step, what is
not valid yet (``problems``: the checks cannot run), typed but not added (``pending``) and not
asked yet (``unasked``); the other edits (a resolution, a carried fact confirmed, who decided a
change of risk category and why) are this object's methods. Every edit tells the subscribers
(``subscribe``). The checks run on the complete case (``checked``) only, so no stand-in value
reaches an assessment, a handout or a record.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from pharmacist_tool.app.steps import Step, StepState, is_storage_item, step_of
from pharmacist_tool.case import Carried, Case, Outcome, Resolution, RiskCategoryChange
from pharmacist_tool.counselling import drafts
from pharmacist_tool.counselling.case_draft import REQUIRED, CaseDraft, blank_draft
from pharmacist_tool.engine.assessment import Assessment, Finding
from pharmacist_tool.engine.carried import (
    Provenance,
    RiskChange,
    carried_facts,
    provenance,
    risk_change,
    unconfirmed,
)
from pharmacist_tool.engine.duties import incomplete
from pharmacist_tool.engine.readiness import Need, outstanding, risk_change_explained
from pharmacist_tool.errors import UserError
from pharmacist_tool.handout import RenderOptions
from pharmacist_tool.knowledge.model import KnowledgeBase

if TYPE_CHECKING:  # what signing stores of a handout (the database code stays off start-up)
    from pharmacist_tool.records.writing import HandoutLike as HandoutPreview

log = logging.getLogger(__name__)

SEVERITY_WORDS = {"block": "Stops handing over", "warn": "Write how it was resolved"}


@dataclass
class StepNotes:
    """What a step's page reported on the last change."""

    problems: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unasked: list[str] = field(default_factory=list)


class Stands(enum.Enum):
    """What kind of thing stands before signing."""

    NOT_VALID = "not-valid"
    """Not entered or not valid: the checks cannot run yet."""
    PENDING = "pending"
    """Typed but not added."""
    UNASKED = "unasked"
    OUTCOME = "outcome"
    REASON = "reason"
    FINDING = "finding"
    COUNSELLING_POINT = "counselling-point"
    CARRIED_FACT = "carried-fact"
    RISK_CATEGORY_CHANGE = "risk-category-change"
    DUTY = "duty"
    """A programme duty on the supply not recorded as a fact yet."""
    AMENDMENT = "amendment"
    """An amendment without its reason, or that changes nothing."""


_OF_NEED = {
    Need.OUTCOME: Stands.OUTCOME,
    Need.REASON: Stands.REASON,
    Need.FINDING: Stands.FINDING,
    Need.COUNSELLING_POINT: Stands.COUNSELLING_POINT,
    Need.DUTY: Stands.DUTY,
}
DUTY_STEP = Step.PRESCRIPTION
"""The step whose page records the programme's duties."""


@dataclass(frozen=True)
class Standing:
    """One thing between this session and its signature, in the pharmacist's words."""

    kind: Stands
    words: str
    step: Step | None = None
    """Where to act on it."""
    to_hand_over: bool = False
    """Only handing over needs it (no outcome is chosen yet)."""
    finding: Finding | None = None
    fact: str | None = None

    @property
    def line(self) -> str:
        return f"To hand over: {self.words}" if self.to_hand_over else self.words


@dataclass(frozen=True)
class FactOnScreen:
    """A fact carried from the last visit, as the window shows it."""

    key: str
    carried: str
    """Its value at the last visit, in words."""
    now: str | None
    provenance: Provenance


class Change(enum.Enum):
    """What an edit changed (the subscribers redraw from the session)."""

    ENTERED = "entered"
    RESOLUTION = "resolution"
    CONFIRMATION = "confirmation"
    RISK_CHANGE = "risk-change"
    AMENDMENT_REASON = "amendment-reason"


@dataclass(frozen=True)
class Amending:
    """The signed record a session corrects."""

    record_id: int
    original: Case
    """The record's case as last signed (the record itself, or its last amendment)."""
    signed: str
    """Who signed it and when, in words."""


@dataclass(frozen=True)
class ValueChange:
    """A value of an amendment that differs from the record being amended."""

    path: str
    """As ``patient.weight_kg``."""
    before: str
    now: str

    @property
    def words(self) -> str:
        return f"{self.path}: {self.before} → {self.now}"


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    """Every leaf of a case as builtins, by its dotted path (lists are leaves)."""
    if isinstance(value, dict):
        flat: dict[str, object] = {}
        for key, item in value.items():
            flat.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _said(value: object) -> str:
    """A value in words (nothing entered, in whatever form, reads the same)."""
    if value is None or value == [] or value == "" or value == {}:
        return "not entered"
    if isinstance(value, list):
        return ", ".join(_said(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_said(v)}" for k, v in value.items())
    return str(value)


@dataclass
class CounterSession:
    case: CaseDraft | None = None
    """The case as entered so far (None: no session open)."""
    meta: drafts.DraftMeta | None = None
    source: str = ""
    """The case file the session was opened from, if any."""
    checked: Case | None = None
    """The complete case the assessment was made of (None while something is not entered)."""
    typed: dict[str, str] = field(default_factory=dict)
    notes: list[StepNotes] = field(default_factory=list)
    """Per step (``Step``), what its page reported on the last change."""
    assessment: Assessment | None = None
    problems: list[str] = field(default_factory=list)
    """Why the checks cannot run (empty once ``assessment`` is set)."""
    kb: KnowledgeBase | None = None
    """The pack the last assessment was made with."""
    handout: HandoutPreview | None = None
    """The handout previewed (and printed), stored with the record when signed."""
    handout_options: RenderOptions = field(default_factory=lambda: RenderOptions())
    dirty: bool = False
    """Something was changed since the session was opened (a draft is kept from then on)."""
    amending: Amending | None = None
    """The signed record this session corrects (None: a new record)."""
    amendment_reason: str = ""
    _subscribers: list[Callable[[Change], None]] = field(default_factory=list)

    @classmethod
    def blank(cls, rule_set: str, language: str, today: dt.date | None = None) -> CounterSession:
        """A new session: nothing entered yet."""
        return cls(case=blank_draft(rule_set, language, today or dt.date.today()))

    @classmethod
    def for_amendment(cls, record_id: int, case: Case, *, signed: str) -> CounterSession:
        """A session correcting a signed record: every value as the record holds it."""
        return cls(
            case=CaseDraft.of(case),
            amending=Amending(record_id=record_id, original=case, signed=signed),
        )

    # -- edits -------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Change], None]) -> None:
        """``callback`` is called after every edit."""
        self._subscribers.append(callback)

    def _changed(self, what: Change) -> None:
        self.dirty = True
        for callback in list(self._subscribers):
            callback(what)

    def working_copy(self) -> CaseDraft:
        """A copy of the case for the pages to write what they show into; ``take`` takes it
        back as one edit. The pages never write into the session's own case."""
        assert self.case is not None
        return copy.deepcopy(self.case)

    def take(
        self,
        edited: CaseDraft,
        typed: dict[str, str],
        notes: Sequence[StepNotes],
        *,
        announce: bool = True,
    ) -> None:
        """What the pages show now (written into a ``working_copy``), as one edit: ``edited``
        becomes the case, with what was typed and each step's notes; ``announce``: it is an
        edit the subscribers hear of (``entered``), not the pages read back on opening."""
        self.case = edited
        self.collected(typed, notes)
        if announce:
            self.entered()

    def collected(self, typed: dict[str, str], notes: Sequence[StepNotes]) -> None:
        """What the pages hold now (written into the case already)."""
        self.typed = dict(typed)
        self.notes = list(notes)

    def entered(self) -> None:
        """The pages wrote what was typed into the case. A carried fact changed this visit is
        no longer confirmed: changed back, it is asked again."""
        case = self.case
        if case is not None and case.carried is not None:
            changed = {
                fact.key
                for fact in carried_facts(case)
                if provenance(case, fact) in (Provenance.TYPED, Provenance.NOT_ENTERED)
            }
            case.carried.confirmed = [f for f in case.carried.confirmed if f not in changed]
            if risk_change(case) is None:  # changed back: no change to record
                case.risk_category_change = None
        self._changed(Change.ENTERED)

    def set_resolution(self, code: str, action: str, note: str) -> None:
        """What was done about a finding: one of the cited answers (``action``; empty: none
        chosen, and then nothing is recorded: a note alone clears nothing) and a note."""
        assert self.case is not None
        if action:
            self.case.resolutions[code] = Resolution(action=action, note=note.strip())
        else:
            self.case.resolutions.pop(code, None)
        self._changed(Change.RESOLUTION)

    def confirm(self, fact: str, still_true: bool) -> None:
        """The pharmacist confirmed (or took back) that a carried fact is still true."""
        carried = self._carried()
        if fact not in carried.facts:
            raise KeyError(f"{fact!r} was not carried from the last visit")
        confirmed = set(carried.confirmed)
        (confirmed.add if still_true else confirmed.discard)(fact)
        assert self.case is not None
        carried.confirmed = [f.key for f in carried_facts(self.case) if f.key in confirmed]
        self._changed(Change.CONFIRMATION)

    def explain_risk_change(self, decided_by: str, reason: str) -> None:
        """Who decided the change of risk category since the last visit, and why."""
        assert self.case is not None
        change = risk_change(self.case)
        if change is None:
            self.case.risk_category_change = None
        else:
            self.case.risk_category_change = RiskCategoryChange(
                before=change.before, now=change.now, decided_by=decided_by, reason=reason
            )
        self._changed(Change.RISK_CHANGE)

    def set_amendment_reason(self, reason: str) -> None:
        """Why the record is corrected (an amendment is signed only with its reason)."""
        assert self.amending is not None, "not an amendment"
        self.amendment_reason = reason
        self._changed(Change.AMENDMENT_REASON)

    def _carried(self) -> Carried:
        assert self.case is not None and self.case.carried is not None, "not a next visit"
        return self.case.carried

    # -- where each value came from ----------------------------------------------------------

    def carried_facts(self) -> list[FactOnScreen]:
        """The facts carried from the last visit (empty: not a next visit)."""
        case = self.case
        if case is None or case.carried is None:
            return []
        return [
            FactOnScreen(
                key=fact.key,
                carried=case.carried.facts[fact.key],
                now=fact.words(case),
                provenance=provenance(case, fact),
            )
            for fact in carried_facts(case)
            if fact.key in case.carried.facts
        ]

    def changes_from_record(self) -> list[ValueChange]:
        """What this amendment changes of the record being amended (empty: nothing yet, or
        not an amendment)."""
        if self.case is None or self.amending is None:
            return []
        before = _flat(msgspec.to_builtins(self.amending.original))
        now = _flat(msgspec.to_builtins(self.case))
        changes = []
        for path in sorted(before.keys() | now.keys()):
            was, is_ = _said(before.get(path)), _said(now.get(path))
            if was != is_:
                changes.append(ValueChange(path, was, is_))
        return changes

    def provenance_of(self, path: str) -> Provenance:
        """Where the value of a required field (as ``patient.weight_kg``) came from."""
        case = self.case
        assert case is not None
        if self.amending is not None:
            changed = any(
                c.path == path or c.path.startswith(f"{path}.") for c in self.changes_from_record()
            )
            return Provenance.TYPED if changed else Provenance.FROM_RECORD
        if case.carried is not None:
            for fact in carried_facts(case):
                if path in fact.fields and fact.key in case.carried.facts:
                    return provenance(case, fact)
        if path in REQUIRED and path in case.not_entered():
            return Provenance.NOT_ENTERED
        return Provenance.TYPED

    def risk_change(self) -> RiskChange | None:
        """The change of ``can_get_pregnant`` since the last visit (None: none)."""
        return None if self.case is None else risk_change(self.case)

    # -- checks ------------------------------------------------------------------------------

    def assess(self, kb: KnowledgeBase) -> None:
        """Run the engine on the case as it is, or say why it cannot run yet."""
        if self.case is None:
            return
        self.kb = kb
        problems = [p for notes in self.notes for p in notes.problems]
        assessment, checked = None, None
        if not problems:
            from pharmacist_tool.engine import assess

            try:
                checked = self.case.require_complete()
                assessment = assess(checked, kb)
            except UserError as error:
                problems = error.details or [error.message]
            except Exception as error:  # the engine must never take the window down
                log.exception("assessment failed")
                problems = [f"The checks could not run ({type(error).__name__}); see the log."]
        self.assessment = assessment
        self.checked = checked if assessment is not None else None
        self.problems = problems

    def standing(self) -> list[Standing]:
        """Everything that stands between this session and its signature."""
        if self.case is None:
            return [Standing(Stands.NOT_VALID, "No session is open")]
        pending = [
            Standing(Stands.PENDING, line, Step(i))
            for i, notes in enumerate(self.notes)
            for line in notes.pending
        ]
        carried = [*self._carried_standing(), *self._amendment_standing()]
        case, assessment = self.checked, self.assessment
        if assessment is None or case is None:
            not_valid = [Standing(Stands.NOT_VALID, p) for p in self.problems]
            return [*not_valid, *carried, *pending]
        unasked = [
            Standing(Stands.UNASKED, line, Step(i))
            for i, notes in enumerate(self.notes)
            for line in notes.unasked
        ]
        standing = self._engine_standing(case, assessment)
        if case.outcome is None:
            # Also what handing over would still need, so nothing comes as a surprise later.
            probe = msgspec.structs.replace(case, outcome=Outcome(status="handed-over"))
            still = [*unasked, *self._engine_standing(probe, assessment)]
            standing += [Standing(s.kind, s.words, s.step, True, s.finding, s.fact) for s in still]
        elif case.outcome.status == "handed-over":
            standing = [*unasked, *standing]
        return [*standing, *carried, *pending]

    def _engine_standing(self, case: Case, assessment: Assessment) -> list[Standing]:
        items = []
        for item in outstanding(case, assessment):
            if item.need not in _OF_NEED:
                continue  # carried facts: said of the case as entered (_carried_standing)
            kind = _OF_NEED[item.need]
            if item.finding is not None:
                f = item.finding
                where = step_of(f, self.kb)
                words = f"{SEVERITY_WORDS.get(f.severity, 'Check')} ({where_words(where)}): "
                items.append(Standing(kind, words + f.message, where, finding=f))
            elif item.duty is not None:
                words = f"Programme duty ({where_words(DUTY_STEP)}): {item.duty.words}"
                lacks = incomplete(item.duty)
                if lacks != "not recorded":
                    words += f" — {lacks}"
                items.append(Standing(kind, words, DUTY_STEP))
            elif item.point is not None:
                point = item.point
                step = Step.STORAGE if is_storage_item(self.kb, point.id) else Step.COUNSELLING
                words = f"Counselling point not confirmed: {point.title}"
                items.append(Standing(kind, words, step))
            else:
                items.append(Standing(kind, item.text, Step.REVIEW))
        return items

    def _carried_standing(self) -> list[Standing]:
        case = self.case
        assert case is not None
        items = [
            Standing(
                Stands.CARRIED_FACT,
                f"Last visit: {fact.key}: {value} — confirm it is still true, or change it",
                fact=fact.key,
            )
            for fact, value in unconfirmed(case)
        ]
        change = risk_change(case)
        if change is not None and not risk_change_explained(case.risk_category_change, change):
            items.append(
                Standing(
                    Stands.RISK_CATEGORY_CHANGE,
                    f"The risk category changed {change.words} since the last visit: say who "
                    "decided it and why",
                    Step.PATIENT,
                    fact="can get pregnant",
                )
            )
        return items

    def _amendment_standing(self) -> list[Standing]:
        amending = self.amending
        if amending is None:
            return []
        items = []
        if not self.changes_from_record():
            items.append(
                Standing(
                    Stands.AMENDMENT,
                    f"Nothing is changed from record {amending.record_id} yet: correct what "
                    "was wrong, or cancel the amendment",
                    Step.REVIEW,
                )
            )
        if not " ".join(self.amendment_reason.split()):
            items.append(
                Standing(Stands.AMENDMENT, "Give the reason for the amendment", Step.REVIEW)
            )
        return items

    def missing(self) -> list[str]:
        """What stands before signing, one line each."""
        return [s.line for s in self.standing()]

    def step_state(self, step: Step) -> StepState:
        """What the step list says of a step."""
        case = self.case
        assert case is not None
        notes = self.notes[step] if step < len(self.notes) else StepNotes()
        if step is Step.PREGNANCY and case.patient.can_get_pregnant is False:
            return StepState.NOT_NEEDED
        state = StepState.DONE
        if notes.unasked:
            state = StepState.TODO
        if notes.problems or notes.pending:
            state = StepState.ATTENTION
        if step is Step.PATIENT and any(
            s.kind in (Stands.CARRIED_FACT, Stands.RISK_CATEGORY_CHANGE)
            for s in self._carried_standing()
        ):
            state = StepState.ATTENTION
        a = self.assessment
        if a is None:  # another step keeps the checks from running: say what this one holds
            return StepState.TODO if step >= Step.COUNSELLING else state
        for f in a.findings:
            if step_of(f, self.kb) != step or not f.stands:
                continue
            if f.severity == "block":
                return StepState.BLOCKED
            state = StepState.ATTENTION
        if step is DUTY_STEP and self._duties_to_record(a):
            state = StepState.TODO if state is StepState.DONE else state
        if step in (Step.COUNSELLING, Step.STORAGE):
            items = [
                e for e in a.checklist if is_storage_item(self.kb, e.id) == (step is Step.STORAGE)
            ]
            if any(e.required and not e.done for e in items):
                state = StepState.ATTENTION if any(e.done for e in items) else StepState.TODO
        if step is Step.REVIEW:
            state = StepState.READY if not self.standing() else StepState.TODO
        return state

    def _duties_to_record(self, assessment: Assessment) -> bool:
        """A programme duty of a supply not recorded yet (none are needed when the medicine is
        not handed over)."""
        case = self.case
        if case is None or (case.outcome and case.outcome.status == "not-handed-over"):
            return False
        duties = assessment.duties if isinstance(assessment.duties, list) else []
        return any(incomplete(d) for d in duties)

    # -- autosave ----------------------------------------------------------------------------

    def autosave(self, *, step: int, user: str, durable: bool) -> dt.datetime | None:
        """Save the draft (atomically; ``fsync`` only when ``durable``). None when there is
        nothing to keep yet (a session opened and not changed). Raises ``OSError``. An
        amendment is not kept as a draft: it is signed or cancelled (its record stays as it
        is)."""
        if self.case is None or self.amending is not None:
            return None
        if not (self.dirty or self.meta is not None):
            return None
        if self.meta is None:
            now = dt.datetime.now().replace(microsecond=0)
            self.meta = drafts.DraftMeta(
                id=drafts.new_id(), created=now, updated=now, source=self.source
            )
        self.meta.step = max(0, step)
        self.meta.typed = dict(self.typed)
        self.meta.user = user
        return drafts.save_draft(self.meta, self.case, durable=durable)


STEP_WORDS = {
    Step.PATIENT: "Patient",
    Step.PRESCRIPTION: "Programme",
    Step.PREGNANCY: "Pregnancy",
    Step.MEDICINES: "Medicines",
    Step.COUNSELLING: "Counselling",
    Step.STORAGE: "Storage",
    Step.REVIEW: "Sign",
}


def where_words(step: Step) -> str:
    """``step 4 Medicines``: where the window shows it."""
    return f"step {step + 1} {STEP_WORDS[step]}"
