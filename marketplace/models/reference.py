"""Reference tables loaded from marketplace/reference/data (see its README for sources)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, utcnow


class Country(Base):
    """A Belt-and-Road country (GFDC list, Dec 2023), plus China."""

    __tablename__ = "countries"

    iso2: Mapped[str] = mapped_column(String(2), primary_key=True)
    iso3: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    wb_region: Mapped[str] = mapped_column(String(60), index=True)
    income_group: Mapped[str | None] = mapped_column(String(40))
    joined_on: Mapped[date | None]
    exited_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)

    @property
    def is_exited(self) -> bool:
        return self.exited_on is not None


class TaxonomyActivity(Base):
    """An EU Taxonomy climate-mitigation activity (Delegated Regulation 2021/2139, Annex I)."""

    __tablename__ = "taxonomy_activities"

    ref: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    eu_sector: Mapped[str] = mapped_column(String(120))
    nace_codes: Mapped[list] = mapped_column(default=list)
    contribution_type: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(Text)


class GridFactor(Base):
    """Harmonised IFI default grid emission factors 2021 (tCO2/MWh)."""

    __tablename__ = "grid_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory: Mapped[str] = mapped_column(String(120))
    iso2: Mapped[str | None] = mapped_column(String(2), index=True)
    cm_firm: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    cm_intermittent: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    cm_energy_efficiency: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    cm_electricity_consumption: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    operating_margin: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class FxRate(Base):
    """How many US dollars one unit of a currency buys, as of a date; the newest one is used."""

    __tablename__ = "fx_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), index=True)
    usd_per_unit: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    as_of: Mapped[date]
    source: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
