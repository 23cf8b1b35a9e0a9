"""All tables, one module per aggregate; importing this registers them on Base.metadata."""

from sqlalchemy.orm import configure_mappers

from marketplace.models.account_token import AccountToken, TokenPurpose, hash_token
from marketplace.models.api_key import ApiKey
from marketplace.models.audit import AuditLog
from marketplace.models.base import Base, utcnow
from marketplace.models.change import ChangeCounter
from marketplace.models.conversation import (
    Conversation,
    ConversationParticipant,
    Message,
    Notification,
)
from marketplace.models.job import BackgroundJob, JobState
from marketplace.models.match import (
    Interest,
    InterestStatus,
    Match,
    MatchEvent,
    MatchSource,
    MatchStatus,
    RejectReason,
)
from marketplace.models.mfa import MfaCredential, RecoveryCode
from marketplace.models.need import Document, FeeStatus, FinancingNeed, NeedSearchText, NeedStatus
from marketplace.models.organisation import (
    Hub,
    MembershipStatus,
    Organisation,
    OrgKind,
    VerificationStatus,
)
from marketplace.models.payment import (
    Fee,
    FeeKind,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    StripeEvent,
)
from marketplace.models.product import FinanceProduct, ProductStatus
from marketplace.models.ranker import RankerModel
from marketplace.models.reference import Country, FxRate, GridFactor, TaxonomyActivity
from marketplace.models.search import AlertFrequency, SavedSearch
from marketplace.models.track_record import TrackRecordDeal, TrackSource
from marketplace.models.user import Role, User

# Backrefs (User.mfa_credential…) exist only once the mappers are configured: do it now, so a
# query that names one works in a fresh process too (a worker's first request, not only tests).
configure_mappers()

__all__ = [
    "AccountToken",
    "ApiKey",
    "AlertFrequency",
    "AuditLog",
    "BackgroundJob",
    "Base",
    "ChangeCounter",
    "Conversation",
    "ConversationParticipant",
    "Country",
    "Document",
    "Fee",
    "FeeKind",
    "FeeStatus",
    "FinanceProduct",
    "FinancingNeed",
    "FxRate",
    "JobState",
    "GridFactor",
    "Hub",
    "Interest",
    "InterestStatus",
    "Match",
    "MatchEvent",
    "MatchSource",
    "MatchStatus",
    "MembershipStatus",
    "MfaCredential",
    "Message",
    "NeedSearchText",
    "NeedStatus",
    "Notification",
    "Organisation",
    "OrgKind",
    "Payment",
    "PaymentPurpose",
    "PaymentStatus",
    "ProductStatus",
    "RankerModel",
    "RecoveryCode",
    "RejectReason",
    "Role",
    "SavedSearch",
    "StripeEvent",
    "TaxonomyActivity",
    "TokenPurpose",
    "TrackRecordDeal",
    "TrackSource",
    "User",
    "VerificationStatus",
    "hash_token",
    "utcnow",
]
