"""Brokers verify organisations; admins manage users (in the UI and with `flask users create`)."""

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Organisation, OrgKind, Role, User, VerificationStatus
from tests.conftest import post_form
from tests.factories import make_org, make_user


def test_broker_rejects_organisation_with_reason_and_badge_shows(app, client, login_as):
    broker = make_user(app, role=Role.BROKER)
    sponsor = make_org(app, OrgKind.SPONSOR, name="Dubious Power Ltd")
    owner = make_user(app, role=Role.OWNER, organisation=sponsor)
    login_as(broker)
    url = f"/broker/organisations/{sponsor.id}"
    empty = post_form(client, url, {"decision": "rejected", "reason": ""})
    assert "Give a reason for the rejection." in empty.get_data(as_text=True)
    response = post_form(client, url, {"decision": "rejected", "reason": "Registry mismatch"})
    assert response.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, sponsor.id)
        assert org.verification_status == VerificationStatus.REJECTED
        assert org.verification_reason == "Registry mismatch"
        log = db.session.scalar(
            select(AuditLog).where(AuditLog.action == "organisation.verification")
        )
        assert log.actor_id == broker.id and log.data["new"] == "rejected"
    owner_client = app.test_client()
    post_form(owner_client, "/auth/login", {"email": owner.email, "password": "correct-horse-9"})
    assert "Verification rejected" in owner_client.get("/owner/").get_data(as_text=True)


def test_broker_verifies_organisation(app, client, login_as):
    sponsor = make_org(app, OrgKind.SPONSOR)
    login_as(make_user(app, role=Role.BROKER))
    post_form(client, f"/broker/organisations/{sponsor.id}", {"decision": "verified", "reason": ""})
    page = client.get("/broker/organisations?status=verified").get_data(as_text=True)
    assert sponsor.name in page


def test_admin_creates_broker_in_the_ui(app, client, login_as):
    firm = make_org(app, OrgKind.BROKER_FIRM, name="Arrangers Ltd")
    login_as(make_user(app, role=Role.ADMIN))
    response = post_form(
        client,
        "/admin/users/new",
        {
            "display_name": "New Broker",
            "email": "nb@example.com",
            "password": "broker-pass-11",
            "role": "broker",
            "organisation_id": firm.id,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nb@example.com"))
        assert user.role == Role.BROKER and user.organisation_id == firm.id
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.created"))


def test_admin_changes_role_and_it_is_audited(app, client, login_as):
    admin = make_user(app, role=Role.ADMIN)
    target = make_user(app, role=Role.INVESTOR)
    login_as(admin)
    post_form(client, f"/admin/users/{target.id}", {"role": "broker", "active": "y"})
    with app.app_context():
        assert db.session.get(User, target.id).role == Role.BROKER
        log = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.role_changed"))
        assert log.data == {"old": "investor", "new": "broker"} and log.actor_id == admin.id


def test_admin_cannot_demote_themself(app, client, login_as):
    admin = make_user(app, role=Role.ADMIN)
    login_as(admin)
    response = post_form(
        client, f"/admin/users/{admin.id}", {"role": "owner", "active": "y"}, follow_redirects=True
    )
    assert "cannot change your own role" in response.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in(app, client, login_as):
    admin = make_user(app, role=Role.ADMIN)
    target = make_user(app)
    login_as(admin)
    post_form(client, f"/admin/users/{target.id}", {"role": "owner"})
    other = app.test_client()
    response = post_form(
        other, "/auth/login", {"email": target.email, "password": "correct-horse-9"}
    )
    assert response.status_code == 200


def test_cli_users_create(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password",
            "admin-pass-123",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ops@example.com"))
        assert user.role == Role.ADMIN and user.organisation.kind == OrgKind.BROKER_FIRM
    again = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password",
            "admin-pass-123",
        ]
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_owner_asks_for_verification_and_broker_sees_it_pending(app, client, login_as):
    owner = make_user(app, role=Role.OWNER)
    login_as(owner)
    response = post_form(client, "/auth/organisation/verification", {}, page="/auth/profile")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, owner.organisation_id).verification_status == "pending"
    broker = app.test_client()
    post_form(
        broker,
        "/auth/login",
        {"email": make_user(app, role=Role.BROKER).email, "password": "correct-horse-9"},
    )
    page = broker.get("/broker/organisations?status=pending").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organisation, owner.organisation_id).name in page


def test_broker_rejects_a_taxonomy_claim_and_the_badge_shows(app, client, login_as):
    from marketplace.models import FinancingNeed, NeedStatus
    from tests.factories import make_need

    owner = make_user(app, role=Role.OWNER)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED, taxonomy_activity_ref="4.1")
    login_as(make_user(app, role=Role.BROKER))
    url = f"/broker/needs/{need.id}/taxonomy-claim"
    refused = post_form(
        client,
        url,
        {"decision": "rejected", "reason": ""},
        page=f"/needs/{need.id}",
        follow_redirects=True,
    )
    assert "Give a reason for the rejection." in refused.get_data(as_text=True)
    post_form(
        client,
        url,
        {"decision": "rejected", "reason": "Grid connection is coal-heavy"},
        page=f"/needs/{need.id}",
    )
    with app.app_context():
        stored = db.session.get(FinancingNeed, need.id)
        assert stored.taxonomy_claim_status == VerificationStatus.REJECTED
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "need.taxonomy_claim"))
    assert "Claim rejected" in app.test_client().get(f"/needs/{need.id}").get_data(as_text=True)
