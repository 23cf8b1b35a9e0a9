"""Green-finance products posted by investors, each with its mandate."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, enum_column


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


class FinanceProduct(TimestampMixin, Base):
    """An investor's offer of finance and the mandate it is bound by."""

    __tablename__ = "finance_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    product_type: Mapped[str] = mapped_column(String(40), index=True)
    ticket_min: Mapped[Decimal]
    ticket_max: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    ticket_min_usd: Mapped[Decimal]
    ticket_max_usd: Mapped[Decimal]
    tenor_min_years: Mapped[int] = mapped_column(Integer)
    tenor_max_years: Mapped[int] = mapped_column(Integer)
    countries: Mapped[list] = mapped_column(default=list)
    regions: Mapped[list] = mapped_column(default=list)
    sectors: Mapped[list] = mapped_column(default=list)
    technologies: Mapped[list] = mapped_column(default=list)
    instruments: Mapped[list] = mapped_column(default=list)
    # What the last refresh of suggestions found: good / near-miss counts and what rules out most.
    match_summary: Mapped[dict | None] = mapped_column(nullable=True)
    stages: Mapped[list] = mapped_column(default=list)
    taxonomy_requirements: Mapped[list] = mapped_column(default=list)
    min_tco2e_per_year: Mapped[Decimal | None] = mapped_column(Numeric(14, 1))
    pricing_indication: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ProductStatus] = enum_column(
        ProductStatus, default=ProductStatus.DRAFT, index=True
    )
    activated_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    organisation = relationship("Organisation")
    created_by = relationship("User")

    __mapper_args__ = {"version_id_col": version_id}

    def name_for(self, locale: str) -> str:
        if locale.startswith("zh"):
            return self.name_zh or self.name_en or ""
        return self.name_en or self.name_zh or ""
