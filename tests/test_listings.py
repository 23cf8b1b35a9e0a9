"""Financing needs and products: forms, workflow, ownership, documents, FX and impact."""

import io
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    FxRate,
    Match,
    MatchStatus,
    NeedStatus,
    ProductStatus,
    Role,
)
from tests.conftest import post_form
from tests.factories import (
    make_document,
    make_fx_rate,
    make_need,
    make_product,
    make_user,
    pdf_bytes,
)

NEED_FORM = {
    "title_en": "120 MW solar park in Sindh",
    "title_zh": "信德省120兆瓦光伏电站",
    "summary_en": "Utility-scale PV with a 20-year PPA.",
    "summary_zh": "",
    "description": "EPC ready.",
    "country_iso2": "PK",
    "sector": "solar",
    "technology": "solar_pv",
    "taxonomy_activity_ref": "4.1",
    "amount": "500000000",
    "currency": "CNY",
    "instruments": ["green_loan", "green_bond"],
    "tenor_years": "15",
    "stage": "financing",
    "capacity": "120",
    "capacity_unit": "MW",
    "owner_capacity_factor": "",
    "owner_tco2e_per_year": "",
}

PRODUCT_FORM = {
    "name_en": "Belt and Road solar loan",
    "name_zh": "",
    "description": "Senior debt.",
    "product_type": "green_loan",
    "currency": "USD",
    "ticket_min": "10000000",
    "ticket_max": "150000000",
    "tenor_min_years": "5",
    "tenor_max_years": "18",
    "countries": ["PK", "KZ"],
    "regions": ["South Asia"],
    "sectors": ["solar", "wind"],
    "instruments": ["green_loan"],
    "stages": ["financing", "construction"],
    "taxonomy_requirements": ["icma_gbp_aligned"],
    "min_tco2e_per_year": "10000",
    "pricing_indication": "SOFR + 200 bp",
}


@pytest.fixture
def owner(app):
    return make_user(app, role=Role.OWNER)


def _need_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(FinancingNeed.id)))


def test_owner_creates_need_with_usd_equivalent_and_impact(app, client, login_as, owner):
    make_fx_rate(app, "CNY", "0.14")
    login_as(owner)
    response = post_form(client, "/owner/needs/new", NEED_FORM)
    assert response.status_code == 302
    with app.app_context():
        need = db.session.scalar(select(FinancingNeed))
        assert need.status == NeedStatus.DRAFT and need.organisation_id == owner.organisation_id
        assert need.amount == Decimal("500000000.00") and need.amount_usd == Decimal("70000000.00")
        assert need.instruments == ["green_loan", "green_bond"]
        # 120 MW × 8760 h × IRENA 2021 solar PV 17% × Pakistan intermittent CM 0.515 t/MWh
        # = 178,704 MWh × 0.515 = 92,032.56 -> 92,033 tCO2e
        assert need.impact_method == "ifi_grid_factor"
        assert need.estimated_tco2e_per_year == Decimal("92033")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "rate of" in page and "92,033" in page and "IRENA" in page
    assert "Renewable energy" in page and "Clean energy industry" in page


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title_en": "", "title_zh": ""}, "Give a title in English, in Chinese, or both."),
        ({"technology": "onshore_wind"}, "does not belong to the chosen sector"),
        ({"country_iso2": "IT"}, "has left the Belt and Road Initiative"),
        ({"country_iso2": "US"}, "Not a valid choice"),
        ({"amount": "-5"}, "Number must be"),
        ({"amount": "lots"}, "Not a valid decimal value"),
        ({"currency": "XAU"}, "Not a valid choice"),
        ({"instruments": []}, "Choose at least one instrument."),
        ({"tenor_years": "99"}, "Number must be"),
        ({"taxonomy_activity_ref": "7.1"}, "does not fit the technology"),
        ({"capacity_unit": ""}, "Choose the unit of the capacity."),
    ],
)
def test_bad_need_input_is_refused_with_a_message(app, client, login_as, owner, change, message):
    login_as(owner)
    response = post_form(client, "/owner/needs/new", {**NEED_FORM, "currency": "USD", **change})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _need_count(app) == 0


def test_missing_fx_rate_is_a_message_not_a_half_written_need(app, client, login_as, owner):
    login_as(owner)
    response = post_form(client, "/owner/needs/new", {**NEED_FORM, "currency": "EUR"})
    assert "no exchange rate for EUR" in response.get_data(as_text=True)
    assert _need_count(app) == 0


