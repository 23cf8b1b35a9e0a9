"""An investor adds, corrects and removes the deals of its organisation's track record by hand."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import Role, TrackRecordDeal, TrackSource, User
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.track_records.rules import (
    DealInput,
    completed,
    dedupe_key,
    fill_row,
    new_row,
    problems,
)

ALREADY_PRESENT = _l("This deal is already in your organisation's track record.")


def require_investor(user: User) -> None:
    if user.role != Role.INVESTOR or user.organisation_id is None:
        raise ServiceError(_l("Only an investor can change its organisation's track record."), 403)


def _require_own(deal: TrackRecordDeal, user: User) -> None:
    require_investor(user)
    if deal.organisation_id != user.organisation_id:
        raise ServiceError(_l("This deal belongs to another organisation."), 403)
    if deal.source == TrackSource.PLATFORM:
        raise ServiceError(
            _l("A deal closed on the platform is recorded as it closed and cannot be changed."), 409
        )


def checked(deal: DealInput) -> DealInput:
    """The completed deal, or a ServiceError naming the first rule it breaks."""
    deal = completed(deal)
    found = problems(deal)
    if found:
        raise ServiceError(found[0][1])
    return deal


def _duplicate(organisation_id: int, key: str, other_than: int | None = None) -> bool:
    query = select(TrackRecordDeal.id).where(
        TrackRecordDeal.organisation_id == organisation_id, TrackRecordDeal.dedupe_key == key
    )
    if other_than is not None:
        query = query.where(TrackRecordDeal.id != other_than)
    return db.session.scalar(query.limit(1)) is not None


def _commit_unique() -> None:
    """Commit; the same deal saved meanwhile by a colleague is refused, not a server error."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(ALREADY_PRESENT, 409) from None


@transactional
def add_deal(user: User, deal: DealInput) -> TrackRecordDeal:
    """Add one deal to the user's organisation's track record."""
    require_investor(user)
    deal = checked(deal)
    if _duplicate(user.organisation_id, dedupe_key(deal)):
        raise ServiceError(ALREADY_PRESENT, 409)
    row = new_row(user.organisation_id, deal, TrackSource.MANUAL, user.id)
    db.session.add(row)
    db.session.flush()
    record("track_record.add", actor=user, target=row, year=row.year)
    _commit_unique()
    return row


@transactional
def update_deal(row: TrackRecordDeal, user: User, deal: DealInput) -> TrackRecordDeal:
    """Correct a deal the organisation entered or imported."""
    _require_own(row, user)
    deal = checked(deal)
    if _duplicate(row.organisation_id, dedupe_key(deal), other_than=row.id):
        raise ServiceError(ALREADY_PRESENT, 409)
    fill_row(row, deal)
    record("track_record.edit", actor=user, target=row, year=row.year)
    _commit_unique()
    return row


@transactional
def delete_deal(row: TrackRecordDeal, user: User) -> None:
    """Remove a deal the organisation entered or imported."""
    _require_own(row, user)
    record("track_record.delete", actor=user, target=row, year=row.year)
    db.session.delete(row)
    db.session.commit()


def as_input(row: TrackRecordDeal) -> DealInput:
    """A stored deal as the form shows it."""
    return DealInput(
        row.country_iso2,
        row.sector,
        row.technology,
        row.year,
        row.amount_usd,
        tuple(row.co_financiers or ()),
    )
