"""Financing needs and products: create, edit and move through their status workflows."""

from dataclasses import dataclass, field, fields
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm.exc import StaleDataError

from marketplace.extensions import db
from marketplace.i18n import label
from marketplace.jobs import task
from marketplace.models import (
    FeeStatus,
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchStatus,
    NeedStatus,
    ProductStatus,
    User,
    VerificationStatus,
    utcnow,
)
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.accounts import require_confirmed_email
from marketplace.services.accounts.audit import record
from marketplace.services.listings.estimates import impact_columns
from marketplace.services.matching.events import OPEN_DEAL, log_event
from marketplace.services.matching.suggestions import request_refresh
from marketplace.services.reference.fx import to_usd

# Which status each action moves a need to, and from where it may start.
NEED_TRANSITIONS = {
    "submit": ({NeedStatus.DRAFT}, NeedStatus.SUBMITTED),
    "publish": ({NeedStatus.SUBMITTED}, NeedStatus.PUBLISHED),
    "return_to_draft": ({NeedStatus.SUBMITTED}, NeedStatus.DRAFT),
    "withdraw": (
        {NeedStatus.DRAFT, NeedStatus.SUBMITTED, NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION},
        NeedStatus.WITHDRAWN,
    ),
    "expire": ({NeedStatus.PUBLISHED}, NeedStatus.EXPIRED),
    "start_negotiation": ({NeedStatus.PUBLISHED}, NeedStatus.IN_NEGOTIATION),
    "mark_financed": ({NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION}, NeedStatus.FINANCED),
}
EDITABLE_NEED_STATUSES = {NeedStatus.DRAFT, NeedStatus.SUBMITTED, NeedStatus.PUBLISHED}
MATCHABLE_NEED_STATUSES = {NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION}
# A published need that finds no deal in this time expires; its owner can submit a new one.
LISTING_LIFETIME = timedelta(days=180)
# What investors screen on and brokers check: changing one sends a published need back to review.
# Titles, summaries, the description, the stage and the name's visibility are not material.
MATERIAL_NEED_FIELDS = (
    "amount",
    "currency",
    "country_iso2",
    "sector",
    "technology",
    "taxonomy_activity_ref",
    "instruments",
    "tenor_years",
    "capacity",
    "capacity_unit",
    "owner_capacity_factor",
    "owner_tco2e_per_year",
)
# What a broker's verification of the taxonomy claim is about.
TAXONOMY_CLAIM_FIELDS = ("sector", "technology", "taxonomy_activity_ref")

PRODUCT_TRANSITIONS = {
    "activate": ({ProductStatus.DRAFT, ProductStatus.PAUSED}, ProductStatus.ACTIVE),
    "pause": ({ProductStatus.ACTIVE}, ProductStatus.PAUSED),
    "close": (
        {ProductStatus.DRAFT, ProductStatus.ACTIVE, ProductStatus.PAUSED},
        ProductStatus.CLOSED,
    ),
}


@dataclass
class NeedInput:
    """What an owner enters for a need (already validated by the form)."""

    title_en: str | None
    title_zh: str | None
    summary_en: str | None
    summary_zh: str | None
    description: str
    country_iso2: str
    sector: str
    technology: str
    taxonomy_activity_ref: str | None
    amount: Decimal
    currency: str
    instruments: list[str]
    tenor_years: int
    stage: str
    capacity: Decimal | None = None
    capacity_unit: str | None = None
    owner_capacity_factor: Decimal | None = None
    owner_tco2e_per_year: Decimal | None = None
    show_organisation: bool = False


@dataclass
class ProductInput:
    """What an investor enters for a product and its mandate."""

    name_en: str | None
    name_zh: str | None
    description: str
    product_type: str
    ticket_min: Decimal
    ticket_max: Decimal
    currency: str
    tenor_min_years: int
    tenor_max_years: int
    countries: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    technologies: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    taxonomy_requirements: list[str] = field(default_factory=list)
    min_tco2e_per_year: Decimal | None = None
    pricing_indication: str | None = None


def _apply(record_obj, data) -> None:
    for item in fields(data):
        setattr(record_obj, item.name, getattr(data, item.name))


