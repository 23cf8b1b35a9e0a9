"""Reading track records: an organisation's list and summary, the ranker's records, and what
each organisation has financed (for search)."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Organisation, OrgKind, TrackRecordDeal
from marketplace.reference import catalog

TOP = 3
# Past this many organisations, reading every deal beats a long IN list (and its bind limits).
_MAX_IN_LIST = 500


@dataclass(frozen=True)
class TrackSummary:
    """A track record in a line: how many deals since when, how much, where and in what."""

    deals: int = 0
    since: int | None = None
    total_usd: Decimal = Decimal(0)
    priced: int = 0  # deals whose amount is known (the total covers these)
    countries: list[tuple[str, int]] = field(default_factory=list)
    # (kind, key, deals): the technology where known, else the sector.
    fields: list[tuple[str, str, int]] = field(default_factory=list)


def deals_of(organisation_id: int) -> list[TrackRecordDeal]:
    """An organisation's deals, newest year first."""
    return list(
        db.session.scalars(
            select(TrackRecordDeal)
            .where(TrackRecordDeal.organisation_id == organisation_id)
            .order_by(TrackRecordDeal.year.desc(), TrackRecordDeal.id.desc())
        )
    )


def summarise(deals: Iterable[TrackRecordDeal]) -> TrackSummary:
    deals = list(deals)
    if not deals:
        return TrackSummary()
    amounts = [deal.amount_usd for deal in deals if deal.amount_usd is not None]
    countries = Counter(deal.country_iso2 for deal in deals if deal.country_iso2)
    fields = Counter(
        ("technology", deal.technology) if deal.technology else ("sector", deal.sector)
        for deal in deals
    )
    return TrackSummary(
        deals=len(deals),
        since=min(deal.year for deal in deals),
        total_usd=sum(amounts, Decimal(0)),
        priced=len(amounts),
        countries=countries.most_common(TOP),
        fields=[(kind, key, n) for (kind, key), n in fields.most_common(TOP)],
    )


def summary(organisation_id: int) -> TrackSummary:
    """The summary a product page shows for its investor."""
    return summarise(deals_of(organisation_id))


def investor_organisation(organisation_id: int) -> Organisation | None:
    """The organisation when it is an investor (only investors have a track record)."""
    organisation = db.session.get(Organisation, organisation_id)
    return organisation if organisation and organisation.kind == OrgKind.INVESTOR else None


def find_deal(deal_id: int) -> TrackRecordDeal | None:
    return db.session.get(TrackRecordDeal, deal_id)


# --- for the ranker --------------------------------------------------------------------------


def ranker_entry(deal: TrackRecordDeal) -> dict:
    """One deal in the matching engine's track-record format (any field may be None)."""
    country = catalog.countries().get(deal.country_iso2 or "")
    return {
        "country": deal.country_iso2,
        "region": country.wb_region if country else None,
        "technology": deal.technology,
        "sector": deal.sector,
        "year": deal.year,
        "amount_usd": float(deal.amount_usd) if deal.amount_usd is not None else None,
        "co_financiers": list(deal.co_financiers or ()),
    }


def ranker_entries(organisation_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Each organisation's deals in the engine's format, in one query (oldest first)."""
    wanted = sorted(set(organisation_ids))
    found: dict[int, list[dict]] = {org_id: [] for org_id in wanted}
    if not wanted:
        return found
    query = select(TrackRecordDeal).order_by(TrackRecordDeal.year, TrackRecordDeal.id)
    if len(wanted) <= _MAX_IN_LIST:
        query = query.where(TrackRecordDeal.organisation_id.in_(wanted))
    for deal in db.session.scalars(query):
        if deal.organisation_id in found:
            found[deal.organisation_id].append(ranker_entry(deal))
    return found


# --- for search ------------------------------------------------------------------------------


def financed_places_and_technologies() -> dict[int, dict[str, set[str]]]:
    """For each organisation with a track record: the countries and technologies it financed."""
    found: dict[int, dict[str, set[str]]] = defaultdict(
        lambda: {"financed_country": set(), "financed_technology": set()}
    )
    rows = db.session.execute(
        select(
            TrackRecordDeal.organisation_id,
            TrackRecordDeal.country_iso2,
            TrackRecordDeal.technology,
        ).distinct()
    )
    for org_id, country, technology in rows:
        keys = found[org_id]
        if country:
            keys["financed_country"].add(country)
        if technology:
            keys["financed_technology"].add(technology)
    return dict(found)
