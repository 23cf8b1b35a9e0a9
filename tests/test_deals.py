"""Broker review, introductions, interests, conversations and the deal pipeline."""

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    Conversation,
    FinancingNeed,
    Interest,
    Match,
    MatchEvent,
    MatchStatus,
    NeedStatus,
    Notification,
    Role,
)
from tests.conftest import post_form
from tests.factories import make_match, make_need, make_product, make_user, pdf_bytes


@pytest.fixture
def parties(app):
    owner = make_user(app, role=Role.OWNER)
    investor = make_user(app, role=Role.INVESTOR)
    broker = make_user(app, role=Role.BROKER)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED)
    product = make_product(app, investor)
    return {
        "owner": owner,
        "investor": investor,
        "broker": broker,
        "need": need,
        "product": product,
    }


def browser(app, user):
    client = app.test_client()
    response = post_form(
        client, "/auth/login", {"email": user.email, "password": "correct-horse-9"}
    )
    assert response.status_code == 302
    return client


def _match(app, match_id) -> Match:
    with app.app_context():
        match = db.session.get(Match, match_id)
        db.session.expunge(match)
        return match


def test_broker_rejects_with_reason_and_it_becomes_a_label(app, parties):
    match = make_match(app, parties["need"], parties["product"])
    client = browser(app, parties["broker"])
    page = f"/deals/{match.id}"
    no_reason = post_form(
        client,
        f"/broker/matches/{match.id}/decide",
        {"decision": "reject", "reason": "", "version": match.version_id},
        page=page,
        follow_redirects=True,
    )
    assert "Choose the reason for rejecting." in no_reason.get_data(as_text=True)
    post_form(
        client,
        f"/broker/matches/{match.id}/decide",
        {
            "decision": "reject",
            "reason": "ticket_size",
            "note": "Too small",
            "version": match.version_id,
        },
        page=page,
    )
    stored = _match(app, match.id)
    assert stored.status == MatchStatus.REJECTED and stored.reason_code == "ticket_size"
    with app.app_context():
        event = db.session.scalar(select(MatchEvent).where(MatchEvent.to_status == "rejected"))
        assert event.actor_id == parties["broker"].id and event.reason_code == "ticket_size"
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "match.rejected"))


