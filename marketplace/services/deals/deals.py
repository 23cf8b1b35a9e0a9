"""Introductions and the deal pipeline: introduced → in negotiation → term sheet → closed."""

from datetime import UTC, date
from decimal import Decimal

from flask import url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.i18n import money
from marketplace.links import external_url
from marketplace.mail import send_template
from marketplace.models import (
    Conversation,
    ConversationParticipant,
    FinancingNeed,
    Match,
    MatchStatus,
    NeedStatus,
    Notification,
    Role,
    User,
    utcnow,
)
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.deals import access
from marketplace.services.matching.events import (
    OPEN_DEAL,
    commit_or_conflict,
    lock_match,
    log_event,
)
from marketplace.services.payments.payments import has_membership_rights
from marketplace.services.reference.fx import to_usd
from marketplace.services.track_records.platform import record_closed_deal

PIPELINE = (*OPEN_DEAL, MatchStatus.CLOSED_WON, MatchStatus.CLOSED_LOST)
# A deal may finance somewhat more than was sought (an upsized loan), never this many times more.
MAX_FINANCED_FACTOR = 3
NEXT_STAGE = {
    MatchStatus.INTRODUCED: MatchStatus.IN_NEGOTIATION,
    MatchStatus.IN_NEGOTIATION: MatchStatus.TERM_SHEET,
}


def party_users(match: Match) -> list[User]:
    """Active users of the two organisations, owner side first."""
    org_ids = (match.need.organisation_id, match.product.organisation_id)
    users = db.session.scalars(
        select(User).where(User.organisation_id.in_(org_ids), User.active).order_by(User.id)
    ).all()
    return sorted(users, key=lambda u: u.organisation_id != org_ids[0])


def introduce(match: Match, broker: User) -> Conversation:
    """Open the match's conversation with both parties and the broker in it."""
    log_event(match, broker, MatchStatus.INTRODUCED)
    conversation = Conversation(match_id=match.id)
    db.session.add(conversation)
    db.session.flush()
    people = {user.id for user in party_users(match)} | {broker.id}
    db.session.add_all(
        ConversationParticipant(conversation_id=conversation.id, user_id=user_id)
        for user_id in sorted(people)
    )
    return conversation


def notify_introduction(match: Match) -> None:
    """Tell both parties, in the app and by email, that a broker introduced them."""
    link = url_for("deals.match_detail", match_id=match.id)
    for user in party_users(match):
        db.session.add(
            Notification(
                user_id=user.id, kind="introduced", link=link, params={"match_id": match.id}
            )
        )
        send_template(
            user.email,
            user.locale,
            _l("You have been introduced"),
            "introduced",
            user=user,
            match=match,
            link=external_url("deals.match_detail", match_id=match.id),
        )
    db.session.commit()


@transactional
def respond(match_id: int, user: User, accepted: bool) -> Match:
    """A party accepts or declines the introduction; declining closes the deal as lost."""
    match = lock_match(match_id)
    side = _side_of(match, user)
    if match.status != MatchStatus.INTRODUCED:
        raise ServiceError(_l("You can only answer an introduction that is still open."), 409)
    setattr(match, f"{side}_response", "accepted" if accepted else "declined")
    if not accepted:
        match.lost_reason = str(
            _l(
                "The introduction was declined by the %(side)s.",
                side=_l("project owner") if side == "owner" else _l("investor"),
            )
        )
        log_event(match, user, MatchStatus.CLOSED_LOST, note=match.lost_reason)
    else:
        record("match.introduction_accepted", actor=user, target=match, side=side)
    commit_or_conflict()
    return match


def _side_of(match: Match, user: User) -> str:
    if user.organisation_id == match.need.organisation_id:
        return "owner"
    if user.organisation_id == match.product.organisation_id:
        return "investor"
    raise ServiceError(_l("You are not a party to this deal."), 403)


@transactional
def advance(match_id: int, broker: User, expected_version: int | None = None) -> Match:
    """Move an open deal to its next stage (introduced → in negotiation → term sheet)."""
    match = lock_match(match_id, expected_version)
    target = NEXT_STAGE.get(match.status)
    if target is None:
        raise ServiceError(_l("This deal cannot move to a next stage from here."), 409)
    log_event(match, broker, target)
    need = match.need
    if target == MatchStatus.IN_NEGOTIATION and need.status == NeedStatus.PUBLISHED:
        need.status = NeedStatus.IN_NEGOTIATION
    commit_or_conflict()
    return match


