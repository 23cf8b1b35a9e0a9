"""`flask users create`: accounts made from the command line (brokers and admins first)."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Hub, Organisation, OrgKind, Role
from marketplace.services import ServiceError
from marketplace.services.accounts import accounts

PLATFORM_ORGANISATION = "Green Silk Road Marketplace"

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--organisation",
    default=PLATFORM_ORGANISATION,
    show_default=True,
    help="Existing organisation name; the platform's broker firm is created if missing.",
)
@click.password_option()
def create_user(email, display_name, role, organisation, password):
    """Create a broker, admin or any other account."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
    if org is None:
        if organisation != PLATFORM_ORGANISATION:
            raise click.ClickException(f"No organisation named {organisation!r}.")
        org = Organisation(
            name=organisation, kind=OrgKind.BROKER_FIRM, hub=Hub.HONG_KONG, country_iso2="HK"
        )
        db.session.add(org)
    try:
        user = accounts.create_staff_user(email, password, display_name, Role(role), org)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Created {user.role.value} {user.email} in {org.name}.")
