"""Removing the newest records (with their audit events) and rewinding the chain head, on
SQLite and PostgreSQL: what ``verify`` can see, what the head in the paper log catches, and
that a new signature never takes the number of a record signed before on this computer.

Ids are given under the chain lock from the highest id stored (no SQLite ``AUTOINCREMENT``
counter, no PostgreSQL sequence), so an editor has nothing else to reset in the database; the
second place they must find is this computer's note of the chain (``records.witness``)."""

from __future__ import annotations

from pathlib import Path

from pharmacist_tool import paths
from pharmacist_tool.records import service, users, writing
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.conftest import signed_in
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for, raw_sql


def _sign(db: Database, signer: AuthenticatedUser, name: str) -> int:
    case = finished_case(name)
    return writing.sign_record(db, signer, case, assessment_for(case), handout_for(case)).id


def _truncate_to(db: Database, position: int, digest: str) -> None:
    """What an editor with write access does: five statements, committed (the course index
    too, which verify checks against the records left)."""
    raw_sql(
        db,
        [
            f"DELETE FROM audit_events WHERE seq > {position}",
            f"DELETE FROM course_due WHERE record_id IN "
            f"(SELECT id FROM records WHERE seq > {position})",
            f"DELETE FROM course_fills WHERE record_id IN "
            f"(SELECT id FROM records WHERE seq > {position})",
            f"DELETE FROM records WHERE seq > {position}",
            f"UPDATE chain_head SET seq = {position}, head_hash = '{digest}', "
            "head_table = NULL, head_id = NULL",
        ],
    )


def _problems(report: object) -> str:
    return "\n".join(str(p) for p in report.problems)  # type: ignore[attr-defined]


def test_a_removed_tail_and_a_rewound_head(database_url: str, tmp_path: Path) -> None:
    db = open_database(database_url)
    admin = signed_in(
        db,
        users.create_first_admin(db, "rosei", PASSWORD, full_name="Rita Osei", role="pharmacist"),
    )
    for name in ("Ana One", "Ben Two", "Cy Three"):
        _sign(db, admin, name)
    noted = service.verify(db)  # the head written in the paper log that evening
    assert noted.intact
    for name in ("Dee Four", "Eve Five"):
        _sign(db, admin, name)
    later = service.verify(db)
    assert later.intact and later.counts["records"] == 5
    db.close()

    with open_database(database_url) as editor:
        _truncate_to(editor, noted.head_seq, noted.head_hash)

    # Another computer that never saw records 4 and 5: the chain left is whole.
    paths.set_home(tmp_path / "another-computer")
    with open_database(database_url) as elsewhere:
        alone = service.verify(elsewhere)
        assert alone.intact, _problems(alone)  # what no in-database check can see
        assert (alone.head_seq, alone.counts["records"]) == (noted.head_seq, 3)
        # … and the head from the paper log catches it, on any computer:
        paper = service.verify(elsewhere, expect_head=(later.head_seq, later.head_hash))
        assert not paper.intact
        assert f"the head written down (position {later.head_seq}) is gone" in _problems(paper)
        assert "entries were removed and the head rewound" in _problems(paper)
        # The older head is still held: it says nothing of what came after.
        assert service.verify(elsewhere, expect_head=(noted.head_seq, noted.head_hash)).intact
    paths.set_home(None)

    # This computer wrote records 4 and 5: its note names the rollback …
    db = open_database(database_url)
    here = service.verify(db)
    assert not here.intact
    assert f"this computer saw the chain reach position {later.head_seq}" in _problems(here)
    assert f"it now ends at position {noted.head_seq}" in _problems(here)
    # … and the next signature continues after record 5: no patient gets number 4 again.
    assert _sign(db, admin, "Fay Six") == 6
    db.close()
    paths.set_home(tmp_path / "another-computer")
    with open_database(database_url) as elsewhere:
        found = _problems(service.verify(elsewhere))
    paths.set_home(None)
    assert "record 4: removed, with every id up to 5 (2 ids missing before record 6" in found
    assert "the chain skips" in found, found


def test_the_note_is_private_and_a_damaged_note_never_stops_signing_but_fails_verify(
    database_url: str, tmp_path: Path
) -> None:
    import stat

    with open_database(database_url) as db:
        admin = signed_in(
            db,
            users.create_first_admin(
                db, "rosei", PASSWORD, full_name="Rita Osei", role="pharmacist"
            ),
        )
        _sign(db, admin, "Ana One")
        note = db.witness.path
        assert note.is_file() and stat.S_IMODE(note.stat().st_mode) == 0o600
        seen = db.witness.seen()
        assert seen is not None and seen.ids["records"] == 1
        note.write_text("{not json")
        assert _sign(db, admin, "Ben Two") == 2
        # Never started again behind anyone's back: verify fails and says why, every time.
        for _ in range(2):
            report = service.verify(db)
            assert not report.intact
            assert "is not a note this tool wrote" in _problems(report)
            assert note.read_text() == "{not json"
        # Checked against the paper log, the note is moved aside and a new one begins.
        note.rename(note.with_suffix(".damaged"))
        assert service.verify(db).intact
        assert db.witness.seen() is not None  # noted again
