"""CSV that opens safely in a spreadsheet (RFC 4180, UTF-8, OWASP ASVS 1.2.10).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read
as a formula by Excel, LibreOffice or Google Sheets (``=HYPERLINK(...)`` can leak data, ``@SUM``
runs a function). Such text cells get a single quote in front, which the spreadsheet shows as
plain text. Numeric columns are written as plain numbers and never prefixed, so ``-2.5`` stays
the number -2.5.

Every column is declared with its kind; only ``text`` columns are escaped.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

ColumnKind = Literal["text", "number", "date", "datetime", "boolean"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters a spreadsheet reads as the start of a formula (OWASP)."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    description: str = ""


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet will show as text, never run as a formula."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def format_number(value: int | float | None) -> str:
    """A number as a spreadsheet reads it: ``-2.5``, ``40``, ``0.65``; empty when unknown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number column")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_cell(kind: ColumnKind, value: Any) -> str:
    """One cell of the given kind, as text that is safe to open in a spreadsheet."""
    if value is None:
        return ""
    if kind == "number":
        return format_number(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            moment: dt.datetime = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return moment.isoformat(timespec="seconds")
        return safe_text(str(value))
    if kind == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        return safe_text(str(value))
    return safe_text(str(value))


def row_formatter(columns: Sequence[Column]) -> Callable[[Sequence[Any]], list[str]]:
    """A function turning one row of values (in column order) into safe cells."""
    kinds = [c.kind for c in columns]
    text_only = all(k == "text" for k in kinds)

    if text_only:

        def text_row(values: Sequence[Any]) -> list[str]:
            return [
                "" if v is None else ("'" + v if v and v[0] in FORMULA_TRIGGERS else v)
                for v in map(_str_or_none, values)
            ]

        return text_row

    def row(values: Sequence[Any]) -> list[str]:
        return [format_cell(k, v) for k, v in zip(kinds, values, strict=True)]

    return row


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def csv_writer(handle: IO[str]) -> Any:
    """An RFC 4180 writer: comma, double quotes doubled, CRLF after every row."""
    return csv.writer(handle, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def write_csv(
    handle: IO[str],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = True,
) -> int:
    """Write the header and every row; return the number of rows written."""
    if bom:
        handle.write("\ufeff")  # lets Excel recognise UTF-8; other readers ignore it
    writer = csv_writer(handle)
    writer.writerow([c.name for c in columns])
    fmt = row_formatter(columns)
    count = 0
    for values in rows:
        writer.writerow(fmt(values))
        count += 1
    return count
