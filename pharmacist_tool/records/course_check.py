"""The course index inside the trust boundary: ``course_fills`` and ``course_due`` checked
against the signed records (as last amended) they are derived from.

The index is not in the hash chain, so anyone who can write to the database could edit it (a
fill's dose, outcome, weight, cumulative dose before, last-fill flag; a forged or deleted fill;
a moved or deleted due row) and change what ``course``, ``next`` and ``due`` show. So:

- ``verify`` rebuilds the whole index in memory from the signed records, exactly as
  ``course.rebuild_course_index`` would write it, and names every row that differs, is missing
  or has no signed record behind it (``index_problems``);
- ``course`` and ``next`` rebuild, from the signed records, every fill of the patients born on
  the days they read, and refuse to show anything when the index disagrees
  (``check_neighbourhood``);
- ``due`` checks each row it shows against the signed record the row names, and rebuilds that
  patient's due list from the signed records when the quick check does not settle it
  (``check_due_rows``). A due row deleted outright shows only to ``verify``.

Every check reads the signed texts each time; the fill a text makes is a function of the text
alone, so the fills of the texts read lately are kept (``SignedFills``) and a text read again is
compared with the one kept, character for character, instead of being decoded again.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from pharmacist_tool.case import Case
from pharmacist_tool.errors import UserError
from pharmacist_tool.records.chain import Problem
from pharmacist_tool.records.course import (
    BY_BIRTH_SQL,
    BY_PROGRAMME_ID_SQL,
    FILL_COLUMNS,
    HANDED_OVER,
    DueItem,
    Fill,
    _fill,
    _group,
    due_rows,
    fill_values,
    patient_key,
)

RawReader = Callable[[str], Sequence[Sequence[Any]]]
"""Runs one read-only statement (no parameters: ids and dates are put in as literals)."""

SOURCES_SQL = (
    "SELECT r.id, a.id, COALESCE(a.case_json, r.case_json), "
    "COALESCE(a.assessment_json, r.assessment_json) FROM records r "
    "LEFT JOIN amendments a ON a.id = "
    "(SELECT MAX(m.id) FROM amendments m WHERE m.record_id = r.id)"
)
"""Each record as last amended: the case and assessment the index row is derived from."""

SHOWN_LIMIT = 5
"""How many disagreements a refusal names (``verify`` names them all)."""


class CourseIndexError(UserError):
    """The course index disagrees with the signed records: nothing of it is shown."""

    exit_code = 1


class _AfterCourse(msgspec.Struct):
    pregnancy_test_due: str | None = None


class _DerivedFrom(msgspec.Struct):
    """The parts of a signed assessment the index is derived from (the rest is skipped)."""

    product: str | None = None
    next_pregnancy_test_due: str | None = None
    pick_up_by: str | None = None
    after_course: _AfterCourse | None = None


_decode_case = msgspec.json.Decoder(Case).decode
_decode_derived = msgspec.json.Decoder(_DerivedFrom).decode


def _assessment_parts(assessment_json: str) -> Mapping[str, Any]:
    try:
        found = _decode_derived(assessment_json)
    except (msgspec.DecodeError, msgspec.ValidationError):
        parsed = json.loads(assessment_json)
        return parsed if isinstance(parsed, dict) else {}
    after = found.after_course
    return {
        "product": found.product,
        "next_pregnancy_test_due": found.next_pregnancy_test_due,
        "pick_up_by": found.pick_up_by,
        "after_course": {"pregnancy_test_due": after.pregnancy_test_due} if after else None,
    }


def signed_fill(
    record_id: int, amendment_id: int | None, case_json: str, assessment_json: str
) -> Fill:
    """The index row a signed record (as last amended) makes."""
    case = _decode_case(case_json)
    values = fill_values(case, _assessment_parts(assessment_json))
    return Fill(record_id=record_id, amendment_id=amendment_id, **values)


_UNREADABLE = (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError)


class SignedFills:
    """The fills made from the signed texts read lately, each kept with the texts it was made
    from (at most ``LIMIT`` records): the same texts make the same fill, so a text read again
    costs a comparison, not a decoding. Nothing is taken on trust: the texts are read from the
    database every time, and a text that differs in any character is decoded again."""

    LIMIT = 2048
    """About 10 KB of signed text a record, so at most some 20 MB: the records of the patients a
    counter looks up in a day and a due list, each patient with those born the same day."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[int | None, str, str, Fill]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Keep nothing (the next reads decode every text again)."""
        with self._lock:
            self._made.clear()

    def fill(
        self, record_id: int, amendment_id: int | None, case_json: str, assessment_json: str
    ) -> Fill:
        """``signed_fill`` of these texts (raises as it does for an unreadable text)."""
        kept = self._made.get(record_id)
        if (
            kept is not None
            and kept[0] == amendment_id
            and kept[1] == case_json
            and kept[2] == assessment_json
        ):
            return kept[3]
        made = signed_fill(record_id, amendment_id, case_json, assessment_json)
        with self._lock:
            if record_id not in self._made and len(self._made) >= self.LIMIT:
                del self._made[next(iter(self._made))]  # the oldest kept
            self._made[record_id] = (amendment_id, case_json, assessment_json, made)
        return made


