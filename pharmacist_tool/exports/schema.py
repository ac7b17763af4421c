"""What makes an SQLite file a records database of this tool: its schema version and its chain.

Used by restore (and by backup, to check the copy it made). The file is opened read-only, so a
backup that is only being checked is never changed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session


def read_schema_version(conn: sqlite3.Connection, tables: set[str]) -> str | None:
    """The Alembic revision stamped in the file, or None when there is none."""
    if "alembic_version" not in tables:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row and row[0] else None


def known_schema_versions() -> set[str]:
    """Every schema revision this version of the tool can open (and migrate to the newest)."""
    from alembic.script import ScriptDirectory

    from pharmacist_tool.records.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def verify_chain_problems(path: Path) -> list[str]:
    """Every problem the records' own verification finds in the file (empty when intact)."""
    from pharmacist_tool.records.chain import verify_chain

    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(
            uri, uri=True, check_same_thread=False, isolation_level=None
        ),
        hide_parameters=True,  # never a patient's data in an error or the log
    )
    try:
        with engine.connect() as conn:
            # One read transaction: every table is read from the same snapshot, so a counter
            # signing meanwhile (the live database, just restored) is never a false alarm.
            conn.exec_driver_sql("BEGIN")
            try:
                with Session(bind=conn) as session:
                    report = verify_chain(session)
            finally:
                conn.exec_driver_sql("ROLLBACK")
    finally:
        engine.dispose()
    return [str(problem) for problem in report.problems]
