"""What the other party sees of a match before the introduction, during the deal and after it
(README, "What each party keeps"). Brokers and admins see everything at every stage."""

import io
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import (
    AlertFrequency,
    Conversation,
    Document,
    Match,
    MatchStatus,
    Message,
    NeedStatus,
    OrgKind,
    RejectReason,
    Role,
    User,
    utcnow,
)
from marketplace.services.deals import review
from marketplace.services.search import alerts
from tests.conftest import post_form
from tests.factories import (
    make_document,
    make_match,
    make_need,
    make_org,
    make_product,
    make_saved_search,
    make_user,
    pdf_bytes,
)

OWNER_ORG = "Zephyr Quiet Holdings"
OWNER_SITE = "zephyr-quiet.example"
OWNER_NAME = "Orla Quietly"
OWNER_EMAIL = "orla@zephyr-quiet.example"
INVESTOR_NAME = "Ivo Investorsson"
INVESTOR_EMAIL = "ivo@lantern-capital.example"
OWNER_SECRETS = (OWNER_ORG, OWNER_SITE, OWNER_NAME, OWNER_EMAIL, "zephyr-feasibility.pdf")
INVESTOR_SECRETS = (INVESTOR_NAME, INVESTOR_EMAIL)


@pytest.fixture
def deal(app):
    """A hidden owner's published need with a document, an investor's product, a suggestion."""
    owner_org = make_org(app, OrgKind.SPONSOR, name=OWNER_ORG, website=f"https://{OWNER_SITE}")
    owner = make_user(
        app, role=Role.OWNER, organisation=owner_org, display_name=OWNER_NAME, email=OWNER_EMAIL
    )
    investor_org = make_org(app, OrgKind.INVESTOR, name="Lantern Capital")
    investor = make_user(
        app,
        role=Role.INVESTOR,
        organisation=investor_org,
        display_name=INVESTOR_NAME,
        email=INVESTOR_EMAIL,
    )
    need = make_need(
        app, owner, status=NeedStatus.PUBLISHED, show_organisation=False, title_en="Quiet solar"
    )
    make_document(app, need, owner, name="zephyr-feasibility.pdf")
    product = make_product(app, investor, name_en="Lantern green loan")
    match = make_match(app, need, product, rank_for_need=1, rank_for_product=1)
    return {
        "owner": owner,
        "owner_org": owner_org,
        "investor": investor,
        "investor_org": investor_org,
        "broker": make_user(app, role=Role.BROKER),
        "admin": make_user(app, role=Role.ADMIN),
        "need": need,
        "product": product,
        "match": match,
    }


