"""Saved-search email digests: when they are due, what they hold, and where they go."""

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from flask_babel import force_locale, ngettext

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import AlertFrequency, NeedStatus, Role, SavedSearch, utcnow
from marketplace.services.search import alerts
from tests.factories import make_need, make_saved_search, make_user

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def outbox(app):
    """A function returning the messages written to the outbox since the test began."""
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(folder.glob("*.eml")) if folder.exists() else set()

    def new_messages():
        files = sorted(set(folder.glob("*.eml")) - before, key=lambda path: path.stat().st_mtime)
        return [message_from_bytes(path.read_bytes(), policy=email_policy) for path in files]

    return new_messages


@pytest.fixture
def start():
    """When the saved searches were made: ten days ago, so every moment below is in the past."""
    return utcnow().replace(microsecond=0) - 10 * DAY


@pytest.fixture
def owner(app):
    return make_user(app, role=Role.OWNER)


def publish(app, owner, title, when, **fields):
    fields.setdefault("status", NeedStatus.PUBLISHED)
    return make_need(app, owner, title_en=title, published_at=when, **fields)


def send(app, now):
    """One alert run, then its e-mail jobs (run here: the tests configure no queue)."""
    with app.app_context():
        run = alerts.send_due_alerts(now)
        jobs.dispatch()
        return run


def saved_search(app, search_id) -> SavedSearch:
    with app.app_context():
        return db.session.get(SavedSearch, search_id)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize(
    ("frequency", "elapsed", "due"),
    [
        (AlertFrequency.DAILY, 12 * HOUR, False),
        (AlertFrequency.DAILY, DAY - 2 * HOUR, False),
        (AlertFrequency.DAILY, DAY - 10 * timedelta(minutes=1), True),  # a scheduler runs early
        (AlertFrequency.DAILY, DAY, True),
        (AlertFrequency.WEEKLY, DAY, False),
        (AlertFrequency.WEEKLY, 3 * DAY, False),
        (AlertFrequency.WEEKLY, 7 * DAY, True),
        (AlertFrequency.NEVER, 30 * DAY, False),
    ],
)
def test_when_a_digest_is_due(start, frequency, elapsed, due):
    saved = SavedSearch(frequency=frequency, created_at=start - 5 * DAY, last_sent_at=start)
    assert alerts.is_due(saved, start + elapsed) is due
    first = SavedSearch(frequency=frequency, created_at=start)
    assert alerts.is_due(first, start + elapsed) is due  # the first digest counts from creation


def test_digest_holds_only_new_matching_needs(app, outbox, start, owner):
    investor = make_user(app, role=Role.INVESTOR, display_name="Chen Wei")
    saved = make_saved_search(
        app,
        investor,
        name="Solar, South Asia",
        created_at=start,
        frequency=AlertFrequency.DAILY,
        filters={"sector": ["solar"], "region": ["South Asia"]},
    )
    publish(app, owner, "Old solar park", start - HOUR)
    new = publish(app, owner, "New solar park", start + 2 * HOUR)
    publish(app, owner, "Solar park in Viet Nam", start + 2 * HOUR, country_iso2="VN")
    publish(app, owner, "Wind farm", start + 2 * HOUR, sector="wind", technology="onshore_wind")
    publish(app, owner, "Draft solar park", None, status=NeedStatus.DRAFT)

    assert send(app, start + 12 * HOUR).sent == 0  # not due yet
    run = send(app, start + DAY)
    assert (run.checked, run.due, run.sent, run.needs) == (1, 1, 1, 1)
    [message] = outbox()
    assert message["To"] == investor.email
    assert message["Subject"] == "1 new financing need for “Solar, South Asia”"
    text = body(message)
    assert "Hello Chen Wei," in text and "New solar park" in text
    assert f"http://localhost/needs/{new.id}" in text
    for absent in ("Old solar park", "Viet Nam", "Wind farm", "Draft"):
        assert absent not in text
    assert saved_search(app, saved.id).last_sent_at == start + DAY


def test_a_second_run_sends_nothing_and_the_next_digest_starts_from_the_last(
    app, outbox, start, owner
):
    investor = make_user(app, role=Role.INVESTOR)
    saved = make_saved_search(app, investor, created_at=start, frequency=AlertFrequency.DAILY)
    publish(app, owner, "First solar park", start + HOUR)
    assert send(app, start + DAY).sent == 1
    assert send(app, start + DAY).sent == 0
    assert send(app, start + DAY + 6 * HOUR).sent == 0
    publish(app, owner, "Second solar park", start + DAY + 3 * HOUR)
    assert send(app, start + 2 * DAY).sent == 1
    first, second = outbox()
    assert "First solar park" in body(first)
    assert "Second solar park" in body(second) and "First solar park" not in body(second)
    # a due period with nothing new sends nothing but is covered all the same
    assert send(app, start + 3 * DAY).sent == 0
    assert saved_search(app, saved.id).last_sent_at == start + 3 * DAY


