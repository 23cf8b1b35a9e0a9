"""Command-line tasks: seed-demo, users, reference, alerts and ranker."""
import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from tqdm import tqdm

from marketplace.alerts_cli import alerts_cli
from marketplace.extensions import db
from marketplace.models import Hub, Organisation, OrgKind, Role
from marketplace.ranker_cli import ranker_cli
from marketplace.services import ServiceError, accounts, demo
from marketplace.services.demo_content import DEMO_ACCOUNTS, DEMO_PASSWORD
from marketplace.services.demo_history import seed_history
from marketplace.services.reference import load_reference_data

PLATFORM_ORGANISATION = "Green Silk Road Marketplace"


def _tqdm_progress(items, total, label):
    return tqdm(items, total=total, desc=f"seeding {label}", unit="row", mininterval=0.5)


@click.command("seed-demo")
@click.option("--needs", default=60, show_default=True, help="Financing needs to have in total.")
@click.option("--products", default=30, show_default=True, help="Products to have in total.")
@click.option("--history/--no-history", "with_history", default=True, show_default=True,
              help="Also store suggestions and some broker decisions for the ranker to learn.")
@with_appcontext
def seed_demo(needs: int, products: int, with_history: bool) -> None:
    """Load (or top up) the demo data; running it again adds nothing twice."""
    summary = demo.seed(needs=needs, products=products, progress=_tqdm_progress)
    click.echo(f"Demo data: {summary['needs_total']} needs (+{summary['needs_added']}), "
               f"{summary['products_total']} products (+{summary['products_added']}).")
    if with_history:
        history = seed_history(DEMO_ACCOUNTS[2][0])
        click.echo(f"Broker history: {history['suggestions']} suggestions stored, "
                   f"{history['accepted']} accepted, {history['rejected']} rejected.")
    click.echo(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
    for email, role, _name, _org in DEMO_ACCOUNTS:
        click.echo(f"  {role:<9} {email}")


users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--organisation", default=PLATFORM_ORGANISATION, show_default=True,
              help="Existing organisation name; the platform's broker firm is created if missing.")
@click.password_option()
def create_user(email, display_name, role, organisation, password):
    """Create a broker, admin or any other account."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
    if org is None:
        if organisation != PLATFORM_ORGANISATION:
            raise click.ClickException(f"No organisation named {organisation!r}.")
        org = Organisation(name=organisation, kind=OrgKind.BROKER_FIRM, hub=Hub.HONG_KONG,
                           country_iso2="HK")
        db.session.add(org)
    try:
        user = accounts.create_staff_user(email, password, display_name, Role(role), org)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Created {user.role.value} {user.email} in {org.name}.")


reference_cli = AppGroup("reference", help="Reference data (countries, taxonomy, grid).")


@reference_cli.command("load")
def load_reference():
    """Load or refresh the reference tables from marketplace/reference/data."""
    counts = load_reference_data()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


listings_cli = AppGroup("listings", help="Housekeeping of financing needs and products.")


@listings_cli.command("expire")
def expire_listings():
    """Expire published needs past their expiry date (run daily from a scheduler)."""
    from marketplace.services.listings import expire_needs

    count = expire_needs()
    click.echo(f"Expired {count} need{'s' if count != 1 else ''}.")


def register(app: Flask) -> None:
    for command in (seed_demo, users_cli, reference_cli, listings_cli, alerts_cli, ranker_cli):
        app.cli.add_command(command)
