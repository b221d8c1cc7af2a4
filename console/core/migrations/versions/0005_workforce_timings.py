"""workforce timings as settings: handover grace, filing window and early takeover, the
weekly-summary reminder lead, and the break window at both ends of a shift

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("handover_grace_min", "30"),
    ("handover_file_window_h", "12"),
    ("handover_takeover_early_min", "60"),
    ("weekly_summary_remind_h", "2"),
    ("break_edge_min", "120"),
)


def upgrade() -> None:
    with op.batch_alter_table("workforce_settings", schema=None) as batch_op:
        for name, default in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=default)
            )


def downgrade() -> None:
    with op.batch_alter_table("workforce_settings", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