def signed_in(app, user):
    client = app.test_client()
    response = post_form(
        client, "/auth/login", {"email": user.email, "password": "correct-horse-9"}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def mails_to(app):
    """The plain-text bodies of the messages mailed to an address since the test began."""
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(folder.glob("*.eml")) if folder.exists() else set()

    def bodies(email) -> list[str]:
        texts = []
        for path in set(folder.glob("*.eml")) - before if folder.exists() else []:
            message = message_from_bytes(path.read_bytes(), policy=email_policy)
            if message["To"] == email:
                texts.append(message.get_body(preferencelist=("plain",)).get_content())
        return texts

    return bodies


def investor_pages(deal) -> list[str]:
    """Every page where the investor meets the match or its need."""
    return [
        f"/deals/{deal['match'].id}",
        "/deals/",
        f"/products/{deal['product'].id}",  # the investor's suggested needs
        f"/needs/{deal['need'].id}",
        "/search/needs",
        "/needs",
        "/",
        "/deals/notifications",
    ]


def owner_pages(deal) -> list[str]:
    """Every page where the owner meets the match or its product."""
    return [
        f"/deals/{deal['match'].id}",
        "/deals/",
        f"/needs/{deal['need'].id}",  # the owner's suggested products
        f"/products/{deal['product'].id}",
        "/search/products",
        "/deals/notifications",
    ]


def leaks(client, urls, secrets) -> list[str]:
    found = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        found += [f"{url}: {secret}" for secret in secrets if secret in html]
    return found


def introduce(app, deal):
    broker = signed_in(app, deal["broker"])
    response = post_form(
        broker,
        f"/broker/matches/{deal['match'].id}/decide",
        {"decision": "accept", "version": deal["match"].version_id},
        page=f"/deals/{deal['match'].id}",
    )
    assert response.status_code == 302


def test_nothing_identifies_the_owner_to_the_investor_before_the_introduction(app, deal, mails_to):
    investor = signed_in(app, deal["investor"])
    assert leaks(investor, investor_pages(deal), OWNER_SECRETS) == []
    assert mails_to(INVESTOR_EMAIL) == []


def test_nothing_identifies_the_investor_people_to_the_owner_before_the_introduction(
    app, deal, mails_to
):
    owner = signed_in(app, deal["owner"])
    assert leaks(owner, owner_pages(deal), INVESTOR_SECRETS) == []
    assert mails_to(OWNER_EMAIL) == []


def test_the_saved_search_digest_does_not_name_a_hidden_owner(app, deal, mails_to):
    make_saved_search(
        app,
        deal["investor"],
        created_at=utcnow() - timedelta(days=3),
        frequency=AlertFrequency.DAILY,
        filters={"sector": ["solar"]},
    )
    with app.app_context():
        assert alerts.send_due_alerts(utcnow() + timedelta(days=1)).sent == 1
        jobs.dispatch()  # the digest's e-mail job (no queue in the tests: it runs here)
    [digest] = mails_to(INVESTOR_EMAIL)
    assert "Quiet solar" in digest
    assert [secret for secret in OWNER_SECRETS if secret in digest] == []


def test_after_the_introduction_each_side_sees_the_other(app, deal, mails_to):
    introduce(app, deal)
    url = f"/deals/{deal['match'].id}"
    investor_page = signed_in(app, deal["investor"]).get(url).get_data(as_text=True)
    assert OWNER_ORG in investor_page and OWNER_EMAIL in investor_page
    assert INVESTOR_EMAIL in signed_in(app, deal["owner"]).get(url).get_data(as_text=True)
    [mail] = mails_to(INVESTOR_EMAIL)
    assert url in mail


def test_an_owner_who_shows_its_name_is_named_before_the_introduction(app, deal):
    with app.app_context():
        db.session.get(type(deal["need"]), deal["need"].id).show_organisation = True
        db.session.commit()
    text = signed_in(app, deal["investor"]).get(f"/deals/{deal['match'].id}").get_data(as_text=True)
    assert OWNER_ORG in text and OWNER_EMAIL not in text and OWNER_NAME not in text


@pytest.mark.parametrize("role", ["broker", "admin"])
def test_staff_see_everything_before_the_introduction(app, deal, role):
    client = signed_in(app, deal[role])
    page = client.get(f"/deals/{deal['match'].id}").get_data(as_text=True)
    assert OWNER_ORG in page
    assert "Quiet solar" in client.get("/broker/queue").get_data(as_text=True)
    need_page = client.get(f"/needs/{deal['need'].id}").get_data(as_text=True)
    assert "zephyr-feasibility.pdf" in need_page


# --- after the deal ends -------------------------------------------------------------------


@pytest.fixture
def live(app, deal):
    """The deal introduced, with one file posted in the conversation by each side."""
    match = make_match(
        app,
        deal["need"],
        make_product(app, deal["investor"], name_en="Lantern bridge loan"),
        MatchStatus.INTRODUCED,
        broker=deal["broker"],
    )
    with app.app_context():
        conversation_id = db.session.scalar(
            select(Conversation.id).where(Conversation.match_id == match.id)
        )
        document_id = db.session.scalar(select(Document.id).where(Document.need_id.is_not(None)))
    url = f"/deals/conversations/{conversation_id}"
    files = {}
    for side in ("owner", "investor"):
        post_form(
            signed_in(app, deal[side]),
            url,
            {
                "body": f"Hello from the {side}",
                "attachment": (io.BytesIO(pdf_bytes()), f"{side}.pdf"),
            },
            content_type="multipart/form-data",
        )
        with app.app_context():
            files[side] = db.session.scalar(
                select(Document.id).where(Document.original_name == f"{side}.pdf")
            )
    assert None not in files.values()
    return {**deal, "match": match, "url": url, "need_document": document_id, "files": files}


def end_by(app, live, path):
    """End the live deal one way: (who, what they post, to which address, from which page)."""
    match_id, need_id = live["match"].id, live["need"].id
    with app.app_context():
        version = db.session.get(Match, match_id).version_id
    respond, match_page = f"/deals/{match_id}/respond", f"/deals/{match_id}"
    who, data, url, page = {
        "investor declines": ("investor", {"answer": "decline"}, respond, match_page),
        "owner declines": ("owner", {"answer": "decline"}, respond, match_page),
        "broker closes lost": (
            "broker",
            {"reason": "No appetite", "version": version},
            f"/broker/matches/{match_id}/close-lost",
            match_page,
        ),
        "owner withdraws": ("owner", {}, f"/owner/needs/{need_id}/withdraw", f"/needs/{need_id}"),
    }[path]
    post_form(signed_in(app, live[who]), url, data, page=page)
    with app.app_context():
        assert db.session.get(Match, match_id).status == MatchStatus.CLOSED_LOST


def message_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Message.id)))


def test_while_the_deal_is_live_the_investor_has_documents_contacts_and_messages(app, live):
    investor = signed_in(app, live["investor"])
    assert investor.get(f"/documents/{live['need_document']}").status_code == 200
    assert investor.get(f"/documents/{live['files']['owner']}").status_code == 200
    assert OWNER_EMAIL in investor.get(f"/deals/{live['match'].id}").get_data(as_text=True)
    assert message_count(app) == 2


PATHS = ["investor declines", "owner declines", "broker closes lost", "owner withdraws"]


