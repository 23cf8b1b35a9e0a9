"""Investors' track records: earlier green-finance deals of an investor organisation.

Revision ID: 0010
Revises: 0009

One new table. A deal is unique per organisation by its normalised fields (dedupe_key), so that
importing the same file again adds nothing; a deal closed on the platform is added once, from
its match (match_id unique).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLE = "track_record_deals"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("country_iso2", sa.String(length=2), nullable=True),
        sa.Column("sector", sa.String(length=32), nullable=True),
        sa.Column("technology", sa.String(length=32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_usd", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("co_financiers", JSON, nullable=False),
        sa.Column(
            "source",
            sa.Enum("manual", "import", "platform", name="tracksource", native_enum=False,
                    length=32),
            nullable=False,
        ),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sector IS NOT NULL OR technology IS NOT NULL",
                           name=op.f("ck_track_record_deals_sector_or_technology")),
        sa.CheckConstraint("amount_usd IS NULL OR amount_usd > 0",
                           name=op.f("ck_track_record_deals_amount_positive")),
        sa.CheckConstraint("year >= 1990", name=op.f("ck_track_record_deals_year_from_1990")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_track_record_deals_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["country_iso2"], ["countries.iso2"],
                                name=op.f("fk_track_record_deals_country_iso2_countries")),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"],
                                name=op.f("fk_track_record_deals_match_id_matches")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_track_record_deals_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_record_deals")),
        sa.UniqueConstraint("organisation_id", "dedupe_key",
                            name=op.f("uq_track_record_deals_organisation_id")),
        sa.UniqueConstraint("match_id", name=op.f("uq_track_record_deals_match_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for column in ("organisation_id", "country_iso2", "technology"):
            batch_op.create_index(batch_op.f(f"ix_{TABLE}_{column}"), [column], unique=False)


def downgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for column in ("organisation_id", "country_iso2", "technology"):
            batch_op.drop_index(batch_op.f(f"ix_{TABLE}_{column}"))
    op.drop_table(TABLE)
