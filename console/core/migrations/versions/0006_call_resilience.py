"""calls that survive failures: the caller-number-invalid flag and the workers heartbeat

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "caller_number_invalid", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(length=64), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workers")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("caller_number_invalid")
