"""Brokers' verification of organisations and of the taxonomy claims of needs."""

from flask_babel import lazy_gettext as _l

from marketplace.extensions import db
from marketplace.models import FinancingNeed, Organisation, Role, User, VerificationStatus, utcnow
from marketplace.services import ServiceError
from marketplace.services.accounts.audit import record


def decide_verification(
    organisation: Organisation, status: VerificationStatus, reason: str, broker: User
) -> None:
    """Mark an organisation verified or rejected; a rejection needs a reason."""
    if status not in (VerificationStatus.VERIFIED, VerificationStatus.REJECTED):
        raise ServiceError(_l("Choose verified or rejected."))
    reason = (reason or "").strip()
    if status == VerificationStatus.REJECTED and not reason:
        raise ServiceError(_l("Give a reason for the rejection."))
    old = organisation.verification_status
    organisation.verification_status = status
    organisation.verification_reason = reason or None
    organisation.verified_by_id = broker.id
    organisation.verified_at = utcnow()
    record(
        "organisation.verification",
        actor=broker,
        target=organisation,
        old=str(old),
        new=str(status),
        reason=reason,
    )
    db.session.commit()


def request_verification(organisation: Organisation, user: User) -> None:
    """An unverified organisation asks the brokers to verify it (a rejected one cannot)."""
    if organisation.verification_status == VerificationStatus.VERIFIED:
        raise ServiceError(_l("This organisation is already verified."), 409)
    if organisation.verification_status == VerificationStatus.REJECTED:
        raise ServiceError(
            _l(
                "A broker rejected the verification of this organisation. Only a broker or an "
                "administrator can reopen it."
            ),
            409,
        )
    organisation.verification_status = VerificationStatus.PENDING
    record("organisation.verification_requested", actor=user, target=organisation)
    db.session.commit()


def reopen_verification(organisation: Organisation, staff: User) -> None:
    """A broker or admin puts a rejected organisation back in the queue (pending)."""
    if staff.role not in (Role.BROKER, Role.ADMIN):
        raise ServiceError(_l("Only a broker or an administrator can reopen a verification."), 403)
    if organisation.verification_status != VerificationStatus.REJECTED:
        raise ServiceError(_l("Only a rejected verification can be reopened."), 409)
    organisation.verification_status = VerificationStatus.PENDING
    record(
        "organisation.verification_reopened",
        actor=staff,
        target=organisation,
        old=str(VerificationStatus.REJECTED),
        reason=organisation.verification_reason or "",
    )
    db.session.commit()


def decide_taxonomy_claim(
    need: FinancingNeed, status: VerificationStatus, reason: str, broker: User
) -> None:
    """Mark a need's taxonomy claim verified or rejected; a rejection needs a reason."""
    if status not in (VerificationStatus.VERIFIED, VerificationStatus.REJECTED):
        raise ServiceError(_l("Choose verified or rejected."))
    reason = (reason or "").strip()
    if status == VerificationStatus.REJECTED and not reason:
        raise ServiceError(_l("Give a reason for the rejection."))
    old = need.taxonomy_claim_status
    need.taxonomy_claim_status, need.taxonomy_claim_reason = status, reason or None
    need.taxonomy_claim_decided_by_id, need.taxonomy_claim_decided_at = broker.id, utcnow()
    record(
        "need.taxonomy_claim",
        actor=broker,
        target=need,
        old=str(old),
        new=str(status),
        reason=reason,
    )
    db.session.commit()
