"""call transfers: a transferred call goes on in a new record pointing back to the one the
agent closed

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_calls_parent_id", ["parent_id"], unique=False)
        batch_op.create_foreign_key("fk_calls_parent_id", "calls", ["parent_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("fk_calls_parent_id", type_="foreignkey")
        batch_op.drop_index("ix_calls_parent_id")
        batch_op.drop_column("parent_id")
