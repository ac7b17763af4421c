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
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec

from pharmacist_tool.errors import UserError

CASE_FORMAT: Final = "pharmacist-tool/case@1"

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

    @property
    def daily_dose_mg(self) -> float:
        return self.strength_mg * self.units_per_dose * self.doses_per_day


class PregnancyTest(msgspec.Struct, kw_only=True):
    date: dt.date
    result: TestResult


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
    contraception: list[ShortText] = msgspec.field(default_factory=list)
    medicines: list[ShortText] = msgspec.field(default_factory=list)
    alcohol: Alcohol | None = None
    checklist: dict[ShortText, bool] = msgspec.field(default_factory=dict)
    resolutions: dict[ShortText, LongText] = msgspec.field(default_factory=dict)
    outcome: Outcome | None = None
    course: Course | None = None
    programme_check: ProgrammeCheck | None = None


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
        where = _field_path(path.rstrip("`"))
    if m := re.fullmatch(r"Object missing required field `(\w+)`", text):
        field = m.group(1) if where == "the case" else f"{where}.{m.group(1)}"
        return f"{field}: this field is required but missing"
    if m := re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", text):
        return f"{where}: must be {_plain(m.group(1))}, not {_plain(m.group(2))}"
    if m := re.fullmatch(r"Expected `(.+?)` (>=|<=|>|<) (\S+)", text):
        words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
        bound = m.group(3).removesuffix(".0")
        return f"{where}: must be {words[m.group(2)]} {bound}"
    if m := re.fullmatch(r"Expected `str` of length <= (\d+)", text):
        return f"{where}: is too long (at most {m.group(1)} characters)"
    if text.startswith("Invalid enum value"):
        value = text.removeprefix("Invalid enum value ").strip()
        allowed = _ALLOWED.get(where.rsplit(".", 1)[-1], "")
        return f"{where}: {value} is not allowed" + (f" (use {allowed})" if allowed else "")
    if text == "Invalid date" or ("date" in text.lower() and "invalid" in text.lower()):
        return f"{where}: is not a real date (write it as YYYY-MM-DD, e.g. 2026-11-25)"
    if text.startswith("Expected `str` matching regex"):
        return f"{where}: is not in the expected form (a two-letter language code such as en or es)"
    return f"{where}: {text[0].lower() + text[1:]}"


def _check_meaning(case: Case) -> list[str]:
    """Checks of sense that a type cannot express (impossible combinations of dates)."""
    problems: list[str] = []
    today = case.counselled_on
    if not case.patient.name.strip():
        problems.append("patient.name: is empty")
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
    problems += _check_course(case)
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


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_decoder = msgspec.json.Decoder(Case)


def parse_case(data: bytes | str, *, source: str = "the case file") -> Case:
    """Decode and validate a case; raise ``UserError`` naming every problem found."""
    try:
        case = _decoder.decode(data)
    except msgspec.ValidationError as error:
        raise UserError(
            f"{_capital(source)} is not a valid case: {_explain_validation(error)}"
        ) from error
    except msgspec.DecodeError as error:
        raise UserError(f"{_capital(source)} is not valid JSON ({error}).") from error
    problems = _check_meaning(case)
    if problems:
        raise UserError(f"{_capital(source)} is not a valid case:", details=problems)
    return case


def load_case(path: str | os.PathLike[str]) -> Case:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"Case file not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a case file") from None
    except OSError as error:
        raise UserError(f"Cannot read the case file {path}: {error.strerror}") from error
    return parse_case(data, source=str(path))


def case_to_dict(case: Case) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(case)
    return result


def case_from_dict(data: dict[str, Any], *, source: str = "the case") -> Case:
    return parse_case(msgspec.json.encode(data), source=source)


def dump_case(case: Case) -> bytes:
    """The case as pretty, stable JSON (the same case always gives the same bytes)."""
    return msgspec.json.format(msgspec.json.encode(case), indent=2) + b"\n"


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half."""
    import tempfile  # here, not at the top: ``assess`` never writes and starts faster without it

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
