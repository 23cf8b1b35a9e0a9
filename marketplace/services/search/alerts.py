"""Saved searches, and the email digests of newly published needs that match them."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from marketplace.extensions import db
from marketplace.jobs import task
from marketplace.links import external_url
from marketplace.mail import send_template
from marketplace.models import AlertFrequency, FinancingNeed, Role, SavedSearch, User, utcnow
from marketplace.services import ServiceError
from marketplace.services.payments.payments import has_membership_rights
from marketplace.services.search import search

# Who may run (and so save) each kind of search.
SEARCH_ROLES = {
    "needs": (Role.INVESTOR, Role.BROKER, Role.ADMIN),
    "products": (Role.OWNER, Role.BROKER, Role.ADMIN),
}
PERIODS = {AlertFrequency.DAILY: timedelta(days=1), AlertFrequency.WEEKLY: timedelta(days=7)}
# A scheduler's runs drift by seconds or minutes; without slack a daily digest would skip a day.
SLACK = timedelta(hours=1)
MAX_SAVED_SEARCHES = 50
DIGEST_ITEMS = 20


@dataclass
class AlertRun:
    """What one run of the alerts (the scheduled job or `flask alerts send`) did."""

    checked: int = 0
    due: int = 0
    sent: int = 0
    needs: int = 0
    skipped: int = 0


def saved_searches_of(user: User) -> list[SavedSearch]:
    return list(
        db.session.scalars(
            select(SavedSearch)
            .where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
        )
    )


def saved_search_of(user: User, search_id: int) -> SavedSearch | None:
    """The user's own saved search, or None (someone else's is as good as missing)."""
    return db.session.scalar(
        select(SavedSearch).where(SavedSearch.id == search_id, SavedSearch.user_id == user.id)
    )


def save_search(
    user: User, name: str, target: str, args: dict, frequency: AlertFrequency
) -> SavedSearch:
    """Keep a search's filters (unknown values dropped) under a name, with its alert schedule."""
    if user.role not in SEARCH_ROLES.get(target, ()):
        raise ServiceError(_l("You cannot save this kind of search."), 403)
    count = db.session.scalar(
        select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id)
    )
    if count >= MAX_SAVED_SEARCHES:
        raise ServiceError(
            _l("You can keep up to %(n)d saved searches; delete one first.", n=MAX_SAVED_SEARCHES),
            409,
        )
    filters = search.parse_filters(args, target, search.geography())
    if target != "needs":
        frequency = AlertFrequency.NEVER  # digests cover new financing needs only
    saved = SavedSearch(
        user_id=user.id,
        name=name.strip(),
        target=target,
        filters=filters.to_params(),
        frequency=frequency,
    )
    db.session.add(saved)
    db.session.commit()
    return saved


def delete_saved_search(saved: SavedSearch) -> None:
    db.session.delete(saved)
    db.session.commit()


def period_start(saved: SavedSearch) -> datetime:
    """Needs published after this time are new to the search's owner."""
    return saved.last_sent_at or saved.created_at


def is_due(saved: SavedSearch, now: datetime) -> bool:
    """Daily every 24 hours, weekly every 7 days, counted from the last digest (or creation)."""
    period = PERIODS.get(saved.frequency)
    return period is not None and now - period_start(saved) >= period - SLACK


def _may_receive_alerts(user) -> bool:
    """Alerts are a membership right for investors (open to all when Stripe is not configured)."""
    return user.role != Role.INVESTOR or has_membership_rights(user.organisation)


def send_due_alerts(now: datetime | None = None) -> AlertRun:
    """Email each due digest that has new matches and mark its period covered, in one commit.

    The e-mails are background jobs of the same commit: a run that fails sends nothing and covers
    no period, and a second run in the same period finds nothing due (it sends nothing twice).
    """
    # A due search with nothing new gets no email, but its period is covered all the same.
    now, run = now or utcnow(), AlertRun()
    geo = search.geography()
    statement = (
        select(SavedSearch)
        .where(SavedSearch.target == "needs", SavedSearch.frequency != AlertFrequency.NEVER)
        .options(joinedload(SavedSearch.user))
        .order_by(SavedSearch.id)
    )
    for saved in db.session.scalars(statement):
        run.checked += 1
        if (
            not saved.user.active
            or saved.user.role not in SEARCH_ROLES["needs"]
            or not _may_receive_alerts(saved.user)
        ):
            run.skipped += 1
        elif is_due(saved, now):
            run.due += 1
            _send_digest(saved, now, geo, run)
            saved.last_sent_at = now
    db.session.commit()
    return run


def _published_between(filters, after: datetime, until: datetime, geo) -> tuple[int, list]:
    """How many matching needs were published in (after, until], and the newest of them."""
    where = [
        *search.need_conditions(filters, geo),
        FinancingNeed.published_at > after,
        FinancingNeed.published_at <= until,
    ]
    total = db.session.scalar(select(func.count()).select_from(FinancingNeed).where(*where))
    newest = db.session.scalars(
        select(FinancingNeed)
        .where(*where)
        .order_by(FinancingNeed.published_at.desc(), FinancingNeed.id.desc())
        .limit(DIGEST_ITEMS)
    )
    return total or 0, list(newest)


def _send_digest(saved: SavedSearch, now: datetime, geo, run: AlertRun) -> None:
    """Ask for one digest when there is something new since the search's period began."""
    since = period_start(saved)
    filters = search.parse_filters(saved.filters, "needs", geo)
    total, needs = _published_between(filters, since, now, geo)
    if not total:
        return
    user = saved.user
    subject = lazy_ngettext(
        "%(num)d new financing need for “%(name)s”",
        "%(num)d new financing needs for “%(name)s”",
        total,
        name=saved.name,
    )
    send_template(
        user.email,
        user.locale,
        subject,
        "alert_digest",
        user=user,
        saved=saved,
        needs=needs,
        total=total,
        since=since,
        search_url=external_url("search.needs", **filters.to_params()),
        saved_url=external_url("search.saved"),
    )
    run.sent += 1
    run.needs += total


@task("alerts.send_due", max_attempts=3)
def send_due_alerts_job() -> dict:
    """The scheduled run: links are built on SITE_URL, outside any web request."""
    with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
        return asdict(send_due_alerts())
