"""Wire shapes of the supervisor's picture: the snapshot and the call facts its deltas carry.
Times are epoch seconds (the browser's figures.js works in them), days ISO dates."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from console.supervision import figures as fg
from console.supervision.services import AgentRow, Board, LiveCall

SNAPSHOT = "supervision_snapshot"  # the Socket.IO event, and the ack's payload
CALLS = "supervision_calls"  # the delta: facts of calls as their records hold them now


def call_dict(c: LiveCall) -> dict[str, Any]:
    """One call: its facts (figures.CallFacts), number and customer."""
    return dataclasses.asdict(c.facts) | {"caller_number": c.caller_number, "customer": c.customer}


def calls_dict(calls: Iterable[LiveCall]) -> dict[str, Any]:
    """The `supervision_calls` delta."""
    return {"calls": [call_dict(c) for c in calls]}


def sums_dict(by_queue: Mapping[int | None, fg.Sums]) -> dict[str, dict[str, int]]:
    """Sums by queue id ("none": calls without a queue)."""
    return {fg.queue_key(q): s.as_dict() for q, s in by_queue.items()}


def figures_dict(sums: fg.Sums) -> dict[str, Any]:
    """Counts with their rates and averages."""
    f = fg.figures(sums)
    return sums.as_dict() | {
        "abandon_rate": f.abandon_rate,
        "service_level": f.service_level,
        "asa_s": f.asa_s,
        "aht_s": f.aht_s,
        "three_rings": f.three_rings,
    }


def period_dict(p: fg.Period) -> dict[str, float]:
    return {"start": p.start, "end": p.end}


def agent_dict(a: AgentRow) -> dict[str, Any]:
    """One agent of the grid."""
    return {
        "agent_id": a.agent_id,
        "name": a.name,
        "username": a.username,
        "skills": list(a.skills),
        "state": a.live.state,
        "reason": a.live.reason,
        "since": a.live.since,
        "call_id": a.live.call_id,
        "handled": a.handled,
        "missed": a.missed,
        "clocked_in": a.clocked_in,
        "clocked_in_since": a.clocked_in_since.timestamp() if a.clocked_in_since else None,
        "shift": {
            "code": a.shift.template_code,
            "start": a.shift.start.timestamp(),
            "end": a.shift.end.timestamp(),
        }
        if a.shift is not None
        else None,
        "in_adherence": a.in_adherence,
        "adherence": a.adherence,
    }


def snapshot_dict(b: Board) -> dict[str, Any]:
    """The full picture (services.board): the page replaces everything it holds with it."""
    return {
        "at": b.at.timestamp(),
        "day": b.day.isoformat(),
        "day_start_hour": b.day_start_hour,
        "interval_min": b.interval_min,
        "periods": {"day": period_dict(b.day_period), "interval": period_dict(b.interval)},
        "queues": [
            {
                "id": q.id,
                "name": q.name,
                "skill": q.skill,
                "service_level_s": q.rule.service_level_s,
                "ring_timeout_s": q.rule.ring_timeout_s,
            }
            for q in b.queues
        ],
        "base": {"day": sums_dict(b.base_day), "interval": sums_dict(b.base_interval)},
        "calls": [call_dict(c) for c in b.calls],
        "agents": [agent_dict(a) for a in b.agents],
    }
