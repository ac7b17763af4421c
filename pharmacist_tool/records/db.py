"""The one way to open the records database.

``open_database(url)`` connects, then creates or migrates the schema:

- a fresh database: ``create_all`` and ``alembic stamp head``;
- an older one: a backup copy (SQLite), then ``alembic upgrade head``;
- one written by a newer version of the tool: refused with a clear message.

SQLite (the default, a file in the user's data folder): WAL, foreign keys on, ``synchronous=FULL``,
the file readable by its owner only. PostgreSQL (``postgresql://…``, for several counters sharing
one store) goes through psycopg 3.

``Database.session()`` is one unit of work per user action (commit at the end, roll back on error,
objects usable after the commit). ``Database.session(write=True)`` takes the write lock at once
(SQLite ``BEGIN IMMEDIATE``), which every chain append needs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pharmacist_tool import paths
from pharmacist_tool.errors import DiskFullError, UserError, describe_os_error, is_disk_full
from pharmacist_tool.records.chain import APPENDED_KEY, WITNESS_KEY
from pharmacist_tool.records.models import GENESIS_HASH, Base, ChainHead
from pharmacist_tool.records.witness import Witness, database_key

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_INIT_LOCK = 7_311_948_001  # advisory lock id while creating or migrating the schema


def normalise_url(url: str) -> URL:
    """Parse a database URL; ``postgresql://`` and ``postgres://`` go through psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(
            f"The database address {url!r} is not valid. Use sqlite:///path/to/file.sqlite3 "
            "or postgresql://user@host:5432/dbname"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise UserError(
            f"The database {parsed.drivername!r} is not supported: use an SQLite file "
            "(sqlite:///path) or PostgreSQL (postgresql://…)"
        )
    if parsed.get_backend_name() == "sqlite":
        name = (parsed.database or "").strip()
        if not name:
            raise UserError(
                f"The database address {url!r} names no file: signed records would live in "
                "memory and vanish when the program ends. Name the file, e.g. "
                "sqlite:///path/to/records.sqlite3"
            )
        if name == ":memory:" or name.startswith("file::memory:") or "mode=memory" in name:
            raise UserError(
                f"The database address {url!r} is an in-memory database: signed records would "
                "vanish when the program ends. Name a file, e.g. sqlite:///path/to/records.sqlite3"
            )
        if parsed.query.get("mode") == "memory":
            raise UserError(
                f"The database address {url!r} is an in-memory database; name a file instead."
            )
    elif not (parsed.database or "").strip():
        raise UserError(
            f"The database address {url!r} names no database; add it after the host, e.g. "
            "postgresql://user@host:5432/pharmacist_tool"
        )
    return parsed


def _describe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


# -- SQLite connection set-up ---------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("write_lock"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file private to its owner (its -wal and -shm files follow its mode)."""
    from pharmacist_tool.records.input_checks import refuse_foreign_file

    refuse_foreign_file(path)  # before anything of it is changed, its mode included
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
            log.warning("made %s readable by its owner only (it was %o)", path, mode)
    else:
        os.close(fd)


# -- the database ---------------------------------------------------------------------------


