"""Typed SQLAlchemy models: users, agents, queues, customers, calls and their logs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ROLES = ("agent", "qa", "scheduler", "supervisor", "admin")
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
    role: Mapped[str] = mapped_column(String(16), default="agent")
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
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    user: Mapped[User] = relationship(back_populates="agent")


class Queue(Base):
    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    skill: Mapped[str] = mapped_column(String(64))
    ring_timeout_s: Mapped[int] = mapped_column(default=15)
    wrap_up_s: Mapped[int] = mapped_column(default=60)
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
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    caller_number: Mapped[str] = mapped_column(String(64), index=True)
    caller_raw: Mapped[str] = mapped_column(String(256), default="")
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


class CallTag(Base):
    __tablename__ = "call_tags"
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


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
