"""`flask reference load`: the reference tables from marketplace/reference/data."""

import click
from flask.cli import AppGroup

from marketplace.services.reference.tables import load_reference_data

reference_cli = AppGroup("reference", help="Reference data (countries, taxonomy, grid).")


@reference_cli.command("load")
def load_reference():
    """Load or refresh the reference tables from marketplace/reference/data."""
    counts = load_reference_data()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
