"""Typed SQLAlchemy models: users, agents, queues, customers, calls and their logs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from console.core.states import DEFAULT_RING_TIMEOUT_S, DEFAULT_WRAP_UP_S, CallStatus, Role

ROLES = tuple(Role)
GRADES = ("A", "B", "C", "D")


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC; always hands back aware datetimes, also on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    agent: Mapped[Agent | None] = relationship(back_populates="user", uselist=False)


class LoginSession(Base):
    """Server-side session: the cookie only carries its token, so logout really ends it."""

    __tablename__ = "login_sessions"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    extension: Mapped[str] = mapped_column(String(32), default="")
    sip_contact: Mapped[str] = mapped_column(String(256), default="")
    # How she talks, chosen at sign-in (console/core/states.AudioPath): "browser", "phone",
    # or "" = her SIP phone when she has a contact, else the browser.
    audio: Mapped[str] = mapped_column(String(8), default="", server_default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Contract terms the roster honours: a personal weekly limit (None = the centre's rule)
    # and flags such as "no-late" / "no-weekend" (see roster.model).
    max_hours_week: Mapped[float | None] = mapped_column(Float, nullable=True)
    contract_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Spans the agent cannot work: [{"from": ISO date-time, "to": ISO date-time}], UTC.
    unavailable: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    user: Mapped[User] = relationship(back_populates="agent")


class Queue(Base):
    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    skill: Mapped[str] = mapped_column(String(64))
    ring_timeout_s: Mapped[int] = mapped_column(default=DEFAULT_RING_TIMEOUT_S)
    wrap_up_s: Mapped[int] = mapped_column(default=DEFAULT_WRAP_UP_S)
    service_level_s: Mapped[int] = mapped_column(default=20)
    priority: Mapped[int] = mapped_column(default=0)
    registration_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_default: Mapped[bool] = mapped_column(default=False)


class Customer(Base):
    """One file per customer (一户一档)."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    grade: Mapped[str] = mapped_column(String(1), default="C")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )


class CustomerPhone(Base):
    __tablename__ = "customer_phones"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(32), default="")
    customer: Mapped[Customer] = relationship(back_populates="phones")
    __table_args__ = (UniqueConstraint("customer_id", "number"),)


class Disposition(Base):
    __tablename__ = "dispositions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    label_en: Mapped[str] = mapped_column(String(128))
    label_zh: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)


def new_call_id() -> str:
    return uuid.uuid4().hex


class Call(Base):
    __tablename__ = "calls"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_call_id)
    direction: Mapped[str] = mapped_column(String(8), default="inbound")  # CallDirection
    # A transfer closes the agent's record and goes on in a new one pointing back to it:
    # each record has one agent, one wrap-up and its own recordings.
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("calls.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=CallStatus.QUEUED)
    caller_number: Mapped[str] = mapped_column(String(64), index=True)
    caller_raw: Mapped[str] = mapped_column(String(256), default="")
    # True when the caller's number cannot be an E.164 number: caller_number then holds it
    # as it came (never prefixed with a country code) and the log and screen pop mark it.
    caller_number_invalid: Mapped[bool] = mapped_column(default=False, server_default=false())
    callee_number: Mapped[str] = mapped_column(String(64), default="")
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    worker_id: Mapped[str] = mapped_column(String(64), default="")
    arrived_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    offered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    wrapped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    ring_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    wrap_up_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disposition_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    offers: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[list[CallTag]] = relationship(
        cascade="all, delete-orphan", order_by="CallTag.tag", lazy="selectin"
    )
    __table_args__ = (
        Index("ix_calls_agent_arrived", "agent_id", "arrived_at"),
        Index("ix_calls_open_worker", "worker_id", "ended_at"),
    )


class WorkerHeartbeat(Base):
    """The last moment each telephony worker was known alive (written every few seconds).

    Crash recovery ends a dead worker's calls at this moment, not at its restart, so talk
    time does not include the downtime.
    """

    __tablename__ = "workers"
    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Its internal audio server, where the web tier relays browser audio (scaled shape);
    # empty when the worker runs in the web process.
    audio_url: Mapped[str] = mapped_column(String(256), default="", server_default="")


class CallTag(Base):
    __tablename__ = "call_tags"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Recording(Base):
    """One recorded channel of a call (caller, agent, or the stereo playback file); the file
    is encrypted (console/recordings/store.py). status: recording | complete | failed |
    purged; size, duration and checksum (sha256 of the file) once complete."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), default="recording")
    sample_rate: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(256), nullable=True)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CallEvent(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentStateLog(Base):
    __tablename__ = "agent_state_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")
    call_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Adherence and the attendance ledger read an agent's states over a period.
    __table_args__ = (Index("ix_agent_state_log_agent_at", "agent_id", "at"),)


class AuditLog(Base):
    """Who saw or changed which customer record (personal data)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(nullable=True)
    action: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ForecastInterval(Base):
    """Forecast calls and handle time of one queue interval; `edited` rows survive regeneration."""

    __tablename__ = "forecast_intervals"
    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    calls: Mapped[float] = mapped_column(Float)
    aht_s: Mapped[float] = mapped_column(Float)
    edited: Mapped[bool] = mapped_column(default=False)
    __table_args__ = (UniqueConstraint("queue_id", "start"),)


class StaffingSettings(Base):
    """Per-queue inputs of the staffing requirement (Erlang C, or Erlang A with patience)."""

    __tablename__ = "staffing_settings"
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)
    interval_min: Mapped[int] = mapped_column(default=30)
    target_sl: Mapped[float] = mapped_column(Float, default=0.8)
    target_answer_s: Mapped[float] = mapped_column(Float, default=20.0)
    shrinkage: Mapped[float] = mapped_column(Float, default=0.3)
    max_occupancy: Mapped[float | None] = mapped_column(Float, nullable=True)
    patience_s: Mapped[float | None] = mapped_column(Float, nullable=True)


