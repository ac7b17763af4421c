"""The staff-training register: who was trained on which programme and when, and what is due.

Which programmes ask for training, and how often, is pack data (a rule version's
``staff_training``). Each training is a chained ``training-recorded`` audit event naming the
person trained (``subject_user_id``), the programme (``PACK/RULE-SET``: a pack and one of its
rule sets) and the day, signed by the administrator who recorded it. The
register is read from those events alone: there is no table to edit behind the chain's back,
and ``verify`` checks each event's signature and that its signer had administrator rights then.

Where the rule version a session is assessed under asks for training before signing, a
pharmacist whose training is missing or has lapsed is refused (``refuse_lapsed_training``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import users
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import AuditEvent, User
from pharmacist_tool.records.signature_check import TRAINING_RECORDED

DUE_SOON_DAYS = 30
"""A training that lapses within this many days is shown as due."""
EARLIEST = dt.date(2000, 1, 1)

State = Literal["in-date", "due", "lapsed", "missing", "recorded"]
"""``recorded``: training on a programme whose rules in force give no interval."""


@dataclass(frozen=True)
class Programme:
    pack: str
    rule_set: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.pack}/{self.rule_set}"


@dataclass(frozen=True)
class Requirement:
    """What the rule version in force asks of the staff for one programme."""

    programme: Programme
    version: str
    every_days: int
    required_before_signing: bool


@dataclass(frozen=True)
class TrainingEntry:
    event_id: int
    username: str
    programme: str
    trained_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class TrainingStatus:
    """One person's standing on one programme."""

    username: str
    printed_name: str
    role: str
    programme: str
    programme_name: str
    state: State
    trained_on: dt.date | None
    lapses_on: dt.date | None
    """The first day the training no longer counts (``None``: no interval, or never trained)."""
    version: str | None
    required_before_signing: bool

    def text(self, on: dt.date) -> str:
        trained = f"trained {self.trained_on.isoformat()}" if self.trained_on else ""
        if self.state == "missing":
            return f"no training recorded ({self.version} asks for it)"
        if self.state == "recorded" or self.lapses_on is None:
            return trained
        if self.state == "lapsed":
            return f"lapsed on {self.lapses_on.isoformat()} ({trained})"
        days = (self.lapses_on - on).days
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return f"{trained}; lapses on {self.lapses_on.isoformat()} ({when})"

    def to_json(self, on: dt.date) -> dict[str, Any]:
        return {
            "user": self.username,
            "printed_name": self.printed_name,
            "role": self.role,
            "programme": self.programme,
            "programme_name": self.programme_name,
            "state": self.state,
            "trained_on": self.trained_on.isoformat() if self.trained_on else None,
            "lapses_on": self.lapses_on.isoformat() if self.lapses_on else None,
            "rule_version": self.version,
            "required_before_signing": self.required_before_signing,
            "text": self.text(on),
        }


# -- programmes, from the packs -------------------------------------------------------------


def programmes() -> list[Programme]:
    """Every rule set of every pack, as a programme staff can be trained on."""
    from pharmacist_tool.knowledge import packs

    found: list[Programme] = []
    for pack in packs.names():
        kb = packs.load(pack)
        found.extend(Programme(pack, r.id, r.name) for r in kb.rule_sets)
    return found


def find_programme(text: str) -> Programme:
    """``PACK/RULE-SET`` (or a rule set's id where one pack alone has it)."""
    wanted = text.strip()
    known = programmes()
    exact = [p for p in known if p.key.casefold() == wanted.casefold()]
    bare = [p for p in known if p.rule_set.casefold() == wanted.casefold()]
    if exact:
        return exact[0]
    if len(bare) == 1:
        return bare[0]
    names = ", ".join(p.key for p in known)
    if bare:
        raise UserError(
            f"{wanted!r} is a rule set of more than one medicine: name it as PACK/RULE-SET "
            f"({', '.join(p.key for p in bare)})"
        )
    raise UserError(f"There is no programme {wanted!r}; the programmes are: {names}")


def _requirement_of(programme: Programme, kb: Any, version_id: str | None) -> Requirement | None:
    for rule_set in kb.rule_sets:
        if rule_set.id != programme.rule_set:
            continue
        for version in rule_set.versions:
            if version.id == version_id and version.staff_training is not None:
                training = version.staff_training
                return Requirement(
                    programme, version.id, training.every_days, training.required_before_signing
                )
    return None


def requirement_in_force(programme: Programme, on: dt.date) -> Requirement | None:
    """What the programme's rule version in force on ``on`` asks (with the effective dates
    this pharmacy set in its settings); ``None``: no training it checks."""
    from pharmacist_tool.knowledge import load_for_counter

    kb = load_for_counter(pack=programme.pack)
    for rule_set in kb.rule_sets:
        if rule_set.id == programme.rule_set:
            in_force = [v for v in rule_set.versions if v.effective_from <= on]
            if in_force:
                newest = max(in_force, key=lambda v: v.effective_from)
                return _requirement_of(programme, kb, newest.id)
    return None


# -- recording ------------------------------------------------------------------------------


def _check_day(trained_on: dt.date, today: dt.date) -> None:
    if trained_on > today:
        raise UserError(
            f"The training date {trained_on.isoformat()} is in the future: record training "
            "once it has taken place"
        )
    if trained_on < EARLIEST:
        raise UserError(f"The training date {trained_on.isoformat()} is too long ago to be real")


