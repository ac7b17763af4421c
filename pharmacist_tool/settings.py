"""Per-machine settings: the pharmacy's details, paper, printer, idle lock, defaults.

Stored as JSON in the user's config folder (``paths.settings_file``). A missing file means the
defaults; a damaged file is reported and the defaults are used, never silently overwritten.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.case import write_atomically
from pharmacist_tool.errors import UserError

PaperSize = Literal["A4", "Letter"]
PrintThrough = Literal["auto", "cups", "qt"]


class Settings(msgspec.Struct, kw_only=True):
    pharmacy_name: Annotated[str, msgspec.Meta(max_length=120)] = "Your pharmacy"
    pharmacy_address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    pharmacy_phone: Annotated[str, msgspec.Meta(max_length=60)] = ""
    paper_size: PaperSize = "Letter"
    default_printer: str = ""
    print_through: PrintThrough = "auto"
    """How handouts are printed: ``cups`` (the PDF's bytes to ``lp``), ``qt`` (the system print
    dialog; Qt draws the pages at the sheet's paper size), ``auto``: CUPS where its scheduler
    answers, else Qt."""
    idle_lock_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 5
    default_rule_set: str = "US-iPLEDGE"
    handout_language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")] = "en"
    rule_effective_dates: dict[str, dt.date] = msgspec.field(default_factory=dict)
    """Rule-set version id → the date the pharmacy confirmed it takes effect."""
    confirmed_rule_dates: dict[str, dt.date] = msgspec.field(default_factory=dict)
    """``PACK/VERSION`` → the effective date the pharmacy confirmed for a version whose pack
    marks its date unconfirmed (``effective_from_unconfirmed``); it holds for that date only."""


def handout_details_missing(settings: Settings) -> tuple[str, ...]:
    """What the handout needs that the settings do not give: the pharmacy's name and phone."""
    missing = []
    if " ".join(settings.pharmacy_name.split()) in ("", Settings().pharmacy_name):
        missing.append("pharmacy_name")
    if not settings.pharmacy_phone.strip():
        missing.append("pharmacy_phone")
    return tuple(missing)


def load_settings() -> Settings:
    path = paths.settings_file()
    try:
        return msgspec.json.decode(path.read_bytes(), type=Settings)
    except FileNotFoundError:
        return Settings()
    except (msgspec.DecodeError, OSError) as error:
        raise UserError(
            f"The settings file {path} cannot be read ({error}). "
            "Fix or remove it, or save new settings in the window to replace it."
        ) from error


def save_settings(settings: Settings) -> None:
    data = msgspec.json.format(msgspec.json.encode(settings), indent=2) + b"\n"
    write_atomically(paths.settings_file(), data)
