"""Add the indexes faceted search needs: trigram full text, covering facet and sort indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00

The trigram expression must stay identical to NEED_TEXT in marketplace/services/search/search.py,
or PostgreSQL will not use the index. SQLite searches with LIKE and needs no text index.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEED_TEXT = (
    "coalesce(title_en, '') || ' ' || coalesce(title_zh, '') || ' ' || coalesce(summary_en, '')"
    " || ' ' || coalesce(summary_zh, '') || ' ' || coalesce(description, '')"
)

# Plain B-trees, on both databases (name -> columns). (status, sector) and (status, country)
# were tried at 100,000 needs and never chosen: the covering facet index below serves them.
BTREE_INDEXES = {
    # max(updated_at) is the search's data version (cached facet counts stay exact).
    "ix_financing_needs_updated_at": "updated_at",
}

# "Newest first" with ties by id; SQLite sorts NULL lowest and has no NULLS LAST in indexes.
SQLITE_INDEXES = {
    "ix_financing_needs_newest":
        "CREATE INDEX ix_financing_needs_newest ON financing_needs (published_at DESC, id DESC)",
}

POSTGRES_INDEXES = {
    "ix_financing_needs_newest":
        "CREATE INDEX ix_financing_needs_newest ON financing_needs "
        "(published_at DESC NULLS LAST, id DESC)",
    "ix_financing_needs_search_text":
        f"CREATE INDEX ix_financing_needs_search_text ON financing_needs "
        f"USING gin (({NEED_TEXT}) gin_trgm_ops)",
    "ix_financing_needs_instruments":
        "CREATE INDEX ix_financing_needs_instruments ON financing_needs "
        "USING gin (instruments jsonb_path_ops)",
    # One narrow index holding every facet column, for index-only counting scans.
    "ix_financing_needs_facets":
        "CREATE INDEX ix_financing_needs_facets ON financing_needs (status) "
        "INCLUDE (sector, country_iso2, stage, currency, amount_usd, tenor_years, instruments)",
    "ix_financing_needs_tco2e":
        "CREATE INDEX ix_financing_needs_tco2e ON financing_needs "
        "(estimated_tco2e_per_year DESC NULLS LAST, id DESC)",
    "ix_financing_needs_tco2e_per_usd":
        "CREATE INDEX ix_financing_needs_tco2e_per_usd ON financing_needs "
        "((estimated_tco2e_per_year / NULLIF(amount_usd, 0)) DESC NULLS LAST, id DESC)",
}


def upgrade():
    is_postgres = op.get_bind().dialect.name == "postgresql"
    if is_postgres:
        # The throwaway test server runs as superuser; production creates it once as owner.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, columns in BTREE_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON financing_needs ({columns})")
    for statement in (POSTGRES_INDEXES if is_postgres else SQLITE_INDEXES).values():
        op.execute(statement)


def downgrade():
    is_postgres = op.get_bind().dialect.name == "postgresql"
    names = [*BTREE_INDEXES, *(POSTGRES_INDEXES if is_postgres else SQLITE_INDEXES)]
    for name in names:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    # pg_trgm stays: other objects may use it, and dropping an extension needs ownership.
