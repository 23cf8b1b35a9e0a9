"""`flask seed-demo`: realistic, varied, idempotent demo data, scalable for benchmarks."""

import random
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, select

from marketplace.extensions import db
from marketplace.models import (
    Country,
    FeeStatus,
    FinanceProduct,
    FinancingNeed,
    FxRate,
    Hub,
    NeedStatus,
    Organisation,
    OrgKind,
    ProductStatus,
    Role,
    User,
    VerificationStatus,
    utcnow,
)
from marketplace.reference import catalog, sectors
from marketplace.services.accounts import api_keys
from marketplace.services.demo import content
from marketplace.services.demo.track import seed_track_records
from marketplace.services.listings import changes
from marketplace.services.listings.estimates import impact_columns
from marketplace.services.payments.fees import ensure_default_fees
from marketplace.services.reference.tables import load_reference_data

BATCH = 2000
Progress = Callable[[Iterable, int, str], Iterable]


def _no_progress(items: Iterable, total: int, label: str) -> Iterable:
    return items


def seed(needs: int = 60, products: int = 30, progress: Progress = _no_progress) -> dict:
    """Bring the demo data up to `needs` financing needs and `products` products; safe to rerun."""
    if not db.session.scalar(select(func.count()).select_from(Country)):
        load_reference_data()
    _ensure_fx_rates()
    ensure_default_fees()
    orgs = _ensure_organisations()
    users = _ensure_users(orgs)
    db.session.commit()
    api_keys.ensure_demo_key(users["investor-0"])  # printed by `flask seed-demo` and `make run`
    added_needs = _add_needs(needs, orgs, users, progress)
    added_products = _add_products(products, orgs, users, progress)
    return {
        "needs_added": added_needs,
        "products_added": added_products,
        "track_record_deals_added": seed_track_records(orgs, users),
        "needs_total": _count(FinancingNeed),
        "products_total": _count(FinanceProduct),
    }


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _ensure_fx_rates() -> None:
    for currency, rate in content.DEMO_FX_RATES.items():
        if db.session.scalar(select(FxRate.id).where(FxRate.currency == currency).limit(1)):
            continue
        db.session.add(
            FxRate(
                currency=currency,
                usd_per_unit=rate,
                as_of=utcnow().date(),
                source=content.DEMO_FX_SOURCE,
            )
        )


def _ensure_organisations() -> dict[str, Organisation]:
    specs = [
        (key, name, OrgKind.BROKER_FIRM, hub, country)
        for key, name, hub, country in content.BROKER_FIRMS
    ]
    specs += [
        (key, name, OrgKind.INVESTOR, hub, country) for key, name, hub, country in content.INVESTORS
    ]
    specs += [
        (key, name, OrgKind.SPONSOR, "other", country) for key, name, country in content.SPONSORS
    ]
    orgs = {}
    for index, (key, name, kind, hub, country) in enumerate(specs):
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            status = VerificationStatus.PENDING if index % 5 == 4 else VerificationStatus.VERIFIED
            org = Organisation(
                name=name,
                kind=kind,
                hub=Hub(hub),
                country_iso2=country,
                verification_status=status,
                description=f"Demo {kind.value.replace('_', ' ')} organisation.",
            )
            db.session.add(org)
        orgs[key] = org
    db.session.flush()
    return orgs


def _ensure_users(orgs: dict[str, Organisation]) -> dict[str, User]:
    """The four demo log-ins, plus one contact per other organisation (random password)."""
    users = {}
    for email, role, name, org_key in content.DEMO_ACCOUNTS:
        users[org_key if role in ("owner", "investor") else email] = _ensure_user(
            email, Role(role), name, orgs[org_key], content.DEMO_PASSWORD
        )
    for key, org in orgs.items():
        if key not in users and org.kind != OrgKind.BROKER_FIRM:
            role = Role.OWNER if org.kind == OrgKind.SPONSOR else Role.INVESTOR
            users[key] = _ensure_user(
                f"{key}@demo.test", role, f"{org.name} desk", org, secrets.token_urlsafe(16)
            )
    return users


def _ensure_user(email, role, name, org, password) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            role=role,
            display_name=name,
            organisation=org,
            email_confirmed=True,
            locale="en",
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
    return user


def _rates() -> dict[str, Decimal]:
    rates = {"USD": Decimal(1)}
    for rate in db.session.scalars(select(FxRate).order_by(FxRate.as_of, FxRate.id)):
        rates[rate.currency] = rate.usd_per_unit
    return rates


def _rate_ids() -> dict[str, int]:
    return {
        rate.currency: rate.id
        for rate in db.session.scalars(select(FxRate).order_by(FxRate.as_of, FxRate.id))
    }


