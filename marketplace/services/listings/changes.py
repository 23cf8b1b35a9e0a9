"""Commit-ordered revision numbers for financing needs, so in-process indexes catch up exactly.

Every transaction that writes needs takes the next value of one counter row just before it
commits, stamps it on the needs it wrote and rewrites their search texts. The counter row stays
locked until that commit, so revisions become visible in increasing order: a reader that has
read the counter as r has seen every change numbered r or lower, and `revision > r` finds the
rest (an id or a timestamp cannot promise that: transactions commit in another order than they
start).

ORM writes are followed automatically (Session events). Bulk inserts, which bypass the unit of
work, call `claim_revision` first and write the value on their rows themselves; their search
texts are written at commit.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from marketplace.models import ChangeCounter, FinancingNeed, NeedSearchText
from marketplace.models.need import SEARCHED_FIELDS, search_row

NEEDS = "financing_needs"
_CHANGED = "changes.need_ids"
_CLAIMED = "changes.claimed"
_CHUNK = 500
_BATCH = 2000


@dataclass(frozen=True)
class Revision:
    """Where the needs' history stands: a counter value within one life of the counter row."""

    generation: str
    value: int


def current(session: Session) -> Revision | None:
    """The committed revision of the needs (None before the first write)."""
    row = session.execute(
        select(ChangeCounter.generation, ChangeCounter.value).where(ChangeCounter.name == NEEDS)
    ).first()
    return Revision(row.generation, row.value) if row else None


def claim_revision(session: Session) -> int:
    """The revision for needs this transaction will bulk-insert (the counter stays locked)."""
    if _CLAIMED not in session.info:
        session.info[_CLAIMED] = _next_value(session)
    return session.info[_CLAIMED]


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    # Only needs whose row this flush wrote (and so locked): stamping a need whose collection
    # alone changed would lock its row at commit, after the counter, and could deadlock with
    # a transaction that holds that row and waits for the counter.
    ids = [obj.id for obj in session.new if isinstance(obj, FinancingNeed)]
    ids += [
        obj.id
        for obj in session.dirty
        if isinstance(obj, FinancingNeed) and session.is_modified(obj, include_collections=False)
    ]
    if ids:
        session.info.setdefault(_CHANGED, set()).update(ids)


@event.listens_for(Session, "before_commit")
def _stamp(session: Session) -> None:
    # The final flush normally follows this event; run it first so its needs are collected.
    session.flush()
    ids, claimed = session.info.pop(_CHANGED, None), session.info.pop(_CLAIMED, None)
    if not ids and claimed is None:
        return
    table = FinancingNeed.__table__
    if claimed is not None:  # bulk-inserted rows carry the claimed value already
        _write_search_texts(session, table.c.revision == claimed)
    value = _next_value(session) if claimed is None else claimed
    # updated_at = updated_at: the stamp is bookkeeping, not an edit (no onupdate).
    stamp = update(table).values(revision=value, updated_at=table.c.updated_at)
    ids = sorted(ids or ())
    for start in range(0, len(ids), _CHUNK):
        chunk = table.c.id.in_(ids[start : start + _CHUNK])
        session.execute(stamp.where(chunk))
        _write_search_texts(session, chunk)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous) -> None:
    if previous.nested:  # a savepoint: the outer transaction's changes still stand
        return
    session.info.pop(_CHANGED, None)
    session.info.pop(_CLAIMED, None)


def _write_search_texts(session: Session, which) -> None:
    """(Re)write the search texts of the needs `which` selects."""
    table, texts = FinancingNeed.__table__, NeedSearchText.__table__
    rows = session.execute(
        select(table.c.id, *[table.c[name] for name in SEARCHED_FIELDS]).where(which)
    ).all()
    session.execute(delete(texts).where(texts.c.need_id.in_(select(table.c.id).where(which))))
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(texts), [search_row(row) for row in rows[start : start + _BATCH]])


def _next_value(session: Session) -> int:
    """Increment the counter (creating its row if missing); the row stays locked until commit."""
    table = ChangeCounter.__table__
    bump = (
        update(table)
        .where(table.c.name == NEEDS)
        .values(value=table.c.value + 1)
        .returning(table.c.value)
    )
    value = session.execute(bump).scalar()
    if value is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(table)
            .values(name=NEEDS, value=0, generation=secrets.token_hex(8))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = session.execute(bump).scalar_one()
    return value