def test_workflow_submit_publish_withdraw(app, client, login_as, owner):
    need = make_need(app, owner)
    login_as(owner)
    anonymous = app.test_client()
    assert anonymous.get(f"/needs/{need.id}").status_code == 404
    post_form(client, f"/owner/needs/{need.id}/submit", {}, page=f"/needs/{need.id}")
    broker_client = app.test_client()
    post_form(
        broker_client,
        "/auth/login",
        {"email": make_user(app, role=Role.BROKER).email, "password": "correct-horse-9"},
    )
    # Payments are not configured in tests, so the broker waives the listing fee first.
    post_form(broker_client, f"/billing/needs/{need.id}/waive", {"reason": "Pilot programme"})
    response = post_form(
        broker_client, f"/broker/needs/{need.id}/publish", {}, page="/broker/needs"
    )
    assert response.status_code == 302
    assert anonymous.get(f"/needs/{need.id}").status_code == 200
    again = post_form(
        broker_client,
        f"/broker/needs/{need.id}/publish",
        {},
        page="/broker/needs",
        follow_redirects=True,
    )
    assert "cannot be" in again.get_data(as_text=True)
    post_form(client, f"/owner/needs/{need.id}/withdraw", {}, page=f"/needs/{need.id}")
    with app.app_context():
        assert db.session.get(FinancingNeed, need.id).status == NeedStatus.WITHDRAWN
    assert anonymous.get(f"/needs/{need.id}").status_code == 404


def test_owner_cannot_submit_twice(app, client, login_as, owner):
    need = make_need(app, owner, status=NeedStatus.SUBMITTED)
    login_as(owner)
    response = post_form(
        client,
        f"/owner/needs/{need.id}/submit",
        {},
        page=f"/needs/{need.id}",
        follow_redirects=True,
    )
    assert "This need is Submitted, so it cannot be Submitted." in response.get_data(as_text=True)


def test_another_owner_cannot_touch_the_need(app, client, login_as, owner):
    need = make_need(app, owner)
    login_as(make_user(app, role=Role.OWNER))
    assert client.get(f"/owner/needs/{need.id}/edit").status_code == 403
    assert client.get(f"/needs/{need.id}").status_code == 404
    response = post_form(client, f"/owner/needs/{need.id}/edit", NEED_FORM, page="/owner/needs/new")
    assert response.status_code == 403
    assert (
        post_form(
            client, f"/owner/needs/{need.id}/withdraw", {}, page="/owner/needs/new"
        ).status_code
        == 403
    )
    with app.app_context():
        assert db.session.get(FinancingNeed, need.id).status == NeedStatus.DRAFT


def test_owner_edits_need_and_estimate_follows(app, client, login_as, owner):
    need = make_need(app, owner, capacity=Decimal("10"), capacity_unit="MW")
    login_as(owner)
    form = {**NEED_FORM, "currency": "USD", "owner_tco2e_per_year": "12345"}
    post_form(client, f"/owner/needs/{need.id}/edit", form)
    with app.app_context():
        stored = db.session.get(FinancingNeed, need.id)
        assert stored.estimated_tco2e_per_year == Decimal("12345")
        assert stored.impact_method == "owner_figure" and stored.version_id == 2


def test_public_page_hides_organisation_and_documents(app, owner):
    need = make_need(app, owner, status=NeedStatus.PUBLISHED, show_organisation=False)
    make_document(app, need, owner)
    page = app.test_client().get(f"/needs/{need.id}").get_data(as_text=True)
    with app.app_context():
        from marketplace.models import Organisation

        name = db.session.get(Organisation, owner.organisation_id).name
    assert name not in page and "feasibility.pdf" not in page and owner.email not in page


def test_storage_need_says_impact_not_available(app, client, login_as, owner):
    login_as(owner)
    post_form(
        client,
        "/owner/needs/new",
        {
            **NEED_FORM,
            "currency": "USD",
            "sector": "storage",
            "technology": "battery_storage",
            "taxonomy_activity_ref": "4.10",
        },
    )
    with app.app_context():
        need = db.session.scalar(select(FinancingNeed))
        assert need.estimated_tco2e_per_year is None and need.impact_method == "not_available"
    assert "Not available" in client.get(f"/needs/{need.id}").get_data(as_text=True)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, content, ok",
    [
        ("plan.pdf", pdf_bytes(), True),
        ("model.docx", _docx(), True),
        ("virus.pdf", b"MZ\x90\x00 not a pdf", False),
        ("model.xlsx", _docx(), False),
        ("notes.txt", b"plain text", False),
    ],
)
def test_document_upload_checks_content(app, client, login_as, owner, name, content, ok):
    need = make_need(app, owner)
    login_as(owner)
    response = post_form(
        client,
        f"/owner/needs/{need.id}/documents",
        {"document": (io.BytesIO(content), name)},
        page=f"/needs/{need.id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert ("Document uploaded." in text) is ok
    with app.app_context():
        assert len(db.session.get(FinancingNeed, need.id).documents) == (1 if ok else 0)


def test_oversized_upload_is_refused(app, client, login_as, owner):
    need = make_need(app, owner)
    login_as(owner)
    big = b"%PDF-" + b"0" * (11 * 1024 * 1024)
    response = post_form(
        client,
        f"/owner/needs/{need.id}/documents",
        {"document": (io.BytesIO(big), "big.pdf")},
        page=f"/needs/{need.id}",
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_document_download_rules(app, owner):
    need = make_need(app, owner, status=NeedStatus.PUBLISHED)
    document = make_document(app, need, owner)
    investor = make_user(app, role=Role.INVESTOR)
    product = make_product(app, investor)
    url = f"/documents/{document.id}"
    browser = app.test_client()
    post_form(browser, "/auth/login", {"email": investor.email, "password": "correct-horse-9"})
    assert browser.get(url).status_code == 403
    with app.app_context():
        db.session.add(Match(need_id=need.id, product_id=product.id, status=MatchStatus.INTRODUCED))
        db.session.commit()
    response = browser.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert app.test_client().get(url).status_code == 302


def test_investor_creates_and_runs_product(app, client, login_as):
    investor = make_user(app, role=Role.INVESTOR)
    login_as(investor)
    response = post_form(client, "/investor/products/new", PRODUCT_FORM)
    assert response.status_code == 302
    with app.app_context():
        product = db.session.scalar(select(FinanceProduct))
        assert product.status == ProductStatus.DRAFT and product.countries == ["PK", "KZ"]
        assert product.ticket_max_usd == Decimal("150000000.00")
    for action, status in (("activate", "active"), ("pause", "paused"), ("close", "closed")):
        post_form(
            client, f"/investor/products/{product.id}/{action}", {}, page=f"/products/{product.id}"
        )
        with app.app_context():
            assert db.session.get(FinanceProduct, product.id).status == status
    again = post_form(
        client,
        f"/investor/products/{product.id}/activate",
        {},
        page=f"/products/{product.id}",
        follow_redirects=True,
    )
    assert "cannot be" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"ticket_min": "200000000"}, "The largest ticket must not be below the smallest."),
        ({"tenor_min_years": "20"}, "The longest tenor must not be below the shortest."),
        ({"countries": [], "regions": []}, "Choose countries, whole regions, or both."),
        ({"sectors": []}, "Choose at least one sector."),
        ({"regions": ["Atlantis"]}, "not a valid choice"),
    ],
)
def test_bad_product_input_is_refused(app, client, login_as, change, message):
    login_as(make_user(app, role=Role.INVESTOR))
    response = post_form(client, "/investor/products/new", {**PRODUCT_FORM, **change})
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(FinanceProduct.id))) == 0


