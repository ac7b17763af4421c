"""The case: everything known about one counselling session at the counter.

The format is fixed by the contract ``pharmacist-tool/case@1``. This module loads, validates and
saves it; every later part (engine, window, handout, records) uses these types. Errors name the
field and say what is wrong, in words a pharmacist can act on.

Checks that need the knowledge base (is the medicine a known product, is the rule set known) live
in ``pharmacist_tool.knowledge``; checks here need only the case itself.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec

from pharmacist_tool.errors import UserError

CASE_FORMAT: Final = "pharmacist-tool/case@1"

MAX_CASE_BYTES: Final = 1024 * 1024
"""A case file over 1 MiB is refused unread (the contract's bound; a real case is a few KiB)."""
MAX_LINES: Final = 200
"""At most this many ``medicines`` (and ``contraception``) lines: the contract's bound."""

ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]
Weight = Annotated[float, msgspec.Meta(gt=0, le=400)]
Strength = Annotated[float, msgspec.Meta(gt=0, le=1000)]
SmallCount = Annotated[int, msgspec.Meta(ge=1, le=100)]
Days = Annotated[int, msgspec.Meta(ge=1, le=366)]
Quantity = Annotated[int, msgspec.Meta(ge=0, le=10000)]
Refills = Annotated[int, msgspec.Meta(ge=0, le=99)]
TestResult = Literal["negative", "positive"]
Alcohol = Literal["none", "occasional", "regular"]
OutcomeStatus = Literal["handed-over", "not-handed-over", "declined"]
Sex = Literal["female", "male"]
TestSetting = Literal["medical", "home"]


class Patient(msgspec.Struct, kw_only=True):
    name: ShortText
    date_of_birth: dt.date
    weight_kg: Weight
    can_get_pregnant: bool
    handout_language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")] = "en"
    large_print: bool = False
    programme_id: ShortText | None = None
    """The programme's patient number (iPLEDGE patient ID), the NHS number, or the pharmacy's
    own patient number: the patient's identity across visits when given."""
    sex: Sex | None = None
    """Optional; where a medicine's pack has advice for men (``male``) or women (``female``)."""


class Prescription(msgspec.Struct, kw_only=True):
    medicine: ShortText
    strength_mg: Strength
    units_per_dose: SmallCount
    doses_per_day: SmallCount
    days_supply: Days
    quantity: Quantity | None = None
    refills: Refills = 0
    prescribed_on: dt.date
    prescriber: ShortText = ""
    authorization: ShortText | None = None
    indication: ShortText | None = None
    """What the medicine is prescribed for ("migraine"), where the pack's rules depend on it."""

    @property
    def daily_dose_mg(self) -> float:
        return self.strength_mg * self.units_per_dose * self.doses_per_day


class PregnancyTest(msgspec.Struct, kw_only=True, omit_defaults=True):
    date: dt.date
    result: TestResult
    setting: TestSetting | None = None
    """``medical`` (laboratory, clinic) or ``home`` (where the prescriber allows it); not given:
    as recorded before the field existed, taken as a medical-setting test."""


# -- the course across visits ----------------------------------------------------------------

MilliGrams = Annotated[float, msgspec.Meta(ge=0, le=10_000_000)]
AuthorizationVia = Literal["website", "phone"]


class Course(msgspec.Struct, kw_only=True):
    """Where this visit stands in the patient's course (filled by ``next`` from the last one)."""

    fill_number: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    cumulative_mg_before: MilliGrams = 0
    """What the patient took before this fill, in mg (handed-over fills only)."""
    previous_fill_on: dt.date | None = None
    last_fill: bool = False
    """The prescriber said this is the course's last fill: the assessment adds the dates after."""


class ProgrammeCheck(msgspec.Struct, kw_only=True):
    """How the programme's authorization was obtained (the outage log) and whether it was
    reversed after the medicine was not picked up."""

    authorization_via: AuthorizationVia | None = None
    outage: bool = False
    """The programme's website was down: the authorization was obtained by phone."""
    call_reference: ShortText = ""
    called_at: dt.datetime | None = None
    authorization_reversed_on: dt.date | None = None
    """The day the pharmacy reversed the authorization (a fill not picked up)."""


