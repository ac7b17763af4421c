"""Resolutions that mean something: what clears a finding, in words, and whether the other
medicine was stopped.

A structured resolution (``case.Resolution``: one of the cited answers, and a note) clears the
finding it answers; plain text (older cases, the command line) clears it only when it says
something: an empty text, or only words such as "ok" or "done", clears nothing.
"""

from __future__ import annotations

import re

from pharmacist_tool.case import Resolution, ResolutionAnswer, resolution_answers


def answer(action: str) -> ResolutionAnswer | None:
    return next((a for a in resolution_answers().actions if a.id == action), None)


def resolution_words(given: str | Resolution | None) -> str | None:
    """A resolution as the record and the assessment say it: the answer's words and the note
    (plain text as written; None when there is none)."""
    if given is None:
        return None
    if isinstance(given, str):
        return given
    found = answer(given.action)
    words = found.words if found else given.action
    note = " ".join(given.note.split())
    return f"{words}: {note}" if note else words


def says_something(text: str | None) -> bool:
    """A resolution in words clears a finding only when it says what was done."""
    said = re.sub(r"[\s.!,;:]+", " ", (text or "").casefold()).strip()
    return bool(said) and said not in resolution_answers().says_nothing


def stops_other_medicine(given: str | Resolution | None) -> bool:
    """The answer says the other medicine was stopped (the sheet no longer says "you take
    it"). Plain text never says so here: the handout reads its own words for older cases."""
    if not isinstance(given, Resolution):
        return False
    found = answer(given.action)
    return found is not None and found.stops_other_medicine
