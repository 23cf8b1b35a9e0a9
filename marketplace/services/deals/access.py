"""Who takes part in a deal's conversation: the one rule messages and attachments both follow."""

from marketplace.extensions import db
from marketplace.models import Conversation, ConversationParticipant, Role, User


def participant(conversation: Conversation, user: User) -> ConversationParticipant | None:
    """The user's membership row in the conversation, if they joined it."""
    return db.session.get(ConversationParticipant, (conversation.id, user.id))


def can_read(conversation: Conversation, user: User) -> bool:
    """Members of the two organisations, the brokers in it, and admins."""
    if user.role == Role.ADMIN or participant(conversation, user) is not None:
        return True
    match = conversation.match
    return user.role in (Role.OWNER, Role.INVESTOR) and user.organisation_id in (
        match.need.organisation_id,
        match.product.organisation_id,
    )
