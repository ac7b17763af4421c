"""Bad input refused before anything is read without bound, waited for, or touched: a handout
that is not a regular PDF of sensible size, an output that is a folder, a date whose window runs
past the calendar, a database file that is not SQLite. Each is a ``UserError`` (exit 2)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

from pharmacist_tool.errors import UserError

MAX_HANDOUT_BYTES = 64 * 1024 * 1024
"""A handout is a few pages (tens of KiB, a few MiB with pictures): past this it is not one."""

SQLITE_HEADER = b"SQLite format 3\x00"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_handout_file(path: Path) -> bytes:
    """The bytes of a handout file, refused at once when it is not a regular file of at most
    ``MAX_HANDOUT_BYTES`` (opened without blocking, so a pipe with no writer never hangs)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise UserError(f"The handout {path} was not found") from None
    except OSError as error:
        raise UserError(f"Cannot read the handout {path}: {error.strerror}") from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(
                f"The handout {path} is {_kind(info.st_mode)}, not a PDF file: give the path of "
                "the handout's PDF."
            )
        if info.st_size > MAX_HANDOUT_BYTES:
            raise UserError(
                f"The handout {path} is too large to be one ({info.st_size:,} bytes; at most "
                f"{MAX_HANDOUT_BYTES // 1024 // 1024} MiB)."
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_HANDOUT_BYTES + 1)
    except OSError as error:
        raise UserError(f"Cannot read the handout {path}: {error.strerror}") from error
    finally:
        os.close(fd)
    if len(data) > MAX_HANDOUT_BYTES:
        raise UserError(f"The handout {path} grew past {MAX_HANDOUT_BYTES // 1024 // 1024} MiB.")
    return data


def check_output_file(path: Path, what: str) -> None:
    """``path`` can take a new file: not a folder or a special file, in a folder that exists."""
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise UserError(f"Cannot write {what} to {path}: {error.strerror}") from error
    if info is not None and not stat.S_ISREG(info.st_mode):
        example = f", e.g. {path / 'next.json'}" if stat.S_ISDIR(info.st_mode) else ""
        raise UserError(f"{path} is {_kind(info.st_mode)}: give a file name for {what}{example}")
    if not path.parent.is_dir():
        raise UserError(f"Cannot write {what} to {path}: the folder {path.parent} does not exist")


def window_end(on: dt.date, within: int) -> dt.date:
    """``on`` + ``within`` days, refused when it runs past the last day the calendar holds."""
    try:
        return on + dt.timedelta(days=within)
    except OverflowError:
        raise UserError(
            f"--on {on.isoformat()} with --within {within}: the window runs past "
            f"{dt.date.max.isoformat()}, the last day there is; give a date nearer today"
        ) from None


def refuse_foreign_file(path: Path) -> None:
    """An existing, non-empty file that is not an SQLite database is never opened as one (nor
    its mode changed): opening it would be the first step to overwriting someone's file."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise UserError(f"The database {path} is a folder: name an SQLite file") from None
    except OSError as error:
        raise UserError(f"Cannot open the database {path}: {error.strerror}") from error
    if header and header != SQLITE_HEADER:
        raise UserError(
            f"{path} is not an SQLite database (it holds something else): it was not opened "
            "and not changed. Name the records database file, or a new file to create one."
        )
