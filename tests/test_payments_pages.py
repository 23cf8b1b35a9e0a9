"""Payment pages without Stripe, waivers, the publishing rule, fees, history and member rights."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Fee,
    FeeKind,
    FeeStatus,
    FinancingNeed,
    MatchStatus,
    MembershipStatus,
    NeedStatus,
    Organisation,
    OrgKind,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Role,
)
from marketplace.services.payments.fees import ensure_default_fees
from marketplace.services.payments.payments import has_membership_rights, waive_listing_fee
from tests.conftest import post_form
from tests.factories import (
    make_document,
    make_match,
    make_need,
    make_org,
    make_payment,
    make_product,
    make_user,
)

NOT_CONFIGURED = "Payments are not configured on this site"


@pytest.fixture
def submitted(app):
    owner = make_user(app, role=Role.OWNER)
    return owner, make_need(app, owner, status=NeedStatus.SUBMITTED)


def stored_need(app, need_id) -> FinancingNeed:
    with app.app_context():
        need = db.session.get(FinancingNeed, need_id)
        db.session.expunge(need)
        return need


# ---- No Stripe key: the site stays usable --------------------------------------------------------


def test_without_a_key_the_payment_pages_say_so(app, client, login_as, submitted):
    owner, need = submitted
    login_as(owner)
    page = client.get(f"/billing/needs/{need.id}/listing-fee").get_data(as_text=True)
    assert NOT_CONFIGURED in page
    response = post_form(
        client, f"/billing/needs/{need.id}/listing-fee", {"currency": "USD"}, page="/billing/"
    )
    assert NOT_CONFIGURED in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Payment)) is None


def test_without_a_key_investors_see_the_membership_page_and_keep_rights(app, client, login_as):
    investor = make_user(app, role=Role.INVESTOR)
    login_as(investor)
    page = client.get("/billing/membership").get_data(as_text=True)
    assert NOT_CONFIGURED in page and "member rights are open to every investor" in page
    with app.app_context():
        assert has_membership_rights(db.session.get(Organisation, investor.organisation_id))


def test_broker_waives_the_fee_and_then_publishes(app, client, login_as, submitted):
    owner, need = submitted
    broker = make_user(app, role=Role.BROKER)
    login_as(broker)
    refused = post_form(
        client, f"/broker/needs/{need.id}/publish", {}, page="/broker/needs", follow_redirects=True
    )
    assert "The listing fee of this need is unpaid" in refused.get_data(as_text=True)
    assert stored_need(app, need.id).status == NeedStatus.SUBMITTED
    listed = client.get("/billing/listing-fees").get_data(as_text=True)
    assert f"/billing/needs/{need.id}/waive" in listed
    post_form(client, f"/billing/needs/{need.id}/waive", {"reason": "Municipal pilot, year one"})
    with app.app_context():
        waiver = db.session.scalar(select(Payment).where(Payment.need_id == need.id))
        assert waiver.status == PaymentStatus.WAIVED and waiver.waived_by_id == broker.id
        assert waiver.waive_reason == "Municipal pilot, year one"
        assert waiver.organisation_id == owner.organisation_id
    assert stored_need(app, need.id).fee_status == FeeStatus.WAIVED
    post_form(client, f"/broker/needs/{need.id}/publish", {}, page="/broker/needs")
    assert stored_need(app, need.id).status == NeedStatus.PUBLISHED


def test_a_waiver_shows_in_the_owners_history_with_its_reason(app, client, login_as, submitted):
    owner, need = submitted
    with app.app_context():
        waiver = waive_listing_fee(
            db.session.get(FinancingNeed, need.id),
            "Pilot",
            db.session.merge(make_user(app, role=Role.BROKER)),
        )
        waiver_id = waiver.id
    login_as(owner)
    assert "Waived" in client.get("/billing/").get_data(as_text=True)
    receipt = client.get(f"/billing/payments/{waiver_id}/receipt").get_data(as_text=True)
    assert "Payment record" in receipt and "Pilot" in receipt


def test_a_waiver_needs_a_reason_and_a_broker(app, client, login_as, submitted):
    owner, need = submitted
    login_as(make_user(app, role=Role.ADMIN))
    response = post_form(client, f"/billing/needs/{need.id}/waive", {"reason": "  "})
    assert response.status_code == 200 and "This field is required." in response.get_data(
        as_text=True
    )
    assert stored_need(app, need.id).fee_status == FeeStatus.UNPAID
    owner_client = app.test_client()
    login = post_form(
        owner_client, "/auth/login", {"email": owner.email, "password": "correct-horse-9"}
    )
    assert login.status_code == 302
    assert owner_client.get(f"/billing/needs/{need.id}/waive").status_code == 403


def test_a_paid_fee_also_lets_the_broker_publish(app, client, login_as):
    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.SUBMITTED, fee_status=FeeStatus.PAID)
    login_as(make_user(app, role=Role.BROKER))
    post_form(client, f"/broker/needs/{need.id}/publish", {}, page="/broker/needs")
    assert stored_need(app, need.id).status == NeedStatus.PUBLISHED


def test_without_a_key_no_invoice_is_raised(app, client, login_as):
    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.FINANCED)
    match = make_match(
        app,
        need,
        make_product(app, make_user(app, role=Role.INVESTOR)),
        MatchStatus.CLOSED_WON,
        amount_financed=Decimal("1000000"),
        amount_financed_currency="USD",
    )
    login_as(make_user(app, role=Role.BROKER))
    page = client.get(f"/billing/deals/{match.id}/success-fee").get_data(as_text=True)
    assert NOT_CONFIGURED in page


# ---- Fee schedule -------------------------------------------------------------------------------


def test_default_fees_are_added_once(app):
    with app.app_context():
        assert ensure_default_fees() == 6
        assert ensure_default_fees() == 0
        fee = db.session.scalar(
            select(Fee).where(Fee.kind == FeeKind.LISTING_FEE, Fee.currency == "HKD")
        )
        assert fee.amount == Decimal("3900.00")


def test_admin_sets_a_fee(app, client, login_as):
    admin = make_user(app, role=Role.ADMIN)
    login_as(admin)
    response = post_form(
        client,
        "/billing/admin/fees",
        {"kind": "membership_yearly", "currency": "HKD", "amount": "24000"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Fee saved." in page and "24,000.00" in page
    with app.app_context():
        fee = db.session.scalar(select(Fee))
        assert (fee.kind, fee.currency, fee.amount, fee.updated_by_id) == (
            FeeKind.MEMBERSHIP_YEARLY,
            "HKD",
            Decimal("24000.00"),
            admin.id,
        )


def test_a_fee_must_be_positive(app, client, login_as):
    login_as(make_user(app, role=Role.ADMIN))
    response = post_form(
        client, "/billing/admin/fees", {"kind": "listing_fee", "currency": "USD", "amount": "0"}
    )
    assert "Number must be" in response.get_data(as_text=True)


# ---- History, receipts and oversight ------------------------------------------------------------


def test_users_see_their_own_payments_and_receipts_only(app, client, login_as):
    owner = make_user(app, role=Role.OWNER)
    mine = make_payment(app, owner, receipt_url="https://pay.stripe.com/receipts/mine")
    theirs = make_payment(app, make_user(app, role=Role.OWNER), amount=Decimal("777.00"))
    login_as(owner)
    history = client.get("/billing/").get_data(as_text=True)
    assert f"/billing/payments/{mine.id}/receipt" in history
    assert f"/billing/payments/{theirs.id}/receipt" not in history and "777" not in history
    receipt = client.get(f"/billing/payments/{mine.id}/receipt").get_data(as_text=True)
    assert "Receipt" in receipt and "$500.00" in receipt
    assert "https://pay.stripe.com/receipts/mine" in receipt
    assert client.get(f"/billing/payments/{theirs.id}/receipt").status_code == 403


def test_owner_sees_listing_fees_to_pay(app, client, login_as, submitted):
    owner, need = submitted
    login_as(owner)
    assert f"/billing/needs/{need.id}/listing-fee" in client.get("/billing/").get_data(as_text=True)


def test_admin_filters_every_payment(app, client, login_as):
    alpha = make_org(app, OrgKind.SPONSOR, name="Alpha Solar Ltd")
    make_payment(app, make_user(app, role=Role.OWNER, organisation=alpha))
    member = make_payment(
        app,
        make_user(app, role=Role.INVESTOR),
        purpose=PaymentPurpose.MEMBERSHIP,
        status=PaymentStatus.REFUNDED,
    )
    login_as(make_user(app, role=Role.ADMIN))
    everything = client.get("/billing/admin/payments").get_data(as_text=True)
    assert "Alpha Solar Ltd" in everything and f"/billing/admin/payments/{member.id}" in everything
    by_org = client.get("/billing/admin/payments?organisation=alpha").get_data(as_text=True)
    assert "Alpha Solar Ltd" in by_org and f"/billing/admin/payments/{member.id}" not in by_org
    refunded = client.get("/billing/admin/payments?status=refunded&purpose=membership")
    assert f"/billing/admin/payments/{member.id}" in refunded.get_data(as_text=True)
    assert "Alpha" not in refunded.get_data(as_text=True)


# ---- Member rights ------------------------------------------------------------------------------


@pytest.fixture
def introduced(app):
    """An investor introduced to a need that has a document."""
    owner = make_user(app, role=Role.OWNER)
    investor = make_user(app, role=Role.INVESTOR)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED, fee_status=FeeStatus.PAID)
    make_match(app, need, make_product(app, investor), MatchStatus.INTRODUCED)
    return investor, make_document(app, need, owner)


@pytest.mark.parametrize(
    "configured, membership, expected",
    [
        (False, MembershipStatus.NONE, 200),
        (True, MembershipStatus.NONE, 403),
        (True, MembershipStatus.ACTIVE, 200),
        (True, MembershipStatus.PAST_DUE, 200),
        (True, MembershipStatus.LAPSED, 403),
    ],
)
def test_document_downloads_need_a_membership_when_payments_are_on(
    app, client, login_as, monkeypatch, introduced, configured, membership, expected
):
    investor, document = introduced
    with app.app_context():
        db.session.get(Organisation, investor.organisation_id).membership_status = membership
        db.session.commit()
    if configured:
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_not_called")
    login_as(investor)
    assert client.get(f"/documents/{document.id}").status_code == expected
