"""Backup and restore of the SQLite records database.

Backup uses SQLite's online backup API (``sqlite3.Connection.backup``): it copies a consistent
snapshot even while the window or another counter is signing, through SQLite's own locks, into a
temporary file beside the target that is checked and only then renamed into place.

Restore needs an administrator (their password checked against the backup's own users,
which ``verify`` ties to the chain; their signing key signs the ``restore`` event). It refuses
anything that is not a whole, intact database of this tool: not an SQLite file,
``PRAGMA integrity_check`` failing, no or an unknown schema version, or a chain that does not
verify, every signature included (a crafted file with a forged row is named). It never brings
back the past: a backup that lacks any chained row the live database holds (a record, an
amendment or any audit event: a user's change, an export, a restore) or that does not reach the
furthest point this computer noted of the chain (``records.witness``) is refused, naming what
would be lost. Since every chained row of the live database is then in the backup, its users are
as new as the live ones and no id can be given twice. Before replacing, it keeps a copy of the
current database beside it
(``records.sqlite3.before-restore-<time>.sqlite3``, private to its owner; the five newest are
kept). The replacement itself goes through the
backup API into the live database, which SQLite commits as one transaction, so other connections
(a running window) see either the old or the new database, never a mix; a current file that is
missing or not readable as SQLite is replaced by an atomic rename instead.

PostgreSQL databases are backed up and restored with PostgreSQL's own tools (``pg_dump`` /
``pg_restore``); the commands say so instead of pretending.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from pharmacist_tool.errors import DiskFullError, UserError, is_disk_full
from pharmacist_tool.records.users import AuthenticatedUser
from pharmacist_tool.records.witness import Seen, Witness

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
PAGES_PER_STEP = -1
"""Copy in one step: a single consistent snapshot (SQLite retries while a writer holds a lock)."""

BackupProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class DatabaseCheck:
    """What a candidate database file holds, once it passed every check."""

    path: Path
    schema_version: str
    records: int
    amendments: int


def sqlite_path(url: str) -> Path:
    """The file behind an SQLite URL; a clear refusal for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise UserError(
            f"Backup and restore here work on the SQLite database only; this one is "
            f"{parsed.get_backend_name()} ({parsed.render_as_string(hide_password=True)}). "
            "For PostgreSQL use pg_dump to back up and pg_restore (or psql) to restore, "
            "e.g. pg_dump --format=custom --file=records.dump DBNAME."
        )
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise UserError("An in-memory database has nothing on disk to back up or restore.")
    return Path(database).expanduser().resolve()


@contextlib.contextmanager
def _connect_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def check_database_file(
    path: Path,
    *,
    verify_chain: Callable[[Path], list[str]] | None = None,
    known_versions: Callable[[], set[str]] | None = None,
) -> DatabaseCheck:
    """Check that ``path`` is an intact database of this tool; ``UserError`` says what is wrong."""
    from pharmacist_tool.exports import schema

    verify_chain = verify_chain or schema.verify_chain_problems
    known_versions = known_versions or schema.known_schema_versions
    if not path.exists():
        raise UserError(f"The file {path} does not exist.")
    if not path.is_file():
        raise UserError(f"{path} is not a file.")
    if not _looks_like_sqlite(path):
        raise UserError(f"{path} is not an SQLite database (it may be damaged or another file).")
    try:
        with _connect_readonly(path) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            if [r[0] for r in rows] != ["ok"]:
                problems = [str(r[0]) for r in rows[:5]]
                raise UserError(
                    f"{path} is damaged: SQLite's integrity check failed.", details=problems
                )
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            version = schema.read_schema_version(conn, tables)
            counts = {
                table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in ("records", "amendments")
                if table in tables
            }
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} cannot be read as an SQLite database ({error}).") from error
    if version is None:
        raise UserError(
            f"{path} is an SQLite database but not one of this tool's records databases "
            "(it has no schema version)."
        )
    known = known_versions()
    if version not in known:
        raise UserError(
            f"{path} has schema version {version}, which this version of the tool does not know "
            "(it may come from a newer version; update the tool first)."
        )
    problems = verify_chain(path)
    if problems:
        raise UserError(
            f"{path} does not pass verification: its records were altered or removed.",
            details=problems[:10],
        )
    return DatabaseCheck(
        path=path,
        schema_version=version,
        records=counts.get("records", 0),
        amendments=counts.get("amendments", 0),
    )


