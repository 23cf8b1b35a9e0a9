"""Impossible values are refused with a message: closing dates and amounts, uploads."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Conversation, Document, Match, MatchStatus, NeedStatus, Role, utcnow
from tests.conftest import post_form
from tests.factories import make_match, make_need, make_product, make_user, pdf_bytes

MB = 1024 * 1024


@pytest.fixture
def parties(app):
    owner = make_user(app, role=Role.OWNER)
    investor = make_user(app, role=Role.INVESTOR)
    return {
        "owner": owner,
        "investor": investor,
        "broker": make_user(app, role=Role.BROKER),
        "need": make_need(app, owner, status=NeedStatus.PUBLISHED, amount=Decimal("40000000")),
        "product": make_product(app, investor),
    }


@pytest.fixture
def open_deal(app, parties):
    """A deal introduced ten days ago."""
    return make_match(
        app,
        parties["need"],
        parties["product"],
        MatchStatus.INTRODUCED,
        broker=parties["broker"],
        created_at=utcnow() - timedelta(days=10),
    )


def close_won(app, client, match, amount="30000000", closed_on=None, currency="USD"):
    with app.app_context():
        version = db.session.get(Match, match.id).version_id
    response = post_form(
        client,
        f"/broker/matches/{match.id}/close-won",
        {
            "amount": amount,
            "currency": currency,
            "instrument": "green_loan",
            "closed_on": (closed_on or utcnow().date()).isoformat(),
            "version": version,
        },
        page=f"/deals/{match.id}",
        follow_redirects=True,
    )
    with app.app_context():
        status = db.session.get(Match, match.id).status
    return status, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "days_ago, message",
    [
        (11, "The closing date cannot be before the match was made"),
        (400, "The closing date cannot be before the match was made"),
        (-1, "The closing date cannot be in the future."),
        (-365, "The closing date cannot be in the future."),
    ],
)
def test_an_impossible_closing_date_is_refused(
    app, client, login_as, parties, open_deal, days_ago, message
):
    login_as(parties["broker"])
    closed_on = utcnow().date() - timedelta(days=days_ago)
    status, page = close_won(app, client, open_deal, closed_on=closed_on)
    assert status == MatchStatus.INTRODUCED and message in page
    with app.app_context():
        assert db.session.get(Match, open_deal.id).amount_financed is None


@pytest.mark.parametrize("days_ago", [10, 3, 0])
def test_a_closing_date_from_the_match_to_today_is_accepted(
    app, client, login_as, parties, open_deal, days_ago
):
    login_as(parties["broker"])
    status, _page = close_won(
        app, client, open_deal, closed_on=utcnow().date() - timedelta(days=days_ago)
    )
    assert status == MatchStatus.CLOSED_WON


@pytest.mark.parametrize("amount", ["400000000", "40000000000"])
def test_an_amount_out_of_all_proportion_to_the_need_is_refused(
    app, client, login_as, parties, open_deal, amount
):
    login_as(parties["broker"])
    status, page = close_won(app, client, open_deal, amount=amount)
    assert status == MatchStatus.INTRODUCED
    assert "more than 3 times the amount the need sought ($40,000,000.00)" in page


def test_an_upsized_deal_is_accepted(app, client, login_as, parties, open_deal):
    login_as(parties["broker"])
    status, _page = close_won(app, client, open_deal, amount="48000000")
    assert status == MatchStatus.CLOSED_WON


# --- uploads --------------------------------------------------------------------------------


def documents_stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Document.id)))


def upload(client, need_id, content, name="plan.pdf"):
    return post_form(
        client,
        f"/owner/needs/{need_id}/documents",
        {"document": (io.BytesIO(content), name)},
        page=f"/needs/{need_id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_file_of_exactly_the_limit_is_accepted(app, client, login_as, parties):
    """The limit counts the file: the multipart envelope around it does not use it up."""
    login_as(parties["owner"])
    limit = app.config["MAX_UPLOAD_MB"] * MB
    response = upload(client, parties["need"].id, pdf_bytes(limit))
    assert "Document uploaded." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Document.size_bytes)) == limit


def test_a_conversation_file_of_exactly_the_limit_is_accepted(app, client, login_as, parties):
    make_match(
        app, parties["need"], parties["product"], MatchStatus.INTRODUCED, broker=parties["broker"]
    )
    with app.app_context():
        url = f"/deals/conversations/{db.session.scalar(select(Conversation.id))}"
    login_as(parties["owner"])
    body = "Our model. " * 400  # a long message shares the request with the file
    limit = app.config["MAX_UPLOAD_MB"] * MB
    response = post_form(
        client,
        url,
        {"body": body, "attachment": (io.BytesIO(pdf_bytes(limit)), "model.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert documents_stored(app) == 1


def test_a_file_just_over_the_limit_is_refused_with_the_limit_in_mb(app, client, login_as, parties):
    login_as(parties["owner"])
    limit = app.config["MAX_UPLOAD_MB"] * MB
    response = upload(client, parties["need"].id, pdf_bytes(limit + 1))
    assert f"The file is larger than {app.config['MAX_UPLOAD_MB']} MB." in response.get_data(
        as_text=True
    )
    assert documents_stored(app) == 0


def test_a_request_far_over_the_limit_gets_a_413_that_says_the_limit(
    app, client, login_as, parties
):
    login_as(parties["owner"])
    size = (app.config["MAX_UPLOAD_MB"] + 2) * MB
    response = upload(client, parties["need"].id, b"%PDF-" + b"0" * size)
    assert response.status_code == 413
    assert f"The file is larger than {app.config['MAX_UPLOAD_MB']} MB." in response.get_data(
        as_text=True
    )
    assert documents_stored(app) == 0


@pytest.mark.parametrize(
    "content, message",
    [
        (b"%PDF-1.4 just a header\n", "The PDF is damaged and cannot be opened."),
        (pdf_bytes()[:200], "The PDF is damaged and cannot be opened."),
        (b"%PDF-1.7\n" + b"\x00" * 5000, "The PDF is damaged and cannot be opened."),
        (pdf_bytes(password="s3cret"), "The PDF is protected by a password."),
        (b"MZ\x90\x00 not a pdf", "content is not a valid PDF document."),
    ],
    ids=["header-only", "truncated", "zeros", "encrypted", "executable"],
)
def test_a_pdf_must_parse_as_one(app, client, login_as, parties, content, message):
    login_as(parties["owner"])
    response = upload(client, parties["need"].id, content)
    text = response.get_data(as_text=True)
    assert message in text and "Document uploaded." not in text
    assert documents_stored(app) == 0


def test_a_real_pdf_is_accepted(app, client, login_as, parties):
    login_as(parties["owner"])
    response = upload(client, parties["need"].id, pdf_bytes())
    assert "Document uploaded." in response.get_data(as_text=True)
    assert documents_stored(app) == 1
