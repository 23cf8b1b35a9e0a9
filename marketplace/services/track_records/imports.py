"""Importing a track record from a CSV or XLSX file: every row or none.

Every row is read and checked first; one bad row refuses the whole file, with every error and
its row number. A good file is added in one transaction, skipping the deals already recorded
(the same normalised fields), so importing the same file twice adds nothing the second time.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import TrackRecordDeal, TrackSource, User
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.track_records.editing import require_investor
from marketplace.services.track_records.reading import header_columns, numbered_rows, read_row
from marketplace.services.track_records.rules import (
    COLUMNS,
    DealInput,
    completed,
    dedupe_key,
    new_row,
    problems,
)


@dataclass(frozen=True)
class RowError:
    """One problem in the file: its spreadsheet row (the header is row 1) and column."""

    row: int
    column: str | None
    message: str


class ImportRefused(ServiceError):
    """The file has bad rows: nothing was imported; `errors` says where and why."""

    def __init__(self, errors: list[RowError]):
        rows = len({error.row for error in errors})
        super().__init__(
            ngettext(
                "Nothing was imported: %(num)d row has errors. Correct it and import the file "
                "again.",
                "Nothing was imported: %(num)d rows have errors. Correct them and import the "
                "file again.",
                rows,
            )
        )
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_present: int


def parse_file(filename: str, content: bytes) -> list[DealInput]:
    """The deals of a file, each completed and checked; ImportRefused lists every bad row."""
    rows = numbered_rows(filename, content)
    header = next(rows, None)
    if header is None:
        raise ServiceError(_l("The file is empty."))
    columns = header_columns(header[1])
    deals, errors = [], []
    for number, cells in rows:
        deal, found = _checked_row(columns, cells)
        errors.extend(RowError(number, column, message) for column, message in found)
        if not found:
            deals.append(deal)
    if errors:
        raise ImportRefused(errors)
    if not deals:
        raise ServiceError(_l("The file holds no deals, only the row of column names."))
    return deals


def _checked_row(columns, cells) -> tuple[DealInput, list[tuple[str, str]]]:
    deal, unreadable = read_row(columns, cells)
    deal = completed(deal)
    bad_cells = {column for column, _message in unreadable}
    # A cell that could not be read is reported once, not again as a missing value.
    return deal, unreadable + [p for p in problems(deal) if p[0] not in bad_cells]


@transactional
def import_file(user: User, filename: str, content: bytes) -> ImportResult:
    """Add the file's deals to the user's organisation's track record, all or none."""
    require_investor(user)
    deals = parse_file(filename, content)
    known = set(
        db.session.scalars(
            select(TrackRecordDeal.dedupe_key).where(
                TrackRecordDeal.organisation_id == user.organisation_id
            )
        )
    )
    added = []
    for deal in deals:
        key = dedupe_key(deal)
        if key not in known:
            known.add(key)
            added.append(new_row(user.organisation_id, deal, TrackSource.IMPORT, user.id))
    db.session.add_all(added)
    present = len(deals) - len(added)
    record("track_record.import", actor=user, target=user.organisation, added=len(added),
           already_present=present, file=(filename or "")[:200])  # fmt: skip
    _commit()
    return ImportResult(len(added), present)


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # a colleague imported the same deals at the same moment
        db.session.rollback()
        raise ServiceError(
            _l("The track record changed while the file was imported. Import it again."), 409
        ) from None


def template_csv() -> str:
    """The header row of an import file (English column names; Chinese ones are accepted too)."""
    return ",".join(COLUMNS) + "\r\n"
