"""Suggested and brokered pairings of a need with a product, their history, and interests."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, enum_column, utcnow


class MatchStatus(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INTRODUCED = "introduced"
    IN_NEGOTIATION = "in_negotiation"
    TERM_SHEET = "term_sheet"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"


class MatchSource(StrEnum):
    RANKER = "ranker"
    INTEREST = "interest"
    BROKER = "broker"


class RejectReason(StrEnum):
    SECTOR_MISMATCH = "sector_mismatch"
    TICKET_SIZE = "ticket_size"
    TENOR = "tenor"
    COUNTRY_RISK = "country_risk"
    CURRENCY = "currency"
    TAXONOMY_NOT_ALIGNED = "taxonomy_not_aligned"
    STAGE = "stage"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Match(TimestampMixin, Base):
    """One (need, product) pair, from suggestion through the broker's decision to the deal's end."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("need_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("financing_needs.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("finance_products.id"), index=True)
    source: Mapped[MatchSource] = enum_column(MatchSource, default=MatchSource.RANKER)
    score: Mapped[float | None]
    rank_for_need: Mapped[int | None] = mapped_column(Integer)
    rank_for_product: Mapped[int | None] = mapped_column(Integer)
    ranker_version: Mapped[str | None] = mapped_column(String(40))
    features: Mapped[dict] = mapped_column(default=dict)
    explanation: Mapped[dict] = mapped_column(default=dict)
    is_exploration: Mapped[bool] = mapped_column(default=False)
    # A ranker suggestion that misses one soft term of the mandate (shown apart, never on top).
    is_near_miss: Mapped[bool] = mapped_column(default=False, server_default=false())
    propensity: Mapped[float | None]
    shown_at: Mapped[datetime | None]
    status: Mapped[MatchStatus] = enum_column(
        MatchStatus, default=MatchStatus.SUGGESTED, index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason_code: Mapped[RejectReason | None] = enum_column(RejectReason, nullable=True)
    reason_note: Mapped[str | None] = mapped_column(Text)
    owner_response: Mapped[str | None] = mapped_column(String(16))
    investor_response: Mapped[str | None] = mapped_column(String(16))
    amount_financed: Mapped[Decimal | None]
    amount_financed_currency: Mapped[str | None] = mapped_column(String(3))
    amount_financed_usd: Mapped[Decimal | None]
    instrument_financed: Mapped[str | None] = mapped_column(String(40))
    closed_on: Mapped[date | None]
    lost_reason: Mapped[str | None] = mapped_column(Text)
    success_fee_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    need = relationship("FinancingNeed")
    product = relationship("FinanceProduct")
    decided_by = relationship("User")
    events = relationship("MatchEvent", back_populates="match", order_by="MatchEvent.created_at")

    __mapper_args__ = {"version_id_col": version_id}


class MatchEvent(Base):
    """One change to a match: who moved it from which status to which, when and why."""

    __tablename__ = "match_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[MatchStatus | None] = enum_column(MatchStatus, nullable=True)
    to_status: Mapped[MatchStatus] = enum_column(MatchStatus)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    match = relationship("Match", back_populates="events")
    actor = relationship("User")


class InterestStatus(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Interest(TimestampMixin, Base):
    """A party's expression of interest in a listing; it reaches brokers as a match."""

    __tablename__ = "interests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    need_id: Mapped[int] = mapped_column(ForeignKey("financing_needs.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("finance_products.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[InterestStatus] = enum_column(InterestStatus, default=InterestStatus.OPEN)

    user = relationship("User")
    need = relationship("FinancingNeed")
    product = relationship("FinanceProduct")
    match = relationship("Match")
