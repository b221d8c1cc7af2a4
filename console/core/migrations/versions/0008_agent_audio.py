"""browser audio: the agent's audio path chosen at each sign-in (browser or her SIP phone),
and each worker's internal audio address for the web tier's relay

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audio", sa.String(length=8), nullable=False, server_default="")
        )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audio_url", sa.String(length=256), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("audio_url")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("audio")
