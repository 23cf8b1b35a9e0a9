"""Read-only figures for home pages and the landing page."""

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchStatus,
    NeedStatus,
    Organisation,
    ProductStatus,
    Role,
    User,
    VerificationStatus,
)
from marketplace.services.listings.visibility import VISIBLE_NEED_STATUSES
from marketplace.services.track_records import queries as track_records


def _count_by(column, *where) -> dict[str, int]:
    rows = db.session.execute(select(column, func.count()).where(*where).group_by(column))
    return {str(getattr(key, "value", key)): count for key, count in rows}


def platform_figures() -> dict:
    """Public totals: published needs, their USD total and tCO2e, active products."""
    visible = FinancingNeed.status.in_(VISIBLE_NEED_STATUSES)
    needs, usd, tco2e = db.session.execute(
        select(
            func.count(FinancingNeed.id),
            func.coalesce(func.sum(FinancingNeed.amount_usd), 0),
            func.coalesce(func.sum(FinancingNeed.estimated_tco2e_per_year), 0),
        ).where(visible)
    ).one()
    countries = db.session.scalar(
        select(func.count(func.distinct(FinancingNeed.country_iso2))).where(visible)
    )
    products = db.session.scalar(
        select(func.count(FinanceProduct.id)).where(FinanceProduct.status == ProductStatus.ACTIVE)
    )
    return {
        "needs": needs,
        "usd": usd,
        "tco2e": tco2e,
        "countries": countries,
        "products": products,
    }


def latest_published_needs(limit: int) -> list[FinancingNeed]:
    """The newest visible needs, with their organisations (one query, not one per card)."""
    return list(
        db.session.scalars(
            select(FinancingNeed)
            .options(joinedload(FinancingNeed.organisation))
            .where(FinancingNeed.status.in_(VISIBLE_NEED_STATUSES))
            .order_by(FinancingNeed.published_at.desc(), FinancingNeed.id.desc())
            .limit(limit)
        )
    )


def owner_home(organisation_id: int) -> dict:
    mine = FinancingNeed.organisation_id == organisation_id
    return {
        "by_status": _count_by(FinancingNeed.status, mine),
        "needs": list(
            db.session.scalars(
                select(FinancingNeed)
                .where(mine)
                .order_by(FinancingNeed.updated_at.desc())
                .limit(20)
            )
        ),
        "suggestions": db.session.scalar(
            select(func.count(Match.id))
            .join(Match.need)
            .where(mine, Match.status == MatchStatus.SUGGESTED)
        ),
    }


def investor_home(organisation_id: int) -> dict:
    mine = FinanceProduct.organisation_id == organisation_id
    return {
        "by_status": _count_by(FinanceProduct.status, mine),
        "products": list(
            db.session.scalars(
                select(FinanceProduct)
                .where(mine)
                .order_by(FinanceProduct.updated_at.desc())
                .limit(20)
            )
        ),
        "published_needs": db.session.scalar(
            select(func.count(FinancingNeed.id)).where(FinancingNeed.status == NeedStatus.PUBLISHED)
        ),
        "track_record": track_records.summary(organisation_id),
    }


def broker_home() -> dict:
    return {
        "matches_by_status": _count_by(Match.status),
        "needs_by_status": _count_by(FinancingNeed.status),
        "pending_organisations": list(
            db.session.scalars(
                select(Organisation)
                .where(
                    Organisation.verification_status.in_(
                        (VerificationStatus.PENDING, VerificationStatus.UNVERIFIED)
                    )
                )
                .order_by(Organisation.created_at)
                .limit(20)
            )
        ),
        "verification_counts": _count_by(Organisation.verification_status),
    }


def admin_home() -> dict:
    return {
        "users_by_role": _count_by(User.role),
        "inactive_users": db.session.scalar(select(func.count(User.id)).where(~User.active)),
        "organisations_by_kind": _count_by(Organisation.kind),
        "users": list(db.session.scalars(select(User).order_by(User.created_at.desc()).limit(50))),
    }


__all__ = [
    "Role",
    "admin_home",
    "broker_home",
    "investor_home",
    "owner_home",
    "platform_figures",
    "latest_published_needs",
]
