"""forecast intervals and staffing settings

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Float(), nullable=False),
        sa.Column("aht_s", sa.Float(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("queue_id", "start"),
    )
    op.create_index("ix_forecast_intervals_queue_id", "forecast_intervals", ["queue_id"])
    op.create_table(
        "staffing_settings",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("interval_min", sa.Integer(), nullable=False),
        sa.Column("target_sl", sa.Float(), nullable=False),
        sa.Column("target_answer_s", sa.Float(), nullable=False),
        sa.Column("shrinkage", sa.Float(), nullable=False),
        sa.Column("max_occupancy", sa.Float(), nullable=True),
        sa.Column("patience_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"]),
        sa.PrimaryKeyConstraint("queue_id"),
    )


def downgrade() -> None:
    op.drop_table("staffing_settings")
    op.drop_index("ix_forecast_intervals_queue_id", table_name="forecast_intervals")
    op.drop_table("forecast_intervals")
