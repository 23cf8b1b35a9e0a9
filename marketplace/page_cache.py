"""Rendered fragments of pages that look the same to everyone, cached per language.

A fragment holds only public listing data (published needs, active products, organisation
names, facet counts) and never anything of the person asking: no names, no CSRF tokens, no
unpublished listing. Its key names the page, the language, the request's query and the
*generation* of the listings, so a write shows at once:

- a token in the cache changes after every commit that wrote a need, a product, an organisation,
  a match or a country (through the ORM, bulk statements included); with Redis it is shared by every
  worker and machine, and it is all a key needs;
- without Redis each process has its own token, so the key also carries the need revision of
  services/listings/changes.py, read from the database (one primary-key lookup), which moves
  with every committed write of a need in any process; the short time-to-live
  (CACHE_DEFAULT_TIMEOUT) bounds how long another process's product edit may take to show.

Visitors (nobody signed in) get the landing page and the browse page whole from the cache, with
their own CSRF token (the language switch's) written into the stored page.

When the cache's store fails (Redis down), pages are rendered afresh instead.
"""

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_app_context, render_template, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.extensions import cache, db
from marketplace.models import Country, FinanceProduct, FinancingNeed, Match, Organisation
from marketplace.services.listings import changes
from marketplace.services.search import search

COUNTER = "listings-generation"
_WRITTEN = "page_cache.written"
_GENERATION = "page_cache_generation"
WATCHED = (FinancingNeed, FinanceProduct, Organisation, Match, Country)


def generation() -> str:
    """Where the listings stand: the cache's write token and, unless the cache is shared by
    every process (Redis), the needs' committed revision from the database."""
    # Read once per request (several fragments ask); a write in this request forgets it (bump).
    if _GENERATION not in g:
        g.setdefault(_GENERATION, _current_generation())
    return g.get(_GENERATION)


def _current_generation() -> str:
    # A missing token (never set, evicted, Redis emptied) gets a new one, never a default that
    # fragments stored before some write could share.
    token = _safe(lambda: cache.get(COUNTER)) or bump()
    if current_app.config.get("CACHE_TYPE") == "RedisCache":
        return token
    revision = changes.current(db.session)
    return f"{revision.generation}.{revision.value}.{token}" if revision else f"none.{token}"


def fragment(name: str, render: Callable[[], str], *, timeout: int | None = None) -> Markup:
    """The cached HTML of one fragment of this page for this language and query, or a new one."""
    return _fragment_at(_key(name), render, timeout)


def shared_fragment(name: str, render: Callable[[], str]) -> Markup:
    """Cached HTML the same on every page for this language (no path or query in its key): the
    caller's name must say whose it is (e.g. an organisation's id) when it is not public."""
    return _fragment_at(_key(name, with_query=False), render, None)


def form_fragment(name: str, render: Callable[[], str]) -> Markup:
    """A cached fragment holding a form of this page and query: stored with a mark in place of
    the CSRF token, served with this session's own token."""

    def render_marked() -> str:
        return render().replace(generate_csrf(), _TOKEN_MARK)

    return Markup(str(fragment(name, render_marked)).replace(_TOKEN_MARK, generate_csrf()))


def _fragment_at(key: str, render: Callable[[], str], timeout: int | None) -> Markup:
    html = _safe(lambda: cache.get(key))
    if html is None:
        html = render()
        _safe(lambda: cache.set(key, html, timeout=timeout))
    return Markup(html)


def value(name: str, compute: Callable[[], Any], *, timeout: int | None = None) -> Any:
    """A cached figure (a count, a total) for this query, recomputed after any write."""
    key = _key(name, with_locale=False)
    found = _safe(lambda: cache.get(key))
    if found is None:
        found = compute()
        _safe(lambda: cache.set(key, found, timeout=timeout))
    return found


def geography() -> search.Geography:
    """The country names and regions searches filter on (a table read on every search before),
    recomputed after any write."""
    key = _key("geography", with_locale=False, with_query=False)
    found = _safe(lambda: cache.get(key))
    if found is None:
        found = search.geography()
        _safe(lambda: cache.set(key, found))
    return found


def _key(name: str, with_locale: bool = True, with_query: bool = True) -> str:
    # The path too: two pages may store a fragment (or themselves) under the same name.
    page = request.path.encode() + b"?" + request.query_string if with_query else b"*"
    query = hashlib.sha256(page).hexdigest()[:32]
    locale = get_locale() if with_locale else "-"
    return f"fragment:{name}:{locale}:{generation()}:{query}"


# --- whole pages for visitors ----------------------------------------------------------------

WHOLE_PAGES = frozenset({"public.index", "public.browse_needs"})
# Stands for the visitor's own CSRF token (of the language switch) in a stored page.
_TOKEN_MARK = "@@csrf-token-of-this-visitor@@"


def register(app: Flask) -> None:
    """Serve the visitors' landing page and browse page whole from the cache (after the request
    checks, which run first), each with the visitor's own CSRF token written in."""

    @app.before_request
    def serve_cached_page():
        if not _whole_page_request():
            return None
        key = _key(f"page:{request.endpoint}")
        body = _safe(lambda: cache.get(key))
        if body is None:
            g.page_cache_key = key
            return None
        return app.response_class(body.replace(_TOKEN_MARK, generate_csrf()), mimetype="text/html")

    @app.after_request
    def store_page(response):
        key = g.pop("page_cache_key", None)
        if key and response.status_code == 200 and response.mimetype == "text/html":
            body = response.get_data(as_text=True)
            token = g.get("csrf_token")
            _safe(lambda: cache.set(key, body.replace(token, _TOKEN_MARK) if token else body))
        return response


def _whole_page_request() -> bool:
    """A visitor (nobody signed in, no remembered sign-in, no message waiting) asking for one
    of WHOLE_PAGES."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return (
        request.method == "GET"
        and request.endpoint in WHOLE_PAGES
        and "_user_id" not in session
        and "_flashes" not in session
        and remember not in request.cookies
    )


def bump() -> str:
    """Make every cached page, fragment and figure stale (after a committed write)."""
    # A random token, not an increment: a counter that expired or was evicted and counted up
    # again could meet a fragment stored under the same number before a write.
    token = secrets.token_hex(8)
    _safe(lambda: cache.set(COUNTER, token, timeout=0))
    if has_app_context():
        g.pop(_GENERATION, None)
    return token


def _safe(call):
    try:
        return call()
    except Exception:  # the cache is an optimisation: a failing store means rendering afresh
        current_app.logger.warning("page cache unavailable", exc_info=True)
        return None


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, _context) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, WATCHED) for obj in changed):
        session.info[_WRITTEN] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state) -> None:
    # insert(Model), update(Model) and delete(Model) executed directly skip the flush.
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, WATCHED):
            state.session.info[_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_WRITTEN, False) and has_app_context():
        bump()


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous) -> None:
    if not previous.nested:
        session.info.pop(_WRITTEN, None)


def needs_results(endpoint: str) -> Markup:
    """Facets, results and pager of a need search for this URL (the visitors' and the signed-in
    search show the same published needs; links point to `endpoint`)."""

    def render() -> str:
        geo = geography()
        filters = search.parse_filters(request.args.to_dict(flat=False), "needs", geo)
        result = search.search_needs(filters, search.parse_page(request.args.get("page")), geo)
        return render_template("search/_needs_results.html", result=result, endpoint=endpoint)

    return fragment(f"needs-results:{endpoint}", render)