class Carried(msgspec.Struct, kw_only=True):
    """A next visit's facts carried from the last visit, and those the pharmacist confirmed.

    ``facts``: each carried fact (``weight``, ``can get pregnant``, ``product and dose``,
    ``days' supply``, ``prescriber``, ``contraception``, ``other medicines``, ``alcohol``, and
    ``form seen: <duty id>`` for a programme form seen with its date) with its value at the last
    visit, in words; ``confirmed``: the facts the pharmacist confirmed as
    still true with the patient. A fact whose value now differs was changed this visit. A session
    with a carried fact neither confirmed nor changed cannot be signed."""

    from_record: Annotated[int, msgspec.Meta(ge=1)] | None = None
    facts: dict[ShortText, LongText] = msgspec.field(default_factory=dict)
    confirmed: list[ShortText] = msgspec.field(default_factory=list)


class RiskCategoryChange(msgspec.Struct, kw_only=True):
    """A change of ``patient.can_get_pregnant`` from the last visit: who decided it and why."""

    before: bool
    """``can_get_pregnant`` at the last visit."""
    now: bool
    decided_by: ShortText = ""
    """Who decided the change (the prescriber, by name)."""
    reason: LongText = ""

    @property
    def words(self) -> str:
        """ "from can get pregnant to cannot get pregnant, decided by Dr R. Osei: <why>"."""

        def say(value: bool) -> str:
            return "can get pregnant" if value else "cannot get pregnant"

        return (
            f"from {say(self.before)} to {say(self.now)}, decided by {self.decided_by}: "
            f"{self.reason}"
        )


def carried_words(carried: Carried) -> str:
    """What a next visit carried from the last one and what became of it, in words (a signed
    record's carried facts are each confirmed, or changed this visit)."""
    confirmed = [key for key in carried.facts if key in carried.confirmed]
    changed = [key for key in carried.facts if key not in carried.confirmed]
    source = f"from record {carried.from_record}" if carried.from_record else "from the last visit"
    parts = [f"carried {source}"]
    if confirmed:
        parts.append("confirmed: " + ", ".join(confirmed))
    if changed:
        parts.append("not confirmed as still true (changed this visit): " + ", ".join(changed))
    return "; ".join(parts)


DutyAnswer = Literal["no-change", "change-reported"]


