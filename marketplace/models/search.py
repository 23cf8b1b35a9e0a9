"""Saved searches and their alert schedule."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, enum_column, utcnow


class AlertFrequency(StrEnum):
    NEVER = "never"
    DAILY = "daily"
    WEEKLY = "weekly"


class SavedSearch(Base):
    """A user's search filters, as in the URL, with a digest schedule."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    target: Mapped[str] = mapped_column(String(16), default="needs")
    filters: Mapped[dict] = mapped_column(default=dict)
    frequency: Mapped[AlertFrequency] = enum_column(AlertFrequency, default=AlertFrequency.WEEKLY)
    last_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
