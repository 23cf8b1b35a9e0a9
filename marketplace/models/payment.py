"""Money paid to the platform through Stripe, the fee schedule, and each webhook event seen."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, enum_column, utcnow


class PaymentPurpose(StrEnum):
    LISTING_FEE = "listing_fee"
    MEMBERSHIP = "membership"
    SUCCESS_FEE = "success_fee"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    WAIVED = "waived"
    CANCELED = "canceled"
    # Stripe reported a payment whose amount or currency differs from ours: an admin checks it.
    AMOUNT_MISMATCH = "amount_mismatch"


class Payment(TimestampMixin, Base):
    """One charge, subscription or invoice; Decimal inside, minor units only at Stripe's edge."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[PaymentPurpose] = enum_column(PaymentPurpose, index=True)
    status: Mapped[PaymentStatus] = enum_column(PaymentStatus, default=PaymentStatus.PENDING)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("financing_needs.id"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    amount_refunded: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    interval: Mapped[str | None] = mapped_column(String(10))
    # Saved before the Stripe call, so a retry or a double click reuses it.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(120), index=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(120), index=True)
    stripe_object_created: Mapped[int | None] = mapped_column(BigInteger)
    receipt_url: Mapped[str | None] = mapped_column(String(500))
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waive_reason: Mapped[str | None] = mapped_column(Text)
    refund_reason: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    organisation = relationship("Organisation")


class FeeKind(StrEnum):
    LISTING_FEE = "listing_fee"
    MEMBERSHIP_MONTHLY = "membership_monthly"
    MEMBERSHIP_YEARLY = "membership_yearly"


class Fee(Base):
    """An amount the admin has set for one kind of fee in one currency."""

    __tablename__ = "fees"
    __table_args__ = (UniqueConstraint("kind", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FeeKind] = enum_column(FeeKind)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StripeEvent(Base):
    """A webhook event id, stored once in the same transaction as its effect."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    stripe_created: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
