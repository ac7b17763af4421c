"""The staff-training register: recorded by an administrator as signed, chained events, read
back with what is due and lapsed, checked by verify, and checked before signing where the rule
version in force asks for it (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool import paths
from pharmacist_tool.case import Case, Outcome, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import KnowledgeBase, load_for_counter, load_knowledge_base
from pharmacist_tool.records import chain, service, training, usecases
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import AuditEvent
from pharmacist_tool.records.users import AuthenticatedUser, add_user, workstation
from tests.conftest import example_path, run_cli
from tests.records.conftest import signed_in
from tests.records.helpers import PASSWORD, handout_for

IPLEDGE = "isotretinoin/US-iPLEDGE"
TODAY = dt.date.today()


def _standing(db: Database, username: str, on: dt.date = TODAY) -> training.TrainingStatus:
    found = [s for s in training.register(db, on) if s.username == username]
    return next(s for s in found if s.programme == IPLEDGE)


def test_training_recorded_is_shown_in_date_then_due_then_lapsed(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    day = TODAY - dt.timedelta(days=10)
    entry = training.record_training(db, admin, "rosei", "US-iPLEDGE", day)
    assert (entry.username, entry.programme, entry.trained_on) == ("rosei", IPLEDGE, day)
    now = _standing(db, "rosei")
    assert (now.state, now.trained_on, now.version) == ("in-date", day, "us-ipledge-2026")
    assert now.lapses_on == day + dt.timedelta(days=365)
    later = _standing(db, "rosei", day + dt.timedelta(days=350))
    assert later.state == "due" and "in 15 days" in later.text(day + dt.timedelta(days=350))
    gone = _standing(db, "rosei", day + dt.timedelta(days=365))
    assert gone.state == "lapsed"
    assert gone.text(day + dt.timedelta(days=365)).startswith(
        f"lapsed on {(day + dt.timedelta(days=365)).isoformat()}"
    )
    assert service.verify(db).intact


def test_a_pharmacist_never_trained_is_listed_as_missing(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    add_user(db, admin, "tech", "technician", PASSWORD, full_name="Tom Tech")
    states = {s.username: s.state for s in training.register(db, TODAY) if s.programme == IPLEDGE}
    assert states == {"rosei": "missing", "tech": "missing"}  # the administrator-only role: not
    assert "boss" not in states


def test_the_newest_training_counts(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    training.record_training(db, admin, "rosei", IPLEDGE, TODAY - dt.timedelta(days=400))
    assert _standing(db, "rosei").state == "lapsed"
    training.record_training(db, admin, "rosei", IPLEDGE, TODAY)
    assert _standing(db, "rosei").state == "in-date"
    assert [e.trained_on for e in training.entries(db, "rosei")] == [
        TODAY - dt.timedelta(days=400),
        TODAY,
    ]


def test_only_an_administrator_records_training(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    with pytest.raises(UserError, match="Only an administrator"):
        training.record_training(db, pharmacist, "rosei", IPLEDGE, TODAY)
    assert training.entries(db) == []


@pytest.mark.parametrize(
    ("programme", "day", "words"),
    [
        ("US-iPLEDGE", TODAY + dt.timedelta(days=1), "in the future"),
        ("no-such-programme", TODAY, "There is no programme 'no-such-programme'"),
        ("UK-PPP", TODAY, "more than one medicine"),
    ],
)
def test_bad_training_is_refused_and_nothing_written(
    db: Database,
    admin: AuthenticatedUser,
    pharmacist: AuthenticatedUser,
    programme: str,
    day: dt.date,
    words: str,
) -> None:
    with pytest.raises(UserError, match=words):
        training.record_training(db, admin, "rosei", programme, day)
    assert training.entries(db) == []


def _training_event(
    db: Database, actor: AuthenticatedUser, subject: AuthenticatedUser, *, signed: bool
) -> int:
    """A training event appended behind the tool's back (the chain code run by hand)."""
    detail = {"user": subject.username, "programme": IPLEDGE, "trained_on": TODAY.isoformat()}
    event = AuditEvent(
        at=dt.datetime.now(dt.UTC),
        action="training-recorded",
        username=actor.username,
        user_id=actor.id,
        subject_user_id=subject.id,
        record_id=None,
        amendment_id=None,
        detail=json.dumps(detail),
        workstation=workstation(),
    )
    with db.session(write=True) as session, chain.appending(session) as head:
        chain.append(session, head, event, actor.signing_key if signed else None)
    return event.id


