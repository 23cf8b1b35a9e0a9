"""Matching v2 in the app: the queue holds good suggestions, near misses apart, one chance scale,
reasons in the reader's language, and a listing with few matches says why."""

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FinancingNeed, Match, MatchStatus, NeedStatus, Role, User
from marketplace.services.matching import suggestions
from tests.factories import make_match, make_need, make_product, make_user
from tests.test_deals import browser


@pytest.fixture
def market(app):
    """One solar need in Pakistan; a product that fits, one a little small, one far away."""
    owner, investor = make_user(app, role=Role.OWNER), make_user(app, role=Role.INVESTOR)
    broker = make_user(app, role=Role.BROKER)
    need = make_need(
        app,
        owner,
        status=NeedStatus.PUBLISHED,
        title_en="Sindh solar park",
        country_iso2="PK",
        instruments=["green_loan"],
    )
    fits = make_product(app, investor, name_en="Pakistan solar loan", countries=["PK"])
    small = make_product(
        app,
        investor,
        name_en="Small solar loan",
        countries=["PK"],
        ticket_max=35_000_000,
        ticket_max_usd=35_000_000,
    )
    far = make_product(app, investor, name_en="Andes wind equity", countries=["CL"])
    return {
        "owner": owner,
        "broker": broker,
        "need": need,
        "fits": fits,
        "small": small,
        "far": far,
    }


def _refresh(app, need_id: int) -> list[Match]:
    with app.app_context():
        need = db.session.get(FinancingNeed, need_id)
        suggestions.refresh_need(need)
        return list(db.session.scalars(select(Match).where(Match.need_id == need_id)))


def test_refresh_keeps_good_and_near_misses_apart_and_never_the_misfit(app, market):
    stored = {m.product_id: m for m in _refresh(app, market["need"].id)}
    assert set(stored) == {market["fits"].id, market["small"].id}
    assert not stored[market["fits"].id].is_near_miss
    near = stored[market["small"].id]
    assert near.is_near_miss and near.explanation["near_miss_on"] == ["ticket_exact"]
    assert near.explanation["reasons"][0]["code"] == "ticket_outside"


def test_refresh_does_not_touch_the_listing_version(app, market):
    with app.app_context():
        before = db.session.get(FinancingNeed, market["need"].id)
        version, updated = before.version_id, before.updated_at
    _refresh(app, market["need"].id)
    with app.app_context():
        after = db.session.get(FinancingNeed, market["need"].id)
        assert (after.version_id, after.updated_at) == (version, updated)
        assert after.match_summary["good"] == 1 and after.match_summary["near_miss"] == 1
        assert after.match_summary["excluded_by"] == {"country": 1}


def test_owner_sees_good_suggestions_then_near_misses_with_reasons(app, market):
    _refresh(app, market["need"].id)
    page = browser(app, market["owner"]).get(f"/needs/{market['need'].id}").get_data(as_text=True)
    assert page.index("Pakistan solar loan") < page.index("Near misses")
    assert page.index("Near misses") < page.index("Small solar loan")
    assert "is a little above the ticket range" in page
    assert "Andes wind equity" not in page


def test_reasons_are_phrased_in_the_readers_language(app, market):
    _refresh(app, market["need"].id)
    with app.app_context():
        db.session.get(User, market["owner"].id).locale = "zh_Hans"
        db.session.commit()
    page = browser(app, market["owner"]).get(f"/needs/{market['need'].id}").get_data(as_text=True)
    assert "接近匹配" in page and "略高于单笔投资范围" in page


def test_a_need_nothing_fits_says_why(app, market):
    need = make_need(app, market["owner"], status=NeedStatus.PUBLISHED, country_iso2="KE")
    assert _refresh(app, need.id) == []
    page = browser(app, market["owner"]).get(f"/needs/{need.id}").get_data(as_text=True)
    assert "No good match yet." in page
    assert "None of the 3 active products on the platform fits every hard term." in page
    assert "Country or region outside the mandate: 3 of 3" in page


def test_queue_hides_near_misses_counts_them_and_filters_to_them(app, market):
    _refresh(app, market["need"].id)
    client = browser(app, market["broker"])
    page = client.get("/broker/queue").get_data(as_text=True)
    assert "Pakistan solar loan" in page and "Small solar loan" not in page
    assert "1 near miss not shown" in page
    near = client.get("/broker/queue?near_misses=1").get_data(as_text=True)
    assert "Small solar loan" in near and "Pakistan solar loan" not in near
    assert "Back to the 1 good suggestion" in near


def test_queue_shows_one_scale_of_chances_and_filters_by_it(app, market):
    make_match(app, market["need"], market["fits"], score=0.73)
    wind = make_need(app, market["owner"], status=NeedStatus.PUBLISHED, title_en="Steppe wind")
    make_match(app, wind, market["fits"], score=0.31)
    client = browser(app, market["broker"])
    page = client.get("/broker/queue").get_data(as_text=True)
    assert "73%" in page and "31%" in page and "0.73" not in page
    assert page.index("Sindh solar park") < page.index("Steppe wind")
    filtered = client.get("/broker/queue?min_chance=50").get_data(as_text=True)
    assert "Sindh solar park" in filtered and "Steppe wind" not in filtered
    assert client.get("/broker/queue?min_chance=500").status_code == 200


def test_decided_pairs_keep_their_history_through_a_refresh(app, market):
    make_match(app, market["need"], market["far"], MatchStatus.REJECTED)
    stored = {m.product_id: m for m in _refresh(app, market["need"].id)}
    assert stored[market["far"].id].status == MatchStatus.REJECTED
