"""No 5xx on hostile input, for every form and every query parameter the site has (and will have).

The routes and forms are discovered from the app itself: every URL rule is built with the ids of a
small world of records, fetched as each role, and every form on every page it renders is posted
back with generated hostile values; every page is fetched again with hostile query parameters
(the names its own forms and links use, and the usual ones). A rejected submit (anything but a
redirect or a 201 Created) must write nothing. A form or a page added later is covered without
editing this test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import url_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Conversation, Match, MatchStatus, NeedStatus, Role
from tests.conftest import REFERENCE_TABLES, csrf_from, post_form
from tests.factories import (
    PASSWORD,
    make_document,
    make_match,
    make_need,
    make_payment,
    make_product,
    make_saved_search,
    make_track_deal,
    make_user,
)
from tests.test_listings import NEED_FORM, PRODUCT_FORM

HOSTILE = (
    "NaN", "nan", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "1e999", "-1e999", "-1", "0",
    "99999999999999999999", "-99999999999999999999", "1.00000000000000000000000001", "",
    " ", "\t", "x" * 10_240, "\u202eevil\u202c", "\u200b\u200d", "مرحبا",
    "<script>alert(1)</script>",
    "' OR 1=1 --", "1; DROP TABLE users", "\x00", "%00", "2026-02-30", "9999-12-31",
    "0001-01-01", "abc", "[]", "{}", "../../etc/passwd", "//evil.example",
)  # fmt: skip
# A submit that may write: a redirect, or 201 Created when the answer itself must show what was
# made, once (a new API key is never put in a flash, i.e. in the session cookie).
ACCEPTED = (201, 302)
# Query parameters any page may be sent; each page also gets the names its own forms and links use.
COMMON_PARAMS = ("page", "sort", "q", "next", "status", "stage", "order", "version", "source")
# Forms whose success ends the session the test is using: their own tests cover them.
ENDS_SESSION = ("auth.logout",)
# Every role sees at least this many forms; a discovery that finds fewer is broken.
MIN_FORMS = {None: 2, Role.OWNER: 8, Role.INVESTOR: 6, Role.BROKER: 8, Role.ADMIN: 8}

# Generate only: a failure names the route and the values, and shrinking whole walks takes minutes.
GENERATE, ALL = (Phase.explicit, Phase.generate), list(HealthCheck)

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=40),
)


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values seen on the page


class PageParser(HTMLParser):
    """The POST forms of a page (fields and their offered values) and the query names it uses."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path, self.forms, self.query_names = page_path, [], set()
        self._form: Form | None = None
        self._get_form = False
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            action = urlsplit(attrs.get("action") or self.page_path)
            self._get_form = method == "get"
            self._form = None if self._get_form else Form(action.path or self.page_path)
        elif tag == "a" and "?" in (attrs.get("href") or ""):
            self.query_names.update(name for name, _ in parse_qsl(urlsplit(attrs["href"]).query))
        elif tag in ("input", "select", "textarea") and attrs.get("name"):
            self._field(tag, attrs)
        elif tag == "option" and self._form is not None and self._select:
            self._form.fields[self._select].append(attrs.get("value") or "")

    def _field(self, tag, attrs):
        name = attrs["name"]
        if self._get_form:
            self.query_names.add(name)
        elif self._form is not None:
            values = self._form.fields.setdefault(name, [])
            if tag == "input" and attrs.get("value") is not None:
                values.append(attrs["value"])
            self._select = name if tag == "select" else None

    def handle_endtag(self, tag):
        if tag == "form":
            if self._form is not None and self._form.fields:
                self.forms.append(self._form)
            self._form, self._get_form = None, False
        elif tag == "select":
            self._select = None


def build_world(app) -> tuple[dict, dict]:
    """One record of each kind, and the URL arguments that reach them."""
    owner = make_user(app, role=Role.OWNER)
    investor = make_user(app, role=Role.INVESTOR)
    broker = make_user(app, role=Role.BROKER)
    admin = make_user(app, role=Role.ADMIN)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED)
    make_need(app, owner, status=NeedStatus.DRAFT)
    other = make_need(app, owner, status=NeedStatus.PUBLISHED)
    product = make_product(app, investor)
    match = make_match(app, need, product, status=MatchStatus.INTRODUCED, broker=broker)
    make_match(app, other, product)
    document = make_document(app, need, owner)
    payment = make_payment(app, owner, need_id=need.id)
    saved = make_saved_search(app, investor)
    track_deal = make_track_deal(app, investor)
    with app.app_context():
        conversation = db.session.scalar(select(Conversation.id))
    ids = {
        "need_id": need.id,
        "product_id": product.id,
        "match_id": match.id,
        "org_id": owner.organisation_id,
        "user_id": investor.id,
        "payment_id": payment.id,
        "conversation_id": conversation,
        "document_id": document.id,
        "search_id": saved.id,
        "track_deal_id": track_deal.id,
        "organisation_id": investor.organisation_id,
        "version_id": 1,
        "token": "not-a-real-token",
    }
    users = {Role.OWNER: owner, Role.INVESTOR: investor, Role.BROKER: broker, Role.ADMIN: admin}
    return users, ids