def test_verify_names_training_signed_by_someone_without_administrator_rights(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    """Someone with the database and a pharmacist's sign-in appends a training event signed
    with the pharmacist's own key: it verifies as theirs, and they had no right to record it."""
    event_id = _training_event(db, pharmacist, pharmacist, signed=True)
    report = service.verify(db)
    assert [str(p) for p in report.problems] == [
        f"audit event {event_id}: it records training, but its signer had no administrator "
        "rights then: made outside pharmacist-tool"
    ]


def test_verify_names_an_unsigned_training_event(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    event_id = _training_event(db, admin, pharmacist, signed=False)
    problems = [str(p) for p in service.verify(db).problems]
    assert len(problems) == 1 and problems[0].startswith(f"audit event {event_id}: not signed")


# -- signing --------------------------------------------------------------------------------


def _pack_asking_before_signing(tmp_path: Path) -> KnowledgeBase:
    """The isotretinoin pack with its 2026 iPLEDGE training checked before signing."""
    shutil.copytree(paths.resource("classes"), tmp_path / "classes")
    folder = tmp_path / "knowledge" / "isotretinoin"
    shutil.copytree(paths.resource("knowledge", "isotretinoin"), folder)
    path = folder / "rule_sets.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for rule_set in data["rule_sets"]:
        for version in rule_set["versions"]:
            if version["id"] == "us-ipledge-2026":
                version["staff_training"]["required_before_signing"] = True
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_knowledge_base("isotretinoin", folder=folder)


def _finished_case(kb: KnowledgeBase) -> Case:
    case = load_case(example_path("01"))
    found = assess(case, kb)
    return msgspec.structs.replace(
        case,
        checklist={item.id: True for item in found.checklist},
        resolutions={f.code: "Discussed with the patient" for f in found.findings},
        outcome=Outcome(status="handed-over"),
    )


def _sign(db: Database, kb: KnowledgeBase, case: Case) -> int:
    return usecases.sign(
        db, case, username="rosei", password=PASSWORD, kb=kb, handout=handout_for(case)
    ).id


def test_signing_is_refused_while_the_signers_training_is_missing_or_lapsed(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    kb = _pack_asking_before_signing(tmp_path)
    case = _finished_case(kb)
    with pytest.raises(UserError) as missing:
        _sign(db, kb, case)
    assert str(missing.value).startswith(
        "Not signed: Rita Osei (rosei) has no training on iPLEDGE REMS (United States) "
        f"({IPLEDGE}) recorded"
    )
    old = TODAY - dt.timedelta(days=365)
    training.record_training(db, admin, "rosei", IPLEDGE, old)
    with pytest.raises(UserError) as lapsed:
        _sign(db, kb, case)
    assert (
        f"Rita Osei (rosei)'s training on iPLEDGE REMS (United States) ({IPLEDGE}) lapsed on "
        f"{TODAY.isoformat()} (trained {old.isoformat()}" in str(lapsed.value)
    )
    assert service.verify(db).counts["records"] == 0
    training.record_training(db, admin, "rosei", IPLEDGE, TODAY)
    assert _sign(db, kb, case) == 1
    assert service.verify(db).intact


def test_an_amendment_is_refused_while_its_signers_training_is_missing(
    db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser, tmp_path: Path
) -> None:
    kb = _pack_asking_before_signing(tmp_path)
    case = _finished_case(kb)
    training.record_training(db, admin, "rosei", IPLEDGE, TODAY)
    record_id = _sign(db, kb, case)
    add_user(db, admin, "klee", "pharmacist", PASSWORD, full_name="Kim Lee")
    corrected = msgspec.structs.replace(case, alcohol="none")
    with pytest.raises(UserError) as missing:
        usecases.amend(
            db, record_id, corrected, reason="Alcohol asked", username="klee",
            password=PASSWORD, kb=kb, handout=handout_for(corrected),
        )  # fmt: skip
    assert "Kim Lee (klee) has no training on iPLEDGE REMS (United States)" in str(missing.value)
    assert service.verify(db).counts.get("amendments", 0) == 0
    training.record_training(db, admin, "klee", IPLEDGE, TODAY)
    usecases.amend(
        db, record_id, corrected, reason="Alcohol asked", username="klee",
        password=PASSWORD, kb=kb, handout=handout_for(corrected),
    )  # fmt: skip
    assert service.verify(db).intact


def test_the_pack_as_shipped_shows_training_but_does_not_refuse_signing(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    kb = load_for_counter(pack="isotretinoin")
    case = _finished_case(kb)
    assert _sign(db, kb, case) == 1


# -- the command line -----------------------------------------------------------------------


def _cli(url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    done = run_cli("--database", url, *args, input=stdin)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_training_add_and_list_on_the_command_line(
    database_url: str, db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    day = (TODAY - dt.timedelta(days=3)).isoformat()
    code, out, err = _cli(
        database_url, "training", "add", "rosei", IPLEDGE, "--on", day, "--admin", "boss",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith(f"Recorded: rosei trained on iPLEDGE REMS (United States) ({IPLEDGE})")
    code, out, err = _cli(database_url, "training", "list", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    mine = next(r for r in rows if r["user"] == "rosei" and r["programme"] == IPLEDGE)
    assert (mine["state"], mine["trained_on"], mine["rule_version"]) == (
        "in-date",
        day,
        "us-ipledge-2026",
    )
    code, out, _ = _cli(database_url, "training", "list", "--on", "2028-01-01")
    assert code == 0 and "LAPSED" in out and "rosei" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("rosei", IPLEDGE, "--on", "yesterday"), "--on: 'yesterday' is not a date"),
        (("rosei", "nothing", "--on", "2026-12-01"), "There is no programme 'nothing'"),
        (("nobody", IPLEDGE, "--on", "2026-12-01"), "There is no user called 'nobody'"),
    ],
)
def test_bad_training_input_exits_2_and_writes_nothing(
    database_url: str,
    db: Database,
    admin: AuthenticatedUser,
    pharmacist: AuthenticatedUser,
    args: tuple[str, ...],
    words: str,
) -> None:
    code, _, err = _cli(
        database_url, "training", "add", *args, "--admin", "boss", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 2 and words in err
    assert training.entries(db) == []


def test_a_non_administrator_cannot_record_training_on_the_command_line(
    database_url: str, db: Database, admin: AuthenticatedUser, pharmacist: AuthenticatedUser
) -> None:
    signed_in(db, pharmacist)
    code, _, err = _cli(
        database_url, "training", "add", "rosei", IPLEDGE, "--on", TODAY.isoformat(),
        "--admin", "rosei", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 2 and "Only an administrator can do this (recording training)" in err
    assert training.entries(db) == []
