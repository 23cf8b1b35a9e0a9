"""`flask seed-demo`: load or top up the demo data and the simulated broker history."""

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from marketplace.services.accounts.api_keys import DEMO_API_KEY
from marketplace.services.demo import demo
from marketplace.services.demo.content import DEMO_ACCOUNTS, DEMO_PASSWORD
from marketplace.services.demo.history import seed_history


def _tqdm_progress(items, total, label):
    return tqdm(items, total=total, desc=f"seeding {label}", unit="row", mininterval=0.5)


@click.command("seed-demo")
@click.option("--needs", default=60, show_default=True, help="Financing needs to have in total.")
@click.option("--products", default=30, show_default=True, help="Products to have in total.")
@click.option(
    "--history/--no-history",
    "with_history",
    default=True,
    show_default=True,
    help="Also store suggestions and some broker decisions for the ranker to learn.",
)
@with_appcontext
def seed_demo(needs: int, products: int, with_history: bool) -> None:
    """Load (or top up) the demo data; running it again adds nothing twice."""
    summary = demo.seed(needs=needs, products=products, progress=_tqdm_progress)
    click.echo(
        f"Demo data: {summary['needs_total']} needs (+{summary['needs_added']}), "
        f"{summary['products_total']} products (+{summary['products_added']}); "
        f"+{summary['track_record_deals_added']} track-record deals."
    )
    if with_history:
        history = seed_history(DEMO_ACCOUNTS[2][0], progress=_tqdm_progress)
        click.echo(
            f"Broker history: {history['suggestions']} suggestions stored, "
            f"{history['accepted']} accepted, {history['rejected']} rejected."
        )
    click.echo(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
    for email, role, _name, _org in DEMO_ACCOUNTS:
        click.echo(f"  {role:<9} {email}")
    click.echo(f"Demo API key (read-only, investor@demo.test): {DEMO_API_KEY}")