def routes(app, ids) -> list[tuple[str, str, set[str]]]:
    """(endpoint, path, methods) of every rule whose arguments the world can fill."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in ("static", "bootstrap.static") or not rule.arguments <= set(ids):
                continue
            path = url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})
            found.append((rule.endpoint, urlsplit(path).path, set(rule.methods or ())))
    return found


# Written on purpose even when a submit is refused: the audit log records refused attempts (a
# failed sign-in), and showing a conversation again marks it read. Nothing else may change.
MAY_CHANGE_WHEN_REFUSED = {"audit_log": None, "conversation_participants": {"last_read_at"}}


def snapshot() -> str:
    """A digest of every row of every table a refused form must leave alone."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        skipped = MAY_CHANGE_WHEN_REFUSED.get(table.name, set())
        if table.name in REFERENCE_TABLES or skipped is None:
            continue
        columns = [column for column in table.columns if column.name not in skipped]
        query = select(*columns).order_by(*table.primary_key.columns)
        rows = db.session.execute(query).all()
        digest.update(f"{table.name}:{rows!r}".encode())
    db.session.rollback()
    return digest.hexdigest()


def signed_in(app, user):
    client = app.test_client()
    if user is not None:
        response = post_form(client, "/auth/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
    return client


def discover(client, found) -> tuple[list[Form], dict[str, set[str]], str | None]:
    """The POST forms on every page this client can see, and each page's query names."""
    forms, pages, token = {}, {}, None
    for _endpoint, path, methods in found:
        if "GET" not in methods:
            continue
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = PageParser(path)
        parser.feed(response.get_data(as_text=True))
        pages[path] = parser.query_names
        for form in parser.forms:
            token = token or (form.fields.get("csrf_token") or [None])[0]
            forms.setdefault((form.action, tuple(sorted(form.fields))), form)
    ending = {path for endpoint, path, _ in found if endpoint in ENDS_SESSION}
    return [f for f in forms.values() if f.action not in ending], pages, token


def value_for(offered: list[str]):
    """Sometimes a value the page offered (to get past the other fields), mostly a hostile one."""
    usable = [value for value in offered if value]
    return st.one_of(st.sampled_from(usable), hostile_text) if usable else hostile_text


FEE_FORM = {"kind": "membership_yearly", "currency": "HKD", "amount": "24000"}
FX_FORM = {"currency": "EUR", "usd_per_unit": "1.1", "as_of": "2026-11-20", "source": "ECB"}
ROLES = [None, Role.OWNER, Role.INVESTOR, Role.BROKER, Role.ADMIN]


@pytest.mark.parametrize("role", ROLES, ids=lambda role: str(role or "visitor"))
def test_no_form_answers_hostile_values_with_a_server_error(app, role):
    users, ids = build_world(app)
    client = signed_in(app, users.get(role))
    forms, _pages, token = discover(client, routes(app, ids))
    assert len(forms) >= MIN_FORMS[role], [form.action for form in forms]

    @settings(
        max_examples=6, deadline=None, database=None, phases=GENERATE, suppress_health_check=ALL
    )
    @given(st.data())
    def post_hostile_values(data):
        for form in forms:
            values = {
                name: data.draw(value_for(offered), label=f"{form.action} {name}")
                for name, offered in form.fields.items()
                if not name.endswith("csrf_token")
            }
            tokens = {name: token for name in form.fields if name.endswith("csrf_token")}
            with app.app_context():
                before = snapshot()
            response = client.post(form.action, data={**values, **tokens})
            assert response.status_code < 500, (form.action, values)
            if response.status_code not in ACCEPTED:
                with app.app_context():
                    assert snapshot() == before, f"{form.action} wrote on a rejected submit"

    post_hostile_values()


@pytest.mark.parametrize("role", ROLES, ids=lambda role: str(role or "visitor"))
def test_no_page_answers_hostile_query_parameters_with_a_server_error(app, role):
    users, ids = build_world(app)
    client = signed_in(app, users.get(role))
    found = routes(app, ids)
    _forms, pages, _token = discover(client, found)
    assert len(pages) >= 3

    for path in pages:  # bytes that are not UTF-8: percent-encoded, and raw in the environ
        response = client.get(f"{path}?page=%ff%fe&q=%c0%af&sort=%ed%a0%80")
        assert response.status_code < 500, path
        raw = {"QUERY_STRING": b"q=\xff\xfe&page=\xc0".decode("latin-1")}
        assert client.get(path, environ_overrides=raw).status_code < 500, path

    @settings(
        max_examples=4, deadline=None, database=None, phases=GENERATE, suppress_health_check=ALL
    )
    @given(st.data())
    def get_hostile_params(data):
        for path, names in pages.items():
            params = {
                name: data.draw(hostile_text, label=f"{path} {name}")
                for name in sorted(names | set(COMMON_PARAMS))
            }
            response = client.get(path, query_string=params)
            assert response.status_code < 500, (path, params)

    get_hostile_params()


REPORTED_FORMS = [
    # (role, page, form data, field that must be refused)
    *[
        (Role.INVESTOR, "/investor/products/new", {**PRODUCT_FORM, "ticket_min": bad}, "ticket_min")
        for bad in ("NaN", "-1", "")
    ],
    *[
        (Role.OWNER, "/owner/needs/new", {**NEED_FORM, "capacity": bad}, "capacity")
        for bad in ("NaN", "sNaN", "Infinity", "-Infinity")
    ],
    *[
        (Role.ADMIN, "/billing/admin/fees", {**FEE_FORM, "amount": bad}, "amount")
        for bad in ("NaN", "sNaN", "Infinity")
    ],
    *[
        (Role.ADMIN, "/admin/fx", {**FX_FORM, "usd_per_unit": bad}, "usd_per_unit")
        for bad in ("NaN", "sNaN", "Infinity")
    ],
]


@pytest.mark.parametrize(
    ("role", "page", "form", "bad_field"),
    REPORTED_FORMS,
    ids=[f"{page} {field}={form[field]!r}" for _, page, form, field in REPORTED_FORMS],
)
def test_the_values_the_review_found_are_form_errors(
    app, client, login_as, role, page, form, bad_field
):
    """Each value the security review saw answered with a 500 is now a form error, nothing saved."""
    users, _ids = build_world(app)
    login_as(users[role], PASSWORD)
    with app.app_context():
        before = snapshot()
    response = post_form(client, page, form)
    assert response.status_code in (200, 400), response.status_code
    assert "is-invalid" in response.get_data(as_text=True)
    with app.app_context():
        assert snapshot() == before


def test_a_stale_or_forged_version_is_refused_cleanly(app, client, login_as):
    users, ids = build_world(app)
    login_as(users[Role.BROKER], PASSWORD)
    page = f"/deals/{ids['match_id']}"
    for version in ("abc", "99999999999999999999", "-1", ""):
        response = post_form(
            client, f"/broker/matches/{ids['match_id']}/advance", {"version": version}, page=page
        )
        assert response.status_code in (302, 400, 409), (version, response.status_code)
        with app.app_context():
            assert db.session.get(Match, ids["match_id"]).status == MatchStatus.INTRODUCED


def test_the_numbers_the_review_found_are_refused_cleanly(app, client, login_as):
    """The values the security review reported as server errors, each on its own."""
    users, ids = build_world(app)
    login_as(users[Role.BROKER], PASSWORD)
    for query in (
        "page=99999999999999999999",
        "older_than_days=99999999999999",
        "min_chance=NaN",
        "min_chance=inf",
        "hub=nowhere&sector=%3Cscript%3E&source=x&country=%00",
    ):
        assert client.get(f"/broker/queue?{query}").status_code < 500, query


def test_a_nul_character_is_refused_before_it_reaches_the_database(app, client, login_as):
    """PostgreSQL refuses NUL in any text parameter: it must be a 400, never a 500 or a write."""
    users, _ids = build_world(app)

    def refused_without_a_write(send) -> int:
        with app.app_context():
            before = snapshot()
        status = send().status_code
        with app.app_context():
            assert snapshot() == before
        return status

    login = {"email": "a\x00@x.example", "password": "x"}
    assert refused_without_a_write(lambda: post_form(client, "/auth/login", login)) == 400
    login_as(users[Role.OWNER], PASSWORD)
    need = {**NEED_FORM, "title_en": "Solar\x00park"}
    assert refused_without_a_write(lambda: post_form(client, "/owner/needs/new", need)) == 400
    assert client.get("/search/needs?q=solar%00park").status_code in (400, 403)
    broker = signed_in(app, users[Role.BROKER])
    assert broker.get("/broker/queue?sector=solar%00").status_code == 400


def test_an_id_no_database_row_can_have_is_not_found(app, client, login_as):
    users, _ids = build_world(app)
    login_as(users[Role.BROKER], PASSWORD)
    for path in ("/needs/99999999999999999999", "/deals/9223372036854775808"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("listing_id", ["-29045901309845", "99999999999", "0", "1e3"])
def test_an_interest_in_an_impossible_listing_is_a_400(app, client, login_as, listing_id):
    """Found on PostgreSQL: an id beyond a database integer reached the query (a 500)."""
    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED)
    login_as(owner)
    page = client.get("/deals/").get_data(as_text=True)
    data = {"product_id": listing_id, "own_listing": str(need.id), "csrf_token": csrf_from(page)}
    response = client.post("/deals/interest", data=data)
    assert response.status_code == 400
    assert "The listing is missing." in response.get_data(as_text=True)


@pytest.mark.parametrize("match_id", ["-8589934592", "8589934592", "0"])
def test_a_bulk_decision_on_an_impossible_match_is_refused(app, client, login_as, match_id):
    """Found on PostgreSQL: a match id beyond a database integer reached the query (a 500)."""
    login_as(make_user(app, role=Role.BROKER))
    page = client.get("/broker/queue").get_data(as_text=True)
    data = {"match_ids": match_id, "decision": "accept", "csrf_token": csrf_from(page)}
    response = client.post("/broker/queue/bulk", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "Choose matches and, to reject, a reason." in response.get_data(as_text=True)
