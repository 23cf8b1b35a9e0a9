"""Uploaded documents: PDF, XLSX or DOCX only, checked by content, stored outside static/."""

import hashlib
import io
import uuid
import zipfile
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from marketplace.extensions import db
from marketplace.models import (
    Document,
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchStatus,
    Message,
    Role,
    User,
)
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.deals.access import can_read
from marketplace.services.payments.payments import has_membership_rights

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# An Office Open XML file is a ZIP whose main part sits in this folder.
_OOXML_MAIN_PART = {"xlsx": "xl/", "docx": "word/"}
INTRODUCED_OR_LATER = (
    MatchStatus.INTRODUCED,
    MatchStatus.IN_NEGOTIATION,
    MatchStatus.TERM_SHEET,
    MatchStatus.CLOSED_WON,
    MatchStatus.CLOSED_LOST,
)


def detect_kind(filename: str, content: bytes) -> str:
    """The document kind when extension and content agree; ServiceError otherwise."""
    extension = Path(filename or "").suffix.lower().lstrip(".")
    if extension not in CONTENT_TYPES:
        raise ServiceError(_l("Only PDF, XLSX and DOCX files are accepted."))
    if not content:
        raise ServiceError(_l("The file is empty."))
    if len(content) > MAX_DOCUMENT_BYTES:
        raise ServiceError(
            _l("The file is larger than %(mb)d MB.", mb=MAX_DOCUMENT_BYTES // (1024 * 1024)), 413
        )
    if extension == "pdf" and content.startswith(b"%PDF-"):
        return extension
    if extension in _OOXML_MAIN_PART and _is_ooxml(content, _OOXML_MAIN_PART[extension]):
        return extension
    raise ServiceError(
        _l("The file's content is not a valid %(kind)s document.", kind=extension.upper())
    )


def _is_ooxml(content: bytes, main_part: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and any(name.startswith(main_part) for name in names)


def _safe_display_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip() or "document"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"/|?*')[:200]


def new_document(filename: str, content: bytes, uploaded_by: User, **owner) -> Document:
    """Check an upload, store it under a generated name and add its row (owner: need or message)."""
    kind = detect_kind(filename, content)
    stored = f"{uuid.uuid4().hex}.{kind}"
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    document = Document(
        uploaded_by_id=uploaded_by.id,
        original_name=_safe_display_name(filename),
        stored_name=stored,
        content_type=CONTENT_TYPES[kind],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        **owner,
    )
    db.session.add(document)
    (folder / stored).write_bytes(content)
    return document


@transactional
def attach_to_need(need: FinancingNeed, filename: str, content: bytes, actor: User) -> Document:
    """Validate, store under a generated name, and record the document on the need."""
    document = new_document(filename, content, actor, need_id=need.id)
    try:
        db.session.flush()
        record("document.uploaded", actor=actor, target=document, need_id=need.id)
        db.session.commit()
    except Exception:
        path_of(document).unlink(missing_ok=True)
        raise
    return document


def path_of(document: Document) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / document.stored_name


def can_download(user: User, document: Document) -> bool:
    """The need's owner organisation, brokers and admins, and investors introduced to it."""
    if not user.is_authenticated:
        return False
    if user.role in (Role.BROKER, Role.ADMIN):
        return True
    if document.message_id is not None:
        return _in_conversation_of(user, document.message_id)
    need = db.session.get(FinancingNeed, document.need_id) if document.need_id else None
    if need is None:
        return False
    if need.organisation_id == user.organisation_id:
        return True
    if user.role != Role.INVESTOR:
        return False
    # Downloads are a member right; has_membership_rights lets everyone through without Stripe.
    return _introduced(need.id, user.organisation_id) and has_membership_rights(user.organisation)


def _in_conversation_of(user: User, message_id: int) -> bool:
    """A message attachment is for the people who can read its conversation."""
    message = db.session.get(Message, message_id)
    return message is not None and can_read(message.conversation, user)


def _introduced(need_id: int, organisation_id: int) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                Match.need_id == need_id,
                Match.status.in_(INTRODUCED_OR_LATER),
                Match.product_id == FinanceProduct.id,
                FinanceProduct.organisation_id == organisation_id,
            )
        )
    )


@transactional
def delete_document(document: Document, actor: User) -> None:
    path = path_of(document)
    record("document.deleted", actor=actor, target=document, need_id=document.need_id)
    db.session.delete(document)
    db.session.commit()
    path.unlink(missing_ok=True)