def test_accept_introduces_parties_opens_conversation_and_notifies(app, parties):
    match = make_match(app, parties["need"], parties["product"])
    client = browser(app, parties["broker"])
    response = post_form(
        client,
        f"/broker/matches/{match.id}/decide",
        {"decision": "accept", "version": match.version_id},
        page=f"/deals/{match.id}",
    )
    assert response.status_code == 302
    assert _match(app, match.id).status == MatchStatus.INTRODUCED
    with app.app_context():
        conversation = db.session.scalar(
            select(Conversation).where(Conversation.match_id == match.id)
        )
        members = {p.user_id for p in conversation.participants}
        assert {parties["owner"].id, parties["investor"].id, parties["broker"].id} <= members
        notified = set(db.session.scalars(select(Notification.user_id)))
        assert {parties["owner"].id, parties["investor"].id} <= notified
    mails = [p.read_text() for p in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")]
    assert sum(parties["owner"].email in m for m in mails) >= 1
    owner_page = browser(app, parties["owner"]).get(f"/deals/{match.id}").get_data(as_text=True)
    assert parties["investor"].email in owner_page


def test_contacts_are_hidden_before_introduction(app, parties):
    match = make_match(app, parties["need"], parties["product"])
    page = browser(app, parties["owner"]).get(f"/deals/{match.id}").get_data(as_text=True)
    assert parties["investor"].email not in page


def test_stale_decision_is_refused_with_a_message(app, parties):
    match = make_match(app, parties["need"], parties["product"])
    first, second = browser(app, parties["broker"]), browser(app, make_user(app, role=Role.BROKER))
    form = {"decision": "reject", "reason": "tenor", "version": match.version_id}
    post_form(first, f"/broker/matches/{match.id}/decide", form, page=f"/deals/{match.id}")
    late = post_form(
        second,
        f"/broker/matches/{match.id}/decide",
        {**form, "decision": "accept"},
        page="/broker/queue",
        follow_redirects=True,
    )
    assert "Another broker has already acted on this match" in late.get_data(as_text=True)
    assert _match(app, match.id).status == MatchStatus.REJECTED


@pytest.mark.postgres
def test_two_brokers_at_once_exactly_one_wins(app, parties):
    """Two sessions decide the same match concurrently on PostgreSQL: one wins, one is told."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks are a PostgreSQL feature; the SQLite run covers the stale path")
    from marketplace.models import RejectReason, User
    from marketplace.services import ServiceError
    from marketplace.services.deals import review

    match = make_match(app, parties["need"], parties["product"])
    brokers = [parties["broker"], make_user(app, role=Role.BROKER)]
    barrier, outcomes = threading.Barrier(2), []

    def decide(index):
        with app.app_context():
            user = db.session.get(User, brokers[index].id)
            barrier.wait()
            try:
                if index == 0:
                    review.reject(match.id, user, RejectReason.TENOR, "", match.version_id)
                else:
                    review.reject(match.id, user, RejectReason.STAGE, "", match.version_id)
                outcomes.append("won")
            except ServiceError as error:
                outcomes.append(error.status)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes, key=str) == [409, "won"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(MatchEvent.id)).where(
                    MatchEvent.match_id == match.id, MatchEvent.to_status == "rejected"
                )
            )
            == 1
        )


def test_bulk_reject_asks_for_confirmation(app, parties):
    first = make_match(app, parties["need"], parties["product"])
    other_product = make_product(app, parties["investor"], name_en="Second loan")
    second = make_match(app, parties["need"], other_product)
    client = browser(app, parties["broker"])
    data = {"match_ids": [first.id, second.id], "decision": "reject", "reason": "duplicate"}
    confirm = post_form(client, "/broker/queue/bulk", data, page="/broker/queue")
    assert confirm.status_code == 200 and "Confirm the decision" in confirm.get_data(as_text=True)
    assert _match(app, first.id).status == MatchStatus.SUGGESTED
    post_form(client, "/broker/queue/bulk", {**data, "confirmed": "yes"}, page="/broker/queue")
    assert _match(app, first.id).status == _match(app, second.id).status == MatchStatus.REJECTED


def test_queue_filters_and_orders(app, parties):
    solar = make_match(app, parties["need"], parties["product"], score=0.4)
    wind_need = make_need(
        app,
        parties["owner"],
        status=NeedStatus.PUBLISHED,
        sector="wind",
        technology="onshore_wind",
        title_en="Steppe wind farm",
        country_iso2="KZ",
    )
    make_match(app, wind_need, parties["product"], score=0.9)
    client = browser(app, parties["broker"])
    page = client.get("/broker/queue").get_data(as_text=True)
    assert page.index("Steppe wind farm") < page.index("50 MW solar park")
    filtered = client.get("/broker/queue?sector=solar").get_data(as_text=True)
    assert "Steppe wind farm" not in filtered and "50 MW solar park" in filtered
    assert "Steppe wind farm" in client.get("/broker/queue?country=kz").get_data(as_text=True)
    assert "50 MW solar park" not in client.get("/broker/queue?min_chance=50").get_data(
        as_text=True
    )
    assert client.get("/broker/queue?order=waiting&page=-4&min_chance=abc").status_code == 200
    assert solar.id


def test_investor_expresses_interest_and_it_enters_the_queue(app, parties):
    client = browser(app, parties["investor"])
    need_page = client.get(f"/needs/{parties['need'].id}").get_data(as_text=True)
    assert "Express interest" in need_page
    response = post_form(
        client,
        "/deals/interest",
        {
            "need_id": parties["need"].id,
            "own_listing": parties["product"].id,
            "message": "We can lead this.",
        },
        page=f"/needs/{parties['need'].id}",
    )
    assert response.status_code == 302
    with app.app_context():
        interest = db.session.scalar(select(Interest))
        assert (
            interest.match.status == MatchStatus.SUGGESTED and interest.match.source == "interest"
        )
    queue = browser(app, parties["broker"]).get("/broker/queue").get_data(as_text=True)
    assert "Expression of interest" in queue
    again = post_form(
        client,
        "/deals/interest",
        {"need_id": parties["need"].id, "own_listing": parties["product"].id},
        page=f"/needs/{parties['need'].id}",
        follow_redirects=True,
    )
    assert "already expressed interest" in again.get_data(as_text=True)


def test_cannot_offer_someone_elses_product(app, parties):
    stranger = make_user(app, role=Role.INVESTOR)
    client = browser(app, stranger)
    response = post_form(
        client,
        "/deals/interest",
        {"need_id": parties["need"].id, "own_listing": parties["product"].id},
        page=f"/needs/{parties['need'].id}",
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Interest.id))) == 0


def test_conversation_messages_unread_counts_and_privacy(app, parties):
    match = make_match(
        app, parties["need"], parties["product"], MatchStatus.INTRODUCED, broker=parties["broker"]
    )
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    url = f"/deals/conversations/{conversation_id}"
    owner, investor = browser(app, parties["owner"]), browser(app, parties["investor"])
    post_form(owner, url, {"body": "Hello from the sponsor"})
    assert "1 unread" in investor.get("/deals/").get_data(as_text=True)
    assert "Hello from the sponsor" in investor.get(url).get_data(as_text=True)
    assert "unread" not in investor.get("/deals/").get_data(as_text=True)
    outsider = browser(app, make_user(app, role=Role.INVESTOR))
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/deals/{match.id}").status_code == 404
    empty = post_form(owner, url, {"body": "  "})
    assert "Write a message or attach a document." in empty.get_data(as_text=True)


def test_pipeline_to_closed_won_finances_the_need(app, parties):
    match = make_match(
        app, parties["need"], parties["product"], MatchStatus.INTRODUCED, broker=parties["broker"]
    )
    client = browser(app, parties["broker"])
    for expected in (MatchStatus.IN_NEGOTIATION, MatchStatus.TERM_SHEET):
        current = _match(app, match.id)
        post_form(
            client,
            f"/broker/matches/{match.id}/advance",
            {"version": current.version_id},
            page=f"/deals/{match.id}",
        )
        assert _match(app, match.id).status == expected
    with app.app_context():
        assert db.session.get(FinancingNeed, parties["need"].id).status == "in_negotiation"
    current, today = _match(app, match.id), datetime.now(UTC).date()
    post_form(
        client,
        f"/broker/matches/{match.id}/close-won",
        {
            "amount": "30000000",
            "currency": "USD",
            "instrument": "green_loan",
            "closed_on": today.isoformat(),
            "success_fee_percent": "1.5",
            "version": current.version_id,
        },
        page=f"/deals/{match.id}",
    )
    closed = _match(app, match.id)
    assert closed.status == MatchStatus.CLOSED_WON and closed.amount_financed == Decimal("30000000")
    assert closed.closed_on == today
    with app.app_context():
        assert db.session.get(FinancingNeed, parties["need"].id).status == NeedStatus.FINANCED
    board = client.get("/broker/pipeline?stage=closed_won").get_data(as_text=True)
    assert "$30,000,000.00" in board


def test_cannot_close_a_deal_that_was_never_introduced(app, parties):
    match = make_match(app, parties["need"], parties["product"])
    client = browser(app, parties["broker"])
    response = post_form(
        client,
        f"/broker/matches/{match.id}/close-lost",
        {"reason": "No appetite", "version": match.version_id},
        page=f"/deals/{match.id}",
        follow_redirects=True,
    )
    assert "Only a deal whose parties were introduced can be closed." in response.get_data(
        as_text=True
    )
    assert _match(app, match.id).status == MatchStatus.SUGGESTED


def test_party_declines_introduction(app, parties):
    match = make_match(
        app, parties["need"], parties["product"], MatchStatus.INTRODUCED, broker=parties["broker"]
    )
    client = browser(app, parties["investor"])
    post_form(
        client, f"/deals/{match.id}/respond", {"answer": "decline"}, page=f"/deals/{match.id}"
    )
    closed = _match(app, match.id)
    assert closed.status == MatchStatus.CLOSED_LOST and closed.investor_response == "declined"


def test_owner_cannot_act_as_broker(app, parties):
    match = make_match(app, parties["need"], parties["product"])
    client = browser(app, parties["owner"])
    response = post_form(
        client,
        f"/broker/matches/{match.id}/decide",
        {"decision": "accept", "version": match.version_id},
        page=f"/deals/{match.id}",
    )
    assert response.status_code == 403
    assert _match(app, match.id).status == MatchStatus.SUGGESTED


def test_message_attachment_is_shared_with_the_conversation_only(app, parties):
    import io

    make_match(
        app, parties["need"], parties["product"], MatchStatus.INTRODUCED, broker=parties["broker"]
    )
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    url = f"/deals/conversations/{conversation_id}"
    owner = browser(app, parties["owner"])
    post_form(
        owner,
        url,
        {"body": "Term sheet draft", "attachment": (io.BytesIO(pdf_bytes()), "term-sheet.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        from marketplace.models import Document

        document_id = db.session.scalar(select(Document.id).where(Document.message_id.is_not(None)))
    investor = browser(app, parties["investor"])
    assert investor.get(f"/documents/{document_id}").data.startswith(b"%PDF-")
    outsider = browser(app, make_user(app, role=Role.INVESTOR))
    assert outsider.get(f"/documents/{document_id}").status_code == 403
