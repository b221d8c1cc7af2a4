"""quality: versioned phrase rules (seeded with the centre's defaults), one automatic analysis
per call record, and the analysis job's last runs

Revision ID: 0010
Revises: 0009
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rule_sets = op.create_table(
        "qa_rule_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=256), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_table(
        "call_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("error_detail", sa.String(length=256), nullable=True),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("rule_results", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    with op.batch_alter_table("call_analyses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_analyses_version_status", ["rules_version", "status"], unique=False
        )
    op.create_table(
        "qa_analysis_runs",
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("analysed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("trigger"),
    )
    # Version 1: the centre's default rules as the code has them when the database is made
    # (plain data, see console/quality/defaults.py); later changes are new versions.
    from console.quality.defaults import DEFAULT_RULES

    op.bulk_insert(
        rule_sets,
        [
            {
                "version": 1,
                "active": True,
                "rules": DEFAULT_RULES,
                "note": "defaults",
                "created_by": None,
                "created_at": dt.datetime.now(dt.UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("qa_analysis_runs")
    with op.batch_alter_table("call_analyses", schema=None) as batch_op:
        batch_op.drop_index("ix_call_analyses_version_status")
    op.drop_table("call_analyses")
    op.drop_table("qa_rule_sets")
