"""Financing needs posted by project owners, and the documents attached to them."""

import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, enum_column, utcnow
from marketplace.models.organisation import VerificationStatus


class NeedStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    IN_NEGOTIATION = "in_negotiation"
    FINANCED = "financed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class FeeStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    WAIVED = "waived"


class FinancingNeed(TimestampMixin, Base):
    """A project's request for green finance."""

    __tablename__ = "financing_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Title and summary may be given in English, Chinese or both; the description is free text.
    title_en: Mapped[str | None] = mapped_column(String(200))
    title_zh: Mapped[str | None] = mapped_column(String(200))
    summary_en: Mapped[str | None] = mapped_column(Text)
    summary_zh: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    country_iso2: Mapped[str] = mapped_column(ForeignKey("countries.iso2"), index=True)
    sector: Mapped[str] = mapped_column(String(32), index=True)
    technology: Mapped[str] = mapped_column(String(32))
    taxonomy_activity_ref: Mapped[str | None] = mapped_column(ForeignKey("taxonomy_activities.ref"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    amount_usd: Mapped[Decimal] = mapped_column(index=True)
    fx_rate_id: Mapped[int | None] = mapped_column(ForeignKey("fx_rates.id"))
    instruments: Mapped[list] = mapped_column(default=list)
    tenor_years: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    capacity_unit: Mapped[str | None] = mapped_column(String(20))
    owner_capacity_factor: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    owner_tco2e_per_year: Mapped[Decimal | None] = mapped_column(Numeric(14, 1))
    estimated_tco2e_per_year: Mapped[Decimal | None] = mapped_column(Numeric(14, 1), index=True)
    impact_method: Mapped[str | None] = mapped_column(String(32))
    impact_detail: Mapped[dict] = mapped_column(default=dict)
    # What the last refresh of suggestions found: good / near-miss counts and what rules out most.
    match_summary: Mapped[dict | None] = mapped_column(nullable=True)
    # A broker's review of the owner's taxonomy claim (activity and alignment).
    taxonomy_claim_status: Mapped[VerificationStatus] = enum_column(
        VerificationStatus, default=VerificationStatus.UNVERIFIED
    )
    taxonomy_claim_reason: Mapped[str | None] = mapped_column(Text)
    taxonomy_claim_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    taxonomy_claim_decided_at: Mapped[datetime | None]
    show_organisation: Mapped[bool] = mapped_column(default=False)
    status: Mapped[NeedStatus] = enum_column(NeedStatus, default=NeedStatus.DRAFT, index=True)
    fee_status: Mapped[FeeStatus] = enum_column(FeeStatus, default=FeeStatus.UNPAID)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    expires_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    # Commit-ordered change number for the search index and texts (services/listings/changes.py).
    revision: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    organisation = relationship("Organisation")
    created_by = relationship("User", foreign_keys=[created_by_id])
    country = relationship("Country")
    taxonomy_activity = relationship("TaxonomyActivity")
    fx_rate = relationship("FxRate")
    documents = relationship("Document", back_populates="need", order_by="Document.created_at")

    __mapper_args__ = {"version_id_col": version_id}

    def title_for(self, locale: str) -> str:
        """The title in the reader's language when the owner gave one, else the other."""
        if locale.startswith("zh"):
            return self.title_zh or self.title_en or ""
        return self.title_en or self.title_zh or ""

    def summary_for(self, locale: str) -> str:
        if locale.startswith("zh"):
            return self.summary_zh or self.summary_en or ""
        return self.summary_en or self.summary_zh or ""


SEARCHED_FIELDS = ("title_en", "title_zh", "summary_en", "summary_zh", "description")


# Han characters (CJK Unified Ideographs, extension A and the supplementary planes). After NFC
# normalisation the compatibility ideographs have become unified ones.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
_HAN_RUN = re.compile(f"[{HAN}]{{2,}}")


def need_search_text(need) -> str:
    """What full-text search matches: the titles, summaries and description, in lower case."""
    text = " ".join(part for name in SEARCHED_FIELDS if (part := getattr(need, name)))
    return unicodedata.normalize("NFC", text).lower()


def han_pairs(text: str) -> str:
    """Every distinct pair of adjacent Han characters in the text, space-separated.

    Most Chinese words have two characters, too short for a trigram index; an index on these
    pairs finds them (services/search/search.py). A pair is listed exactly when it is in text.
    """
    pairs = (run[i : i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1))
    return " ".join(dict.fromkeys(pairs))


def search_row(need) -> dict:
    """The need_search_texts columns of a need (or a row with the searched fields)."""
    text = need_search_text(need)
    return {"need_id": need.id, "search_text": text, "han_pairs": han_pairs(text)}


class NeedSearchText(Base):
    """A need's searchable text, lower-cased, in a narrow table of its own.

    Kept apart from the wide needs table so that a search reads (or, for words the trigram index
    cannot serve, scans) a few megabytes instead of the whole table. Written at commit time for
    every need that changed (services/listings/changes.py).
    """

    __tablename__ = "need_search_texts"

    need_id: Mapped[int] = mapped_column(ForeignKey("financing_needs.id"), primary_key=True)
    search_text: Mapped[str] = mapped_column(Text)
    han_pairs: Mapped[str] = mapped_column(Text, default="")


class Document(Base):
    """An uploaded PDF, XLSX or DOCX, stored under a generated name outside static/."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("financing_needs.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    need = relationship("FinancingNeed", back_populates="documents")

    @property
    def organisation_id(self) -> int | None:
        """The organisation that owns the document (through its need)."""
        return self.need.organisation_id if self.need else None