@pytest.mark.parametrize("path", PATHS)
def test_when_the_deal_ends_the_investor_keeps_only_the_history(app, live, path):
    end_by(app, live, path)
    investor = signed_in(app, live["investor"])
    assert investor.get(f"/documents/{live['need_document']}").status_code == 403
    assert investor.get(f"/documents/{live['files']['owner']}").status_code == 403
    assert investor.get(f"/documents/{live['files']['investor']}").status_code == 200
    page = investor.get(f"/deals/{live['match'].id}").get_data(as_text=True)
    assert OWNER_EMAIL not in page and "This deal has ended" in page
    history = investor.get(live["url"]).get_data(as_text=True)
    assert "Hello from the owner" in history and "kept for reading only" in history
    refused = post_form(investor, live["url"], {"body": "One more thing"}, follow_redirects=True)
    assert "kept for reading only" in refused.get_data(as_text=True)
    assert message_count(app) == 2
    need_page = investor.get(f"/needs/{live['need'].id}")
    assert need_page.status_code == 404 or "zephyr-feasibility.pdf" not in need_page.get_data(
        as_text=True
    )


@pytest.mark.parametrize("path", PATHS)
def test_when_the_deal_ends_the_owner_keeps_only_the_history(app, live, path):
    end_by(app, live, path)
    owner = signed_in(app, live["owner"])
    assert owner.get(f"/documents/{live['files']['investor']}").status_code == 403
    assert owner.get(f"/documents/{live['files']['owner']}").status_code == 200
    assert owner.get(f"/documents/{live['need_document']}").status_code == 200
    assert INVESTOR_EMAIL not in owner.get(f"/deals/{live['match'].id}").get_data(as_text=True)
    assert "Hello from the investor" in owner.get(live["url"]).get_data(as_text=True)
    post_form(owner, live["url"], {"body": "Are you sure?"})
    assert message_count(app) == 2


@pytest.mark.parametrize("path", PATHS)
def test_brokers_keep_everything_after_the_deal_ends(app, live, path):
    end_by(app, live, path)
    broker = signed_in(app, live["broker"])
    for document_id in (live["need_document"], *live["files"].values()):
        assert broker.get(f"/documents/{document_id}").status_code == 200
    page = broker.get(f"/deals/{live['match'].id}").get_data(as_text=True)
    assert OWNER_EMAIL in page and INVESTOR_EMAIL in page


def test_a_deal_won_keeps_the_partners_in_touch(app, live):
    from marketplace.services.deals import deals

    with app.test_request_context(), app.app_context():
        broker = db.session.get(User, live["broker"].id)
        deals.close_won(
            live["match"].id,
            broker,
            amount=live["need"].amount,
            currency=live["need"].currency,
            instrument="green_loan",
            closed_on=utcnow().date(),
        )
    investor = signed_in(app, live["investor"])
    assert investor.get(f"/documents/{live['need_document']}").status_code == 200
    assert OWNER_EMAIL in investor.get(f"/deals/{live['match'].id}").get_data(as_text=True)


def test_a_rejected_match_shares_nothing(app, deal):
    with app.test_request_context(), app.app_context():
        review.reject(deal["match"].id, db.session.get(User, deal["broker"].id), RejectReason.TENOR)
    investor = signed_in(app, deal["investor"])
    assert leaks(investor, investor_pages(deal), OWNER_SECRETS) == []
    with app.app_context():
        document_id = db.session.scalar(select(Document.id))
    assert investor.get(f"/documents/{document_id}").status_code == 403


def test_an_open_deal_keeps_its_need_from_expiring_until_it_ends(app, live):
    from marketplace.services.listings import listings

    with app.app_context():
        need = db.session.get(type(live["need"]), live["need"].id)
        need.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
        assert listings.expire_needs() == 0
    end_by(app, live, "broker closes lost")
    with app.app_context():
        assert listings.expire_needs() == 1
    investor = signed_in(app, live["investor"])
    assert investor.get(f"/documents/{live['need_document']}").status_code == 403


# --- who reads a conversation ----------------------------------------------------------------


def test_a_colleague_outside_the_conversation_reads_neither_it_nor_its_files(app, live):
    """Decision: the people introduced (and brokers, admins) read it, not their colleagues."""
    for side in ("owner", "investor"):
        colleague = make_user(app, role=Role(side), organisation=live[f"{side}_org"])
        client = signed_in(app, colleague)
        assert client.get(live["url"]).status_code == 404
        for document_id in live["files"].values():
            assert client.get(f"/documents/{document_id}").status_code == 403
    assert message_count(app) == 2


def test_any_broker_may_read_a_conversation_and_its_files(app, live):
    other_broker = signed_in(app, make_user(app, role=Role.BROKER))
    assert "Hello from the owner" in other_broker.get(live["url"]).get_data(as_text=True)
    assert other_broker.get(f"/documents/{live['files']['owner']}").status_code == 200