class SupplyDuty(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """What was done about one of the programme's duties on this supply (the rule set's
    ``duties``), as a fact: done or not, and why not; a form's date; a question's answer."""

    done: bool
    """Given, seen, made or asked (by the duty's kind)."""
    reason: LongText = ""
    """Why not (required when ``done`` is false)."""
    form_date: dt.date | None = None
    """A form seen: the date it bears (required when a form was seen)."""
    answer: DutyAnswer | None = None
    """A question asked: the patient's answer (``no-change`` or ``change-reported``)."""


class Resolution(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What was done about a finding: one of the answers in ``resources/case/resolutions.json``
    (``action``), and a note in the pharmacist's words."""

    action: ShortText
    note: LongText = ""


class Outcome(msgspec.Struct, kw_only=True):
    """How the session ended: an extension of the contract used by signing."""

    status: OutcomeStatus
    reason: LongText = ""


class Case(msgspec.Struct, kw_only=True):
    format: Literal["pharmacist-tool/case@1"] = CASE_FORMAT
    rule_set: ShortText
    counselled_on: dt.date
    patient: Patient
    prescription: Prescription
    pregnancy_tests: list[PregnancyTest] = msgspec.field(default_factory=list)
    contraception: Annotated[list[ShortText], msgspec.Meta(max_length=MAX_LINES)] = msgspec.field(
        default_factory=list
    )
    medicines: Annotated[list[ShortText], msgspec.Meta(max_length=MAX_LINES)] = msgspec.field(
        default_factory=list
    )
    other_medicines_asked: bool | None = None
    """The patient was asked about other medicines, supplements and herbal products: ``true``
    with ``medicines`` empty is "asked: takes none"; with lines, those are the answers. ``false``
    is "not asked"; absent or null is "not recorded" (older cases)."""
    alcohol: Alcohol | None = None
    checklist: dict[ShortText, bool] = msgspec.field(default_factory=dict)
    resolutions: dict[ShortText, LongText | Resolution] = msgspec.field(default_factory=dict)
    """Per finding code: what was done (a ``Resolution``), or plain text (older cases)."""
    outcome: Outcome | None = None
    course: Course | None = None
    programme_check: ProgrammeCheck | None = None
    carried: Carried | None = None
    risk_category_change: RiskCategoryChange | None = None
    supply_duties: dict[ShortText, SupplyDuty] = msgspec.field(default_factory=dict)
    """Per duty of the rule set (its id): what was done on this supply."""


# -- loading ---------------------------------------------------------------------------------

_PLAIN_TYPES = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "object": "an object {…}",
    "array": "a list […]",
    "null": "null",
}


_ALLOWED = {
    "format": CASE_FORMAT,
    "alcohol": "none, occasional or regular",
    "result": "negative or positive",
    "status": "handed-over, not-handed-over or declined",
    "authorization_via": "website or phone",
    "sex": "female or male",
    "answer": "no-change or change-reported",
}


def _plain(type_name: str) -> str:
    return " or ".join(_PLAIN_TYPES.get(part, part) for part in type_name.split(" | "))


def _field_path(json_path: str) -> str:
    """``$.patient.weight_kg`` → ``patient.weight_kg``; ``$.medicines[2]`` → ``medicines[2]``."""
    return json_path.removeprefix("$").removeprefix(".") or "the case"


def _explain_validation(error: msgspec.ValidationError) -> str:
    text = str(error)
    where = "the case"
    if " - at `" in text:
        text, _, path = text.rpartition(" - at `")
        path = path.rstrip("`")
        key = path.startswith("key` in `")  # a dictionary's key, not its value
        where = _field_path(path.removeprefix("key` in `")) + (" (a key)" if key else "")
    if m := re.fullmatch(r"Object missing required field `(\w+)`", text):
        field = m.group(1) if where == "the case" else f"{where}.{m.group(1)}"
        return f"{field}: this field is required but missing"
    if m := re.fullmatch(r"Expected `(.+?)`, got `null`", text):
        return f"{where}: not entered (null); enter it, as {_plain(m.group(1))}"
    if m := re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", text):
        return f"{where}: must be {_plain(m.group(1))}, not {_plain(m.group(2))}"
    if m := re.fullmatch(r"Expected `(.+?)` (>=|<=|>|<) (\S+)", text):
        words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
        bound = m.group(3).removesuffix(".0")
        return f"{where}: must be {words[m.group(2)]} {bound}"
    if m := re.fullmatch(r"Expected `str` of length <= (\d+)", text):
        return f"{where}: is too long (at most {m.group(1)} characters)"
    if m := re.fullmatch(r"Expected `array` of length <= (\d+)", text):
        return f"{where}: has too many lines (at most {m.group(1)})"
    if text.startswith("Invalid enum value"):
        value = text.removeprefix("Invalid enum value ").strip()
        allowed = _ALLOWED.get(where.rsplit(".", 1)[-1], "")
        return f"{where}: {value} is not allowed" + (f" (use {allowed})" if allowed else "")
    if text == "Invalid date" or ("date" in text.lower() and "invalid" in text.lower()):
        return f"{where}: is not a real date (write it as YYYY-MM-DD, e.g. 2026-11-25)"
    if text.startswith("Expected `str` matching regex"):
        return f"{where}: is not in the expected form (a two-letter language code such as en or es)"
    return f"{where}: {text[0].lower() + text[1:]}"


_KEYED: dict[str, Any] = {"supply_duties": SupplyDuty, "resolutions": LongText | Resolution}
"""Fields keyed by id whose entry msgspec names only as ``[...]``."""


def _name_the_entry(data: bytes, explained: str) -> str:
    """``supply_duties[...].done: …`` → ``supply_duties.patient-card.done: …`` (the first entry
    that is not valid: the one msgspec stopped at)."""
    field = next((f for f in _KEYED if explained.startswith(f"{f}[...]")), None)
    if field is None:
        return explained
    try:
        entries = msgspec.json.decode(data).get(field)
    except (msgspec.DecodeError, AttributeError, RecursionError):
        return explained
    for key, value in entries.items() if isinstance(entries, dict) else ():
        try:
            msgspec.convert(value, _KEYED[field])
        except msgspec.ValidationError:
            return explained.replace(f"{field}[...]", f"{field}.{key}", 1)
    return explained


def _check_meaning(case: Case) -> list[str]:
    """Checks of sense that a type cannot express (impossible combinations of dates)."""
    problems: list[str] = []
    today = case.counselled_on
    if not case.patient.name.strip():
        problems.append("patient.name: is empty")
    for field, value in (
        ("patient.name", case.patient.name),
        ("prescription.prescriber", case.prescription.prescriber),
        ("prescription.authorization", case.prescription.authorization or ""),
    ):
        if problem := _control_character(value):
            problems.append(f"{field}: {problem}")
    if case.patient.date_of_birth >= today:
        problems.append("patient.date_of_birth: must be before counselled_on")
    elif today.year - case.patient.date_of_birth.year > 120:
        problems.append("patient.date_of_birth: gives an age over 120 years")
    if case.prescription.prescribed_on > today:
        problems.append("prescription.prescribed_on: is after counselled_on")
    if case.prescription.prescribed_on < case.patient.date_of_birth:
        problems.append("prescription.prescribed_on: is before the patient's date of birth")
    if not case.prescription.medicine.strip():
        problems.append("prescription.medicine: is empty")
    for i, test in enumerate(case.pregnancy_tests):
        if test.date > today:
            problems.append(f"pregnancy_tests[{i}].date: is after counselled_on")
        if test.date < case.patient.date_of_birth:
            problems.append(f"pregnancy_tests[{i}].date: is before the patient's date of birth")
    if case.other_medicines_asked is False and case.medicines:
        problems.append(
            f"other_medicines_asked: is false, but medicines lists {len(case.medicines)} "
            "line(s) the patient gave (set it to true, or leave it out)"
        )
    problems += _check_course(case)
    problems += _check_duties(case)
    problems += _check_resolutions(case.resolutions)
    if problem := _implausible_weight(case):
        problems.append(problem)
    if case.outcome and case.outcome.status != "handed-over" and not case.outcome.reason.strip():
        problems.append("outcome.reason: a reason is required when the medicine is not handed over")
    return problems


def _check_course(case: Case) -> list[str]:
    problems: list[str] = []
    if case.patient.programme_id is not None and not case.patient.programme_id.strip():
        problems.append("patient.programme_id: is empty (leave it out when there is none)")
    course, check = case.course, case.programme_check
    if course and course.previous_fill_on and course.previous_fill_on > case.counselled_on:
        problems.append("course.previous_fill_on: is after counselled_on")
    if course and course.fill_number == 1 and course.previous_fill_on is not None:
        problems.append("course.previous_fill_on: a first fill has no previous fill")
    if check and check.outage and check.authorization_via != "phone":
        problems.append(
            "programme_check.authorization_via: during an outage the authorization is obtained "
            "by phone (give phone, the call reference and the time)"
        )
    if check and check.authorization_via == "phone" and check.outage:
        if not check.call_reference.strip():
            problems.append("programme_check.call_reference: give the call reference")
        if check.called_at is None:
            problems.append("programme_check.called_at: give the time of the call")
    if (
        check
        and check.authorization_reversed_on
        and check.authorization_reversed_on < case.counselled_on
    ):
        problems.append("programme_check.authorization_reversed_on: is before counselled_on")
    return problems


def _check_duties(case: Case) -> list[str]:
    problems = []
    for duty_id, duty in case.supply_duties.items():
        where = f"supply_duties.{duty_id}"
        if not duty.done and not duty.reason.strip():
            problems.append(f"{where}.reason: say why it was not done")
        if duty.form_date is not None and duty.form_date > case.counselled_on:
            problems.append(f"{where}.form_date: is after counselled_on")
        if duty.form_date is not None and not duty.done:
            problems.append(f"{where}.form_date: a form not seen has no date (leave it out)")
    return problems


def _check_resolutions(resolutions: dict[str, str | Resolution]) -> list[str]:
    known = {answer.id for answer in resolution_answers().actions}
    return [
        f"resolutions.{code}.action: {given.action!r} is not an answer the tool knows "
        f"(use {', '.join(sorted(known))})"
        for code, given in resolutions.items()
        if isinstance(given, Resolution) and given.action not in known
    ]


class ResolutionAnswer(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    words: str
    stops_other_medicine: bool
    pcne: list[str]


class ResolutionAnswers(msgspec.Struct, forbid_unknown_fields=True):
    about: str
    sources: dict[str, _WeightSource]
    last_reviewed: dt.date
    unconfirmed: str
    actions: list[ResolutionAnswer]
    says_nothing: list[str]


_ANSWERS: list[ResolutionAnswers] = []


def resolution_answers() -> ResolutionAnswers:
    """The answers that clear a finding (``resources/case/resolutions.json``, cited)."""
    if not _ANSWERS:
        from pharmacist_tool import paths

        path = paths.resource("case", "resolutions.json")
        try:
            table = msgspec.json.decode(path.read_bytes(), type=ResolutionAnswers)
        except (OSError, msgspec.DecodeError) as error:
            raise UserError(
                f"The bundled list of resolutions is damaged ({path}: {error})."
            ) from error
        _ANSWERS.append(table)
    return _ANSWERS[0]


_LINE_BREAKS = frozenset({"Zl", "Zp"})


def _control_character(text: str) -> str:
    """Why a name cannot be stored as written: a control character or line break in it."""
    if text.isascii() and text.isprintable():
        return ""
    import unicodedata

    for position, char in enumerate(text, start=1):
        category = unicodedata.category(char)
        if category == "Cc" or category in _LINE_BREAKS:
            return (
                f"contains a control character (U+{ord(char):04X} at character {position}); "
                "a name is plain text on one line"
            )
    return ""


class _WeightBand(msgspec.Struct, forbid_unknown_fields=True):
    from_age: int
    to_age: int
    min_kg: float
    max_kg: float


class _WeightSource(msgspec.Struct):
    title: str
    issuer: str
    date: str
    url: str = ""
    confidence: str = ""


class _PlausibleWeights(msgspec.Struct, forbid_unknown_fields=True):
    about: str
    derivation: str
    sources: dict[str, _WeightSource]
    last_reviewed: dt.date
    unconfirmed: str
    bands: list[_WeightBand]


_WEIGHTS: list[_PlausibleWeights] = []


def plausible_weights() -> _PlausibleWeights:
    """The weights plausible for each age (``resources/case/plausible-weight.json``, cited)."""
    if not _WEIGHTS:
        from pharmacist_tool import paths

        path = paths.resource("case", "plausible-weight.json")
        try:
            table = msgspec.json.decode(path.read_bytes(), type=_PlausibleWeights)
        except (OSError, msgspec.DecodeError) as error:
            raise UserError(
                f"The bundled table of plausible weights is damaged ({path}: {error})."
            ) from error
        _WEIGHTS.append(table)
    return _WEIGHTS[0]


def _implausible_weight(case: Case) -> str:
    age = age_on(case)
    weight = case.patient.weight_kg
    for band in plausible_weights().bands:
        if band.from_age <= age <= band.to_age:
            if band.min_kg <= weight <= band.max_kg:
                return ""
            return (
                f"patient.weight_kg: {weight:g} kg is not a plausible weight at age {age} "
                f"(plausible: {band.min_kg:g}–{band.max_kg:g} kg); check the weight and its unit"
            )
    return ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_decoder = msgspec.json.Decoder(Case)


def parse_case(data: bytes | str, *, source: str = "the case file") -> Case:
    """Decode and validate a case; raise ``UserError`` naming every problem found."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_CASE_BYTES:
        raise UserError(
            f"{_capital(source)} is too large to be a case "
            f"(over {MAX_CASE_BYTES // 1024 // 1024} MiB; a case is a few KiB)."
        )
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark some editors write
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{_capital(source)} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}): save it as UTF-8."
        ) from None
    try:
        case = _decoder.decode(data)
    except msgspec.ValidationError as error:
        explained = _name_the_entry(data, _explain_validation(error))
        raise UserError(f"{_capital(source)} is not a valid case: {explained}") from error
    except msgspec.DecodeError as error:
        raise UserError(f"{_capital(source)} is not valid JSON ({error}).") from error
    except RecursionError:
        raise UserError(
            f"{_capital(source)} is not a valid case: its JSON is nested far too deeply."
        ) from None
    problems = _check_meaning(case)
    if problems:
        raise UserError(f"{_capital(source)} is not a valid case:", details=problems)
    return case


def load_case(path: str | os.PathLike[str]) -> Case:
    """Read and validate a case file: a regular file of at most 1 MiB, never a pipe or device
    (checked before opening, and again on the opened file, so nothing can block or run on)."""
    return parse_case(read_case_bytes(path), source=str(path))


def read_case_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a case file, refused at once when it is not a regular file of ≤ 1 MiB."""
    path = Path(path)
    try:
        _check_case_file(path, path.stat())
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise UserError(f"Case file not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a case file") from None
    except OSError as error:
        raise UserError(f"Cannot read the case file {path}: {error.strerror}") from error
    try:
        _check_case_file(path, os.fstat(fd))  # the file opened is the file checked
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_CASE_BYTES + 1)
    except OSError as error:
        raise UserError(f"Cannot read the case file {path}: {error.strerror}") from error
    finally:
        os.close(fd)
    if len(data) > MAX_CASE_BYTES:
        raise UserError(f"{path} is too large to be a case (over 1 MiB; a case is a few KiB).")
    return data


def _check_case_file(path: Path, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path} is a folder, not a case file")
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a pipe (FIFO)"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise UserError(f"{path} is {kind}, not a case file: give the path of a saved case.")
    if info.st_size > MAX_CASE_BYTES:
        raise UserError(
            f"{path} is too large to be a case ({info.st_size:,} bytes; at most 1 MiB, "
            "and a case is a few KiB)."
        )


def case_to_dict(case: Case) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(case)
    return result


def case_from_dict(data: dict[str, Any], *, source: str = "the case") -> Case:
    return parse_case(msgspec.json.encode(data), source=source)


def dump_case(case: Case) -> bytes:
    """The case as pretty, stable JSON (the same case always gives the same bytes)."""
    return msgspec.json.format(msgspec.json.encode(case), indent=2) + b"\n"


def write_atomically(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half.

    ``durable=False`` skips the ``fsync``: still atomic (a killed process leaves the old or the
    new file, whatever the operating system holds), but a power cut may lose the last writes.
    The window's autosave writes so on every keystroke and durably at step changes and pauses."""
    import tempfile  # here, not at the top: ``assess`` never writes and starts faster without it

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_case(case: Case, path: str | os.PathLike[str]) -> None:
    write_atomically(path, dump_case(case))


def age_on(case: Case) -> int:
    born, today = case.patient.date_of_birth, case.counselled_on
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
