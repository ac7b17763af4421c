"""People: how strong a new password is, and when two printed names are one to a reader.

- **Passwords** are estimated by zxcvbn (Dropbox's estimator: dictionaries of common passwords,
  names and words, keyboard patterns, dates, leetspeak substitutions): a new password needs a
  score of at least 3 of 4 ("safely unguessable: moderate protection from offline slow-hash
  attack") and must not be a common password; zxcvbn's own warning and suggestions are shown.
- **Printed names** are compared by their confusable skeleton (Unicode Technical Standard #39,
  section 4): every character replaced by the prototype it is confusable with (Cyrillic К and
  е by Latin K and e, a dotless ı by i, a digit 1 by l), after letter case and accents are
  ignored, with punctuation and spacing left out (a trailing dot). The confusable pairs are
  Unicode's ``confusables.txt`` as shipped by the maintained ``confusable_homoglyphs`` package.
  A printed name that mixes scripts (Latin with Cyrillic or Greek letters) is refused outright.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pharmacist_tool.errors import UserError

MIN_PASSWORD_SCORE = 3
"""zxcvbn's score (0–4) a new password needs."""
ESTIMATED_LENGTH = 100
"""zxcvbn looks at this many characters (its cost grows quickly with length; a password this
long is not guessable by the patterns it knows anyway)."""


# -- passwords ---------------------------------------------------------------------------------


def password_strength_problems(password: str, user_inputs: list[str]) -> list[str]:
    """Why zxcvbn finds ``password`` guessable (its warning and suggestions), or nothing.
    ``user_inputs``: words the person's own details give away (user name, printed name)."""
    from zxcvbn import zxcvbn

    inputs = [word for text in user_inputs for word in text.split() if word]
    result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=inputs)
    common = any(
        match.get("pattern") == "dictionary" and match.get("dictionary_name") == "passwords"
        and len(match.get("token", "")) >= len(password) - 2
        for match in result.get("sequence", [])
    )  # fmt: skip
    if result["score"] >= MIN_PASSWORD_SCORE and not common:
        return []
    feedback = result.get("feedback") or {}
    problems = [
        "it is too easy to guess (strength "
        f"{result['score']} of 4; at least {MIN_PASSWORD_SCORE} is needed)"
    ]
    if common:
        problems.append("it is a common password, or one with a small change")
    warning = str(feedback.get("warning") or "").strip()
    if warning:
        problems.append(warning)
    problems += [str(s) for s in feedback.get("suggestions") or [] if s]
    return problems


# -- printed names -----------------------------------------------------------------------------


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character's prototype (``confusables.txt``: source → target)."""
    import confusable_homoglyphs

    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    data: dict[str, list[dict[str, str]]] = json.loads(path.read_text(encoding="utf-8"))
    members = {char: {h["c"] for h in found} for char, found in data.items()}
    mapping: dict[str, str] = {}
    for char, found in members.items():
        if len(found) != 1:
            continue  # a prototype, listed with the characters that look like it
        (target,) = found
        if char in members.get(target, ()):  # the pair's own listing: char → target
            if len(members.get(target, ())) == 1:  # two that only look like each other
                target = min(char, target)
            if target != char:
                mapping[char] = target
    return mapping


def skeleton(text: str) -> str:
    """UTS #39 ``skeleton``: NFD, each character by its prototype, NFD again."""
    mapping = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(mapping.get(ch, ch) for ch in decomposed))


def printed_name_key(text: str) -> str:
    """What a reader sees of a printed name: its skeleton, letter case and accents ignored,
    punctuation left out, spaces collapsed (letter case first: "KIM" is "Kim")."""
    return _key(skeleton(unicodedata.normalize("NFKC", text).casefold()))


def printed_name_keys(text: str) -> frozenset[str]:
    """``printed_name_key``, and the key with the skeleton taken before letter case (Cyrillic
    К looks like K, though its small letter к does not look like k)."""
    nfkc = unicodedata.normalize("NFKC", text)
    return frozenset({printed_name_key(text), _key(skeleton(skeleton(nfkc).casefold()))})


def names_clash(one: str, other: str) -> bool:
    """Two printed names a reader could take for one another."""
    return bool(printed_name_keys(one) & printed_name_keys(other))


def _key(folded: str) -> str:
    kept = []
    for ch in folded:
        kind = unicodedata.category(ch)
        if kind.startswith("M") or kind.startswith("P"):
            continue  # accents, dots, hyphens, apostrophes
        kept.append(" " if kind.startswith("Z") or ch.isspace() else ch)
    return " ".join("".join(kept).split())


def _script(ch: str) -> str | None:
    """The script of a letter (from its Unicode name: LATIN, CYRILLIC, GREEK …), or None for
    what belongs to every script (digits, spaces, punctuation, marks)."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def scripts_of(text: str) -> set[str]:
    return {script for ch in unicodedata.normalize("NFC", text) if (script := _script(ch))}


def refuse_mixed_scripts(printed: str) -> None:
    """A printed name is written in one script: one mixing Latin with Cyrillic or Greek
    letters looks like another person's name while comparing unequal to it."""
    found = scripts_of(printed)
    if len(found) > 1:
        raise UserError(
            f"The printed name {printed!r} mixes letters of different alphabets "
            f"({', '.join(sorted(s.title() for s in found))}): a reader cannot tell them apart "
            "from another name. Type it again in one alphabet."
        )


# -- log-in attempts ---------------------------------------------------------------------------

UNFINISHED_AFTER = dt.timedelta(minutes=2)
"""A claimed attempt with no word about the account for this long was left unfinished (a
password check takes a second or so; a killed log-in never reports)."""


def attempts_left_unfinished(
    session: Session, user_id: int, username: str, failed_logins: int, most: int, now: dt.datetime
) -> bool:
    """Every attempt the account allows was claimed and none reported back for a while (log-ins
    killed after their attempt was counted): the next attempt turns them into the usual timed
    lock, so a killed log-in is neither lost nor locks the account for ever. Attempts still
    being checked (the newest event about the account is recent) are left to finish."""
    if failed_logins < most:
        return False
    from pharmacist_tool.records.models import AuditEvent

    newest = session.execute(
        select(func.max(AuditEvent.at)).where(
            or_(AuditEvent.username == username, AuditEvent.subject_user_id == user_id)
        )
    ).scalar_one_or_none()
    return newest is None or now - newest > UNFINISHED_AFTER
