"""Near misses apart from good suggestions, calibrated scores, and why a listing has few matches.

Revision ID: 0011
Revises: 0010

matches.is_near_miss marks a ranker suggestion that misses one soft term of the mandate; the
review queue leaves them out unless asked, so the queue's index leads with it. Scores stored
before this revision were on the old, uncalibrated scale (−2 … 1.5): they are cleared, so a
person never sees two scales at once; the next refresh (nightly, or on any edit of the listing)
stores calibrated chances. financing_needs/finance_products.match_summary keep what the last
refresh found: how many good matches and near misses, and which term ruled out most of the rest.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
QUEUE = {
    "postgresql": "(status, is_near_miss, score DESC NULLS LAST, created_at, id)",
    "sqlite": "(status, is_near_miss, score DESC, created_at, id)",
}
OLD_QUEUE = {
    "postgresql": "(status, score DESC NULLS LAST, created_at, id)",
    "sqlite": "(status, score DESC, created_at, id)",
}


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("matches") as batch:
        batch.add_column(
            sa.Column("is_near_miss", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    for table in ("financing_needs", "finance_products"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("match_summary", JSON, nullable=True))
    op.execute("UPDATE matches SET score = NULL WHERE source = 'ranker'")
    op.execute("DROP INDEX IF EXISTS ix_matches_review_queue")
    op.execute(f"CREATE INDEX ix_matches_review_queue ON matches {QUEUE.get(dialect, QUEUE['sqlite'])}")


def downgrade():
    dialect = op.get_bind().dialect.name
    op.execute("DROP INDEX IF EXISTS ix_matches_review_queue")
    for table in ("financing_needs", "finance_products"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("match_summary")
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("is_near_miss")
    columns = OLD_QUEUE.get(dialect, OLD_QUEUE["sqlite"])
    op.execute(f"CREATE INDEX ix_matches_review_queue ON matches {columns}")
