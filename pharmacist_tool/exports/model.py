"""One signed record as the exports see it, independent of how the database stores it.

The query layer (``queries.py``) builds these from the records tables; the CSV, JSON and FHIR
writers read only these, so each format can be tested on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pharmacist_tool.case import Case


@dataclass(frozen=True)
class Signer:
    username: str
    full_name: str = ""
    role: str = ""

    @property
    def display(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True)
class Amendment:
    id: int
    created_at: dt.datetime
    signer: Signer
    reason: str
    case: Case | None
    """The corrected case, when the amendment carries one."""
    record_hash: str = ""
    stored: dict[str, Any] = field(default_factory=dict)
    """Every stored column of the amendment, as JSON-ready values (for the lossless export)."""


@dataclass(frozen=True)
class ExportRecord:
    id: int
    signed_at: dt.datetime
    signer: Signer
    case: Case
    assessment: dict[str, Any] | None
    """The assessment as it was when signed (JSON object of ``pharmacist-tool/assessment@1``)."""
    outcome: str
    outcome_reason: str
    handout_pdf: bytes | None
    handout_sha256: str
    record_hash: str
    previous_hash: str
    amendments: tuple[Amendment, ...] = ()
    stored: dict[str, Any] = field(default_factory=dict)
    """Every stored column of the record, as JSON-ready values (for the lossless export)."""

    @property
    def current_case(self) -> Case:
        """The case as last amended (the signed case when there is no amendment)."""
        for amendment in reversed(self.amendments):
            if amendment.case is not None:
                return amendment.case
        return self.case
