"""Add the indexes the busiest signed-in pages read through: the review queue, home pages.

Revision ID: 0009
Revises: 0008

Measured with bench/load.py at 100,000 needs and 10,000 products (about 90,000 suggested
matches): without them the review queue sorted every suggested match by score for each page of
25, and an organisation's listings were found through its id alone, then filtered and sorted.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The queue's order: best score first (no score last), then longest waiting, then id.
# SQLite sorts NULL lowest, so a descending index puts them last already; it has no NULLS LAST.
QUEUE = {
    "postgresql": "(status, score DESC NULLS LAST, created_at, id)",
    "sqlite": "(status, score DESC, created_at, id)",
}

PLAIN = {
    # An owner's home: their needs, newest change first, and the counts by status.
    "ix_financing_needs_organisation_updated": (
        "financing_needs",
        "(organisation_id, updated_at)",
    ),
    # An investor's home and the interest form: their products by status.
    "ix_finance_products_organisation_status": (
        "finance_products",
        "(organisation_id, status)",
    ),
}


def upgrade():
    dialect = op.get_bind().dialect.name
    columns = QUEUE.get(dialect, QUEUE["sqlite"])
    op.execute(f"CREATE INDEX ix_matches_review_queue ON matches {columns}")
    for name, (table, columns) in PLAIN.items():
        op.execute(f"CREATE INDEX {name} ON {table} {columns}")


def downgrade():
    for name in ("ix_matches_review_queue", *PLAIN):
        op.execute(f"DROP INDEX IF EXISTS {name}")