SIGNED_FILLS = SignedFills()


def signed_fills(run: RawReader, where: str = "", *, keep: bool = True) -> dict[int, Fill]:
    """The index rows the signed records make (``where``: a condition on ``r``; ``keep``: use
    and fill ``SIGNED_FILLS``, for the few records a course or a due list reads)."""
    found: dict[int, Fill] = {}
    sql = sources_sql(where) if where else SOURCES_SQL + " ORDER BY r.id"
    make = SIGNED_FILLS.fill if keep else signed_fill
    for record_id, amendment_id, case_json, assessment_json in run(sql):
        rid = int(record_id)
        try:
            found[rid] = make(
                rid, int(amendment_id) if amendment_id is not None else None,
                str(case_json), str(assessment_json),
            )  # fmt: skip
        except _UNREADABLE:
            continue  # unreadable signed JSON: the chain's own check names that record
    return found


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(str(int(i)) for i in sorted(set(ids))) or "NULL"


def _days(days: Iterable[dt.date]) -> str:
    return ", ".join(f"'{d.isoformat()}'" for d in sorted(set(days))) or "NULL"


# -- comparing ---------------------------------------------------------------------------------

_COLUMN_WORDS = {
    "patient_name": "patient's name",
    "patient_name_key": "folded name",
    "patient_date_of_birth": "date of birth",
    "weight_kg": "weight",
    "daily_dose_mg": "daily dose",
    "cumulative_mg_before": "cumulative dose before",
    "last_fill": "last-fill flag",
}


def fill_problems(index: Mapping[int, Fill], signed: Mapping[int, Fill]) -> list[Problem]:
    """Each index row that differs from its signed record, has none, or is missing."""
    problems: list[Problem] = []
    for record_id in sorted(set(index) | set(signed)):
        row, expected = index.get(record_id), signed.get(record_id)
        if row is not None and row == expected:
            continue
        if expected is None:
            problems.append(
                Problem("course_fills", record_id, "forged: no signed record makes this fill")
            )
        elif row is None:
            problems.append(
                Problem("course_fills", record_id, "missing: the signed record's fill was deleted")
            )
        else:
            changed = [
                f"its {_COLUMN_WORDS.get(name, name.replace('_', ' '))} is "
                f"{getattr(row, name)!r}, the signed record says {getattr(expected, name)!r}"
                for name in FILL_COLUMNS
                if getattr(row, name) != getattr(expected, name)
            ]
            if changed:
                problems.append(
                    Problem("course_fills", record_id, "altered: " + "; ".join(changed))
                )
    return problems


DueKey = tuple[str, str, dt.date, dt.date, int, str, dt.date, str | None]
"""A ``course_due`` row without its id: patient key, what, due on, shown until, record,
name, date of birth, programme id."""


def _due_key(row: Mapping[str, Any]) -> DueKey:
    return (
        str(row["patient_key"]), str(row["what"]), _as_date(row["due_on"]),
        _as_date(row["shown_until"]), int(row["record_id"]), str(row["patient_name"]),
        _as_date(row["patient_date_of_birth"]), row["programme_id"],
    )  # fmt: skip


def _as_date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def due_problems(index: Mapping[int, DueKey], expected: Iterable[DueKey]) -> list[Problem]:
    """Each due row that the signed records do not make, and each they make that is gone."""
    wanted: dict[DueKey, int] = {}
    for key in expected:
        wanted[key] = wanted.get(key, 0) + 1
    problems: list[Problem] = []
    for row_id, key in sorted(index.items()):
        if wanted.get(key):
            wanted[key] -= 1
            continue
        problems.append(
            Problem(
                "course_due",
                key[4],
                f"due-list row {row_id} ({key[1]} due {key[2].isoformat()} for {key[5]}) is not "
                "what the signed records make: moved, altered or forged",
            )
        )
    for key, left in sorted(wanted.items(), key=lambda kv: (kv[0][4], kv[0][1])):
        for _ in range(left):
            problems.append(
                Problem(
                    "course_due",
                    key[4],
                    f"missing: {key[1]} due {key[2].isoformat()} for {key[5]} was deleted "
                    "from the due list",
                )
            )
    return problems


