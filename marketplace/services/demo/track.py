"""Demo investors' track records: a handful of earlier deals each, the same on every run."""

import random
from decimal import Decimal

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Organisation, TrackRecordDeal, TrackSource, User
from marketplace.services.demo import content
from marketplace.services.track_records.rules import DealInput, completed, dedupe_key, new_row

# Where each demo investor has mostly financed before, and in what: a desk has a home ground.
# (countries, technologies) by investor key; real BRI countries, the app's technology keys.
FOCUS = {
    "investor-0": (("PK", "KZ", "UZ", "BD"), ("onshore_wind", "solar_pv")),
    "investor-1": (("ID", "VN", "PH", "MY"), ("solar_pv", "hydropower", "green_buildings")),
    "investor-2": (("EG", "MA", "SA", "AE"), ("solar_pv", "green_hydrogen", "csp")),
    "investor-3": (("KE", "ET", "NG", "ZA"), ("onshore_wind", "water_management")),
    "investor-4": (("KZ", "UZ", "MN", "AZ"), ("onshore_wind", "rail", "battery_storage")),
    "investor-5": (("LA", "KH", "TH", "VN"), ("hydropower", "e_mobility")),
    "investor-6": (("RS", "HU", "TR", "GE"), ("rail", "offshore_wind", "green_buildings")),
    "investor-7": (("PK", "LK", "BD", "EG"), ("solar_pv", "battery_storage")),
    "investor-8": (("CN", "KZ", "ID", "SA"), ("e_mobility", "battery_storage", "ccus")),
    "investor-9": (("ID", "KE", "PK", "VN"), ("solar_pv", "onshore_wind", "water_management")),
}
# Development banks that co-finance BRI green deals alongside private desks.
MULTILATERALS = (
    "Asian Infrastructure Investment Bank",
    "Asian Development Bank",
    "International Finance Corporation",
    "New Development Bank",
)


def _deals_for(key: str, names: dict[str, str]) -> list[DealInput]:
    """Four to seven deals from 2015 to 2025 in the investor's countries and technologies."""
    rng = random.Random(f"track-record:{key}")
    countries, technologies = FOCUS[key]
    peers = [name for other, name in names.items() if other != key]
    deals = []
    for _ in range(rng.randint(4, 7)):
        partners = rng.sample(peers, rng.choice((0, 1, 1, 2)))
        if rng.random() < 0.4:
            partners.append(rng.choice(MULTILATERALS))
        deals.append(
            DealInput(
                country_iso2=rng.choice(countries),
                sector=None,
                technology=rng.choice(technologies),
                year=rng.randint(2015, 2025),
                amount_usd=Decimal(rng.randrange(15, 400)) * Decimal(1_000_000),
                co_financiers=tuple(partners),
            )
        )
    return [completed(deal) for deal in deals]


def seed_track_records(orgs: dict[str, Organisation], users: dict[str, User]) -> int:
    """Give each demo investor its track record (rows already there are kept); returns added."""
    names = {key: orgs[key].name for key, *_rest in content.INVESTORS}
    added = 0
    for key in names:
        org = orgs[key]
        known = set(
            db.session.scalars(
                select(TrackRecordDeal.dedupe_key).where(TrackRecordDeal.organisation_id == org.id)
            )
        )
        for deal in _deals_for(key, names):
            if dedupe_key(deal) in known:
                continue
            known.add(dedupe_key(deal))
            db.session.add(
                new_row(org.id, deal, TrackSource.IMPORT, getattr(users.get(key), "id", None))
            )
            added += 1
    db.session.commit()
    return added
