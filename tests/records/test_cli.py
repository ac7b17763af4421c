"""The records commands as a script or another program runs them: separate processes, real
engine and handout, SQLite file and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import msgspec

from pharmacist_tool.case import Outcome, load_case, save_case
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.records import reading
from pharmacist_tool.records.course import rebuild_course_index
from pharmacist_tool.records.db import open_database
from tests.conftest import example_path, run_cli
from tests.records.helpers import PASSWORD, make_pdf, raw_sql

OTHER = "another strong passphrase"


def _finished(tmp_path: Path, prefix: str = "01", name: str = "finished.json") -> Path:
    """The example case with every counselling point confirmed, every finding resolved and the
    outcome chosen: what the window saves when the pharmacist has done everything."""
    case = load_case(example_path(prefix))
    assessment = assess(case, load_for_counter())
    case = msgspec.structs.replace(
        case,
        checklist={item.id: True for item in assessment.checklist},
        resolutions={
            f.code: "Discussed with the patient" for f in assessment.findings if f.needs_resolution
        },
        outcome=Outcome(status="handed-over"),
    )
    path = tmp_path / name
    save_case(case, path)
    return path


def _cli(url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    done = run_cli("--database", url, *args, input=stdin)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_users_sign_amend_records_verify(database_url: str, tmp_path: Path) -> None:
    url = database_url
    code, out, err = _cli(
        url, "users", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert (code, out) == (0, "Added admin boss (boss): the first user, so an administrator\n"), err
    code, _, err = _cli(
        url, "users", "add", "console-tech", "--role", "technician", "--password-stdin",
        stdin=OTHER,
    )  # fmt: skip
    assert code == 2 and "--admin NAME" in err  # once a user exists, an administrator vouches
    code, _, err = _cli(
        url, "users", "add", "rosei", "--role", "pharmacist", "--full-name", "Rita Osei",
        "--admin", "boss", "--password-stdin", stdin=f"short\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 2 and "too weak" in err and "at least 8" in err
    for user, role, full in (("rosei", "pharmacist", "Rita Osei"), ("tom", "technician", "T M")):
        code, _, err = _cli(
            url, "users", "add", user, "--role", role, "--full-name", full,
            "--admin", "boss", "--password-stdin", stdin=f"{OTHER}\n{PASSWORD}\n",
        )  # fmt: skip
        assert code == 0, err
    code, out, _ = _cli(url, "users", "list")
    listed = [line.split()[:2] for line in out.splitlines()]
    assert code == 0 and ["rosei", "pharmacist"] in listed and ["tom", "technician"] in listed

    # an unfinished case: each missing item on its own line, nothing stored
    unfinished = example_path("01")
    code, _, err = _cli(
        url, "sign", str(unfinished), "--user", "rosei", "--password-stdin", stdin=OTHER
    )
    assert code == 2
    assert "cannot be signed" in err and "\n  - Choose the outcome" in err

    finished = _finished(tmp_path)
    code, _, err = _cli(
        url, "sign", str(finished), "--user", "rosei", "--password-stdin", stdin="nope"
    )
    assert code == 2 and "Wrong user name or password" in err
    code, _, err = _cli(
        url, "sign", str(finished), "--user", "tom", "--password-stdin", stdin=OTHER
    )
    assert code == 2 and "Only a pharmacist" in err
    code, out, err = _cli(
        url, "sign", str(finished), "--user", "rosei", "--password-stdin", stdin=OTHER
    )
    assert (code, out) == (0, "1\n"), err

    given = tmp_path / "given.pdf"
    given.write_bytes(make_pdf("The handout printed at the counter"))
    code, out, err = _cli(
        url, "sign", str(finished), "--user", "rosei", "--handout", str(given),
        "--password-stdin", stdin=OTHER,
    )  # fmt: skip
    assert (code, out) == (0, "2\n"), err

    amended = _finished(tmp_path, name="amended.json")
    code, out, err = _cli(
        url, "amend", "1", str(amended), "--user", "rosei", "--reason", "RMA number re-checked",
        "--password-stdin", stdin=OTHER,
    )  # fmt: skip
    assert (code, out) == (0, "1 amendment 1\n"), err
    code, _, err = _cli(
        url, "amend", "7", str(amended), "--user", "rosei", "--reason", "x", "--password-stdin",
        stdin=OTHER,
    )  # fmt: skip
    assert code == 2 and "no record 7" in err

    with open_database(url) as db:
        first = reading.get_record(db, 1, include_handout=True)
        assert first.handout_pdf is not None and first.handout_pdf.startswith(b"%PDF-")
        assert first.handout_source == "rendered"
        assert "Rita Osei" in first.signature.printed_name
        assert first.summary.knowledge_base_version == first.assessment["knowledge_base"]["version"]
        assert reading.get_handout(db, 2).pdf == given.read_bytes()
        assert [a.reason for a in first.amendments] == ["RMA number re-checked"]

    code, out, _ = _cli(url, "records")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["ID", "COUNSELLED", "PATIENT"]
    assert len(lines) == 3 and "Ana García" in lines[1] and lines[1].rstrip().endswith("1")
    code, out, _ = _cli(url, "records", "--json", "--patient", "GARCIA")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [1, 2] and rows[0]["amendment_count"] == 1
    code, out, err = _cli(url, "records", "--patient", "Nobody")
    assert (code, out) == (0, "") and "No records match" in err
    code, _, err = _cli(url, "records", "--since", "25/11/2026")
    assert code == 2 and "--since" in err and "YYYY-MM-DD" in err

    code, out, _ = _cli(url, "verify")
    assert code == 0 and "Intact" in out and "2 records, 1 amendment" in out


def test_verify_names_a_record_changed_behind_the_tools_back(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    url = f"sqlite:///{path}"
    _cli(url, "users", "add", "rosei", "--role", "pharmacist", "--password-stdin", stdin=OTHER)
    finished = _finished(tmp_path)
    for _ in range(3):
        code, _, err = _cli(
            url, "sign", str(finished), "--user", "rosei", "--password-stdin", stdin=OTHER
        )
        assert code == 0, err
    with sqlite3.connect(path) as conn:  # what someone with a database editor could do
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute("DROP TRIGGER records_no_delete")
        conn.execute("UPDATE records SET outcome = 'declined' WHERE id = 2")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM records WHERE id = 3")
    code, out, _ = _cli(url, "verify")
    assert code == 1
    assert "BROKEN" in out
    assert "record 2: altered" in out
    assert "record 3: removed" in out


def _head(out: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith("Chain head: position ")]
    position, digest = line.removeprefix("Chain head: position ").split(", hash ")
    return f"{position}:{digest}"


def _sign_cli(url: str, case: Path) -> None:
    code, _, err = _cli(url, "sign", str(case), "--user", "rosei", "--password-stdin", stdin=OTHER)
    assert code == 0, err


def test_verify_against_the_head_in_the_paper_log_catches_a_rolled_back_tail(
    database_url: str, tmp_path: Path
) -> None:
    """Three statements remove the newest records and rewind the head: the chain alone looks
    whole, the head written down earlier does not."""
    url = database_url
    code, _, err = _cli(
        url, "users", "add", "rosei", "--role", "pharmacist", "--full-name", "Rita Osei",
        "--password-stdin", stdin=OTHER + "\n",
    )  # fmt: skip
    assert code == 0, err
    finished = _finished(tmp_path)
    _sign_cli(url, finished)
    code, out, _ = _cli(url, "verify")
    assert code == 0
    kept = _head(out)  # what the pharmacist writes in the paper log
    assert out.count(f"position {kept.split(':')[0]}, hash {kept.split(':')[1]}") == 1
    _sign_cli(url, finished)
    _sign_cli(url, finished)
    code, out, _ = _cli(url, "verify", "--expect-head", kept)
    assert code == 0 and "still holds the head written down" in out
    written = _head(out)

    position = int(kept.split(":")[0])
    with open_database(url) as db:
        raw_sql(
            db,
            [
                f"DELETE FROM audit_events WHERE seq > {position}",
                f"DELETE FROM records WHERE seq > {position}",
                f"UPDATE chain_head SET seq = {position}, head_hash = '{kept.split(':')[1]}', "
                "head_table = NULL, head_id = NULL",
            ],
        )
        with db.session(write=True) as session:  # and the course index, with the tool's code
            rebuild_course_index(session)
    elsewhere = {"PHARMACIST_TOOL_HOME": str(tmp_path / "another-computer")}
    done = run_cli("--database", url, "verify", env=elsewhere)
    assert done.returncode == 0  # what no in-database check can see …
    code, out, _ = _cli(url, "verify", "--expect-head", written)
    assert code == 1  # … the paper log can
    assert f"the head written down (position {written.split(':')[0]}) is gone" in out
    code, out, _ = _cli(url, "verify")  # and so can this computer, which wrote that head
    assert code == 1 and "this computer saw the chain reach position" in out
    # Signed elsewhere (a computer that never saw the tail): the position exists again, with
    # another hash, which the paper log catches.
    for _ in range(2):
        done = run_cli(
            "--database", url, "sign", str(finished), "--user", "rosei", "--password-stdin",
            input=OTHER + "\n", env=elsewhere,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    code, out, _ = _cli(url, "verify", "--expect-head", written)
    assert code == 1 and f"not {written.split(':')[1]} as written down" in out

    for bad in ("12", "x:abc", f"-1:{'a' * 64}", f"3:{'g' * 64}", f"3:{'a' * 63}", ""):
        code, _, err = _cli(url, "verify", f"--expect-head={bad}")
        assert code == 2 and "is not POSITION:HASH" in err, (bad, err)


def test_a_password_typed_at_a_terminal_is_not_echoed(tmp_path: Path) -> None:
    import os
    import pty
    import select
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'tty.sqlite3'}"
    secret = "tty typed passphrase 42"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, its standard input a terminal
        os.environ["PHARMACIST_TOOL_HOME"] = str(tmp_path / "home")
        os.execv(
            sys.executable,
            [sys.executable, "-m", "pharmacist_tool", "--database", url, "users", "add",
             "rosei", "--role", "pharmacist", "--password-stdin"],
        )  # fmt: skip
    seen = b""
    deadline = time.monotonic() + 120
    answered = 0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        prompts = seen.count(b"Password for") + seen.count(b"Type it again")
        if prompts > answered:
            os.write(fd, secret.encode() + b"\n")
            answered += 1
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert answered == 2 and "Added pharmacist rosei" in text
    assert secret not in text
