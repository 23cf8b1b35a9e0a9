"""Add the broker's review of a need's taxonomy claim.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUS = sa.Enum("unverified", "pending", "verified", "rejected", name="verificationstatus",
                 native_enum=False, length=32)


def upgrade():
    with op.batch_alter_table("financing_needs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taxonomy_claim_status", STATUS, nullable=False,
                                      server_default="unverified"))
        batch_op.add_column(sa.Column("taxonomy_claim_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("taxonomy_claim_decided_by_id", sa.Integer(),
                                      nullable=True))
        batch_op.add_column(sa.Column("taxonomy_claim_decided_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key("fk_financing_needs_taxonomy_claim_decided_by_id_users",
                                    "users", ["taxonomy_claim_decided_by_id"], ["id"])
    with op.batch_alter_table("financing_needs", schema=None) as batch_op:
        batch_op.alter_column("taxonomy_claim_status", server_default=None)


def downgrade():
    with op.batch_alter_table("financing_needs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_financing_needs_taxonomy_claim_decided_by_id_users",
                                 type_="foreignkey")
        batch_op.drop_column("taxonomy_claim_decided_at")
        batch_op.drop_column("taxonomy_claim_decided_by_id")
        batch_op.drop_column("taxonomy_claim_reason")
        batch_op.drop_column("taxonomy_claim_status")