def test_another_investor_cannot_edit_product(app, client, login_as):
    product = make_product(app, make_user(app, role=Role.INVESTOR))
    login_as(make_user(app, role=Role.INVESTOR))
    assert client.get(f"/investor/products/{product.id}/edit").status_code == 403
    assert (
        post_form(
            client, f"/investor/products/{product.id}/close", {}, page="/investor/"
        ).status_code
        == 403
    )


def test_admin_fx_rate_is_used_by_new_needs(app, client, login_as, owner):
    admin = make_user(app, role=Role.ADMIN)
    login_as(admin)
    response = post_form(
        client,
        "/admin/fx",
        {
            "currency": "EUR",
            "usd_per_unit": "1.1",
            "as_of": "2026-11-20",
            "source": "ECB reference",
        },
    )
    assert response.status_code == 302
    owner_client = app.test_client()
    post_form(owner_client, "/auth/login", {"email": owner.email, "password": "correct-horse-9"})
    post_form(owner_client, "/owner/needs/new", {**NEED_FORM, "currency": "EUR", "amount": "1000"})
    with app.app_context():
        assert db.session.scalar(select(FinancingNeed.amount_usd)) == Decimal("1100.00")


def test_an_fx_rate_dated_in_the_future_is_refused(app, client, login_as):
    """The newest rate wins, so a far-future date would override every real rate after it."""
    login_as(make_user(app, role=Role.ADMIN))
    with app.app_context():
        before = db.session.scalar(select(func.count(FxRate.id)))
    ahead = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    form = {"currency": "EUR", "usd_per_unit": "1.1", "as_of": ahead, "source": "typo"}
    response = post_form(client, "/admin/fx", form, follow_redirects=True)
    assert "The rate date cannot be in the future." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(FxRate.id))) == before


def test_visitors_browse_published_needs_with_facets(app, owner):
    make_need(
        app,
        owner,
        status=NeedStatus.PUBLISHED,
        title_en="Visible solar park",
        show_organisation=False,
    )
    make_need(app, owner, status=NeedStatus.DRAFT, title_en="Secret draft")
    page = app.test_client().get("/needs?sector=solar").get_data(as_text=True)
    assert "Visible solar park" in page and "Secret draft" not in page
    with app.app_context():
        from marketplace.models import Organisation

        assert db.session.get(Organisation, owner.organisation_id).name not in page
    assert "Save this search" not in page


def test_published_needs_expire_after_their_lifetime(app, owner):
    from datetime import timedelta

    from marketplace.models import utcnow

    old = make_need(
        app, owner, status=NeedStatus.PUBLISHED, expires_at=utcnow() - timedelta(days=1)
    )
    fresh = make_need(
        app, owner, status=NeedStatus.PUBLISHED, expires_at=utcnow() + timedelta(days=30)
    )
    result = app.test_cli_runner().invoke(args=["listings", "expire"])
    assert result.exit_code == 0 and "1 need" in result.output
    with app.app_context():
        assert db.session.get(FinancingNeed, old.id).status == NeedStatus.EXPIRED
        assert db.session.get(FinancingNeed, fresh.id).status == NeedStatus.PUBLISHED
