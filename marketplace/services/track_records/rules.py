"""What a track-record deal must be, however it arrives (form, file or platform), and when two
deals are the same one."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from marketplace.models import TrackRecordDeal, TrackSource, utcnow
from marketplace.reference import catalog, sectors

FIRST_YEAR = 1990
MAX_AMOUNT_USD = Decimal("1000000000000")
MAX_CO_FINANCIERS = 20
MAX_NAME_CHARS = 200
# Names in one cell or text box: semicolons (ASCII or full-width) or one name per line.
_NAME_SEPARATORS = re.compile(r"[;；\n\r]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

COLUMNS = ("country", "sector", "technology", "year", "amount_usd", "co_financiers")


@dataclass(frozen=True)
class DealInput:
    """One deal as a person described it (keys already resolved, not yet checked)."""

    country_iso2: str | None
    sector: str | None
    technology: str | None
    year: int | None
    amount_usd: Decimal | None = None
    co_financiers: tuple[str, ...] = ()


def split_names(text: str | None) -> tuple[str, ...]:
    """Co-financier names from one text: trimmed, blanks and repeats dropped, order kept."""
    names = (
        " ".join(_CONTROL.sub(" ", part).split()) for part in _NAME_SEPARATORS.split(text or "")
    )
    return tuple(dict.fromkeys(name for name in names if name))


def completed(deal: DealInput) -> DealInput:
    """The deal with its sector filled in from its technology and its names cleaned."""
    sector = deal.sector
    if not sector and deal.technology in sectors.TECHNOLOGIES:
        sector = sectors.sector_of(deal.technology)
    names = split_names("\n".join(deal.co_financiers))
    return replace(deal, sector=sector or None, co_financiers=names)


def problems(deal: DealInput) -> list[tuple[str, str]]:
    """(column, message) for each rule the deal breaks; empty when it may be saved."""
    found = [*_place_problems(deal), *_figure_problems(deal), *_name_problems(deal)]
    return [(column, str(message)) for column, message in found]


def _place_problems(deal: DealInput) -> list[tuple[str, object]]:
    found = []
    if deal.country_iso2 and deal.country_iso2 not in catalog.countries():
        found.append(("country", _l("Not a country on the platform's list.")))
    if deal.sector and deal.sector not in sectors.SECTORS:
        found.append(("sector", _l("Not a sector the platform knows.")))
    if deal.technology and deal.technology not in sectors.TECHNOLOGIES:
        found.append(("technology", _l("Not a technology the platform knows.")))
    elif deal.technology and deal.sector and sectors.sector_of(deal.technology) != deal.sector:
        found.append(("technology", _l("This technology belongs to another sector.")))
    if not deal.sector and not deal.technology:
        found.append(("sector", _l("Give the sector, the technology, or both.")))
    return found


def _figure_problems(deal: DealInput) -> list[tuple[str, object]]:
    found = []
    this_year = utcnow().year
    if deal.year is None:
        found.append(("year", _l("Give the year the deal closed.")))
    elif not FIRST_YEAR <= deal.year <= this_year:
        found.append(
            (
                "year",
                _l(
                    "The year must be from %(first)d to %(last)d.", first=FIRST_YEAR, last=this_year
                ),
            )
        )
    if deal.amount_usd is not None and not (0 < deal.amount_usd <= MAX_AMOUNT_USD):
        found.append(
            ("amount_usd", _l("The amount must be above zero and at most 1 trillion USD."))
        )
    return found


def _name_problems(deal: DealInput) -> list[tuple[str, object]]:
    if len(deal.co_financiers) > MAX_CO_FINANCIERS:
        message = _l("Name at most %(num)d co-financiers.", num=MAX_CO_FINANCIERS)
        return [("co_financiers", message)]
    if any(len(name) > MAX_NAME_CHARS for name in deal.co_financiers):
        message = _l(
            "A co-financier's name may have at most %(num)d characters.", num=MAX_NAME_CHARS
        )
        return [("co_financiers", message)]
    return []


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def dedupe_key(deal: DealInput) -> str:
    """The same deal however it was written: case, spacing and the order of names ignored."""
    amount = "" if deal.amount_usd is None else f"{deal.amount_usd.quantize(Decimal('0.01')):f}"
    names = sorted({_folded(name) for name in deal.co_financiers})
    parts = (deal.country_iso2 or "", deal.sector or "", deal.technology or "", str(deal.year))
    text = "\x1f".join((*parts, amount, "\x1e".join(names)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def platform_key(match_id: int) -> str:
    """A deal closed on the platform is one deal per match, whatever its fields."""
    return hashlib.sha256(f"match:{match_id}".encode()).hexdigest()


def fill_row(row: TrackRecordDeal, deal: DealInput) -> None:
    """Write a checked deal's fields (and its dedupe key) on a stored row."""
    row.country_iso2, row.sector, row.technology = deal.country_iso2, deal.sector, deal.technology
    row.year, row.amount_usd = deal.year, deal.amount_usd
    row.co_financiers, row.dedupe_key = list(deal.co_financiers), dedupe_key(deal)


def new_row(
    organisation_id: int, deal: DealInput, source: TrackSource, created_by_id: int | None
) -> TrackRecordDeal:
    """A new row of an organisation's track record for a checked deal (not yet added)."""
    row = TrackRecordDeal(
        organisation_id=organisation_id, source=source, created_by_id=created_by_id
    )
    fill_row(row, deal)
    return row
