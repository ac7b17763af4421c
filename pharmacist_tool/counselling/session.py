"""One counselling session being edited: the case as entered so far, what is not asked yet, its
assessment, what stands before signing (in words), and its autosave. Qt-free.

The window's pages write what the pharmacist typed into ``case`` (a ``CaseDraft``: ``None``
where nothing is entered yet) and report, per step, what is not valid yet (``problems``: the
checks cannot run), typed but not added (``pending``) and not asked yet (``unasked``: other
medicines, alcohol). The checks run on the complete case (``checked``) only, so no stand-in
value reaches an assessment, a handout or a record. The window shows what this object says.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pharmacist_tool.case import Case, Outcome
from pharmacist_tool.counselling import drafts
from pharmacist_tool.counselling.case_draft import CaseDraft, blank_draft
from pharmacist_tool.errors import UserError

log = logging.getLogger(__name__)

SEVERITY_WORDS = {"block": "Stops handing over", "warn": "Write how it was resolved"}


@dataclass
class StepNotes:
    """What the pages reported on the last change."""

    problems: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unasked: list[str] = field(default_factory=list)


@dataclass
class CounsellingSession:
    case: CaseDraft | None = None
    """The case as entered so far (None: no session open)."""
    meta: drafts.DraftMeta | None = None
    source: str = ""
    """The case file the session was opened from, if any."""
    checked: Case | None = None
    """The complete case the assessment was made of (None while something is not entered)."""
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
    carried: dict[str, str] = field(default_factory=dict)
    """A next visit's facts carried from the last one (fact → its value then)."""
    confirmed: set[str] = field(default_factory=set)
    """The carried facts confirmed as still true."""

    @classmethod
    def blank(
        cls, rule_set: str, language: str, today: dt.date | None = None
    ) -> CounsellingSession:
        """A new session: nothing entered yet."""
        return cls(case=blank_draft(rule_set, language, today or dt.date.today()))

    # -- edits -------------------------------------------------------------------------------

    def collected(self, typed: dict[str, str], notes: StepNotes) -> None:
        """What the pages hold now (they have written the case already)."""
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

    def missing(self, where: Callable[[Any], str]) -> list[str]:
        """Everything that stands between this session and its signature, in the pharmacist's
        words: each finding by its message and ``where(finding)`` (the step to act on it), each
        counselling point by its title; the engine's own lines name codes, for the log."""
        if self.case is None:
            return ["No session is open"]
        pending = list(self.notes.pending)
        case = self.checked
        if self.assessment is None or case is None:
            return [*self.problems, *pending]
        from pharmacist_tool.engine.readiness import missing_for_signing

        missing = self._in_words(missing_for_signing(case, self.assessment), where)
        unasked = list(self.notes.unasked)
        outcome = case.outcome
        if outcome is None:
            # Also what handing over would still need, so nothing comes as a surprise later.
            import msgspec

            probe = msgspec.structs.replace(case, outcome=Outcome(status="handed-over"))
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
        self.meta.typed = dict(self.typed)
        self.meta.user = user
        self.meta.carried = dict(self.carried)
        self.meta.confirmed = sorted(self.confirmed & self.carried.keys())
        return drafts.save_draft(self.meta, self.case, durable=durable)
