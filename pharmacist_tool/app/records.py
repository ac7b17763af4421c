"""The records desk: what the records view (and the command line, where it does the same) asks
of the signed records, one typed method per action, each writing its own audit entry.

``RecordsDesk(db, user)``: ``user`` is the user name of whoever is signed in (None: nobody, and
the events say so). Who may do what is the window's question (``gui.authority``); this layer
does the action and records it. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pharmacist_tool.app.session import CounterSession
from pharmacist_tool.case import Case
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge.model import KnowledgeBase
from pharmacist_tool.records.chain import VerifyReport
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import (
    OUTCOME_WORDS,
    AmendmentDetail,
    RecordDetail,
    RecordFilter,
    RecordSummary,
    parse_date,
)
from pharmacist_tool.records.service import HeadNote

if TYPE_CHECKING:
    from pharmacist_tool.exports.backup import DatabaseCheck, RestoreResult
    from pharmacist_tool.exports.service import ExportResult
    from pharmacist_tool.handout import RenderOptions
    from pharmacist_tool.records.writing import HandoutLike
    from pharmacist_tool.settings import Settings

__all__ = [
    "OUTCOME_WORDS",
    "AmendmentDetail",
    "ChainNotIntactError",
    "HeadNote",
    "HeadSheet",
    "RecordDetail",
    "RecordFilter",
    "RecordSummary",
    "RecordsDesk",
    "parse_date",
]

Progress = Callable[[int, int], None]
"""Called with (done, total) as an export goes."""


class ChainNotIntactError(UserError):
    """The chain failed its check: no head is printed for the paper log."""

    def __init__(self, report: VerifyReport) -> None:
        first = report.problems[0]
        super().__init__(
            f"Not printed: the chain is not intact ({len(report.problems)} problem(s); first: "
            f"{first}). Run `pharmacist-tool verify` and tell the pharmacist-in-charge before "
            "writing any head in the log."
        )
        self.report = report


@dataclass(frozen=True)
class HeadSheet:
    """The verified chain head and the page that carries it to the paper log."""

    note: HeadNote
    pdf: bytes
    paper: str


class RecordsDesk:
    """List, search, open, reprint, amend, back up, restore, export, verify, and the chain head."""

    def __init__(self, db: Database, user: str | None) -> None:
        self.db = db
        self.user = user or None

    # -- finding records ---------------------------------------------------------------------

    def page(
        self,
        flt: RecordFilter,
        *,
        sort: str = "signed_at",
        descending: bool = True,
        after: tuple[object, int] | None = None,
        limit: int = 100,
    ) -> list[RecordSummary]:
        """One page of the records matching ``flt``, after the row ``after`` (sort value, id)."""
        from pharmacist_tool.records.reading import fetch_page

        flt.check()
        return fetch_page(self.db, flt, sort=sort, descending=descending, after=after, limit=limit)

    def count(self, flt: RecordFilter) -> int:
        from pharmacist_tool.records.reading import count_records

        return count_records(self.db, flt)

    def users(self) -> list[tuple[str, str]]:
        """(user name, printed name) of every user, for the search by pharmacist."""
        from pharmacist_tool.records.users import list_users

        return [(user.username, user.printed_name) for user in list_users(self.db)]

    # -- one record --------------------------------------------------------------------------

    def open(self, record_id: int) -> RecordDetail:
        """A record with its amendments, its opening audited as ``view``."""
        from pharmacist_tool.records.reading import get_record
        from pharmacist_tool.records.writing import record_event

        detail = get_record(self.db, record_id)
        record_event(self.db, "view", user=self.user, record_id=record_id)
        return detail

    def amendment_session(self, record_id: int) -> CounterSession:
        """The record (as last amended) opened as a session to correct, every value as it was
        signed (opening it is audited as ``view``)."""
        detail = self.open(record_id)
        return CounterSession.for_amendment(
            record_id, detail.current_case, signed=detail.signature.line()
        )

    def reprint(self, record_id: int, amendment_id: int | None = None) -> bytes:
        """The stored handout's very bytes, audited as ``reprint``."""
        from pharmacist_tool.records.usecases import reprint

        return reprint(self.db, record_id, username=self.user, amendment_id=amendment_id)

    def amend(
        self,
        record_id: int,
        case: Case,
        *,
        reason: str,
        password: str,
        username: str | None = None,
        kb: KnowledgeBase | None = None,
        settings: Settings | None = None,
        handout: HandoutLike | None = None,
        previewed: HandoutLike | None = None,
        handout_options: RenderOptions | None = None,
        what: str = "The corrected session",
    ) -> AmendmentDetail:
        """The one amend action, for the window's steps and the command line's case file alike:
        the corrected case beside the signed record (which never changes), with the reason, the
        handout and the signature of ``username`` (the signed-in user when None), given their
        password; audited as ``amend``."""
        from pharmacist_tool.records import usecases

        signer = username or self.user
        if not signer or not password:
            raise UserError("Enter your user name and password to sign the amendment")
        return usecases.amend(
            self.db,
            record_id,
            case,
            reason=reason,
            username=signer,
            password=password,
            kb=kb,
            settings=settings,
            handout=handout,
            previewed=previewed,
            handout_options=handout_options,
            what=what,
        )

    # -- all records -------------------------------------------------------------------------

    def export(
        self,
        fmt: str,
        path: Path,
        flt: RecordFilter,
        *,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExportResult:
        """Write the matching records to ``path`` (all or nothing), audited as ``export``."""
        from pharmacist_tool.exports.service import export_records

        return export_records(
            self.db, fmt, path, flt, username=self.user, progress=progress, cancelled=cancelled
        )

    def backup(self, path: Path) -> DatabaseCheck:
        """Copy the records to ``path`` and check the copy. The ``backup`` event comes first,
        so that the backup holds it (a restore refuses a backup that lacks any live event)."""
        from pharmacist_tool.exports.backup import backup_database, sqlite_path
        from pharmacist_tool.exports.service import audit

        url = str(self.db.url)
        sqlite_path(url)  # PostgreSQL: the pg_dump advice, before anything is recorded
        audit(self.db, "backup", username=self.user, detail={"file": str(Path(path).resolve())})
        return backup_database(url, Path(path))

    def restore(self, path: Path, password: str) -> RestoreResult:
        """Replace the records with the backup at ``path``: the signed-in administrator's
        password is checked against the backup's own users; the ``restore`` event is signed by
        them in the restored database."""
        from pharmacist_tool.exports.backup import admin_in_backup, restore_database

        admin = admin_in_backup(Path(path), self.user or "", password)
        return restore_database(str(self.db.url), Path(path), admin)

    # -- the chain ---------------------------------------------------------------------------

    def verify(self, expect_head: tuple[int, str] | None = None) -> VerifyReport:
        from pharmacist_tool.records.service import verify

        return verify(self.db, expect_head=expect_head)

    def head(self) -> HeadNote:
        """The stored chain head (quick: not recomputed)."""
        from pharmacist_tool.records.service import head_note

        return head_note(self.db)

    def head_sheet(self, settings: Settings) -> HeadSheet:
        """The chain verified, then its head on one page for the paper log; ``ChainNotIntactError``
        when it fails its check."""
        from pharmacist_tool.handout.chain_sheet import ChainSheet, render_chain_sheet
        from pharmacist_tool.records.service import verified_head_note

        note, report = verified_head_note(self.db)
        if not report.intact:
            raise ChainNotIntactError(report)
        sheet = ChainSheet(
            pharmacy=settings.pharmacy_name,
            address=settings.pharmacy_address,
            database=self.db.describe(),
            head=note,
        )
        paper = settings.paper_size
        return HeadSheet(note=note, pdf=render_chain_sheet(sheet, paper=paper), paper=paper)
