"""The whole deal flow through the web pages, from seeded data to a retrained ranker."""

from datetime import UTC, datetime

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Conversation,
    FinancingNeed,
    Match,
    MatchStatus,
    NeedStatus,
    RankerModel,
)
from tests.conftest import post_form

PASSWORD = "demo-password-1"
NEED = {
    "title_en": "80 MW solar park near Multan",
    "title_zh": "",
    "summary_en": "Utility-scale PV.",
    "summary_zh": "",
    "description": "Grid connection agreed.",
    "country_iso2": "PK",
    "sector": "solar",
    "technology": "solar_pv",
    "taxonomy_activity_ref": "4.1",
    "amount": "60000000",
    "currency": "USD",
    "instruments": ["green_loan"],
    "tenor_years": "12",
    "stage": "financing",
    "capacity": "80",
    "capacity_unit": "MW",
}


def signed_in(app, email):
    client = app.test_client()
    assert (
        post_form(client, "/auth/login", {"email": email, "password": PASSWORD}).status_code == 302
    )
    return client


def test_owner_to_closed_deal_to_retrained_ranker(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    owner, broker = signed_in(app, "owner@demo.test"), signed_in(app, "broker@demo.test")
    investor = signed_in(app, "investor@demo.test")

    # 1-2. The owner drafts and submits a need; a broker waives the fee and publishes it.
    created = post_form(owner, "/owner/needs/new", NEED)
    need_id = int(created.headers["Location"].rsplit("/", 1)[1])
    post_form(owner, f"/owner/needs/{need_id}/submit", {}, page=f"/needs/{need_id}")
    post_form(broker, f"/billing/needs/{need_id}/waive", {"reason": "Pilot sponsor"})
    post_form(broker, f"/broker/needs/{need_id}/publish", {}, page="/broker/needs")
    with app.app_context():
        assert db.session.get(FinancingNeed, need_id).status == NeedStatus.PUBLISHED

    # 3. Matching has stored suggested products, shown to the owner with reasons.
    with app.app_context():
        suggested = db.session.scalars(
            select(Match)
            .where(Match.need_id == need_id, Match.status == MatchStatus.SUGGESTED)
            .order_by(Match.rank_for_need)
        ).all()
        assert len(suggested) >= 5
        chosen = suggested[0]
    assert "Suggested products" in owner.get(f"/needs/{need_id}").get_data(as_text=True)

    # 4. The broker accepts the best suggestion from the queue: both parties are introduced.
    post_form(
        broker,
        f"/broker/matches/{chosen.id}/decide",
        {"decision": "accept", "version": chosen.version_id},
        page="/broker/queue",
    )
    with app.app_context():
        match = db.session.get(Match, chosen.id)
        assert match.status == MatchStatus.INTRODUCED
        conversation_id = db.session.scalar(
            select(Conversation.id).where(Conversation.match_id == match.id)
        )
        investor_email = match.product.created_by.email

    # 5. Both parties exchange messages.
    other = (
        investor
        if investor_email == "investor@demo.test"
        else signed_in_demo_investor(app, investor_email)
    )
    url = f"/deals/conversations/{conversation_id}"
    post_form(owner, url, {"body": "Our feasibility study is attached next week."})
    post_form(other, url, {"body": "Thank you, we will review it."})
    thread = broker.get(url).get_data(as_text=True)
    assert "feasibility study" in thread and "we will review it" in thread

    # 6. The broker moves the deal through its stages and closes it won.
    for _ in range(2):
        with app.app_context():
            version = db.session.get(Match, chosen.id).version_id
        post_form(
            broker,
            f"/broker/matches/{chosen.id}/advance",
            {"version": version},
            page=f"/deals/{chosen.id}",
        )
    with app.app_context():
        version = db.session.get(Match, chosen.id).version_id
    post_form(
        broker,
        f"/broker/matches/{chosen.id}/close-won",
        {
            "amount": "60000000",
            "currency": "USD",
            "instrument": "green_loan",
            "closed_on": datetime.now(UTC).date().isoformat(),
            "version": version,
        },
        page=f"/deals/{chosen.id}",
    )
    with app.app_context():
        assert db.session.get(Match, chosen.id).status == MatchStatus.CLOSED_WON
        assert db.session.get(FinancingNeed, need_id).status == NeedStatus.FINANCED

    # 7. Rejections give the negatives; `flask ranker train` learns from both.
    with app.app_context():
        others = [
            (m.id, m.version_id)
            for m in db.session.scalars(
                select(Match).where(Match.status == MatchStatus.SUGGESTED).limit(8)
            )
        ]
    for match_id, version in others:
        post_form(
            broker,
            f"/broker/matches/{match_id}/decide",
            {"decision": "reject", "reason": "ticket_size", "version": version},
            page="/broker/queue",
        )
    result = app.test_cli_runner().invoke(args=["ranker", "train"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from marketplace.services.matching.ranker_versions import decisions

        labels = decisions()
        trained = db.session.scalar(select(RankerModel).order_by(RankerModel.id.desc()))
        assert trained is not None and trained.training_size == len(labels)
        assert {
            "type": "decision",
            "need": need_id,
            "product": chosen.product_id,
            "accepted": True,
        } in labels


def signed_in_demo_investor(app, email):
    """The suggested product may belong to another demo investor: sign in as its desk."""
    from marketplace.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.set_password(PASSWORD)
        db.session.commit()
    return signed_in(app, email)
