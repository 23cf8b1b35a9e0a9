"""`flask alerts send`: the command a scheduler runs to email saved-search digests."""

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.jobs import dispatch
from marketplace.services.search import alerts

alerts_cli = AppGroup("alerts", help="Saved-search email alerts.")


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "use ISO 8601, e.g. 2026-12-01T07:00:00Z", param_hint="--now"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@alerts_cli.command("send")
@click.option("--now", "now_text", help="Act as if it were this UTC time (ISO 8601).")
@click.option(
    "--base-url",
    default=None,
    help="The site's address for links in emails, for this run (default: SITE_URL).",
)
def send(now_text: str | None, base_url: str | None) -> None:
    """Email every due daily or weekly digest of newly published matching needs."""
    now = _parse_now(now_text)
    configured = current_app.config["SITE_URL"]
    current_app.config["SITE_URL"] = base_url or configured
    # Outside a web request, building a path needs a request context (on the configured, trusted
    # address); the links themselves are built on SITE_URL, which --base-url replaces for the run.
    try:
        with current_app.test_request_context(base_url=configured):
            run = alerts.send_due_alerts(now)
            dispatch()  # the digests: sent by the workers, or here when no queue is configured
    finally:
        current_app.config["SITE_URL"] = configured
    click.echo(
        f"Saved searches checked: {run.checked}; due: {run.due}; "
        f"emails sent: {run.sent} ({run.needs} new needs); "
        f"skipped (inactive or not allowed): {run.skipped}."
    )