def test_weekly_digests_wait_a_week(app, outbox, start, owner):
    investor = make_user(app, role=Role.INVESTOR)
    make_saved_search(app, investor, created_at=start, frequency=AlertFrequency.WEEKLY)
    for day in range(3):
        publish(app, owner, f"Solar park {day}", start + day * DAY + HOUR)
    assert send(app, start + 3 * DAY).sent == 0
    run = send(app, start + 7 * DAY)
    assert (run.sent, run.needs) == (1, 3)
    assert outbox()[0]["Subject"] == "3 new financing needs for “Solar in South Asia”"


def test_digest_is_written_in_the_users_language(app, outbox, start, owner):
    investor = make_user(app, role=Role.INVESTOR, locale="zh_Hans")
    make_saved_search(
        app, investor, name="南亚光伏", created_at=start, frequency=AlertFrequency.DAILY
    )
    publish(app, owner, "Solar park in Sindh", start + HOUR, title_zh="信德省光伏电站")
    send(app, start + DAY)
    [message] = outbox()
    with app.test_request_context(), force_locale("zh_Hans"):
        expected = ngettext(
            "%(num)d new financing need for “%(name)s”",
            "%(num)d new financing needs for “%(name)s”",
            1,
            name="南亚光伏",
        )
    assert message["Subject"] == expected
    assert "信德省光伏电站" in body(message) and "Solar park in Sindh" not in body(message)


def test_inactive_users_and_searches_without_email_are_skipped(app, outbox, start, owner):
    gone = make_user(app, role=Role.INVESTOR, active=False)
    quiet = make_user(app, role=Role.INVESTOR)
    skipped = make_saved_search(app, gone, created_at=start, frequency=AlertFrequency.DAILY)
    make_saved_search(app, quiet, created_at=start, frequency=AlertFrequency.NEVER)
    make_saved_search(
        app,
        quiet,
        created_at=start,
        target="products",
        filters={"type": ["green_loan"]},
        frequency=AlertFrequency.DAILY,
    )
    publish(app, owner, "Solar park", start + HOUR)
    run = send(app, start + 2 * DAY)
    assert (run.checked, run.skipped, run.sent) == (1, 1, 0)
    assert outbox() == []
    assert saved_search(app, skipped.id).last_sent_at is None


def test_flask_alerts_send_command(app, outbox, start, owner):
    investor = make_user(app, role=Role.INVESTOR)
    make_saved_search(app, investor, created_at=start, frequency=AlertFrequency.DAILY)
    publish(app, owner, "Solar park", start + HOUR)
    runner = app.test_cli_runner()
    server_name, app.config["SERVER_NAME"] = app.config["SERVER_NAME"], None
    try:
        result = runner.invoke(
            args=[
                "alerts",
                "send",
                "--now",
                (start + DAY).isoformat(),
                "--base-url",
                "https://greensilkroad.example",
            ]
        )
    finally:
        app.config["SERVER_NAME"] = server_name
    assert result.exit_code == 0, result.output
    assert "emails sent: 1 (1 new needs)" in result.output
    assert "https://greensilkroad.example/needs/" in body(outbox()[0])
    again = runner.invoke(args=["alerts", "send", "--now", (start + DAY).isoformat()])
    assert "emails sent: 0" in again.output
    bad = runner.invoke(args=["alerts", "send", "--now", "yesterday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_lapsed_investor_membership_stops_alerts(app, monkeypatch):
    """With Stripe configured, an investor without an active membership gets no digest."""
    from datetime import timedelta

    from marketplace.models import MembershipStatus, NeedStatus, Organisation, Role
    from marketplace.services.search.alerts import send_due_alerts
    from tests.factories import make_need, make_saved_search, make_user

    app.config["STRIPE_SECRET_KEY"] = "sk_test_configured"
    try:
        investor = make_user(app, role=Role.INVESTOR)
        make_saved_search(app, investor, frequency="daily")
        owner = make_user(app, role=Role.OWNER)
        make_need(app, owner, status=NeedStatus.PUBLISHED)
        with app.app_context(), app.test_request_context():
            org = db.session.get(Organisation, investor.organisation_id)
            org.membership_status = MembershipStatus.LAPSED
            db.session.commit()
            run = send_due_alerts(utcnow() + timedelta(days=2))
            assert run.sent == 0 and run.skipped == 1
    finally:
        app.config["STRIPE_SECRET_KEY"] = None