# -- the index as a rebuild would write it -------------------------------------------------------


class _Memory:
    """The two statements grouping runs, answered from fills held in memory."""

    def __init__(self) -> None:
        self.by_born: dict[dt.date, list[tuple[Any, ...]]] = {}
        self.borns_of: dict[str, set[dt.date]] = {}

    def add(self, fill: Fill) -> None:
        self.by_born.setdefault(fill.patient_date_of_birth, []).append(
            msgspec.structs.astuple(fill)
        )
        if fill.programme_id:
            self.borns_of.setdefault(fill.programme_id, set()).add(fill.patient_date_of_birth)

    def __call__(self, sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        if sql == BY_BIRTH_SQL:
            return self.by_born.get(params["born"], [])
        assert sql == BY_PROGRAMME_ID_SQL
        borns = sorted(self.borns_of.get(params["pid"], ()))
        return [row for born in borns for row in self.by_born[born]]


def expected_due(fills: Iterable[Fill]) -> list[DueKey]:
    """The ``course_due`` rows ``rebuild_course_index`` writes for these fills: each fill in
    record order, its patient's rows made again (and the name-only rows it absorbs dropped)."""
    fills = sorted(fills, key=lambda f: f.record_id)
    unnumbered_born = {f.patient_date_of_birth for f in fills if not f.programme_id}
    tangled_ids = {
        f.programme_id
        for f in fills
        if f.programme_id and f.patient_date_of_birth in unnumbered_born
    }
    rows: dict[str, list[DueKey]] = {}
    # A programme id none of whose days of birth any fill without an id shares: its group is its
    # own fills, whatever the order they came in, so it is made once, from all of them.
    plain = _Memory()
    last_of: dict[str, Fill] = {}
    for fill in fills:
        if fill.programme_id and fill.programme_id not in tangled_ids:
            plain.add(fill)
            last_of[fill.programme_id] = fill
    for fill in last_of.values():
        found = _group(plain, fill, similar=False)
        rows[found.key] = [_due_key(row) for row in due_rows(found)]
    # The rest, fill by fill as the rebuild writes them (fills without an id, and the ids that
    # may take them in).
    memory = _Memory()
    for fill in fills:
        if fill.programme_id in last_of:
            continue
        memory.add(fill)
        found = _group(memory, fill, similar=False)
        stale = {found.key}
        if fill.programme_id:
            stale |= {patient_key(f).name_text for f in found.fills}
        for key in stale:
            rows.pop(key, None)
        rows[found.key] = [_due_key(row) for row in due_rows(found)]
    return [key for keys in rows.values() for key in keys]


# -- verify: the whole index ---------------------------------------------------------------------


def index_problems(run: RawReader) -> list[Problem]:
    """Every ``course_fills`` and ``course_due`` row compared with the index the signed records
    make (for ``verify``, inside its snapshot)."""
    signed = signed_fills(run, keep=False)  # every record, once: nothing to keep
    index = {
        int(row[0]): _fill(row)
        for row in run(f"SELECT {', '.join(FILL_COLUMNS)} FROM course_fills")
    }
    due_columns = ("id", "patient_key", "what", "due_on", "shown_until", "record_id",
                   "patient_name", "patient_date_of_birth", "programme_id")  # fmt: skip
    due_index = {
        int(row[0]): _due_key(dict(zip(due_columns, row, strict=True)))
        for row in run(f"SELECT {', '.join(due_columns)} FROM course_due")
    }
    return fill_problems(index, signed) + due_problems(due_index, expected_due(signed.values()))


# -- course and next: the patients born on the days read -----------------------------------------


class RecordingReader:
    """A ``course.Reader`` that keeps every row it returned (the rows then checked)."""

    def __init__(self, read: Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]) -> None:
        self._read = read
        self.rows: dict[int, Sequence[Any]] = {}

    def __call__(self, sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        rows = self._read(sql, params)
        for row in rows:
            self.rows[int(row[0])] = row
        return rows


def neighbourhood(ids: Iterable[int], born: Iterable[dt.date]) -> str:
    """The records to rebuild: those read, and every one of a patient born on those days."""
    days = _days(born)
    return (
        f"r.id IN ({_ids(ids)}) OR r.patient_date_of_birth IN ({days}) OR r.id IN "
        f"(SELECT record_id FROM amendments WHERE patient_date_of_birth IN ({days}))"
    )


def sources_sql(where: str) -> str:
    """The statement ``signed_fills`` runs (for the benchmark's floor)."""
    return SOURCES_SQL + f" WHERE {where} ORDER BY r.id"


def check_neighbourhood(
    run: RawReader,
    rows: Mapping[int, Sequence[Any]],
    born_on: Iterable[dt.date] = (),
    made: Iterable[Fill] = (),
) -> None:
    """Raise ``CourseIndexError`` unless every index row read is what its signed record makes,
    and every signed record of a patient born on one of those days (or ``born_on``) is in the
    index. ``made``: fills already made of some of the rows read."""
    index = {fill.record_id: fill for fill in made if fill.record_id in rows}
    index.update(
        (record_id, _fill(row)) for record_id, row in rows.items() if record_id not in index
    )
    born = {fill.patient_date_of_birth for fill in index.values()} | set(born_on)
    if not born:
        return
    signed = {
        record_id: fill
        for record_id, fill in signed_fills(run, neighbourhood(index, born)).items()
        if record_id in index or fill.patient_date_of_birth in born
    }
    refuse_unless_clean(fill_problems(index, signed))


def refuse_unless_clean(problems: Sequence[Problem]) -> None:
    if not problems:
        return
    shown = [str(p) for p in problems[:SHOWN_LIMIT]]
    if len(problems) > SHOWN_LIMIT:
        shown.append(f"… and {len(problems) - SHOWN_LIMIT} more")
    raise CourseIndexError(
        "The course index disagrees with the signed records, so nothing of it is shown. Run "
        "`pharmacist-tool verify` and ask the pharmacy's IT to look into it:",
        details=shown,
    )


# -- due: each row shown --------------------------------------------------------------------------


def _settled(item: DueItem, fill: Fill | None) -> bool:
    """The quick check: the row says what its own signed record (as last amended) makes it
    say (``fill``: the fill that record makes). ``False`` sends the row to the full check."""
    if fill is None:
        return False
    if item.patient != fill.patient_name or item.date_of_birth != fill.patient_date_of_birth:
        return False
    given = fill.outcome in HANDED_OVER
    if item.what == "next-fill":
        due = fill.counselled_on + dt.timedelta(days=fill.days_supply)
        return given and not fill.last_fill and item.due_on == due
    if item.what == "pregnancy-test":
        return not fill.last_fill and item.due_on == fill.next_pregnancy_test_due
    if item.what == "after-course-pregnancy-test":
        return given and fill.last_fill and item.due_on == fill.after_course_test_due
    if item.what == "reverse-authorization":
        if given or not fill.authorization_number or fill.authorization_reversed_on:
            return False
        late = None
        if fill.pick_up_by and fill.pick_up_by >= fill.counselled_on:
            late = fill.pick_up_by + dt.timedelta(days=1)
        return item.due_on == (late or fill.counselled_on)
    return False


def due_sources(items: Iterable[DueItem]) -> str:
    """The records the due rows shown name."""
    return f"r.id IN ({_ids(i.record_id for i in items)})"


def check_due_rows(run: RawReader, items: Sequence[DueItem]) -> None:
    """Raise ``CourseIndexError`` unless each due row shown is one the signed records make."""
    if not items:
        return
    fills = signed_fills(run, due_sources(items))
    doubtful = [item for item in items if not _settled(item, fills.get(item.record_id))]
    if not doubtful:
        return
    signed = signed_fills(run, due_sources(doubtful))
    born = {item.date_of_birth for item in doubtful} | {
        signed[i.record_id].patient_date_of_birth for i in doubtful if i.record_id in signed
    }
    where = (
        f"r.patient_date_of_birth IN ({_days(born)}) OR r.id IN "
        f"(SELECT record_id FROM amendments WHERE patient_date_of_birth IN ({_days(born)}))"
    )
    neighbours = signed_fills(run, where).values()
    made = {(k[1], k[2], k[4], k[5], k[6], k[7]) for k in expected_due(neighbours)}
    problems = [
        Problem(
            "course_due",
            item.record_id,
            f"{item.what} due {item.due_on.isoformat()} for {item.patient} is not what the "
            "signed records make: moved, altered or forged",
        )
        for item in doubtful
        if (
            item.what,
            item.due_on,
            item.record_id,
            item.patient,
            item.date_of_birth,
            item.programme_id,
        )
        not in made
    ]
    refuse_unless_clean(problems)