class Database:
    """An open records database: an engine and its two session factories."""

    def __init__(self, url: URL, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._reader: Any = None
        """PostgreSQL: the driver's connection kept for ``read_rows``."""
        self._reader_lock = threading.Lock()
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(write_lock=True), expire_on_commit=False
        )
        self._snapshot = (
            sessionmaker(
                engine.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                ),
                expire_on_commit=False,
            )
            if engine.dialect.name == "postgresql"
            else self._read
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite" or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def describe(self) -> str:
        return _describe(self.url)

    @contextlib.contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        factory = self._write if write else self._read
        try:
            with factory() as session:
                with session.begin():
                    if write:
                        session.info[WITNESS_KEY] = self.witness
                    yield session
                appended = session.info.pop(APPENDED_KEY, None)
        except SQLAlchemyError as error:
            if is_disk_full(error):
                raise DiskFullError("Not saved") from error
            raise
        if appended is not None:
            self.note_head(appended.seq, appended.hash, appended.next_ids)

    @functools.cached_property
    def witness(self) -> Witness:
        """This computer's note of how far this database's chain reached (``records.witness``)."""
        return Witness(database_key(self.url), paths.data_dir())

    def note_head(self, seq: int, digest: str, next_ids: dict[str, int]) -> None:
        self.witness.note(seq, digest, {table: top - 1 for table, top in next_ids.items()})

    def read_rows(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        """The rows of one read-only statement straight through the driver, with no transaction
        around it (one statement sees one consistent state by itself): for the reads a counter
        repeats all day (a patient's course, the due list), where a session's begin, commit and
        result objects would cost more than the query. SQLite: a pooled connection. PostgreSQL:
        one connection of the engine's kept for these reads in autocommit, since a pooled one
        costs two round trips more (the pool's ping, the rollback on return); when the server
        has dropped it, a new one is made and the statement run again (it only reads).

        ``sql`` names its parameters ``:name``; dates are passed as dates."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            if self.dialect == "sqlite":
                return self._read_pooled(sql, params)
            return self._read_kept(sql, params)
        except dbapi_error as error:
            wrapped = DBAPIError.instance(sql, params, error, dbapi_error, hide_parameters=True)
            if is_disk_full(wrapped):
                raise DiskFullError("Not read") from error
            raise wrapped from error

    def _read_pooled(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(driver_sql(sql, self.dialect), _driver_params(params, True))
                return list(cursor.fetchall())
            finally:
                cursor.close()
        finally:
            connection.close()

    def _read_kept(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        statement = driver_sql(sql, self.dialect)
        with self._reader_lock:
            for attempt in (1, 2):
                if self._reader is None:
                    pooled = self.engine.raw_connection()
                    reader: Any = pooled.driver_connection
                    pooled.detach()  # ours until close(): never back in the pool in autocommit
                    reader.autocommit = True
                    self._reader = reader
                cursor = self._reader.cursor()
                try:
                    cursor.execute(statement, params)
                    return list(cursor.fetchall())
                except self.engine.dialect.loaded_dbapi.Error as error:
                    driver = self._reader
                    gone = driver.closed or self.engine.dialect.is_disconnect(error, driver, None)
                    if not gone or attempt == 2:
                        raise
                    self._close_reader()
                finally:
                    cursor.close()
        raise AssertionError("unreachable")

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(Exception):
                reader.close()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Session]:
        """One consistent, read-only view of the whole database, for whatever reads the chain
        as a whole (``verify``, a restore's check): PostgreSQL ``REPEATABLE READ READ ONLY``,
        so rows committed by counters signing meanwhile are not half seen; SQLite one read
        transaction (in WAL mode a snapshot that writers never block)."""
        with self._snapshot() as session, session.begin():
            yield session

    def close(self) -> None:
        with self._reader_lock:
            self._close_reader()
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=64)
def driver_sql(sql: str, dialect: str) -> str:
    """``sql`` with its ``:name`` parameters in the driver's own style (psycopg:
    ``%(name)s``; sqlite3 takes ``:name`` as it is)."""
    if dialect == "sqlite":
        return sql
    return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


def _driver_params(params: Mapping[str, Any], sqlite: bool) -> Mapping[str, Any]:
    if not sqlite:
        return params
    # sqlite3's own date adapter is deprecated: dates go as the ISO text the columns hold.
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}


def _make_engine(url: URL) -> Engine:
    """Every engine hides parameters: a database error's message (and so the log) never
    carries a statement's values, which are patients' names, dates and authorizations."""
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            path = Path(url.database).expanduser().resolve()
            _prepare_sqlite_file(path)
            url = url.set(database=str(path))
        engine = create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and create or migrate) the records database at ``url`` (default: ``paths``)."""
    parsed = normalise_url(url or paths.database_url())
    from pharmacist_tool.exports.files import remove_stale_parts

    remove_stale_parts()  # what an export or backup killed outright left behind
    try:
        engine = _make_engine(parsed)
    except OSError as error:
        raise UserError(f"Cannot create the database file {parsed.database}: {error}") from error
    db = Database(engine.url, engine)
    try:
        if migrate:
            _ensure_schema(db)
    except UserError:
        db.close()
        raise
    except OperationalError as error:
        db.close()
        if is_disk_full(error) or _no_room_beside(db):
            raise DiskFullError(f"Cannot open the records database {db.describe()}") from error
        raise UserError(
            f"Cannot open the records database {db.describe()}: {error.orig or error}"
        ) from error
    except BaseException:
        db.close()
        raise
    return db


def _no_room_beside(db: Database) -> bool:
    """SQLite reports a file it cannot create for lack of room (its -wal or -shm file) as a
    "disk I/O error": look at the free space of the folder it lives in."""
    path = db.sqlite_path
    if path is None:
        return False
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < 256 * 1024
    except OSError:
        return False


# -- schema creation and migration ----------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def _known_revisions() -> tuple[str, frozenset[str]]:
    """The newest schema revision this version knows, and all it knows (read once)."""
    script = _script_directory()
    head = script.get_current_head()
    assert head is not None
    return head, frozenset(rev.revision for rev in script.walk_revisions())


def head_revision() -> str:
    return _known_revisions()[0]


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _ensure_schema(db: Database) -> None:
    head, known = _known_revisions()
    with db.engine.connect() as probe:
        current = _current_revision(probe)
        tables = set(inspect(probe).get_table_names())
        probe.rollback()
    if current == head:
        return
    if current is not None and current not in known:
        raise UserError(
            f"The records database {db.describe()} was written by a newer version of "
            f"pharmacist-tool (schema {current}; this version knows up to {head}). "
            "Install the newer version; this one will not touch the database."
        )
    with db.engine.execution_options(write_lock=True).begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INIT_LOCK})
        current = _current_revision(conn)  # again, under the lock: another counter may have won
        tables = set(inspect(conn).get_table_names())
        if current == head:
            return
        if current is None and not (tables & set(Base.metadata.tables)):
            _create_fresh(conn)
            log.info("created the records database %s (schema %s)", db.describe(), head)
            return
        if current is None:
            raise UserError(
                f"The database {db.describe()} holds tables but no schema version: it was not "
                "made by pharmacist-tool. Choose another database."
            )
    backup = backup_before_migration(db, current, head)
    try:
        with db.engine.execution_options(write_lock=True).begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INIT_LOCK})
            from alembic import command

            command.upgrade(alembic_config(conn), "head")
    except BaseException:
        # The upgrade ran in one transaction and was rolled back: the database is as it was,
        # so its copy is not needed (each failed start would otherwise leave another one).
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    log.info(
        "migrated the records database %s from %s to %s (backup: %s)",
        db.describe(),
        current,
        head,
        backup or "none: back up PostgreSQL with pg_dump",
    )


