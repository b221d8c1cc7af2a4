"""seat plan and break times on roster shifts, agents' unavailable spans, one handover per
shift, agent-state log indexed by agent and time, weekly-summary reminders sent

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("roster_shifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seat", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("break_start", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        # Existing agents are available at any time.
        batch_op.add_column(
            sa.Column("unavailable", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("handover_entries", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_handover_entries_author_id_shift_day", ["author_id", "shift_day"]
        )
    op.create_index("ix_agent_state_log_agent_at", "agent_state_log", ["agent_id", "at"])
    op.create_table(
        "weekly_reminders",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("agent_id", "week_start"),
    )


def downgrade() -> None:
    op.drop_table("weekly_reminders")
    op.drop_index("ix_agent_state_log_agent_at", table_name="agent_state_log")
    with op.batch_alter_table("handover_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_handover_entries_author_id_shift_day", type_="unique")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("unavailable")
    with op.batch_alter_table("roster_shifts", schema=None) as batch_op:
        batch_op.drop_column("break_start")
        batch_op.drop_column("seat")