def _online_copy(
    source: sqlite3.Connection, target: Path, progress: BackupProgress | None = None
) -> None:
    dest = sqlite3.connect(target)
    try:

        def report(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        source.backup(dest, pages=PAGES_PER_STEP, progress=report, sleep=0.05)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dest.close()


def backup_database(
    url: str, output: Path, progress: BackupProgress | None = None
) -> DatabaseCheck:
    """Copy the live database to ``output`` (checked, then renamed into place)."""
    from pharmacist_tool.exports.files import check_target

    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise UserError(f"There is no database to back up at {source_path}.")
    target = check_target(Path(output))
    if target == source_path:
        raise UserError("The backup file must not be the database itself; choose another name.")
    from pharmacist_tool.exports.files import part_beside

    with part_beside(target) as tmp:
        try:
            source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error as error:
            raise UserError(f"Cannot open the database {source_path}: {error}") from error
        try:
            _online_copy(source, tmp, progress)
        except sqlite3.DatabaseError as error:
            if is_disk_full(error):
                raise DiskFullError(f"The backup {target.name} was not written") from error
            raise UserError(f"The database {source_path} could not be copied: {error}") from error
        finally:
            source.close()
        check = check_database_file(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(target)
    log.info("backup of %s written to %s (%d records)", source_path, target, check.records)
    return DatabaseCheck(target, check.schema_version, check.records, check.amendments)


def admin_in_backup(backup_file: Path, username: str, password: str) -> AuthenticatedUser:
    """The administrator ``username`` as the backup knows them, their password checked and
    their signing key opened; a clear refusal otherwise (the same for every failure)."""
    from pharmacist_tool.records import signing, users

    refused = UserError(
        f"Not restored: {username!r} is not an active administrator of the backup with that "
        "password, or has no signing key yet (sign in once first). Nothing was changed."
    )
    path = Path(backup_file).expanduser().resolve()
    if not path.is_file():
        raise UserError(f"The file {path} does not exist.")
    if not _looks_like_sqlite(path):
        raise UserError(f"{path} is not an SQLite database (it may be damaged or another file).")
    try:
        with _connect_readonly(path) as conn:
            row = conn.execute(
                "SELECT id, username, full_name, role, is_admin, active, password_hash, "
                "signing_key FROM users WHERE username = ?",
                (users.normalise_username(username),),
            ).fetchone()
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} cannot be read as a records database ({error}).") from error
    if row is None or not row[4] or not row[5] or not row[7]:
        raise refused
    if not users.password_matches(str(row[6]), password):
        raise refused
    try:
        key = signing.open_sealed(str(row[7]), password)
    except signing.SigningKeyError:
        raise refused from None
    return users.AuthenticatedUser(
        id=int(row[0]), username=str(row[1]), full_name=str(row[2]), role=str(row[3]),
        is_admin=True, signing_key=key,
    )  # fmt: skip


@dataclass(frozen=True)
class ChainComparison:
    """What the live database holds that a backup does not (by each row's chain hash)."""

    records: int
    amendments: int
    audit_events: int
    newest_record: int
    """The live database's highest record id."""


def _hashes(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[0] for row in conn.execute(f'SELECT row_hash FROM "{table}"')}


def compare_chains(live: Path | sqlite3.Connection, backup: Path) -> ChainComparison:
    """Count the live database's records, amendments and audit events missing from the backup
    (``live``: its file, or a connection to it, e.g. one holding its write lock).
    ``sqlite3.DatabaseError`` when the live database cannot be read."""
    with _connect_readonly(backup) as old:
        kept = {t: _hashes(old, t) for t in ("records", "amendments", "audit_events")}
    opened = (
        contextlib.nullcontext(live)
        if isinstance(live, sqlite3.Connection)
        else _connect_readonly(live)
    )
    with opened as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = {}
        for table in ("records", "amendments", "audit_events"):
            if table not in tables:
                missing[table] = 0
                continue
            missing[table] = sum(
                1
                for (h,) in conn.execute(f'SELECT row_hash FROM "{table}"')
                if h not in kept[table]
            )
        top = (
            conn.execute("SELECT max(id) FROM records").fetchone()[0]
            if "records" in tables
            else None
        )
    return ChainComparison(
        missing["records"], missing["amendments"], missing["audit_events"], int(top or 0)
    )


def _lost_events(conn: sqlite3.Connection, backup_file: Path) -> list[str]:
    """The live database's audit events the backup lacks, each named (what, whom, by whom)."""
    with _connect_readonly(backup_file) as old:
        kept = _hashes(old, "audit_events")
    named = []
    rows = conn.execute(
        "SELECT id, action, username, detail, row_hash FROM audit_events ORDER BY id"
    )
    for event_id, action, username, detail, digest in rows:
        if digest in kept:
            continue
        try:
            subject = json.loads(detail or "{}").get("user")
        except (ValueError, AttributeError):
            subject = None
        about = f" of {subject}" if subject and subject != username else ""
        named.append(f"audit event {event_id}: {action}{about} by {username or 'nobody'}")
    return named


def _misses_the_note(backup_file: Path, seen: Seen | None) -> str | None:
    """Why the backup does not reach the furthest point this computer noted (or ``None``)."""
    if seen is None or seen.seq == 0:
        return None
    with _connect_readonly(backup_file) as old:
        for table in ("records", "amendments", "audit_events"):
            found = old.execute(
                f'SELECT row_hash FROM "{table}" WHERE seq = ?', (seen.seq,)
            ).fetchone()
            if found is not None:
                if found[0] == seen.hash:
                    return None
                break
    return (
        f"this computer saw the chain reach position {seen.seq} (hash {seen.hash[:16]}…), "
        "which the backup does not hold"
    )


def _refuse_going_back(
    target: Path | sqlite3.Connection, backup_file: Path, seen: Seen | None
) -> ChainComparison | None:
    """Refuse a backup that lacks any chained row the live database holds, or the point this
    computer noted: it would bring back the past (a deactivated user, an old password, a role
    taken away) and erase what was done since."""
    reasons: list[str] = []
    found: ChainComparison | None = None
    try:
        found = compare_chains(target, backup_file)
        opened = (
            contextlib.nullcontext(target)
            if isinstance(target, sqlite3.Connection)
            else _connect_readonly(target)
        )
        with opened as conn:
            events = _lost_events(conn, backup_file) if found.audit_events else []
    except sqlite3.DatabaseError:
        log.warning("the live database %s cannot be read; restoring over it", target)
        events = []
    if found is not None:
        if found.records:
            reasons.append(f"{found.records} signed record{'s' if found.records != 1 else ''}")
        if found.amendments:
            reasons.append(f"{found.amendments} amendment{'s' if found.amendments != 1 else ''}")
        if found.audit_events:
            reasons.append(
                f"{found.audit_events} audit event{'s' if found.audit_events != 1 else ''}"
            )
    missed = _misses_the_note(backup_file, seen)
    if not reasons and missed is None:
        return found
    lost = " and ".join(reasons) if reasons else "entries this computer saw"
    newest = f" (records up to number {found.newest_record})" if found and found.records else ""
    raise UserError(
        f"Not restored: {lost} would be lost. The backup {backup_file} is behind the records "
        f"database{newest} or comes from another one"
        + (f"; {missed}" if missed else "")
        + ". Nothing was changed. Restore a newer backup, or keep the live database and run "
        "`pharmacist-tool verify`.",
        details=events[:20] + ([f"… and {len(events) - 20} more"] if len(events) > 20 else []),
    )


@dataclass(frozen=True)
class RestoreResult:
    restored: DatabaseCheck
    previous_copy: Path | None
    audit_events_not_in_backup: int = 0
    """Audit events only the replaced database held (kept in ``previous_copy``)."""


def _keep_previous(target: Path, usable: bool) -> tuple[Path, bool]:
    """A private copy of the current database beside it (even a damaged one, as it is)."""
    from pharmacist_tool.records.db import copy_sqlite_privately, private_copy_target, prune_copies

    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    previous = target.with_name(f"{target.name}.before-restore-{stamp}.sqlite3")
    n = 1
    while previous.exists():
        n += 1
        previous = target.with_name(f"{target.name}.before-restore-{stamp}-{n}.sqlite3")
    try:
        if usable:
            try:
                copy_sqlite_privately(target, previous)
            except sqlite3.DatabaseError as error:
                if is_disk_full(error):
                    raise
                usable = False
        if not usable:
            private_copy_target(previous)
            try:
                shutil.copyfile(target, previous)  # keep whatever is there, even damaged
            except BaseException:
                previous.unlink(missing_ok=True)
                raise
    except (OSError, sqlite3.Error) as error:
        if is_disk_full(error):
            raise DiskFullError("Not restored (the copy of the current database)") from error
        raise
    prune_copies(target.parent, f"{target.name}.before-restore-*.sqlite3")
    log.info("copy of the database before restore kept at %s", previous)
    return previous, usable


def _witness(url: str) -> Witness:
    from pharmacist_tool import paths
    from pharmacist_tool.records.db import normalise_url
    from pharmacist_tool.records.witness import database_key

    return Witness(database_key(normalise_url(url)), paths.data_dir())


def _record_restore(
    url: str,
    backup_file: Path,
    admin: AuthenticatedUser,
    previous: Path | None,
    final: DatabaseCheck,
) -> None:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.writing import record_event

    with open_database(url) as db:
        record_event(
            db,
            "restore",
            user=admin,
            detail={
                "from": str(backup_file),
                "previous_copy": str(previous or ""),
                "records": final.records,
            },
        )


def _note_restored_head(url: str, target: Path) -> None:
    """The restored chain is where this computer's note starts again (a restore never loses a
    signed record; audit events only the replaced database held are counted in its event)."""
    from pharmacist_tool import paths
    from pharmacist_tool.records.db import normalise_url
    from pharmacist_tool.records.witness import CHAINED, Witness, database_key

    with _connect_readonly(target) as conn:
        seq, digest = conn.execute("SELECT seq, head_hash FROM chain_head WHERE id = 1").fetchone()
        ids = {t: int(conn.execute(f"SELECT max(id) FROM {t}").fetchone()[0] or 0) for t in CHAINED}
    Witness(database_key(normalise_url(url)), paths.data_dir()).note(
        int(seq), str(digest), ids, replace=True
    )


def _check_admin(backup_file: Path, admin: AuthenticatedUser) -> None:
    """``admin`` (signed in, key open) is an active administrator in the backup too."""
    if admin.signing_key is None or not admin.is_admin:
        raise UserError(
            f"Only an administrator signed in with their password can restore; {admin.username} "
            "is not one. Nothing was changed."
        )
    with _connect_readonly(backup_file) as conn:
        row = conn.execute(
            "SELECT username, is_admin, active FROM users WHERE id = ?", (admin.id,)
        ).fetchone()
    if row is None or row[0] != admin.username or not row[1] or not row[2]:
        raise UserError(
            f"Not restored: {admin.username} is not an active administrator in the backup. "
            "Nothing was changed."
        )


def restore_database(url: str, backup_file: Path, admin: AuthenticatedUser) -> RestoreResult:
    """Replace the database with a checked backup that holds every chained row the live
    database holds (and reaches this computer's note), keeping a private copy of the current
    one; ``admin``: an administrator signed in just now (``admin_in_backup``). Records the
    ``restore`` event, signed by them, in the restored database."""
    target = sqlite_path(url)
    backup_file = Path(backup_file).expanduser().resolve()
    if backup_file == target:
        raise UserError("That file is the database itself; choose a backup file.")
    check_database_file(backup_file)
    _check_admin(backup_file, admin)
    target.parent.mkdir(parents=True, exist_ok=True)
    seen = _witness(url).seen()

    previous: Path | None = None
    current_usable = target.is_file() and _looks_like_sqlite(target)
    compared = _refuse_going_back(target, backup_file, seen) if current_usable else None
    if not current_usable:
        _refuse_going_back(backup_file, backup_file, seen)  # the note still holds
    if target.exists():
        previous, current_usable = _keep_previous(target, current_usable)

    if current_usable:
        try:
            with contextlib.closing(sqlite3.connect(backup_file, timeout=30)) as src:
                dest = sqlite3.connect(target, timeout=60, isolation_level=None)
                try:
                    # Again, holding the write lock: a record signed while the copy above was
                    # made must not be lost either. (The backup step takes the lock again at
                    # once; SQLite will not start it inside a transaction.)
                    dest.execute("BEGIN IMMEDIATE")
                    try:
                        compared = _refuse_going_back(dest, backup_file, seen) or compared
                    except UserError:
                        if previous is not None:
                            previous.unlink(missing_ok=True)
                        raise
                    finally:
                        dest.execute("ROLLBACK")
                    src.backup(dest, pages=PAGES_PER_STEP, sleep=0.05)
                finally:
                    dest.close()
        except sqlite3.DatabaseError as error:
            if is_disk_full(error):
                raise DiskFullError("Not restored") from error
            raise UserError(
                f"The database could not be replaced ({error}); it is unchanged, and a copy of "
                f"it is at {previous}."
            ) from error
    else:
        from pharmacist_tool.exports.files import part_beside

        with part_beside(target) as tmp:
            with contextlib.closing(sqlite3.connect(backup_file, timeout=30)) as src:
                _online_copy(src, tmp)
            for stale in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
                stale.unlink(missing_ok=True)  # they belong to the damaged file
            tmp.replace(target)
    final = check_database_file(target)
    _note_restored_head(url, target)
    _record_restore(url, backup_file, admin, previous, final)
    log.info("database %s restored from %s (%d records)", target, backup_file, final.records)
    return RestoreResult(
        restored=final,
        previous_copy=previous,
        audit_events_not_in_backup=compared.audit_events if compared else 0,
    )
