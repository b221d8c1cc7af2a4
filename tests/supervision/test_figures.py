from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.core.bus import AgentLive
from console.core.models import Agent, AgentStateLog, Call, Queue, User
from console.node import Hotline
from console.supervision import figures as fg
from console.supervision import services as supervision
from console.supervision.figures import CallFacts, Sums

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
DAY_START = 6  # the shift day runs 06:00 to 06:00


def at(day: int, hour: int, minute: int = 0, second: float = 0) -> dt.datetime:
    whole = int(second)
    return dt.datetime(
        2026, 3, day, hour, minute, whole, int((second - whole) * 1e6), tzinfo=SH
    ).astimezone(dt.UTC)


def _ids(s: Session) -> tuple[int, int, int, int]:
    support = s.scalar(select(Queue.id).where(Queue.name == "support"))
    sales = s.scalar(select(Queue.id).where(Queue.name == "sales"))
    a1 = s.scalar(select(Agent.id).join(User).where(User.username == "agent1"))
    a2 = s.scalar(select(Agent.id).join(User).where(User.username == "agent2"))
    assert support and sales and a1 and a2
    return support, sales, a1, a2


def _call(
    s: Session,
    arrived: dt.datetime,
    queue_id: int | None,
    *,
    agent_id: int | None = None,
    ring: float | None = None,  # offered this long after arrival, answered `ring` s later
    wait: float | None = None,  # answered this long after arrival
    talk: float | None = None,
    wrap: float | None = None,
    ended_after: float | None = None,  # unanswered: ended this long after arrival
    end_reason: str | None = None,
    direction: str = "inbound",
    parent_id: str | None = None,
) -> Call:
    """A call record as the worker and the wrap-up leave it."""
    c = Call(
        caller_number="8613800138000",
        direction=direction,
        queue_id=queue_id,
        worker_id="w-test",
        arrived_at=arrived,
        parent_id=parent_id,
        status="queued",
    )
    if wait is not None:
        answered = arrived + dt.timedelta(seconds=wait)
        c.answered_at, c.agent_id, c.wait_s, c.status = answered, agent_id, wait, "connected"
        if ring is not None:
            c.offered_at = answered - dt.timedelta(seconds=ring)
            c.ring_s = ring
        if talk is not None:
            c.ended_at = answered + dt.timedelta(seconds=talk)
            c.talk_s, c.end_reason, c.status = talk, end_reason or "caller-hangup", "wrap_up"
            if wrap is not None:
                c.wrapped_at = c.ended_at + dt.timedelta(seconds=wrap)
                c.wrap_up_s, c.status = wrap, "ended"
    elif ended_after is not None:
        c.ended_at = arrived + dt.timedelta(seconds=ended_after)
        c.wait_s, c.end_reason, c.status = ended_after, end_reason or "abandoned", "ended"
    s.add(c)
    s.flush()
    return c


def _late_shift(hotline: Hotline) -> dict[str, str]:
    """Calls of the late shift 16:00-01:00 starting 10 March, and around it."""
    with hotline.sessions.begin() as s:
        support, sales, a1, a2 = _ids(s)
        c = {
            # the day before (its late shift ran past 05:00? no: 05:59 still belongs to the 9th)
            "prev": _call(
                s, at(10, 5, 59, 30), support, agent_id=a1, ring=2, wait=4, talk=60, wrap=10
            ),
            "s1": _call(s, at(10, 16, 30), support, agent_id=a1, ring=3, wait=5, talk=100, wrap=20),
            "s2": _call(s, at(10, 23, 50), support, ended_after=40),  # abandoned
            # after midnight: the same shift day
            "s3": _call(s, at(11, 0, 20), sales, agent_id=a2, ring=18, wait=30, talk=50, wrap=5.5),
            "s4": _call(s, at(11, 0, 55), support, agent_id=a1, ring=1, wait=2.25, talk=30),
            "s5": _call(s, at(11, 0, 56), support, ended_after=0, end_reason="no-capacity"),
            "s6": _call(s, at(11, 0, 57), None, ended_after=12),  # no queue, abandoned
            "out": _call(
                s, at(11, 0, 10), sales, direction="outbound", agent_id=a2, wait=8, talk=20, wrap=3
            ),
            "waiting": _call(s, at(11, 0, 58), support),
            # the next shift day starts at 06:00
            "next": _call(s, at(11, 6, 0), support, agent_id=a1, ring=2, wait=3, talk=40, wrap=5),
        }
        # a transfer's continuation: not offered again, but handled
        c["cont"] = _call(
            s,
            at(11, 0, 21, 20),
            support,
            agent_id=a1,
            ring=2,
            wait=4,
            talk=12,
            wrap=1,
            parent_id=c["s3"].id,
        )
        return {k: v.id for k, v in c.items()}


