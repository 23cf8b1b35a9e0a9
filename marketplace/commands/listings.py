"""`flask listings expire`: housekeeping of financing needs."""

import click
from flask.cli import AppGroup

from marketplace.services.listings.listings import expire_needs

listings_cli = AppGroup("listings", help="Housekeeping of financing needs and products.")


@listings_cli.command("expire")
def expire_listings():
    """Expire published needs past their expiry date (run daily from a scheduler)."""
    count = expire_needs()
    click.echo(f"Expired {count} need{'s' if count != 1 else ''}.")
