"""Messages between the parties of an introduced match, with unread counts and email notices."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from marketplace.extensions import db
from marketplace.links import external_url
from marketplace.mail import send_template
from marketplace.models import (
    Conversation,
    ConversationParticipant,
    Match,
    Message,
    Role,
    User,
    utcnow,
)
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.deals.access import (
    can_download_attachment,
    can_post,
    can_read,
    participant,
)
from marketplace.services.deals.documents import new_document

MAX_MESSAGE = 5000


@transactional
def post(
    conversation: Conversation, sender: User, body: str, attachment: tuple[str, bytes] | None = None
) -> Message:
    """Add a message (and optionally a document) and notify the other participants by email."""
    if not can_post(conversation, sender):
        raise ServiceError(
            _l("This deal has ended: its conversation is kept for reading only."), 409
        )
    body = (body or "").strip()
    if not body and not attachment:
        raise ServiceError(_l("Write a message or attach a document."))
    if len(body) > MAX_MESSAGE:
        raise ServiceError(_l("A message can be at most %(n)d characters.", n=MAX_MESSAGE))
    _join(conversation, sender)
    message = Message(conversation_id=conversation.id, sender_id=sender.id, body=body)
    db.session.add(message)
    db.session.flush()
    if attachment:
        _attach(message, sender, *attachment)
    participant(conversation, sender).last_read_at = message.created_at
    record("message.posted", actor=sender, target=message, conversation_id=conversation.id)
    _notify(conversation, sender)
    db.session.commit()
    return message


def _join(conversation: Conversation, user: User) -> None:
    if participant(conversation, user) is None:
        db.session.add(ConversationParticipant(conversation_id=conversation.id, user_id=user.id))
        db.session.flush()


def _attach(message: Message, sender: User, filename: str, content: bytes) -> None:
    new_document(filename, content, sender, message_id=message.id)


def _notify(conversation: Conversation, sender: User) -> None:
    link = external_url("deals.conversation", conversation_id=conversation.id)
    for member in conversation.participants:
        user = member.user
        if user.id != sender.id and user.active:
            send_template(
                user.email,
                user.locale,
                _l("New message on Green Silk Road"),
                "new_message",
                user=user,
                sender=sender,
                link=link,
            )


def readable_conversation(match: Match, user: User) -> Conversation | None:
    """The match's conversation, when there is one and the user may read it."""
    conversation = db.session.scalar(select(Conversation).where(Conversation.match_id == match.id))
    return conversation if conversation and can_read(conversation, user) else None


def downloadable_attachments(conversation: Conversation, user: User) -> set[int]:
    """The ids of the conversation's files this user may download."""
    return {
        document.id
        for message in conversation.messages
        for document in message.attachments
        if can_download_attachment(conversation, document, user)
    }


def mark_read(conversation: Conversation, user: User) -> None:
    member = participant(conversation, user)
    if member is not None:
        member.last_read_at = utcnow()
        db.session.commit()


def unread_counts(user: User) -> dict[int, int]:
    """Unread messages from others, per conversation the user takes part in."""
    rows = db.session.execute(
        select(Message.conversation_id, func.count(Message.id))
        .join(
            ConversationParticipant,
            and_(
                ConversationParticipant.conversation_id == Message.conversation_id,
                ConversationParticipant.user_id == user.id,
            ),
        )
        .where(
            Message.sender_id != user.id,
            or_(
                ConversationParticipant.last_read_at.is_(None),
                Message.created_at > ConversationParticipant.last_read_at,
            ),
        )
        .group_by(Message.conversation_id)
    )
    return dict(rows.all())


def conversations_for(user: User) -> list[Conversation]:
    query = select(Conversation).order_by(Conversation.created_at.desc())
    if user.role != Role.ADMIN:
        query = query.join(ConversationParticipant).where(
            ConversationParticipant.user_id == user.id
        )
    return list(db.session.scalars(query))