@transactional
def close_won(
    match_id: int,
    broker: User,
    amount: Decimal,
    currency: str,
    instrument: str,
    closed_on: date,
    success_fee_percent: Decimal | None = None,
    expected_version: int | None = None,
) -> Match:
    """Close a deal as won: record what was financed; the need becomes financed."""
    match = _open_deal(match_id, expected_version)
    if amount <= 0:
        raise ServiceError(_l("The amount financed must be greater than zero."))
    _check_closing_date(match, closed_on)
    amount_usd, _rate = to_usd(amount, currency)
    _check_amount_financed(match.need, amount_usd)
    match.amount_financed, match.amount_financed_currency = amount, currency
    match.amount_financed_usd = amount_usd
    match.instrument_financed, match.closed_on = instrument, closed_on
    match.success_fee_percent = success_fee_percent
    log_event(match, broker, MatchStatus.CLOSED_WON, amount=str(amount), currency=currency)
    record_closed_deal(match, broker)  # the investor's track record gains the deal
    need: FinancingNeed = match.need
    if need.status in (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION):
        need.status = NeedStatus.FINANCED
    commit_or_conflict()
    return match


def _check_closing_date(match: Match, closed_on: date) -> None:
    """Between the day the match was made and today (UTC), both included."""
    made_on = match.created_at.astimezone(UTC).date()
    if closed_on < made_on:
        raise ServiceError(
            _l(
                "The closing date cannot be before the match was made (%(date)s).",
                date=format_date(made_on),
            )
        )
    if closed_on > utcnow().date():
        raise ServiceError(_l("The closing date cannot be in the future."))


def _check_amount_financed(need: FinancingNeed, amount_usd: Decimal) -> None:
    """Refuse a figure out of all proportion to what was sought (a slip of a zero or three)."""
    if amount_usd > need.amount_usd * MAX_FINANCED_FACTOR:
        raise ServiceError(
            _l(
                "The amount financed is more than %(factor)d times the amount the need sought "
                "(%(sought)s). Check the amount and its currency.",
                factor=MAX_FINANCED_FACTOR,
                sought=money(need.amount, need.currency),
            )
        )


@transactional
def close_lost(
    match_id: int, broker: User, reason: str, expected_version: int | None = None
) -> Match:
    """Close a deal as lost, with the reason."""
    match = _open_deal(match_id, expected_version)
    if not reason.strip():
        raise ServiceError(_l("Say why the deal was lost."))
    match.lost_reason = reason.strip()
    log_event(match, broker, MatchStatus.CLOSED_LOST, note=reason.strip())
    commit_or_conflict()
    return match


def _open_deal(match_id: int, expected_version: int | None) -> Match:
    match = lock_match(match_id, expected_version)
    if match.status not in OPEN_DEAL:
        raise ServiceError(_l("Only a deal whose parties were introduced can be closed."), 409)
    return match


def amount_still_needed_usd(need: FinancingNeed) -> Decimal:
    """What co-financiers could still cover after the deals closed won."""
    financed = sum(
        (m.amount_financed_usd or Decimal(0))
        for m in db.session.scalars(
            select(Match).where(Match.need_id == need.id, Match.status == MatchStatus.CLOSED_WON)
        )
    )
    return max(need.amount_usd - financed, Decimal(0))


def can_see_deal(user: User, match: Match) -> bool:
    if user.role in (Role.BROKER, Role.ADMIN):
        return True
    return user.organisation_id in (match.need.organisation_id, match.product.organisation_id)


def side_of(user: User, match: Match) -> str | None:
    """'owner' or 'investor' for a party to the match, None for anyone else."""
    if user.organisation_id == match.need.organisation_id:
        return "owner"
    if user.organisation_id == match.product.organisation_id:
        return "investor"
    return None


INTRODUCED_STAGES = (*OPEN_DEAL, MatchStatus.CLOSED_WON, MatchStatus.CLOSED_LOST)


def contacts_for(user: User, match: Match) -> list[User] | None:
    """The other side's people while the introduced deal is live (staff: both sides, once
    introduced); None otherwise."""
    side = side_of(user, match)
    if access.is_staff(user):
        side = None
        if not access.was_introduced(match):
            return None
    elif side is None or not access.deal_is_live(match):
        return None
    if side == "investor" and not _membership_rights(user):
        return None
    org_ids = {
        "owner": [match.product.organisation_id],
        "investor": [match.need.organisation_id],
        None: [match.need.organisation_id, match.product.organisation_id],
    }[side]
    return list(
        db.session.scalars(
            select(User).where(User.organisation_id.in_(org_ids), User.active).order_by(User.id)
        )
    )


def _membership_rights(user: User) -> bool:
    return has_membership_rights(user.organisation)


def pipeline_board() -> list[dict]:
    """For each deal stage: how many deals and their total in USD (need amount, or financed)."""
    amount = func.coalesce(Match.amount_financed_usd, FinancingNeed.amount_usd)
    rows = dict(
        (status, (count, total))
        for status, count, total in db.session.execute(
            select(Match.status, func.count(Match.id), func.coalesce(func.sum(amount), 0))
            .join(Match.need)
            .where(Match.status.in_(PIPELINE))
            .group_by(Match.status)
        )
    )
    return [
        {
            "status": status,
            "count": rows.get(status, (0, 0))[0],
            "usd": Decimal(rows.get(status, (0, 0))[1]),
        }
        for status in PIPELINE
    ]


def deals_in(status: MatchStatus, limit: int = 100) -> list[Match]:
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.status == status)
            .order_by(Match.updated_at.desc())
            .limit(limit)
        )
    )
