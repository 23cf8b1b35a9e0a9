"""Read-only lists of payments for the history and oversight pages."""

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    FeeStatus,
    FinancingNeed,
    NeedStatus,
    Organisation,
    Payment,
    PaymentPurpose,
    PaymentStatus,
)

PAGE = 200


def payments_of(organisation_id: int) -> list[Payment]:
    """An organisation's payments, newest first."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.organisation_id == organisation_id)
            .order_by(Payment.id.desc())
            .limit(PAGE)
        )
    )


def needs_awaiting_fee(organisation_id: int | None = None) -> list[FinancingNeed]:
    """Submitted needs whose listing fee is neither paid nor waived, oldest first."""
    query = select(FinancingNeed).where(
        FinancingNeed.status == NeedStatus.SUBMITTED, FinancingNeed.fee_status == FeeStatus.UNPAID
    )
    if organisation_id is not None:
        query = query.where(FinancingNeed.organisation_id == organisation_id)
    return list(db.session.scalars(query.order_by(FinancingNeed.submitted_at).limit(PAGE)))


def search_payments(
    purpose: str | None = None, status: str | None = None, organisation: str | None = None
) -> list[Payment]:
    """Every payment, newest first, narrowed by purpose, status and organisation name."""
    query = select(Payment).join(Organisation, Payment.organisation_id == Organisation.id)
    if purpose in {item.value for item in PaymentPurpose}:
        query = query.where(Payment.purpose == purpose)
    if status in {item.value for item in PaymentStatus}:
        query = query.where(Payment.status == status)
    if organisation:
        query = query.where(Organisation.name.icontains(organisation.strip(), autoescape=True))
    return list(db.session.scalars(query.order_by(Payment.id.desc()).limit(PAGE)))


def payments_of_need(need_id: int) -> list[Payment]:
    return list(
        db.session.scalars(
            select(Payment).where(Payment.need_id == need_id).order_by(Payment.id.desc())
        )
    )
