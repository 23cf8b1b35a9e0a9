"""Trained ranker versions: which file, how it scored, and which one serves."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, utcnow


class RankerModel(Base):
    """One trained model version; exactly one (or none, at cold start) is active."""

    __tablename__ = "ranker_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    training_size: Mapped[int]
    data_hash: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict] = mapped_column(default=dict)
    file_path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=False, index=True)
    activated_at: Mapped[datetime | None]
    trained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