def _existing(model, orgs: list[Organisation]) -> int:
    ids = [org.id for org in orgs]
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.organisation_id.in_(ids))
    )


def _insert_batches(model, rows: Iterable[dict], total: int, label: str, progress: Progress) -> int:
    batch, count = [], 0
    for row in progress(rows, total, label):
        batch.append(row)
        if len(batch) >= BATCH:
            db.session.execute(insert(model), batch)
            count += len(batch)
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
        count += len(batch)
    db.session.commit()
    return count


def _add_needs(target: int, orgs, users, progress: Progress) -> int:
    sponsors = [orgs[key] for key, _name, _country in content.SPONSORS]
    start = _existing(FinancingNeed, sponsors)
    if start >= target:
        return 0
    rates, rate_ids = _rates(), _rate_ids()
    # Bulk inserts bypass the unit of work's events: the rows carry their revision themselves.
    revision = changes.claim_revision(db.session)
    rows = (
        {**_need_row(i, sponsors, users, rates, rate_ids), "revision": revision}
        for i in range(start, target)
    )
    return _insert_batches(FinancingNeed, rows, target - start, "needs", progress)


def _need_status(i: int, rng: random.Random) -> NeedStatus:
    if i < 8:  # the demo owner's own needs show every early step of the workflow
        return (
            NeedStatus.DRAFT,
            NeedStatus.SUBMITTED,
            NeedStatus.PUBLISHED,
            NeedStatus.PUBLISHED,
            NeedStatus.DRAFT,
            NeedStatus.SUBMITTED,
            NeedStatus.PUBLISHED,
            NeedStatus.IN_NEGOTIATION,
        )[i]
    return rng.choices(
        [NeedStatus.PUBLISHED, NeedStatus.SUBMITTED, NeedStatus.IN_NEGOTIATION, NeedStatus.DRAFT],
        weights=[80, 8, 6, 6],
    )[0]


