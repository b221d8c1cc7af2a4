"""qa saved filters: a reviewer's named filter sets of the recording library

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name"),
    )
    with op.batch_alter_table("qa_saved_filters", schema=None) as batch_op:
        batch_op.create_index("ix_qa_saved_filters_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("qa_saved_filters", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_saved_filters_user_id")
    op.drop_table("qa_saved_filters")
