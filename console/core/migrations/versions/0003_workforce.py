"""workforce: shift templates, rules, rosters, leave and swaps, clock events, handover

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rosters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "shift_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("break_min", sa.Integer(), nullable=False),
        sa.Column("break_paid", sa.Boolean(), nullable=False),
        sa.Column("on_site", sa.Boolean(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "workforce_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("max_hours_week", sa.Float(), nullable=False),
        sa.Column("min_rest_h", sa.Float(), nullable=False),
        sa.Column("max_consecutive_days", sa.Integer(), nullable=False),
        sa.Column("min_rest_days_per_month", sa.Integer(), nullable=False),
        sa.Column("max_late_shifts_per_week", sa.Integer(), nullable=True),
        sa.Column("holiday_reinforcement", sa.Float(), nullable=False),
        sa.Column("cleaning_template", sa.String(length=16), nullable=True),
        sa.Column("open_from", sa.Time(), nullable=True),
        sa.Column("open_to", sa.Time(), nullable=True),
        sa.Column("max_swaps_month", sa.Integer(), nullable=False),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("escalation", sa.JSON(), nullable=False),
        sa.Column("weekly_summary_min_chars", sa.Integer(), nullable=False),
        sa.Column("weekly_summary_due_weekday", sa.Integer(), nullable=False),
        sa.Column("weekly_summary_due_time", sa.Time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "clock_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clock_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clock_events_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clock_events_at"), ["at"], unique=False)

    op.create_table(
        "handover_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("shift_day", sa.Date(), nullable=False),
        sa.Column("template_code", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["agents.id"],
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handover_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handover_entries_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_handover_entries_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "leave_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leave_requests_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "misses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "kind", "ref"),
    )
    with op.batch_alter_table("misses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_misses_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "roster_duties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("duty", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["rosters.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("roster_id", "duty", "day"),
    )
    with op.batch_alter_table("roster_duties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_duties_roster_id"), ["roster_id"], unique=False)

    op.create_table(
        "roster_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("template_code", sa.String(length=16), nullable=False),
        sa.Column("queue_skill", sa.String(length=64), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["rosters.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("roster_id", "agent_id", "day"),
    )
    with op.batch_alter_table("roster_shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_shifts_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_shifts_roster_id"), ["roster_id"], unique=False)

    op.create_table(
        "swap_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("partner_day", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["agents.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["agents.id"],
        ),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["rosters.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("swap_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_swap_requests_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_swap_requests_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_swap_requests_roster_id"), ["roster_id"], unique=False)

    op.create_table(
        "weekly_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("to_improve", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "week_start"),
    )
    with op.batch_alter_table("weekly_summaries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_weekly_summaries_agent_id"), ["agent_id"], unique=False
        )

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_hours_week", sa.Float(), nullable=True))
        # Existing agents get an empty list of flags.
        batch_op.add_column(
            sa.Column("contract_flags", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("contract_flags")
        batch_op.drop_column("max_hours_week")

    with op.batch_alter_table("weekly_summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weekly_summaries_agent_id"))

    op.drop_table("weekly_summaries")
    with op.batch_alter_table("swap_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_swap_requests_roster_id"))
        batch_op.drop_index(batch_op.f("ix_swap_requests_requester_id"))
        batch_op.drop_index(batch_op.f("ix_swap_requests_partner_id"))

    op.drop_table("swap_requests")
    with op.batch_alter_table("roster_shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_shifts_roster_id"))
        batch_op.drop_index(batch_op.f("ix_roster_shifts_agent_id"))

    op.drop_table("roster_shifts")
    with op.batch_alter_table("roster_duties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_duties_roster_id"))

    op.drop_table("roster_duties")
    with op.batch_alter_table("misses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_misses_agent_id"))

    op.drop_table("misses")
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leave_requests_agent_id"))

    op.drop_table("leave_requests")
    with op.batch_alter_table("handover_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_entries_created_at"))
        batch_op.drop_index(batch_op.f("ix_handover_entries_author_id"))

    op.drop_table("handover_entries")
    with op.batch_alter_table("clock_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clock_events_at"))
        batch_op.drop_index(batch_op.f("ix_clock_events_agent_id"))

    op.drop_table("clock_events")
    op.drop_table("workforce_settings")
    op.drop_table("shift_templates")
    op.drop_table("rosters")
