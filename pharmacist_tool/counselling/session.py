"""One counselling session being edited: the case, what is not entered or not asked yet, its
assessment, what stands before signing (in words), and its autosave. Qt-free.

The window's pages write what the pharmacist typed into ``case`` and report, per step, what is
not valid yet (``problems``: the checks cannot run), typed but not added (``pending``) and not
asked yet (``unasked``: other medicines, alcohol). The window shows what this object says.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pharmacist_tool.case import Case, Outcome, Patient, Prescription, dump_case, parse_case
from pharmacist_tool.counselling import drafts
from pharmacist_tool.errors import UserError

log = logging.getLogger(__name__)

# Fields a new session has not got yet (the case holds a placeholder there until entered).
NOT_ENTERED_AT_START = (
    "patient.date_of_birth",
    "patient.weight_kg",
    "patient.can_get_pregnant",
    "prescription.strength_mg",
    "prescription.units_per_dose",
    "prescription.doses_per_day",
    "prescription.days_supply",
    "prescription.prescribed_on",
)

SEVERITY_WORDS = {"block": "Stops handing over", "warn": "Write how it was resolved"}


@dataclass
class StepNotes:
    """What the pages reported on the last change."""

    problems: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unasked: list[str] = field(default_factory=list)


@dataclass
class CounsellingSession:
    case: Case | None = None
    meta: drafts.DraftMeta | None = None
    source: str = ""
    """The case file the session was opened from, if any."""
    unset: set[str] = field(default_factory=set)
    typed: dict[str, str] = field(default_factory=dict)
    notes: StepNotes = field(default_factory=StepNotes)
    assessment: Any = None
    problems: list[str] = field(default_factory=list)
    """Why the checks cannot run (empty once ``assessment`` is set)."""
    handout: Any = None
    """The handout previewed (and printed), stored with the record when signed."""
    handout_options: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    """Something was changed since the session was opened (a draft is kept from then on)."""

    @classmethod
    def blank(
        cls, rule_set: str, language: str, today: dt.date | None = None
    ) -> CounsellingSession:
        """A new session: nothing entered yet."""
        today = today or dt.date.today()
        case = Case(
            rule_set=rule_set,
            counselled_on=today,
            patient=Patient(
                name="",
                date_of_birth=dt.date(1900, 1, 1),
                weight_kg=1.0,
                can_get_pregnant=True,
                handout_language=language,
            ),
            prescription=Prescription(
                medicine="",
                strength_mg=1.0,
                units_per_dose=1,
                doses_per_day=1,
                days_supply=1,
                prescribed_on=today,
            ),
        )
        return cls(case=case, unset=set(NOT_ENTERED_AT_START))

    # -- edits -------------------------------------------------------------------------------

    def collected(self, unset: Iterable[str], typed: dict[str, str], notes: StepNotes) -> None:
        """What the pages hold now (they have written the case already)."""
        self.unset = set(unset)
        self.typed = dict(typed)
        self.notes = notes

    def set_resolution(self, code: str, text: str) -> None:
        assert self.case is not None
        self.dirty = True
        if text.strip():
            self.case.resolutions[code] = text
        else:
            self.case.resolutions.pop(code, None)

    # -- checks ------------------------------------------------------------------------------

    def assess(self, kb: Any) -> None:
        """Run the engine on the case as it is, or say why it cannot run yet."""
        if self.case is None:
            return
        problems = list(self.notes.problems)
        assessment = None
        if not problems:
            from pharmacist_tool.engine import assess

            try:
                checked = parse_case(dump_case(self.case), source="the session")
                assessment = assess(checked, kb)
            except UserError as error:
                problems = error.details or [error.message]
            except Exception as error:  # the engine must never take the window down
                log.exception("assessment failed")
                problems = [f"The checks could not run ({type(error).__name__}); see the log."]
        self.assessment = assessment
        self.problems = problems

    def missing(self, where: Callable[[Any], str]) -> list[str]:
        """Everything that stands between this session and its signature, in the pharmacist's
        words: each finding by its message and ``where(finding)`` (the step to act on it), each
        counselling point by its title; the engine's own lines name codes, for the log."""
        if self.case is None:
            return ["No session is open"]
        pending = list(self.notes.pending)
        if self.assessment is None:
            return [*self.problems, *pending]
        from pharmacist_tool.engine.readiness import missing_for_signing

        missing = self._in_words(missing_for_signing(self.case, self.assessment), where)
        unasked = list(self.notes.unasked)
        outcome = self.case.outcome
        if outcome is None:
            # Also what handing over would still need, so nothing comes as a surprise later.
            import msgspec

            probe = msgspec.structs.replace(self.case, outcome=Outcome(status="handed-over"))
            still = self._in_words(missing_for_signing(probe, self.assessment), where)
            missing += [f"To hand over: {m}" for m in [*unasked, *still]]
        elif outcome.status == "handed-over":
            missing = [*unasked, *missing]
        return [*missing, *pending]

    def _in_words(self, lines: list[str], where: Callable[[Any], str]) -> list[str]:
        a = self.assessment
        words: dict[str, str] = {}
        for f in a.findings:
            kind = SEVERITY_WORDS.get(f.severity, "Check")
            words[f"{f.severity.upper()} {f.code}: {f.message}"] = (
                f"{kind} ({where(f)}): {f.message}"
            )
        for item in a.checklist:
            words[f"Counselling point not confirmed: {item.title} ({item.id})"] = (
                f"Counselling point not confirmed: {item.title}"
            )
        return [words.get(line, line) for line in lines]

    # -- autosave ----------------------------------------------------------------------------

    def autosave(self, *, step: int, user: str, durable: bool) -> dt.datetime | None:
        """Save the draft (atomically; ``fsync`` only when ``durable``). None when there is
        nothing to keep yet (a session opened and not changed). Raises ``OSError``."""
        if self.case is None or not (self.dirty or self.meta is not None):
            return None
        if self.meta is None:
            now = dt.datetime.now().replace(microsecond=0)
            self.meta = drafts.DraftMeta(
                id=drafts.new_id(), created=now, updated=now, source=self.source
            )
        self.meta.step = max(0, step)
        self.meta.unset = sorted(self.unset)
        self.meta.typed = dict(self.typed)
        self.meta.user = user
        return drafts.save_draft(self.meta, self.case, durable=durable)