def _derive_need(need: FinancingNeed) -> None:
    """USD equivalent from the FX table and the impact estimate, from the current inputs."""
    need.amount_usd, rate = to_usd(need.amount, need.currency)
    need.fx_rate_id = rate.id if rate else None
    mw = need.capacity if (need.capacity_unit or "MW") == "MW" else None
    for key, value in impact_columns(
        need.technology,
        need.country_iso2,
        mw,
        need.owner_capacity_factor,
        need.owner_tco2e_per_year,
    ).items():
        setattr(need, key, value)


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ServiceError(
            _l("Someone else changed this record first. Reload the page and try again."), 409
        ) from None


@transactional
def create_need(owner: User, data: NeedInput) -> FinancingNeed:
    """A new draft need of the owner's organisation."""
    need = FinancingNeed(
        organisation_id=owner.organisation_id, created_by_id=owner.id, status=NeedStatus.DRAFT
    )
    _apply(need, data)
    _derive_need(need)
    db.session.add(need)
    db.session.flush()
    record("need.created", actor=owner, target=need)
    _commit()
    return need


@dataclass
class NeedEdit:
    """What an edit changed: the material fields, and what the need lost because of them."""

    need: FinancingNeed
    material_changes: list[str]
    back_to_review: bool = False
    claim_reset: bool = False


@transactional
def update_need(need: FinancingNeed, data: NeedInput, actor: User) -> NeedEdit:
    """Save an edit; a material one sends a published need back to review and a change of the
    taxonomy fields drops the claim's verification (a typo fix keeps both)."""
    if need.status not in EDITABLE_NEED_STATUSES:
        raise ServiceError(
            _l(
                "A need that is %(status)s can no longer be edited.",
                status=_status_text(need.status),
            ),
            409,
        )
    edit = NeedEdit(need, material_changes(need, data))
    _apply(need, data)
    _derive_need(need)
    record("need.updated", actor=actor, target=need, material=edit.material_changes)
    if set(edit.material_changes) & set(TAXONOMY_CLAIM_FIELDS):
        edit.claim_reset = _reset_taxonomy_claim(need, actor)
    if edit.material_changes and need.status == NeedStatus.PUBLISHED:
        need.status, need.submitted_at = NeedStatus.SUBMITTED, utcnow()
        record("need.back_to_review", actor=actor, target=need, fields=edit.material_changes)
        edit.back_to_review = True
    if need.status in MATCHABLE_NEED_STATUSES:
        request_refresh(need)
    _commit()
    return edit


def material_changes(need: FinancingNeed, data: NeedInput) -> list[str]:
    """The material fields whose value the input changes (numbers by value, lists as sets)."""
    return [
        name for name in MATERIAL_NEED_FIELDS if _differs(getattr(need, name), getattr(data, name))
    ]


def _differs(old, new) -> bool:
    if isinstance(old, list) or isinstance(new, list):
        return sorted(old or []) != sorted(new or [])
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (old is None) != (new is None) or (old is not None and Decimal(old) != Decimal(new))
    return (old or None) != (new or None)


def _reset_taxonomy_claim(need: FinancingNeed, actor: User) -> bool:
    """Back to unverified when a broker had decided on the claim; True when it was."""
    if need.taxonomy_claim_status == VerificationStatus.UNVERIFIED:
        return False
    record(
        "need.taxonomy_claim_reset", actor=actor, target=need, old=str(need.taxonomy_claim_status)
    )
    need.taxonomy_claim_status = VerificationStatus.UNVERIFIED
    need.taxonomy_claim_reason = None
    need.taxonomy_claim_decided_by_id = need.taxonomy_claim_decided_at = None
    return True


def _status_text(status) -> str:
    return label(status, "need_status")


@transactional
def transition_need(need: FinancingNeed, action: str, actor: User, note: str = "") -> None:
    """Move a need along its workflow, or refuse with a message saying why."""
    sources, target = NEED_TRANSITIONS[action]
    if need.status not in sources:
        raise ServiceError(
            _l(
                "This need is %(status)s, so it cannot be %(target)s.",
                status=_status_text(need.status),
                target=_status_text(target),
            ),
            409,
        )
    if target == NeedStatus.SUBMITTED:
        require_confirmed_email(actor)
    if action == "publish" and need.fee_status not in (FeeStatus.PAID, FeeStatus.WAIVED):
        raise ServiceError(
            _l(
                "The listing fee of this need is unpaid. The owner pays it, or a "
                "broker waives it, before the need is published."
            ),
            409,
        )
    old = need.status
    if target == NeedStatus.WITHDRAWN:
        _close_open_deals(need, actor)
    need.status = target
    now = utcnow()
    if target == NeedStatus.SUBMITTED:
        need.submitted_at = now
    if target == NeedStatus.PUBLISHED:
        need.published_at = now
        need.expires_at = now + LISTING_LIFETIME
    record(f"need.{action}", actor=actor, target=need, old=str(old), new=str(target), note=note)
    if target == NeedStatus.PUBLISHED:
        request_refresh(need)
    _commit()