def _need_row(i: int, sponsors, users, rates, rate_ids) -> dict:
    rng = random.Random(f"need-{i}")
    technologies = list(content.ARCHETYPES)
    technology = technologies[i % len(technologies)]
    (title_en, title_zh, summary_en, summary_zh, mw_range, unit, usd_range, instruments, tenors) = (
        content.ARCHETYPES[technology]
    )
    sponsor = sponsors[0] if i < 8 else sponsors[1 + i % (len(sponsors) - 1)]
    country = content.COUNTRIES[(i * 7 + i // len(technologies)) % len(content.COUNTRIES)]
    place_en, place_zh = content.PLACES[country]
    mw = rng.randint(*mw_range) if mw_range[0] else None
    currency = ("USD", "USD", "CNY", "EUR", "HKD")[rng.randrange(5)]
    amount_usd = Decimal(rng.randint(usd_range[0] * 10, usd_range[1] * 10)) * 100_000
    amount = (amount_usd / rates[currency]).quantize(Decimal("1000"), ROUND_HALF_UP)
    language = ("en", "en", "both", "zh", "both")[i % 5]
    status = _need_status(i, rng)
    now = utcnow()
    published = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
    row = {
        "organisation_id": sponsor.id,
        "created_by_id": users[_sponsor_key(sponsor)].id,
        "title_en": title_en.format(mw=mw, place=place_en) if language != "zh" else None,
        "title_zh": title_zh.format(mw=mw, place=place_zh) if language != "en" else None,
        "summary_en": summary_en if language != "zh" else None,
        "summary_zh": summary_zh if language != "en" else None,
        "description": (summary_zh if language == "zh" else summary_en) + " " + _detail(rng, mw),
        "country_iso2": country,
        "sector": sectors.sector_of(technology),
        "technology": technology,
        "taxonomy_activity_ref": sectors.TECHNOLOGIES[technology].eu_activity_refs[0],
        "amount": amount,
        "currency": currency,
        "amount_usd": (amount * rates[currency]).quantize(Decimal("0.01"), ROUND_HALF_UP),
        "fx_rate_id": rate_ids.get(currency),
        "instruments": sorted(rng.sample(instruments, k=rng.randint(1, len(instruments)))),
        "tenor_years": rng.randint(*tenors),
        "stage": rng.choice(sectors.STAGES[1:5]),
        "capacity": Decimal(mw) if mw else None,
        "capacity_unit": unit,
        "show_organisation": i % 3 != 0,
        **_need_workflow(i, status, published),
    }
    row.update(impact_columns(technology, country, row["capacity"]))
    return row


def _need_workflow(i: int, status: NeedStatus, published) -> dict:
    """Status, fee and dates of a demo need, consistent with where it stands."""
    return {
        "status": status,
        # Needs past review were published with their fee paid or, for pilots, waived.
        "fee_status": FeeStatus.UNPAID
        if status in (NeedStatus.DRAFT, NeedStatus.SUBMITTED)
        else (FeeStatus.WAIVED if i % 4 == 0 else FeeStatus.PAID),
        "submitted_at": published - timedelta(days=3) if status != NeedStatus.DRAFT else None,
        "published_at": published
        if status in (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION)
        else None,
        "created_at": published - timedelta(days=10),
        "updated_at": published,
    }


def _sponsor_key(org: Organisation) -> str:
    return next(key for key, name, _c in content.SPONSORS if name == org.name)


def _detail(rng: random.Random, mw: int | None) -> str:
    notes = [
        "Land secured and environmental and social impact assessment under way.",
        "Offtake term sheet signed with the national utility.",
        "EPC contractor shortlisted; grid study complete.",
        "Seeking a lead arranger and co-financiers.",
        "项目已获得当地政府支持函。",
    ]
    return " ".join(rng.sample(notes, k=2))


def _add_products(target: int, orgs, users, progress: Progress) -> int:
    investors = [orgs[key] for key, *_rest in content.INVESTORS]
    start = _existing(FinanceProduct, investors)
    if start >= target:
        return 0
    rates = _rates()
    rows = (_product_row(i, investors, users, rates) for i in range(start, target))
    return _insert_batches(FinanceProduct, rows, target - start, "products", progress)


PRICING_INDICATIONS = [
    "SOFR + 180–250 bp",
    "LPR − 10 bp",
    "HIBOR + 150 bp",
    "Target IRR 11–13%",
    "0.8–1.2% p.a. guarantee fee",
]


def _product_row(i: int, investors, users, rates) -> dict:
    rng = random.Random(f"product-{i}")
    key, name_en, name_zh = content.PRODUCT_TYPES[i % len(content.PRODUCT_TYPES)]
    investor = investors[i % len(investors)]
    investor_key = content.INVESTORS[i % len(investors)][0]
    currency = ("USD", "CNY", "HKD", "EUR", "USD")[rng.randrange(5)]
    low_usd = Decimal(rng.choice([5, 10, 20, 30, 50])) * 1_000_000
    high_usd = low_usd * rng.choice([5, 10, 20])
    low = (low_usd / rates[currency]).quantize(Decimal("1000000"), ROUND_HALF_UP)
    high = (high_usd / rates[currency]).quantize(Decimal("1000000"), ROUND_HALF_UP)
    tenor_min = rng.randint(3, 10)
    chosen_sectors = sorted(rng.sample(sectors.SECTORS, k=rng.randint(3, 6)))
    by_region = rng.random() < 0.5
    now = utcnow()
    return {
        "organisation_id": investor.id,
        "created_by_id": users[investor_key].id,
        "name_en": f"{name_en} {2026 + i % 3} — {investor.name.split(' ')[0]}",
        "name_zh": f"{name_zh}（{2026 + i % 3}）" if i % 2 == 0 else None,
        "description": f"{name_en} for {', '.join(chosen_sectors)} projects in Belt-and-Road "
        "countries. Requires an environmental and social assessment.",
        "product_type": key,
        "ticket_min": low,
        "ticket_max": high,
        "currency": currency,
        "ticket_min_usd": (low * rates[currency]).quantize(Decimal("0.01")),
        "ticket_max_usd": (high * rates[currency]).quantize(Decimal("0.01")),
        "tenor_min_years": tenor_min,
        "tenor_max_years": tenor_min + rng.randint(8, 17),
        # Mandates as wide as real ones: a dozen countries or two to four whole regions,
        # a few sectors, the product's own instrument and one it is often paired with.
        "countries": [] if by_region else sorted(rng.sample(content.COUNTRIES, k=14)),
        "regions": sorted(rng.sample(content.REGIONS, k=rng.randint(2, 4))) if by_region else [],
        "sectors": chosen_sectors,
        "technologies": [],
        "instruments": sorted({key, rng.choice(("green_loan", "green_bond", "project_equity"))}),
        "stages": list(sectors.STAGES[1:6]),
        "taxonomy_requirements": []
        if rng.random() < 0.5
        else [rng.choice(("eu_taxonomy_aligned", "common_ground_taxonomy_aligned"))],
        "min_tco2e_per_year": Decimal(rng.choice([0, 0, 5000, 20000])) or None,
        "pricing_indication": rng.choice(PRICING_INDICATIONS),
        "status": ProductStatus.ACTIVE if i % 9 else ProductStatus.PAUSED,
        "activated_at": now - timedelta(days=rng.randint(1, 200)),
        "created_at": now - timedelta(days=rng.randint(200, 300)),
        "updated_at": now,
    }


__all__ = ["seed", "catalog"]
