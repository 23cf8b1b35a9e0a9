"""Expressions of interest: a party asks to be introduced; the pair joins the broker queue."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Interest,
    Match,
    MatchSource,
    MatchStatus,
    NeedStatus,
    ProductStatus,
    Role,
    User,
)
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.matching.events import log_event

OPEN_NEED = (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION, NeedStatus.FINANCED)


@transactional
def express(user: User, need: FinancingNeed, product: FinanceProduct, message: str) -> Interest:
    """Record interest in the other side's listing, offering one of the user's own."""
    _check_parties(user, need, product)
    existing = db.session.scalar(
        select(Interest).where(
            Interest.need_id == need.id,
            Interest.product_id == product.id,
            Interest.organisation_id == user.organisation_id,
        )
    )
    if existing:
        raise ServiceError(_l("You have already expressed interest in this pairing."), 409)
    match = db.session.scalar(
        select(Match).where(Match.need_id == need.id, Match.product_id == product.id)
    )
    if match is None:
        match = Match(
            need_id=need.id,
            product_id=product.id,
            source=MatchSource.INTEREST,
            status=MatchStatus.SUGGESTED,
        )
        db.session.add(match)
        db.session.flush()
        log_event(match, user, MatchStatus.SUGGESTED, source="interest")
    elif match.status == MatchStatus.REJECTED:
        raise ServiceError(_l("A broker has already reviewed this pairing and declined it."), 409)
    interest = Interest(
        user_id=user.id,
        organisation_id=user.organisation_id,
        need_id=need.id,
        product_id=product.id,
        match_id=match.id,
        message=(message or "").strip(),
    )
    db.session.add(interest)
    db.session.flush()
    record("interest.expressed", actor=user, target=interest, match_id=match.id)
    db.session.commit()
    return interest


def _check_parties(user: User, need: FinancingNeed, product: FinanceProduct) -> None:
    if user.role == Role.INVESTOR:
        mine, theirs_ok = product.organisation_id, need.status in OPEN_NEED
        if mine != user.organisation_id or product.status != ProductStatus.ACTIVE:
            raise ServiceError(_l("Choose one of your own active products."), 403)
        if not theirs_ok:
            raise ServiceError(_l("This need is not open for interest."), 409)
    elif user.role == Role.OWNER:
        if need.organisation_id != user.organisation_id or need.status not in OPEN_NEED:
            raise ServiceError(_l("Choose one of your own published needs."), 403)
        if product.status != ProductStatus.ACTIVE:
            raise ServiceError(_l("This product is not open for interest."), 409)
    else:
        raise ServiceError(_l("Only project owners and investors express interest."), 403)


def own_open_listings(user: User, locale: str) -> list[tuple[int, str]]:
    """(id, name in this language) of the listings a user can offer when expressing interest:
    active products or open needs.

    Plain rows, not records: an investor may have a thousand products, which the interest form
    on every need page lists."""
    if user.role == Role.INVESTOR:
        model, named = FinanceProduct, FinanceProduct.name_for
        columns = (FinanceProduct.id, FinanceProduct.name_en, FinanceProduct.name_zh)
        where = (FinanceProduct.status == ProductStatus.ACTIVE,)
    else:
        model, named = FinancingNeed, FinancingNeed.title_for
        columns = (FinancingNeed.id, FinancingNeed.title_en, FinancingNeed.title_zh)
        where = (FinancingNeed.status.in_(OPEN_NEED),)
    rows = db.session.execute(
        select(*columns).where(model.organisation_id == user.organisation_id, *where)
    )
    # The models' own naming rule, applied to the rows (they have the same attribute names).
    return [(row.id, named(row, locale)) for row in rows]


def interests_of(user: User) -> list[Interest]:
    return list(
        db.session.scalars(
            select(Interest)
            .where(Interest.organisation_id == user.organisation_id)
            .options(selectinload(Interest.match))  # each row shows its match's status
            .order_by(Interest.created_at.desc())
        )
    )
