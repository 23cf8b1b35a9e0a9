"""`flask seed-demo`: varied, idempotent demo data and the demo log-ins."""

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import FinanceProduct, FinancingNeed, Organisation, User
from marketplace.reference.sectors import SECTORS
from tests.conftest import post_form

DEMO_LOGINS = ("owner@demo.test", "investor@demo.test", "broker@demo.test", "admin@demo.test")


def test_seed_demo_loads_varied_data_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    for email in DEMO_LOGINS:
        assert email in first.output
    assert "demo-password-1" in first.output
    with app.app_context():
        counts = _counts()
        assert counts["needs"] >= 60 and counts["products"] >= 25
        assert (
            db.session.scalar(select(func.count(func.distinct(FinancingNeed.country_iso2)))) >= 25
        )
        assert set(db.session.scalars(select(FinancingNeed.sector).distinct())) == set(SECTORS)
        assert {"onshore_wind", "offshore_wind", "e_mobility", "rail"} <= set(
            db.session.scalars(select(FinancingNeed.technology).distinct())
        )
        assert {"USD", "CNY", "HKD", "EUR"} <= set(
            db.session.scalars(select(FinancingNeed.currency).distinct())
        )
        chinese_only = db.session.scalar(
            select(func.count()).where(
                FinancingNeed.title_en.is_(None), FinancingNeed.title_zh.is_not(None)
            )
        )
        assert chinese_only > 0
        hubs = set(
            db.session.scalars(select(Organisation.hub).where(Organisation.kind == "investor"))
        )
        assert {"beijing", "hong_kong"} <= {str(h) for h in hubs}
    assert "accepted" in first.output and "rejected" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    with app.app_context():
        assert _counts() == counts


def _counts():
    return {
        "needs": db.session.scalar(select(func.count(FinancingNeed.id))),
        "products": db.session.scalar(select(func.count(FinanceProduct.id))),
        "users": db.session.scalar(select(func.count(User.id))),
    }


def test_seed_demo_scales_up_with_options(app):
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--needs", "150", "--products", "40", "--no-history"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _counts()["needs"] == 150 and _counts()["products"] == 40


def test_demo_logins_work(app):
    app.test_cli_runner().invoke(args=["seed-demo", "--no-history"])
    for email, home in zip(
        DEMO_LOGINS, ("/owner/", "/investor/", "/broker/", "/admin/"), strict=True
    ):
        client = app.test_client()
        response = post_form(client, "/auth/login", {"email": email, "password": "demo-password-1"})
        assert response.headers["Location"].endswith(home)
        assert client.get(home).status_code == 200


def test_demo_needs_carry_impact_estimates(app):
    app.test_cli_runner().invoke(args=["seed-demo", "--no-history"])
    with app.app_context():
        solar = db.session.scalars(
            select(FinancingNeed).where(FinancingNeed.technology == "solar_pv")
        ).all()
        assert all(n.impact_method in ("ifi_grid_factor", "not_available") for n in solar)
        assert any(n.estimated_tco2e_per_year and n.estimated_tco2e_per_year > 0 for n in solar)
        storage = db.session.scalars(
            select(FinancingNeed).where(FinancingNeed.technology == "battery_storage")
        ).all()
        assert all(n.estimated_tco2e_per_year is None for n in storage)


def test_the_printed_demo_api_key_reads_the_demo_investors_suggestions(app, client):
    """`make run` prints the key; the README's example (my listings, then their suggestions)
    works with it at once."""
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    key = output.split("Demo API key (read-only, investor@demo.test): ")[1].split()[0]
    headers = {"Authorization": f"Bearer {key}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["role"] == "investor" and me["key"]["scopes"] == ["read"]
    assert me["listings"]
    answers = [
        client.get(f"/api/v1/products/{listing['id']}/suggestions", headers=headers)
        for listing in me["listings"]
    ]
    assert all(answer.status_code == 200 for answer in answers)
    assert any(answer.get_json()["items"] for answer in answers)
