"""Writing the audit trail; callers commit it with the change it records."""

from flask import has_request_context, request

from marketplace.extensions import db
from marketplace.models import AuditLog


def record(action: str, actor=None, target=None, **data) -> AuditLog:
    """Add an AuditLog row to the current transaction."""
    entry = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target.id) if getattr(target, "id", None) is not None else None,
        ip_address=request.remote_addr if has_request_context() else None,
        data=data,
    )
    db.session.add(entry)
    return entry
