"""The API's operations: each reads through the same services and visibility rules as its page."""

from __future__ import annotations

from flask import abort, g, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import page_cache
from marketplace.api import bp, serialise
from marketplace.api.schemas import (
    InterestList,
    Me,
    Need,
    NeedPage,
    NeedQuery,
    Product,
    ProductPage,
    ProductQuery,
    SuggestionList,
)
from marketplace.api.spec import responses, spec
from marketplace.errors import problem_response
from marketplace.models import Role
from marketplace.services.listings import visibility
from marketplace.services.matching import interests, suggestions
from marketplace.services.search import alerts, product_search, search


def _page_of(cursor: str | None) -> int:
    """The page a cursor stands for (1 without one). Cursors are `next_cursor` values: their
    pattern (schemas.CURSOR) admits only cursors this API makes."""
    return int(cursor[1:]) if cursor else 1


def _cursor_after(result) -> str | None:
    return f"p{result.page + 1}" if result.page < result.pages else None


def _filters(query, target: str, geo: search.Geography) -> search.Filters:
    args = {name: value for name, value in query.model_dump().items() if name != "cursor"}
    args = {name: value if isinstance(value, list) else [value] for name, value in args.items()}
    return search.parse_filters(args, target, geo)


def _may_search(target: str) -> None:
    if current_user.role not in alerts.SEARCH_ROLES[target]:
        detail = _("Your role cannot search these listings on the site either.")
        abort(problem_response(403, _("Not allowed"), detail))


def _query():
    """The request's query parameters, as validated by spec.validate."""
    return request.context.query


def _search_page(model, result, item):
    """One page of a search as the API answers it (items, total, next cursor, facets)."""
    return model(
        items=[item(row) for row in result.items],
        total=result.total,
        next_cursor=_cursor_after(result),
        facets=serialise.facets(result.facets),
    )


@bp.get("/needs")
@spec.validate(query=NeedQuery, resp=responses(HTTP_200=NeedPage), tags=["needs"])
def list_needs():
    """Search needs, with the need search page's filters, facets and sort."""
    query, geo, locale = _query(), page_cache.geography(), str(get_locale())
    filters = _filters(query, "needs", geo)
    result = search.search_needs(filters, _page_of(query.cursor), geo)
    return _search_page(NeedPage, result, lambda row: serialise.need(row, current_user, locale))


@bp.get("/needs/<int:need_id>")
@spec.validate(resp=responses(HTTP_200=Need), tags=["needs"])
def get_need(need_id: int):
    """One need: published ones for every key; any status for its owner's and brokers' keys."""
    need = visibility.need_for_viewer(need_id, current_user)
    return serialise.need(need, current_user, str(get_locale()))


@bp.get("/products")
@spec.validate(query=ProductQuery, resp=responses(HTTP_200=ProductPage), tags=["products"])
def list_products():
    """Search active products (owners, brokers and admins, as on the site)."""
    _may_search("products")
    query, geo, locale = _query(), page_cache.geography(), str(get_locale())
    filters = _filters(query, "products", geo)
    result = product_search.search_products(filters, _page_of(query.cursor), geo)
    return _search_page(ProductPage, result, lambda row: serialise.product(row, locale))


@bp.get("/products/<int:product_id>")
@spec.validate(resp=responses(HTTP_200=Product), tags=["products"])
def get_product(product_id: int):
    """One product: active ones for every key; any status for its investor's and brokers' keys."""
    product = visibility.product_for_viewer(product_id, current_user)
    return serialise.product(product, str(get_locale()))


def _insider_or_403(listing) -> None:
    if not (visibility.owns(current_user, listing) or visibility.is_staff(current_user)):
        detail = _("Only the listing's own organisation and brokers see its suggestions.")
        abort(problem_response(403, _("Not allowed"), detail))


@bp.get("/needs/<int:need_id>/suggestions")
@spec.validate(resp=responses(HTTP_200=SuggestionList), tags=["suggestions"])
def need_suggestions(need_id: int):
    """Products the ranker suggests for my need, best first, near misses after."""
    _insider_or_403(visibility.need_for_viewer(need_id, current_user))
    rows = suggestions.suggestions_for_need(need_id)
    return SuggestionList(items=[serialise.suggestion(m, m.rank_for_need) for m in rows])


@bp.get("/products/<int:product_id>/suggestions")
@spec.validate(resp=responses(HTTP_200=SuggestionList), tags=["suggestions"])
def product_suggestions(product_id: int):
    """Needs the ranker suggests for my product, best first, near misses after."""
    _insider_or_403(visibility.product_for_viewer(product_id, current_user))
    rows = suggestions.suggestions_for_product(product_id)
    return SuggestionList(items=[serialise.suggestion(m, m.rank_for_product) for m in rows])


@bp.get("/interests")
@spec.validate(resp=responses(HTTP_200=InterestList), tags=["interests"])
def list_interests():
    """The interests my organisation expressed, newest first (owners and investors, as their
    deals page; brokers see them in the review queue)."""
    if current_user.role not in (Role.OWNER, Role.INVESTOR):
        detail = _("Brokers see expressions of interest in the review queue.")
        abort(problem_response(403, _("Not allowed"), detail))
    return InterestList(items=[serialise.interest(i) for i in interests.interests_of(current_user)])


@bp.get("/me")
@spec.validate(resp=responses(HTTP_200=Me), tags=["account"])
def me():
    """The key's user and the key itself."""
    return serialise.me(current_user, g.api_key, str(get_locale()))
