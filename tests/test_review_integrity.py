"""What a broker checked stays checked: material edits go back to review, rejections stay put."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    FinancingNeed,
    NeedStatus,
    Organisation,
    Role,
    VerificationStatus,
    utcnow,
)
from tests.conftest import post_form
from tests.factories import make_need, make_user

FORM = {
    "title_en": "50 MW solar park",
    "title_zh": "",
    "summary_en": "Utility-scale PV.",
    "summary_zh": "",
    "description": "EPC ready.",
    "country_iso2": "PK",
    "sector": "solar",
    "technology": "solar_pv",
    "taxonomy_activity_ref": "4.1",
    "amount": "40000000",
    "currency": "USD",
    "instruments": ["green_loan"],
    "tenor_years": "12",
    "stage": "financing",
    "capacity": "",
    "capacity_unit": "",
    "owner_capacity_factor": "",
    "owner_tco2e_per_year": "",
}


@pytest.fixture
def owner(app):
    return make_user(app, role=Role.OWNER)


@pytest.fixture
def verified_need(app, owner):
    """A published need whose taxonomy claim a broker verified."""
    broker = make_user(app, role=Role.BROKER)
    return make_need(
        app,
        owner,
        status=NeedStatus.PUBLISHED,
        summary_en="Utility-scale PV.",
        description="EPC ready.",
        taxonomy_activity_ref="4.1",
        instruments=["green_loan"],
        taxonomy_claim_status=VerificationStatus.VERIFIED,
        taxonomy_claim_reason="Checked the PPA",
        taxonomy_claim_decided_by_id=broker.id,
        taxonomy_claim_decided_at=utcnow(),
    )


def edit(app, client, login_as, owner, need, **changes):
    login_as(owner)
    response = post_form(
        client, f"/owner/needs/{need.id}/edit", {**FORM, **changes}, follow_redirects=True
    )
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.get(FinancingNeed, need.id)
        db.session.expunge(stored)
    return stored, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"title_en": "50 MW solar park (phase 1)"},
        {"summary_en": "Utility-scale photovoltaic."},
        {"description": "EPC contract ready for signature."},
        {"stage": "construction"},
    ],
)
def test_a_typo_fix_keeps_the_need_published_and_verified(
    app, client, login_as, owner, verified_need, changes
):
    stored, page = edit(app, client, login_as, owner, verified_need, **changes)
    assert stored.status == NeedStatus.PUBLISHED
    assert stored.taxonomy_claim_status == VerificationStatus.VERIFIED
    assert "Changes saved." in page and "went back to a broker" not in page


@pytest.mark.parametrize(
    "changes, label",
    [
        ({"amount": "400000000"}, "Amount sought"),
        ({"country_iso2": "KZ"}, "Country"),
        ({"instruments": ["green_loan", "green_bond"]}, "Instruments wanted"),
        ({"tenor_years": "20"}, "Tenor (years)"),
        ({"owner_tco2e_per_year": "90000"}, "Your own estimate of tCO2e avoided per year"),
    ],
)
def test_a_material_edit_sends_the_need_back_to_review(
    app, client, login_as, owner, verified_need, changes, label
):
    stored, page = edit(app, client, login_as, owner, verified_need, **changes)
    assert stored.status == NeedStatus.SUBMITTED
    assert "went back to a broker for review" in page and label in page
    # Not a taxonomy field: the claim's verification stands.
    assert stored.taxonomy_claim_status == VerificationStatus.VERIFIED
    assert app.test_client().get(f"/needs/{verified_need.id}").status_code == 404
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "need.back_to_review"))
        assert entry.actor_id == owner.id and entry.data["fields"]


@pytest.mark.parametrize(
    "changes",
    [
        {"technology": "csp", "taxonomy_activity_ref": "4.2"},
        {"taxonomy_activity_ref": ""},
        {"sector": "wind", "technology": "onshore_wind", "taxonomy_activity_ref": "4.3"},
    ],
)
def test_changing_the_taxonomy_fields_drops_the_claim_verification(
    app, client, login_as, owner, verified_need, changes
):
    stored, page = edit(app, client, login_as, owner, verified_need, **changes)
    assert stored.status == NeedStatus.SUBMITTED
    assert stored.taxonomy_claim_status == VerificationStatus.UNVERIFIED
    assert stored.taxonomy_claim_reason is None and stored.taxonomy_claim_decided_by_id is None
    assert "The taxonomy claim must be verified again by a broker." in page


def test_a_draft_keeps_its_status_but_not_a_claim_verification_it_no_longer_matches(
    app, client, login_as, owner
):
    need = make_need(
        app,
        owner,
        taxonomy_activity_ref="4.1",
        instruments=["green_loan"],
        taxonomy_claim_status=VerificationStatus.REJECTED,
        taxonomy_claim_reason="Coal-heavy grid",
    )
    stored, _page = edit(
        app, client, login_as, owner, need, technology="csp", taxonomy_activity_ref="4.2"
    )
    assert stored.status == NeedStatus.DRAFT
    assert stored.taxonomy_claim_status == VerificationStatus.UNVERIFIED


def test_the_edit_page_of_a_published_need_says_what_a_material_edit_does(
    app, client, login_as, owner, verified_need
):
    login_as(owner)
    page = client.get(f"/owner/needs/{verified_need.id}/edit").get_data(as_text=True)
    assert "sends it back to a broker for review" in page
    assert (
        "Amount sought" in page and "Correcting the title, summary or description does not" in page
    )


def test_the_same_amount_written_differently_is_not_a_change(
    app, client, login_as, owner, verified_need
):
    stored, _page = edit(app, client, login_as, owner, verified_need, amount="40000000.00")
    assert stored.status == NeedStatus.PUBLISHED and stored.amount == Decimal("40000000")


# --- a rejected organisation -------------------------------------------------------------------


@pytest.fixture
def rejected_owner(app):
    owner = make_user(app, role=Role.OWNER)
    with app.app_context():
        organisation = db.session.get(Organisation, owner.organisation_id)
        organisation.verification_status = VerificationStatus.REJECTED
        organisation.verification_reason = "Registry entry not found"
        db.session.commit()
    return owner


def status_of(app, org_id) -> VerificationStatus:
    with app.app_context():
        return db.session.get(Organisation, org_id).verification_status


def test_a_rejected_organisation_cannot_set_itself_back_to_pending(
    app, client, login_as, rejected_owner
):
    login_as(rejected_owner)
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert "ask a broker or an administrator to reopen" in profile
    assert 'action="/auth/organisation/verification"' not in profile
    response = post_form(
        client, "/auth/organisation/verification", {}, page="/auth/profile", follow_redirects=True
    )
    assert "Only a broker or an administrator can reopen it." in response.get_data(as_text=True)
    assert status_of(app, rejected_owner.organisation_id) == VerificationStatus.REJECTED


@pytest.mark.parametrize("role", [Role.BROKER, Role.ADMIN])
def test_staff_reopen_a_rejected_organisation_and_it_is_audited(
    app, client, login_as, rejected_owner, role
):
    staff = make_user(app, role=role)
    login_as(staff)
    org_id = rejected_owner.organisation_id
    page = f"/broker/organisations/{org_id}"
    assert "Reopen the verification" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"/broker/organisations/{org_id}/reopen", {}, page=page)
    assert response.status_code == 302
    assert status_of(app, org_id) == VerificationStatus.PENDING
    with app.app_context():
        entry = db.session.scalar(
            select(AuditLog).where(AuditLog.action == "organisation.verification_reopened")
        )
        assert entry.actor_id == staff.id and entry.target_id == str(org_id)


def test_only_a_rejected_verification_can_be_reopened(app, client, login_as, owner):
    login_as(make_user(app, role=Role.BROKER))
    page = f"/broker/organisations/{owner.organisation_id}"
    response = post_form(
        client,
        f"/broker/organisations/{owner.organisation_id}/reopen",
        {},
        page=page,
        follow_redirects=True,
    )
    assert "Only a rejected verification can be reopened." in response.get_data(as_text=True)
    assert status_of(app, owner.organisation_id) == VerificationStatus.UNVERIFIED


def test_the_owner_cannot_use_the_staff_reopen_action(app, client, login_as, rejected_owner):
    login_as(rejected_owner)
    token_page = "/auth/profile"
    response = post_form(
        client,
        f"/broker/organisations/{rejected_owner.organisation_id}/reopen",
        {},
        page=token_page,
    )
    assert response.status_code == 403
    assert status_of(app, rejected_owner.organisation_id) == VerificationStatus.REJECTED