# ---- workforce: templates, rules, rosters, requests, attendance, handover ------------------


class ShiftTemplateRow(Base):
    """A shift pattern the solver may use; an end at or before the start crosses midnight."""

    __tablename__ = "shift_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    start: Mapped[dt.time] = mapped_column(Time())
    end: Mapped[dt.time] = mapped_column(Time())
    break_min: Mapped[int] = mapped_column(default=0)
    break_paid: Mapped[bool] = mapped_column(default=False)
    on_site: Mapped[bool] = mapped_column(default=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    late: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class WorkforceSettings(Base):
    """The centre's workforce rules (one row, id 1); every number is a configurable default."""

    __tablename__ = "workforce_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    seats: Mapped[int] = mapped_column(default=20)
    max_hours_week: Mapped[float] = mapped_column(Float, default=40.0)
    min_rest_h: Mapped[float] = mapped_column(Float, default=11.0)
    max_consecutive_days: Mapped[int] = mapped_column(default=6)
    min_rest_days_per_month: Mapped[int] = mapped_column(default=3)
    max_late_shifts_per_week: Mapped[int | None] = mapped_column(nullable=True)
    holiday_reinforcement: Mapped[float] = mapped_column(Float, default=1.5)
    # Office cleaning rota: done by someone working this template that day (None = no rota).
    cleaning_template: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Opening hours for the sealed-coverage check; both None = open 7x24.
    open_from: Mapped[dt.time | None] = mapped_column(Time(), nullable=True)
    open_to: Mapped[dt.time | None] = mapped_column(Time(), nullable=True)
    max_swaps_month: Mapped[int] = mapped_column(default=4)
    # Overrides of roster.attendance.AttendancePolicy fields.
    attendance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Consequence of the 1st, 2nd, ... miss in a period (handover, weekly summary, complaint).
    escalation: Mapped[list[str]] = mapped_column(JSON, default=list)
    weekly_summary_min_chars: Mapped[int] = mapped_column(default=200)
    weekly_summary_due_weekday: Mapped[int] = mapped_column(default=5)  # Saturday
    weekly_summary_due_time: Mapped[dt.time] = mapped_column(Time(), default=dt.time(17, 0))
    weekly_summary_remind_h: Mapped[int] = mapped_column(default=2)  # reminder this long before
    # A shift that ends without a handover entry is a miss this long after its end.
    handover_grace_min: Mapped[int] = mapped_column(default=30)
    handover_file_window_h: Mapped[int] = mapped_column(default=12)  # entry still accepted
    handover_takeover_early_min: Mapped[int] = mapped_column(default=60)  # before one's shift
    # No break in this many minutes after the start or before the end of a shift.
    break_edge_min: Mapped[int] = mapped_column(default=120)


class RosterPlan(Base):
    """A roster for `days` local days from `start`: drafted, solved, edited, then published."""

    __tablename__ = "rosters"
    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[dt.date] = mapped_column(Date())
    days: Mapped[int] = mapped_column()
    # draft | solving | solved | failed | published | superseded
    status: Mapped[str] = mapped_column(String(16), default="draft")
    name: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[int | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[int | None] = mapped_column(nullable=True)
    time_limit_s: Mapped[int] = mapped_column(default=60)
    # Live solver progress and the final figures (objective, bounds, gap, explanations).
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Hard-rule violations of the current assignments (re-validated after every edit).
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")


class RosterShift(Base):
    """One agent's shift on one local day of a roster (no row = rest day)."""

    __tablename__ = "roster_shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date())
    template_code: Mapped[str] = mapped_column(String(16))
    queue_skill: Mapped[str] = mapped_column(String(64), default="")
    edited: Mapped[bool] = mapped_column(default=False)
    # The workstation (1..seats) of an on-site shift; None for shifts from home.
    seat: Mapped[int | None] = mapped_column(nullable=True)
    # When the template's break starts on this shift (placed against demand), UTC.
    break_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (UniqueConstraint("roster_id", "agent_id", "day"),)


class RosterDuty(Base):
    """An extra duty on a roster day (e.g. office cleaning before the early shift)."""

    __tablename__ = "roster_duties"
    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id"), index=True)
    duty: Mapped[str] = mapped_column(String(32))
    day: Mapped[dt.date] = mapped_column(Date())
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    __table_args__ = (UniqueConstraint("roster_id", "duty", "day"),)


class LeaveRequest(Base):
    """Leave for local days first_day..last_day; approved leave blocks rostering."""

    __tablename__ = "leave_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    first_day: Mapped[dt.date] = mapped_column(Date())
    last_day: Mapped[dt.date] = mapped_column(Date())
    kind: Mapped[str] = mapped_column(String(16), default="annual")
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|approved|refused|cancelled
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class SwapRequest(Base):
    """A shift swap on a published roster: the partner takes the requester's shift on `day`
    and, when `partner_day` is set, the requester takes the partner's shift on that day."""

    __tablename__ = "swap_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date())
    partner_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    partner_day: Mapped[dt.date | None] = mapped_column(Date(), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # pending (partner to answer) | accepted (scheduler to decide) | approved | refused | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    partner_answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[int | None] = mapped_column(nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ClockEvent(Base):
    """Clock-in / clock-out from the agent console (append-only)."""

    __tablename__ = "clock_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(8))  # in | out
    source: Mapped[str] = mapped_column(String(16), default="console")


class HandoverEntry(Base):
    """Open items the outgoing agent hands to the next shift, and who took them over."""

    __tablename__ = "handover_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    shift_day: Mapped[dt.date] = mapped_column(Date())
    template_code: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # One handover per agent per shift (an agent works at most one shift a local day).
    __table_args__ = (UniqueConstraint("author_id", "shift_day"),)


class WeeklySummary(Base):
    """An agent's weekly work summary (docs/rules.md §2.5: at least 200 characters by Saturday
    17:00)."""

    __tablename__ = "weekly_summaries"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    week_start: Mapped[dt.date] = mapped_column(Date())
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_improve: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    late: Mapped[bool] = mapped_column(default=False)
    __table_args__ = (UniqueConstraint("agent_id", "week_start"),)


class WeeklyReminder(Base):
    """A weekly-summary reminder sent: once per agent and week, whichever scheduler sends it."""

    __tablename__ = "weekly_reminders"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(Date(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Miss(Base):
    """One counted miss (handover not filed, weekly summary missing, complaint) for escalation."""

    __tablename__ = "misses"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # handover | weekly-summary | complaint
    period: Mapped[str] = mapped_column(String(7))  # calendar month, YYYY-MM
    ref: Mapped[str] = mapped_column(String(64))  # what was missed (shift day, week, call id)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("agent_id", "kind", "ref"),)


class QaRuleSet(Base):
    """One version of the centre's phrase rules (console/quality/defaults.py shows the shape:
    a list of rules, each with its language). Exactly one version is active: the analysis
    job runs every call with it and re-runs the calls analysed with an older one. Versions
    are never edited: a change is a new version."""

    __tablename__ = "qa_rule_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    active: Mapped[bool] = mapped_column(default=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallAnalysis(Base):
    """The automatic analysis of one call record's two recorded channels (console/quality):
    status pending | done | failed, the rules version it ran with, the metrics (the flat
    `qa.CallMetrics.values()`), the speech, hold, over-talk and silence segments (seconds on
    the recording's timeline) and each phrase rule's result with its evidence. A failed one
    keeps the error id and detail (a recording that cannot be read)."""

    __tablename__ = "call_analyses"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    rules_version: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_detail: Mapped[str | None] = mapped_column(String(256), nullable=True)
    analysed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    segments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rule_results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    __table_args__ = (Index("ix_call_analyses_version_status", "rules_version", "status"),)


class QaAnalysisRun(Base):
    """The last run of the analysis job per trigger (scheduled, manual): its progress."""

    __tablename__ = "qa_analysis_runs"
    trigger: Mapped[str] = mapped_column(String(16), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    analysed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class QaSavedFilter(Base):
    """A recording-library filter set a reviewer named and saved (console/quality): the
    filters as the library's API takes them (`services.LibraryFilter.saved()`), one user's own;
    names are unique per user."""

    __tablename__ = "qa_saved_filters"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("user_id", "name"),)
