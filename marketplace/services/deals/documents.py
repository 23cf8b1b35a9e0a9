"""Uploaded documents: PDF, XLSX or DOCX only, checked by content, stored outside static/."""

import hashlib
import io
import uuid
import zipfile
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from pypdf import PdfReader
from sqlalchemy import exists, select

from marketplace.extensions import db
from marketplace.models import Document, FinanceProduct, FinancingNeed, Match, Message, Role, User
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.deals import access
from marketplace.services.payments.payments import has_membership_rights

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# An Office Open XML file is a ZIP whose main part sits in this folder.
_OOXML_MAIN_PART = {"xlsx": "xl/", "docx": "word/"}


def max_upload_mb() -> int:
    """The largest file accepted, in MB (MAX_UPLOAD_MB; the request may be a little larger)."""
    return current_app.config["MAX_UPLOAD_MB"]


def detect_kind(filename: str, content: bytes) -> str:
    """The document kind when extension and content agree; ServiceError otherwise."""
    extension = Path(filename or "").suffix.lower().lstrip(".")
    if extension not in CONTENT_TYPES:
        raise ServiceError(_l("Only PDF, XLSX and DOCX files are accepted."))
    if not content:
        raise ServiceError(_l("The file is empty."))
    if len(content) > max_upload_mb() * 1024 * 1024:
        raise ServiceError(_l("The file is larger than %(mb)d MB.", mb=max_upload_mb()), 413)
    if extension == "pdf":
        _check_pdf(content)
        return extension
    if extension in _OOXML_MAIN_PART and _is_ooxml(content, _OOXML_MAIN_PART[extension]):
        return extension
    raise ServiceError(
        _l("The file's content is not a valid %(kind)s document.", kind=extension.upper())
    )


def _check_pdf(content: bytes) -> None:
    """A PDF that a reader can open: it parses, has pages, and needs no password."""
    if not content.startswith(b"%PDF-"):
        raise ServiceError(_l("The file's content is not a valid %(kind)s document.", kind="PDF"))
    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except Exception:  # a hostile file can make the parser fail in any way
        raise ServiceError(
            _l("The PDF is damaged and cannot be opened. Save or export it again and upload it.")
        ) from None
    if encrypted:
        raise ServiceError(
            _l("The PDF is protected by a password. Upload a copy without the protection.")
        )
    if not pages:
        raise ServiceError(_l("The PDF has no pages."))


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
    """The need's owner organisation, brokers and admins, and investors in a live deal on it;
    a message's file by the rules of its conversation (access.can_download_attachment)."""
    if not user.is_authenticated:
        return False
    if access.is_staff(user):
        return True
    if document.message_id is not None:
        message = db.session.get(Message, document.message_id)
        return message is not None and access.can_download_attachment(
            message.conversation, document, user
        )
    need = db.session.get(FinancingNeed, document.need_id) if document.need_id else None
    if need is None:
        return False
    if need.organisation_id == user.organisation_id:
        return True
    if user.role != Role.INVESTOR or need.status in access.ENDED_NEED_STATUSES:
        return False
    # Downloads are a member right; has_membership_rights lets everyone through without Stripe.
    return _in_live_deal(need.id, user.organisation_id) and has_membership_rights(user.organisation)


def _in_live_deal(need_id: int, organisation_id: int) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                Match.need_id == need_id,
                Match.status.in_(access.LIVE_DEAL_STATUSES),
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
