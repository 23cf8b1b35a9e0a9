"""Avoided emissions per year: the owner's own figure, else the IFI grid-factor method.

IFI method: MW x 8760 h x capacity factor x combined-margin grid factor (tCO2/MWh), in Decimal,
rounded to whole tCO2e half-up. Where an input or a reference value is missing the estimate is
"not available" with a reason key; nothing is guessed. Pure Python, so it runs without the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from marketplace.reference import catalog
from marketplace.reference.sectors import TECHNOLOGIES, Technology

HOURS_PER_YEAR = Decimal(8760)
WHOLE_TONNE = Decimal(1)

Number = Decimal | int | float | str


class Method(StrEnum):
    """How the figure was obtained."""

    OWNER_FIGURE = "owner_figure"
    IFI_GRID_FACTOR = "ifi_grid_factor"
    NOT_AVAILABLE = "not_available"


class Reason(StrEnum):
    """Why there is no figure."""

    UNKNOWN_TECHNOLOGY = "unknown_technology"
    METHOD_NOT_APPLICABLE = "method_not_applicable"
    MISSING_COUNTRY = "missing_country"
    NO_GRID_FACTOR = "no_grid_factor"
    MISSING_CAPACITY = "missing_capacity"
    INVALID_CAPACITY = "invalid_capacity"
    NO_CAPACITY_FACTOR = "no_capacity_factor"
    INVALID_CAPACITY_FACTOR = "invalid_capacity_factor"
    INVALID_OWNER_FIGURE = "invalid_owner_figure"


class CapacityFactorSource(StrEnum):
    """Whose capacity factor was used."""

    OWNER = "owner"
    IRENA_2021 = "irena_2021"


@dataclass(frozen=True)
class ImpactEstimate:
    """An avoided-emission figure with everything a page needs to explain it."""

    technology: str
    country_iso2: str | None
    capacity_mw: Decimal | None
    method: Method
    tco2e_per_year: Decimal | None = None
    reason: Reason | None = None
    capacity_factor: Decimal | None = None  # fraction of nameplate hours, 0-1
    capacity_factor_source: CapacityFactorSource | None = None
    grid_factor: Decimal | None = None  # tCO2/MWh
    grid_factor_column: str | None = None  # key of catalog.GRID_COLUMNS
    grid_factor_iso2: str | None = None  # the IFI row used ("CN" for Hong Kong)
    sources: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()  # notes from the data files the page should show

    @property
    def is_available(self) -> bool:
        """Whether there is a figure (0 is a figure: no credit on a zero-factor grid)."""
        return self.tco2e_per_year is not None


@dataclass(frozen=True)
class _Inputs:
    technology: str
    country_iso2: str | None
    capacity_mw: Decimal | None


@dataclass(frozen=True)
class _CapacityFactorChoice:
    value: Decimal
    source: CapacityFactorSource
    citation: str | None = None
    caveat: str | None = None


def estimate_avoided_emissions(
    technology: str,
    country_iso2: str | None,
    capacity_mw: Number | None,
    owner_capacity_factor: Number | None = None,
    owner_tco2e: Number | None = None,
) -> ImpactEstimate:
    """Estimate tCO2e avoided per year; owner_capacity_factor is a fraction (0.25, not 25)."""
    iso2 = country_iso2.strip().upper() if country_iso2 and country_iso2.strip() else None
    inputs = _Inputs(technology, iso2, _number(capacity_mw))
    if owner_tco2e is not None:
        return _owner_figure(inputs, _number(owner_tco2e))
    return _grid_method(inputs, _number(owner_capacity_factor))


def _number(value: Number | None) -> Decimal | None:
    """Exact Decimal of a form or API value (floats via their shortest repr)."""
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"not a number: {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _whole_tonnes(value: Decimal) -> Decimal:
    return value.quantize(WHOLE_TONNE, rounding=ROUND_HALF_UP)


def _not_available(inputs: _Inputs, reason: Reason) -> ImpactEstimate:
    return ImpactEstimate(**vars(inputs), method=Method.NOT_AVAILABLE, reason=reason)


def _owner_figure(inputs: _Inputs, tco2e: Decimal) -> ImpactEstimate:
    """The owner's own figure overrides every default."""
    if tco2e < 0:
        return _not_available(inputs, Reason.INVALID_OWNER_FIGURE)
    return ImpactEstimate(
        **vars(inputs), method=Method.OWNER_FIGURE, tco2e_per_year=_whole_tonnes(tco2e)
    )


def _grid_method(inputs: _Inputs, owner_capacity_factor: Decimal | None) -> ImpactEstimate:
    technology = TECHNOLOGIES.get(inputs.technology)
    reason = _grid_method_gap(inputs, technology)
    if reason:
        return _not_available(inputs, reason)
    choice = _choose_capacity_factor(technology, owner_capacity_factor)
    if isinstance(choice, Reason):
        return _not_available(inputs, choice)
    return _compute(inputs, technology, choice)


def _grid_method_gap(inputs: _Inputs, technology: Technology | None) -> Reason | None:
    """The first reason the grid method cannot run, if any (most useful reason first)."""
    if technology is None:
        return Reason.UNKNOWN_TECHNOLOGY
    if technology.grid_column is None:
        return Reason.METHOD_NOT_APPLICABLE
    if inputs.country_iso2 is None:
        return Reason.MISSING_COUNTRY
    if catalog.grid_factor(inputs.country_iso2) is None:
        return Reason.NO_GRID_FACTOR
    if inputs.capacity_mw is None:
        return Reason.MISSING_CAPACITY
    if inputs.capacity_mw <= 0:
        return Reason.INVALID_CAPACITY
    return None


def _choose_capacity_factor(
    technology: Technology, owner_value: Decimal | None
) -> _CapacityFactorChoice | Reason:
    """The owner's capacity factor if given, else IRENA's 2021 global default."""
    if owner_value is not None:
        if not 0 < owner_value <= 1:
            return Reason.INVALID_CAPACITY_FACTOR
        return _CapacityFactorChoice(owner_value, CapacityFactorSource.OWNER)
    irena = catalog.capacity_factors().get(technology.irena_technology or "")
    if irena is None:
        return Reason.NO_CAPACITY_FACTOR
    caveat = None if irena.status_2021 == "confirmed" else irena.status_2021
    return _CapacityFactorChoice(
        irena.fraction_2021, CapacityFactorSource.IRENA_2021, irena.source, caveat
    )


def _compute(
    inputs: _Inputs, technology: Technology, choice: _CapacityFactorChoice
) -> ImpactEstimate:
    row = catalog.grid_factor(inputs.country_iso2)
    factor = row.factor(technology.grid_column)
    tonnes = inputs.capacity_mw * HOURS_PER_YEAR * choice.value * factor
    return ImpactEstimate(
        **vars(inputs),
        method=Method.IFI_GRID_FACTOR,
        tco2e_per_year=_whole_tonnes(tonnes),
        capacity_factor=choice.value,
        capacity_factor_source=choice.source,
        grid_factor=factor,
        grid_factor_column=technology.grid_column,
        grid_factor_iso2=row.iso2,
        sources=tuple(s for s in (row.source, choice.citation) if s),
        caveats=tuple(c for c in (row.note, choice.caveat) if c),
    )