def record_training(
    db: Database,
    admin: users.AuthenticatedUser,
    username: str,
    programme: str,
    trained_on: dt.date,
) -> TrainingEntry:
    """An administrator (authenticated just now) records that ``username`` was trained on
    ``programme`` on ``trained_on``: a chained ``training-recorded`` event they sign."""
    found = find_programme(programme)
    _check_day(trained_on, dt.date.today())
    with users.admin_change(db, admin, "recording training") as (session, head, _actor):
        person = users.target_user(session, username, "recording training")
        if not person.active:
            raise UserError(f"{person.username} is deactivated: their training is not recorded")
        now = users.utcnow()
        detail: dict[str, object] = {
            "user": person.username,
            "programme": found.key,
            "programme_name": found.name,
            "trained_on": trained_on.isoformat(),
        }
        event_id = users.append_event(
            session, head, TRAINING_RECORDED, username=admin.username, user_id=admin.id,
            at=now, detail=detail, key=admin.signing_key, subject_user_id=person.id,
        )  # fmt: skip
        return TrainingEntry(event_id, person.username, found.key, trained_on, admin.username, now)


# -- reading --------------------------------------------------------------------------------


def _parse(event_id: int, detail: str, by: str | None, at: dt.datetime) -> TrainingEntry | None:
    try:
        data = json.loads(detail or "{}")
        return TrainingEntry(
            event_id,
            str(data["user"]),
            str(data["programme"]),
            dt.date.fromisoformat(str(data["trained_on"])),
            by or "",
            at,
        )
    except (ValueError, KeyError, TypeError):
        return None


def entries(db: Database, username: str | None = None) -> list[TrainingEntry]:
    """Every training recorded (oldest first), or one person's."""
    stmt = select(AuditEvent.id, AuditEvent.detail, AuditEvent.username, AuditEvent.at).where(
        AuditEvent.action == TRAINING_RECORDED
    )
    with db.session() as session:
        if username is not None:
            uid = session.execute(
                select(User.id).where(User.username == users.normalise_username(username))
            ).scalar_one_or_none()
            stmt = stmt.where(AuditEvent.subject_user_id == uid)
        rows = session.execute(stmt.order_by(AuditEvent.id)).all()
    parsed = (_parse(int(i), str(d), by, at) for i, d, by, at in rows)
    return [entry for entry in parsed if entry is not None]


def _latest(found: Iterable[TrainingEntry]) -> dict[tuple[str, str], TrainingEntry]:
    latest: dict[tuple[str, str], TrainingEntry] = {}
    for entry in found:
        key = (entry.username, entry.programme)
        if key not in latest or entry.trained_on >= latest[key].trained_on:
            latest[key] = entry
    return latest


def _status(
    person: users.UserInfo,
    programme: Programme,
    entry: TrainingEntry | None,
    needed: Requirement | None,
    on: dt.date,
) -> TrainingStatus:
    trained = entry.trained_on if entry else None
    lapses = trained + dt.timedelta(days=needed.every_days) if trained and needed else None
    state: State
    if trained is None:
        state = "missing"
    elif lapses is None:
        state = "recorded"
    elif lapses <= on:
        state = "lapsed"
    elif (lapses - on).days <= DUE_SOON_DAYS:
        state = "due"
    else:
        state = "in-date"
    return TrainingStatus(
        username=person.username,
        printed_name=person.printed_name,
        role=person.role,
        programme=programme.key,
        programme_name=programme.name,
        state=state,
        trained_on=trained,
        lapses_on=lapses,
        version=needed.version if needed else None,
        required_before_signing=bool(needed and needed.required_before_signing),
    )


def register(db: Database, on: dt.date) -> list[TrainingStatus]:
    """Each active person's standing on each programme they were trained on or whose rules in
    force on ``on`` ask for training (pharmacists and technicians: the staff at the counter)."""
    latest = _latest(entries(db))
    people = [u for u in users.list_users(db) if u.active]
    found: list[TrainingStatus] = []
    for programme in programmes():
        needed = requirement_in_force(programme, on)
        for person in people:
            entry = latest.get((person.username, programme.key))
            if entry is None and (needed is None or person.role == "admin"):
                continue
            found.append(_status(person, programme, entry, needed, on))
    return sorted(found, key=lambda s: (s.username, s.programme))


def refuse_lapsed_training(
    db: Database, signer: users.AuthenticatedUser, kb: Any, assessment: Any, on: dt.date
) -> None:
    """Refuse the signature when the rule version the session was assessed under asks for
    staff training before signing, and the signer's is missing or has lapsed on ``on``."""
    ref = assessment.knowledge_base
    programme = Programme(ref.medicine, ref.rule_set, ref.rule_set)
    for rule_set in kb.rule_sets:
        if rule_set.id == ref.rule_set:
            programme = Programme(ref.medicine, rule_set.id, rule_set.name)
    needed = _requirement_of(programme, kb, ref.rules_version)
    if needed is None or not needed.required_before_signing:
        return
    mine = _latest(entries(db, signer.username)).get((signer.username, programme.key))
    who = f"{signer.printed_name} ({signer.username})"
    fix = (
        "An administrator records the training in Users (Ctrl+U) or with `pharmacist-tool "
        f"training add {signer.username} {programme.key} --on DATE --admin NAME --password-stdin`."
    )
    asks = f"{needed.version} asks for it every {needed.every_days} days before signing"
    if mine is None:
        raise UserError(
            f"Not signed: {who} has no training on {programme.name} ({programme.key}) "
            f"recorded ({asks}). {fix}"
        )
    lapses = mine.trained_on + dt.timedelta(days=needed.every_days)
    if lapses <= on:
        raise UserError(
            f"Not signed: {who}'s training on {programme.name} ({programme.key}) lapsed on "
            f"{lapses.isoformat()} (trained {mine.trained_on.isoformat()}; {asks}). {fix}"
        )
