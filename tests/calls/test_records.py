from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.core.errors import DomainError
from console.core.models import Base, Call, CallEvent, Customer
from console.customers import services as customers
from console.node import Hotline


def test_migrations_create_every_table(hotline: Hotline) -> None:
    tables = set(inspect(hotline.engine).get_table_names())
    assert {
        "users",
        "agents",
        "queues",
        "customers",
        "customer_phones",
        "calls",
        "call_tags",
        "call_events",
        "agent_state_log",
        "audit_log",
        "dispositions",
        "login_sessions",
        "shift_templates",
        "workforce_settings",
        "rosters",
        "roster_shifts",
        "roster_duties",
        "leave_requests",
        "swap_requests",
        "clock_events",
        "handover_entries",
        "weekly_summaries",
        "misses",
    } <= tables


def test_migrations_match_the_models(hotline: Hotline) -> None:
    # Every model change must come with its migration: the migrated schema equals the models.
    with hotline.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_call_lifecycle_records_times_and_reason(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        call, q, callers = call_svc.open_inbound(
            s, "sip:+86 138 0013 8000@trunk", "sip:10086@hl", "w1"
        )
        pop = call_schemas.screen_pop(call, q, callers)
        call_id = call.id
        assert q is not None and q.name == "support"
        assert [c["name"] for c in pop["customers"]] == ["张伟"]
        assert call.customer_id == pop["customers"][0]["id"]
    with hotline.sessions.begin() as s:
        call_svc.mark_offered(s, call_id, 1)
        call_svc.mark_answered(s, call_id, 1)
        call_svc.mark_ended(s, call_id, "caller-hangup")
    with hotline.sessions.begin() as s:
        with pytest.raises(DomainError) as err:
            call_svc.wrap_up(s, call_id, 1, "", [], "")
        assert err.value.error_id == "disposition-required"
        with pytest.raises(DomainError):
            call_svc.wrap_up(s, call_id, 1, "bogus", [], "")
        with pytest.raises(DomainError):
            call_svc.wrap_up(s, call_id, 2, "resolved", [], "")
    with hotline.sessions.begin() as s:
        call_svc.wrap_up(s, call_id, 1, "resolved", ["billing", " billing ", "vip"], "ok")
    with hotline.sessions() as s:
        c = s.get(Call, call_id)
        assert c is not None
        assert c.arrived_at <= c.offered_at <= c.answered_at <= c.ended_at <= c.wrapped_at
        assert c.end_reason == "caller-hangup" and c.status == "ended"
        assert [t.tag for t in c.tags] == ["billing", "vip"]
        kinds = list(
            s.scalars(
                select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
            )
        )
        assert kinds == ["arrived", "offered", "answered", "ended", "wrapped"]
        page = call_schemas.page_dict(call_svc.search(s, call_svc.CallFilter(tag="vip")))
        assert page["total"] == 1 and page["items"][0]["disposition"] == "resolved"
        assert (
            call_svc.search(s, call_svc.CallFilter.from_args({"number": "138 0013 8000"})).total
            == 1
        )
        assert call_svc.search(s, call_svc.CallFilter(tag="other")).total == 0
        rows = call_svc.log_rows(s, call_svc.CallFilter())
        csv_text = "".join(call_schemas.export_csv(rows, call_svc.names(s)))
        assert csv_text.splitlines()[0].startswith("id,arrived_at")
        assert call_id in csv_text and "billing;vip" in csv_text


def test_orphans_of_a_crashed_worker_are_closed(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        a, _, _ = call_svc.open_inbound(s, "13912345678", "10086", "w-crash")
        b, _, _ = call_svc.open_inbound(s, "13912345678", "10086", "w-other")
    with hotline.sessions.begin() as s:
        closed = call_svc.close_orphans(s, "w-crash")
        assert [c.id for c in closed] == [a.id]
    with hotline.sessions() as s:
        assert s.get(Call, a.id).end_reason == "worker-restart"
        assert s.get(Call, b.id).ended_at is None


def test_csv_import_is_all_or_nothing(hotline: Hotline) -> None:
    good = (
        "name,phones,grade,address\n赵六,13700001234,B,上海\nBeta Ltd,021-12345678;13611112222,A,\n"
    )
    bad = "name,phones,grade\nOK Person,13700009999,A\nBroken,13700008888,Z\n"
    with hotline.sessions() as s:
        before = s.scalar(select(func.count(Customer.id)))
    with hotline.sessions.begin() as s:
        with pytest.raises(DomainError) as err:
            customers.import_csv(s, bad)
        assert "3" in err.value.detail
    with hotline.sessions() as s:
        assert s.scalar(select(func.count(Customer.id))) == before
    with hotline.sessions.begin() as s:
        assert customers.import_csv(s, good) == 2
    with hotline.sessions() as s:
        found = customers.find_by_number(s, "+862112345678")
        assert [c.name for c in found] == ["Beta Ltd"]
        assert found[0].fields == {"address": ""}


def test_ordered_writer_keeps_order_and_drains_on_close(hotline: Hotline) -> None:
    from console.calls.writer import OrderedWriter
    from console.core.models import Disposition

    writer = OrderedWriter(hotline.sessions, "test-writer")
    for i in range(20):
        writer.submit(
            lambda s, i=i: s.add(Disposition(code=f"d{i:02d}", label_en=str(i), label_zh=str(i)))
        )
    bad = writer.submit(lambda s: s.add(Disposition(code="d00", label_en="dup", label_zh="dup")))
    writer.submit(lambda s: s.add(Disposition(code="last", label_en="l", label_zh="l")))
    writer.close()
    assert bad.exception() is not None  # a failed write is reported, the others still land
    with hotline.sessions() as s:
        codes = list(
            s.scalars(
                select(Disposition.code)
                .where(Disposition.code.like("d%") | (Disposition.code == "last"))
                .order_by(Disposition.id)
            )
        )
    assert codes == [f"d{i:02d}" for i in range(20)] + ["last"]


def test_agent_state_changes_are_logged(hotline: Hotline) -> None:
    from console.core.models import AgentStateLog

    hotline.agents.choose(1, "available")
    hotline.agents.choose(1, "not_ready", "lunch")
    hotline.agents.flush()
    with hotline.sessions() as s:
        rows = [
            (r.state, r.reason)
            for r in s.scalars(
                select(AgentStateLog).where(AgentStateLog.agent_id == 1).order_by(AgentStateLog.id)
            )
        ]
    assert rows == [("available", ""), ("not_ready", "lunch")]
