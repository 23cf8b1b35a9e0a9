"""Who may see what of a deal: identities, contacts, documents and the conversation.

The one place these rules live (README, "What each party keeps"). Before the introduction the
other party learns nothing that identifies the owner unless the owner shows its name. From the
introduction until the deal ends, the parties share contacts, the need's documents and one
conversation. When the deal ends without financing (declined, closed lost, need withdrawn or
expired) each keeps only the read-only history of the conversation they took part in and the
files their own organisation posted in it. Brokers and admins see everything.
"""

from sqlalchemy import exists, select

from marketplace.extensions import db
from marketplace.models import (
    Conversation,
    ConversationParticipant,
    Document,
    Match,
    MatchEvent,
    MatchStatus,
    NeedStatus,
    Role,
    User,
)

# The parties work together: introduced and not lost (a deal won keeps its partners in touch).
LIVE_DEAL_STATUSES = (
    MatchStatus.INTRODUCED,
    MatchStatus.IN_NEGOTIATION,
    MatchStatus.TERM_SHEET,
    MatchStatus.CLOSED_WON,
)
# A need its owner took off the market, or that lapsed: nothing of it is shared any more.
ENDED_NEED_STATUSES = (NeedStatus.WITHDRAWN, NeedStatus.EXPIRED)


def is_staff(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.BROKER, Role.ADMIN)


def was_introduced(match: Match) -> bool:
    """True once a broker has introduced the parties, whatever happened since."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    MatchEvent.match_id == match.id, MatchEvent.to_status == MatchStatus.INTRODUCED
                )
            )
        )
    )


def deal_is_live(match: Match) -> bool:
    """The parties of an introduced deal still share contacts, documents and messages."""
    return match.status in LIVE_DEAL_STATUSES and match.need.status not in ENDED_NEED_STATUSES


def deal_has_ended(match: Match) -> bool:
    """Introduced once, and no longer live: declined, closed lost, or its need withdrawn."""
    return not deal_is_live(match) and was_introduced(match)


def shows_owner_identity(user: User, match: Match) -> bool:
    """May this user see who the owner of the match's need is (its organisation's name)?"""
    if is_staff(user) or user.organisation_id == match.need.organisation_id:
        return True
    return match.need.show_organisation or was_introduced(match)


def participant(conversation: Conversation, user: User) -> ConversationParticipant | None:
    """The user's membership row in the conversation, if they joined it."""
    return db.session.get(ConversationParticipant, (conversation.id, user.id))


def can_read(conversation: Conversation, user: User) -> bool:
    """Brokers and admins, and the people in the conversation (not their colleagues)."""
    return is_staff(user) or participant(conversation, user) is not None


def can_post(conversation: Conversation, user: User) -> bool:
    """Anyone who may read it, while the deal is live; afterwards the history is read-only."""
    return can_read(conversation, user) and deal_is_live(conversation.match)


def can_download_attachment(conversation: Conversation, document: Document, user: User) -> bool:
    """A message's file: for the conversation's people while the deal is live; afterwards only
    for the people of the organisation that posted it."""
    if is_staff(user):
        return True
    if participant(conversation, user) is None:
        return False
    if deal_is_live(conversation.match):
        return True
    uploader = db.session.get(User, document.uploaded_by_id)
    return uploader is not None and uploader.organisation_id == user.organisation_id