def _create_fresh(conn: Connection) -> None:
    from alembic.runtime.migration import MigrationContext

    from pharmacist_tool.records.guards import install_append_only_guards, install_user_guards

    Base.metadata.create_all(conn)
    install_append_only_guards(conn)
    install_user_guards(conn)
    conn.execute(
        ChainHead.__table__.insert().values(id=1, seq=0, head_hash=GENESIS_HASH)  # type: ignore[attr-defined]
    )
    MigrationContext.configure(conn).stamp(_script_directory(), "head")


KEEP_COPIES = 5
"""How many copies of each kind (before a migration, before a restore) are kept beside the
database; older ones are removed when a new one is made, so copies of every record do not pile
up."""


def private_copy_target(target: Path) -> Path:
    """Create ``target`` empty, readable and writable by its owner only (0600), before any byte
    of patient data goes into it; ``FileExistsError`` when it exists."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    target.chmod(0o600)  # the umask cannot widen it, but a filesystem default might
    return target


def copy_sqlite_privately(source: Path, target: Path) -> None:
    """Copy an SQLite database (safely, even in WAL mode, through the online backup API) into
    a new private file; the copy is one self-contained file. Nothing is left on failure."""
    private_copy_target(target)
    try:
        src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            dest = sqlite3.connect(target)
            try:
                src.backup(dest)
                dest.execute("PRAGMA journal_mode=DELETE")
            finally:
                dest.close()
        finally:
            src.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def prune_copies(folder: Path, pattern: str, keep: int = KEEP_COPIES) -> list[Path]:
    """Remove all but the ``keep`` newest files matching ``pattern`` in ``folder``."""
    found = sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    removed = []
    for old in found[keep:]:
        try:
            old.unlink()
        except OSError:
            log.warning("could not remove the old copy %s", old, exc_info=True)
            continue
        removed.append(old)
        log.info("removed the old copy %s (the %d newest are kept)", old, keep)
    return removed


def backup_before_migration(db: Database, current: str | None, head: str | None) -> Path | None:
    """Copy the SQLite file (safely, even in WAL mode, private to its owner) before its schema
    changes; keeps the ``KEEP_COPIES`` newest such copies."""
    path = db.sqlite_path
    if path is None:
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.stem}.before-{current or 'empty'}-to-{head}-{stamp}.sqlite3")
    try:
        copy_sqlite_privately(path, target)
    except (sqlite3.Error, OSError) as error:
        raise UserError(
            f"Could not back up the database before updating it ({describe_os_error(error)}); "
            "it was not changed."
        ) from error
    prune_copies(path.parent, f"{path.stem}.before-*-to-*.sqlite3")
    return target


def schema_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return _current_revision(conn)


__all__ = ["Database", "SQLAlchemyError", "open_database"]
