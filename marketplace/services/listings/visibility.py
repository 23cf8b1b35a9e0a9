"""Who may see which listing, and how much of it."""

from flask import abort
from sqlalchemy.orm import joinedload

from marketplace.extensions import db
from marketplace.models import FinanceProduct, FinancingNeed, NeedStatus, ProductStatus, Role

# Needs that search lists and the landing page counts: open for financing.
VISIBLE_NEED_STATUSES = (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION)
# Needs anyone may open by their address (a financed one stays readable).
PUBLIC_NEED_STATUSES = (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION, NeedStatus.FINANCED)


def is_staff(user) -> bool:
    return user.is_authenticated and user.role in (Role.BROKER, Role.ADMIN)


def owns(user, listing) -> bool:
    return user.is_authenticated and listing.organisation_id == user.organisation_id


def need_for_viewer(need_id: int, user) -> FinancingNeed:
    """A published need for anyone; any status for its owner and for staff; 404 otherwise."""
    # Its taxonomy activity (shown on every need page) in the same query.
    with_activity = [joinedload(FinancingNeed.taxonomy_activity)]
    need = db.session.get(FinancingNeed, need_id, options=with_activity)
    if need is None:
        abort(404)
    if need.status in PUBLIC_NEED_STATUSES or owns(user, need) or is_staff(user):
        return need
    abort(404)


def product_for_viewer(product_id: int, user) -> FinanceProduct:
    """An active product for signed-in users; any status for its investor and for staff."""
    product = db.session.get(FinanceProduct, product_id)
    if product is None:
        abort(404)
    if owns(user, product) or is_staff(user):
        return product
    if product.status == ProductStatus.ACTIVE:
        return product
    abort(404)