def _close_open_deals(need: FinancingNeed, actor: User) -> None:
    """A withdrawn need ends its deals in progress: each closes as lost, saying why."""
    reason = str(_l("The project owner withdrew the need."))
    for match in db.session.scalars(
        select(Match)
        .where(Match.need_id == need.id, Match.status.in_(OPEN_DEAL))
        .order_by(Match.id)
        .with_for_update()
    ):
        match.lost_reason = reason
        log_event(match, actor, MatchStatus.CLOSED_LOST, note=reason)


def _product_usd(product: FinanceProduct) -> None:
    if product.ticket_min > product.ticket_max:
        raise ServiceError(_l("The minimum ticket is larger than the maximum."))
    if product.tenor_min_years > product.tenor_max_years:
        raise ServiceError(_l("The minimum tenor is longer than the maximum."))
    product.ticket_min_usd, _rate = to_usd(product.ticket_min, product.currency)
    product.ticket_max_usd, _rate = to_usd(product.ticket_max, product.currency)


@transactional
def create_product(investor: User, data: ProductInput) -> FinanceProduct:
    """A new draft product of the investor's organisation."""
    product = FinanceProduct(
        organisation_id=investor.organisation_id,
        created_by_id=investor.id,
        status=ProductStatus.DRAFT,
    )
    _apply(product, data)
    _product_usd(product)
    db.session.add(product)
    db.session.flush()
    record("product.created", actor=investor, target=product)
    _commit()
    return product


@transactional
def update_product(product: FinanceProduct, data: ProductInput, actor: User) -> FinanceProduct:
    if product.status == ProductStatus.CLOSED:
        raise ServiceError(_l("A closed product can no longer be edited."), 409)
    _apply(product, data)
    _product_usd(product)
    record("product.updated", actor=actor, target=product)
    if product.status == ProductStatus.ACTIVE:
        request_refresh(product)
    _commit()
    return product


@transactional
def transition_product(product: FinanceProduct, action: str, actor: User) -> None:
    sources, target = PRODUCT_TRANSITIONS[action]
    if product.status not in sources:
        raise ServiceError(
            _l(
                "This product is %(status)s, so it cannot be %(target)s.",
                status=label(product.status, "product_status"),
                target=label(target, "product_status"),
            ),
            409,
        )
    if target == ProductStatus.ACTIVE:
        require_confirmed_email(actor)
    old = product.status
    product.status = target
    if target == ProductStatus.ACTIVE:
        product.activated_at = utcnow()
    record(f"product.{action}", actor=actor, target=product, old=str(old), new=str(target))
    if target == ProductStatus.ACTIVE:
        request_refresh(product)
    _commit()


@task("listings.expire", max_attempts=3)
def expire_needs_job() -> dict:
    """The scheduled expiry run; running it twice expires nothing twice."""
    return {"expired": expire_needs()}


def expire_needs(now=None) -> int:
    """Mark published needs past their expiry date as expired; returns how many.

    A need whose parties a broker has introduced does not expire while that deal is open: the
    deal ends by a broker's close (or the owner's withdrawal), not by the listing's clock.
    """
    now = now or utcnow()
    open_deal = exists().where(Match.need_id == FinancingNeed.id, Match.status.in_(OPEN_DEAL))
    stale = db.session.scalars(
        select(FinancingNeed).where(
            FinancingNeed.status == NeedStatus.PUBLISHED,
            FinancingNeed.expires_at.is_not(None),
            FinancingNeed.expires_at < now,
            ~open_deal,
        )
    ).all()
    for need in stale:
        need.status = NeedStatus.EXPIRED
        record("need.expire", actor=None, target=need, old="published", new="expired")
    db.session.commit()
    return len(stale)
