"""Change counters: one row per kind of record whose changes in-process indexes follow."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base


class ChangeCounter(Base):
    """The last revision handed out for `name`; a recreated row gets a new `generation`."""

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    generation: Mapped[str] = mapped_column(String(32))
