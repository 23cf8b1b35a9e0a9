"""Pairs of adjacent Han characters of each need's search text, with an index on PostgreSQL.

Revision ID: 0005
Revises: 0004

Most Chinese words have two characters, which a trigram index cannot serve (风电 scanned every
search text). The pairs column lists every distinct adjacent pair; a GIN index on it as an array
finds a two-character word directly.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As marketplace.models.need.han_pairs when written (a migration must not follow later changes).
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]{2,}")


def _pairs(text: str) -> str:
    pairs = (run[i:i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1))
    return " ".join(dict.fromkeys(pairs))


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table("need_search_texts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("han_pairs", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("need_search_texts", schema=None) as batch_op:
        batch_op.alter_column("han_pairs", server_default=None)
    texts = sa.table("need_search_texts", sa.column("need_id", sa.Integer),
                     sa.column("search_text", sa.Text), sa.column("han_pairs", sa.Text))
    rows = bind.execute(sa.select(texts.c.need_id, texts.c.search_text)).all()
    updates = [{"id": row.need_id, "pairs": pairs} for row in rows
               if (pairs := _pairs(row.search_text))]
    if updates:
        bind.execute(texts.update().where(texts.c.need_id == sa.bindparam("id"))
                     .values(han_pairs=sa.bindparam("pairs")), updates)
    if bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_need_search_texts_han_pairs ON need_search_texts "
                   "USING gin (string_to_array(han_pairs, ' '))")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_need_search_texts_han_pairs")
    with op.batch_alter_table("need_search_texts", schema=None) as batch_op:
        batch_op.drop_column("han_pairs")