def test_a_late_shift_across_midnight_is_one_shift_day(hotline: Hotline) -> None:
    _late_shift(hotline)
    assert fg.shift_day(at(11, 0, 30), TZ, DAY_START) == dt.date(2026, 3, 10)
    assert fg.shift_day(at(11, 5, 59), TZ, DAY_START) == dt.date(2026, 3, 10)
    assert fg.shift_day(at(11, 6, 0), TZ, DAY_START) == dt.date(2026, 3, 11)
    day = fg.shift_day_period(dt.date(2026, 3, 10), TZ, DAY_START)
    assert (day.start, day.end) == (at(10, 6).timestamp(), at(11, 6).timestamp())
    with hotline.sessions() as s:
        support, sales, _, _ = _ids(s)
        by_queue = supervision.recomputed(s, day)
    sup, sal, none = by_queue[support], by_queue[sales], by_queue[None]
    # support: s1 answered in SL, s2 abandoned, s4 answered (not wrapped), s5 lost, waiting;
    # the continuation is handled but not offered again.
    assert sup == Sums(
        offered=5,
        answered=2,
        abandoned=1,
        lost=1,
        waiting=1,
        within_sl=2,
        within_rings=2,
        wait_ms=7250,
        handled=2,
        handle_ms=120_000 + 13_000,
    )
    # sales: s3 answered after 30 s (over the 20 s threshold), rang 18 s (over 15 s: not
    # within three rings); the outbound call counts nowhere.
    assert sal == Sums(
        offered=1,
        answered=1,
        within_sl=0,
        within_rings=0,
        wait_ms=30_000,
        handled=1,
        handle_ms=55_500,
    )
    assert none == Sums(offered=1, abandoned=1)
    f = fg.figures(fg.total(by_queue))
    assert f.sums.offered == 7 and f.sums.answered == 3 and f.sums.abandoned == 2
    assert f.abandon_rate == round(2 / 7, 4)
    assert f.service_level == round(
        2 / 6, 4
    )  # answered within 20 s / (answered + abandoned + lost)
    assert f.asa_s == round(37.25 / 3, 1)
    assert f.aht_s == round((133 + 55.5) / 3, 1)
    assert f.three_rings == round(2 / 3, 4)
    # Counting by calendar day would have cut the shift at midnight.
    calendar = fg.Period(at(10, 0).timestamp(), at(11, 0).timestamp())
    with hotline.sessions() as s:
        assert fg.total(supervision.recomputed(s, calendar)).offered == 3  # prev, s1, s2


def test_the_snapshot_base_plus_its_calls_equals_the_records_at_any_moment(
    hotline: Hotline,
) -> None:
    _late_shift(hotline)
    with hotline.sessions() as s:
        for now in (at(11, 0, 59), at(10, 23, 59), at(11, 2, 30), at(11, 5, 59, 59)):
            board = supervision.board(s, hotline.live.agents(), now, TZ, DAY_START, 30)
            assert board.day == dt.date(2026, 3, 10)
            rules = supervision.rules_of(board.queues)
            held = [c.facts for c in board.calls]
            for base, period in (
                (board.base_day, board.day_period),
                (board.base_interval, board.interval),
            ):
                live = fg.sums_by_queue(held, period, rules)
                for q, sums in base.items():
                    live.setdefault(q, Sums()).add(sums)
                assert live == supervision.recomputed(s, period), (now, period)
            # what the page follows one by one: the last hour, the open and unwrapped calls
            hour = fg.sliding_hour(now.timestamp())
            for c in held:
                assert c.arrived_at >= hour.start or not c.final
            assert fg.sums_by_queue(held, hour, rules) == {
                q: x for q, x in supervision.recomputed(s, hour).items() if x.offered or x.handled
            }


def test_a_call_moves_its_figures_as_its_record_changes() -> None:
    rule = fg.QueueRule(service_level_s=20, ring_timeout_s=15)
    waiting = CallFacts("c", 1, None, "inbound", False, arrived_at=100.0)
    assert fg.contribution(waiting, rule) == Sums(offered=1, waiting=1)
    answered = CallFacts(
        "c", 1, 7, "inbound", False, 100.0, answered_at=120.0, wait_s=20.0, ring_s=15.0
    )
    assert fg.contribution(answered, rule) == Sums(
        offered=1, answered=1, within_sl=1, within_rings=1, wait_ms=20_000
    )
    assert not answered.final
    wrapped = CallFacts(
        "c", 1, 7, "inbound", False, 100.0, 120.0, 150.0, 160.0, 20.0, 15.0, 30.0, 10.0, "x"
    )
    assert wrapped.final
    assert fg.contribution(wrapped, rule).handle_ms == 40_000
    assert fg.ms(0.0005) == 1 and fg.ms(None) == 0


def test_interval_bounds_follow_local_time() -> None:
    p = fg.interval_period(at(11, 0, 44, 10), TZ, 30)
    assert (p.start, p.end) == (at(11, 0, 30).timestamp(), at(11, 1).timestamp())
    p = fg.interval_period(at(11, 0, 44, 10), "Asia/Kolkata", 15)  # a +05:30 zone
    local = dt.datetime.fromtimestamp(p.start, ZoneInfo("Asia/Kolkata"))
    assert local.minute % 15 == 0 and p.end - p.start == 900


def test_handled_and_missed_count_by_shift_day(hotline: Hotline) -> None:
    _late_shift(hotline)
    with hotline.sessions.begin() as s:
        _, _, a1, a2 = _ids(s)
        for when, reason in (
            (at(10, 23, 0), "missed"),
            (at(11, 1, 0), "missed"),
            (at(11, 7, 0), "missed"),
        ):
            s.add(AgentStateLog(agent_id=a1, at=when, state="not_ready", reason=reason))
        s.add(AgentStateLog(agent_id=a2, at=at(11, 1, 0), state="not_ready", reason="break"))
    day = fg.shift_day_period(dt.date(2026, 3, 10), TZ, DAY_START)
    with hotline.sessions() as s:
        assert supervision.missed_counts(s, day) == {a1: 2}
        # agent1: s1, s4, the continuation; agent2: s3 and her outbound call
        assert supervision.handled_counts(s, day) == {a1: 3, a2: 2}
        rows = supervision.agent_rows(
            s, [AgentLive(a1, "on_call", call_id="x")], day, at(11, 0, 59), TZ
        )
    mine = next(r for r in rows if r.agent_id == a1)
    assert (mine.handled, mine.missed, mine.live.state) == (3, 2, "on_call")
    assert all(r.live.state == "offline" for r in rows if r.agent_id != a1)
