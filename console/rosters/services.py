"""Rosters in the console: draft, solve in the background, edit with re-validation, publish
(no Flask).

The roster engine (`roster/`) is pure; this module feeds it the stored agents, templates, rules,
approved leave and forecast, stores its result, and re-validates every manual change with the
same validator the solver is tested against.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.core.errors import DomainError
from console.core.models import (
    Agent,
    Queue,
    RosterDuty,
    RosterPlan,
    RosterShift,
    ShiftTemplateRow,
    User,
    utcnow,
)
from console.forecasts import services as forecasts
from console.workforce import services as workforce
from roster import model as rm
from roster.breaks import place_breaks
from roster.coverage import Gap, find_gaps
from roster.erlang import StaffingRow
from roster.rules import validate
from roster.seats import SeatPlanError, assign_seats
from roster.solver import RosterSolver, SolveResult

log = logging.getLogger(__name__)

MAX_WEEKS = 6
MAX_TIME_LIMIT_S = 600
CLEANING = "cleaning"
EDITABLE = ("draft", "solved", "failed")
MAX_EXPLANATIONS = 300


@dataclass
class Problem:
    """Everything the engine needs for one roster, and the ids to map results back."""

    horizon: rm.Horizon
    site: rm.Site
    rules: rm.Rules
    templates: dict[str, rm.ShiftTemplate]  # the active ones: what a solve may assign
    agents: list[rm.Agent]
    requirement: rm.Requirement
    duties: dict[str, str]
    open_from: dt.time | None
    open_to: dt.time | None
    names: dict[str, str]
    # Retired templates, which shifts before the roster may still name (carry-over).
    retired: dict[str, rm.ShiftTemplate] = field(default_factory=dict)
    # No break this close to either end of a shift (a workforce setting).
    break_edge: dt.timedelta = dt.timedelta(minutes=120)

    @property
    def every_template(self) -> dict[str, rm.ShiftTemplate]:
        """Active and retired: what stored shifts may name (validation, seats, coverage)."""
        return {**self.retired, **self.templates}


def get_plan(session: Session, roster_id: int) -> RosterPlan:
    plan = session.get(RosterPlan, roster_id)
    if plan is None:
        raise DomainError("not-found")
    return plan


def horizon_of(plan: RosterPlan) -> rm.Horizon:
    return rm.Horizon(plan.start, plan.days)


def create(session: Session, data: dict[str, Any], user_id: int | None) -> RosterPlan:
    """A new draft roster of 1–6 weeks from a start day."""
    try:
        start = dt.date.fromisoformat(str(data.get("start", "")))
    except ValueError:
        raise DomainError("invalid-input", "start: YYYY-MM-DD expected") from None
    weeks = data.get("weeks", 4)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise DomainError("invalid-input", f"weeks must be 1 to {MAX_WEEKS}")
    limit = data.get("time_limit_s", 60)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 5 <= limit <= MAX_TIME_LIMIT_S:
        raise DomainError("invalid-input", f"time_limit_s must be 5 to {MAX_TIME_LIMIT_S}")
    name = data.get("name") or f"{start.isoformat()} +{weeks}w"
    if not isinstance(name, str) or len(name) > 64:
        raise DomainError("invalid-input", "name: at most 64 characters")
    plan = RosterPlan(
        start=start,
        days=7 * weeks,
        name=name.strip(),
        status="draft",
        created_by=user_id,
        time_limit_s=limit,
        progress={},
        result={},
        violations=[],
        error="",
    )
    session.add(plan)
    session.flush()
    return plan


# ---- inputs ------------------------------------------------------------------------------


def _requirement(session: Session, horizon: rm.Horizon, tz: str) -> rm.Requirement:
    """Agents to roster per interval and queue skill, from each queue's stored forecast."""
    since = dt.datetime.combine(horizon.start, dt.time(0), tzinfo=rm.zone(tz)).astimezone(dt.UTC)
    last = horizon.start + dt.timedelta(days=horizon.days)
    until = dt.datetime.combine(last, dt.time(0), tzinfo=rm.zone(tz)).astimezone(dt.UTC)
    per_queue: list[tuple[str, int, list[StaffingRow]]] = []
    for q in session.scalars(select(Queue).order_by(Queue.id)):
        table = forecasts.table(session, q.id, since, until)
        if table.sized:
            per_queue.append((q.skill, table.settings.interval_min, table.sized))
    step = max((m for _, m, _ in per_queue), default=30)
    needed: dict[dt.datetime, dict[str, int]] = defaultdict(dict)
    for skill, _, rows in per_queue:
        for r in rows:
            at = r.start
            # Align finer intervals on the coarsest grid; the busier sub-interval decides.
            offset = int((at - since).total_seconds() // 60) // step * step
            slot = since + dt.timedelta(minutes=offset)
            needed[slot][skill] = max(needed[slot].get(skill, 0), int(r.agents_with_shrinkage))
    return rm.Requirement(step, {k: v for k, v in needed.items() if any(v.values())})


def problem(session: Session, plan: RosterPlan, tz: str) -> Problem:
    """The engine's inputs for a roster, read from the database."""
    horizon = horizon_of(plan)
    last = plan.start + dt.timedelta(days=plan.days - 1)
    cfg = workforce.settings_row(session)
    leave = workforce.approved_leave(session, plan.start, last)
    # The published shifts just before this roster: rest, runs and the first week carry over.
    lookback = plan.start - dt.timedelta(days=cfg.max_consecutive_days + 1)
    before: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for ps in workforce.published_shifts(session, lookback, plan.start - dt.timedelta(days=1), tz):
        before[ps.agent_id].append((ps.day, ps.template_code))
    agents: list[rm.Agent] = []
    names: dict[str, str] = {}
    for a, u in workforce.roster_agents(session):
        agents.append(
            workforce.engine_agent(
                a, frozenset(leave.get(a.id, set())), tuple(before.get(a.id, ()))
            )
        )
        names[str(a.id)] = u.display_name or u.username
    stored = workforce.templates(session)
    tmap = {t.code: workforce.engine_template(t) for t in stored}
    active = {t.code for t in stored if t.active}
    duties = {CLEANING: cfg.cleaning_template} if cfg.cleaning_template else {}
    return Problem(
        horizon=horizon,
        site=workforce.engine_site(cfg, tz),
        rules=workforce.engine_rules(cfg, horizon),
        templates={c: t for c, t in tmap.items() if c in active},
        agents=agents,
        requirement=_requirement(session, horizon, tz),
        duties=duties,
        open_from=cfg.open_from,
        open_to=cfg.open_to,
        names=names,
        retired={c: t for c, t in tmap.items() if c not in active},
        break_edge=dt.timedelta(minutes=cfg.break_edge_min),
    )


def stored_roster(session: Session, plan: RosterPlan) -> rm.Roster:
    """The roster's current assignments as the engine's Roster."""
    assignments: dict[str, dict[dt.date, str | None]] = defaultdict(dict)
    queues: dict[str, dict[dt.date, str]] = defaultdict(dict)
    for s in session.scalars(select(RosterShift).where(RosterShift.roster_id == plan.id)):
        assignments[str(s.agent_id)][s.day] = s.template_code
        if s.queue_skill:
            queues[str(s.agent_id)][s.day] = s.queue_skill
    duties: dict[str, dict[dt.date, str]] = defaultdict(dict)
    for d in session.scalars(select(RosterDuty).where(RosterDuty.roster_id == plan.id)):
        duties[d.duty][d.day] = str(d.agent_id)
    return rm.Roster(dict(assignments), dict(queues), dict(duties))


def stored_violations(violations: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Hard-rule violations as the plan's (and a swap request's) JSON column keeps them: rule
    id and fields, no words (schemas.violations words them for the reader)."""
    return [
        {
            "rule": v.rule_id,
            "agent_id": int(v.agent_id),
            "agent": names.get(v.agent_id, v.agent_id),
            "day": v.day.isoformat(),
            "params": dict(v.params),
        }
        for v in violations
    ]


def revalidate(session: Session, plan: RosterPlan, tz: str) -> list[dict[str, Any]]:
    """Check the stored roster against every hard rule and keep the result on the plan."""
    p = problem(session, plan, tz)
    tmap = p.every_template  # retired templates still count for shifts that name them
    roster = stored_roster(session, plan)
    found = validate(roster, p.agents, tmap, p.rules, p.site, p.horizon)
    plan.violations = stored_violations(found, p.names) + _inactive(session, roster, p)
    _seats_and_breaks(session, plan, roster, p, tmap)
    plan.updated_at = utcnow()
    session.flush()
    return plan.violations


def _inactive(session: Session, roster: rm.Roster, p: Problem) -> list[dict[str, Any]]:
    """Shifts of agents who left (deactivated) since they were rostered: to be reassigned."""
    out: list[dict[str, Any]] = []
    for agent_id, days in roster.assignments.items():
        if agent_id in p.names:
            continue
        name = agent_name(session, int(agent_id))
        for day, code in sorted(days.items()):
            if code is not None:
                out.append(
                    {
                        "rule": "agent-inactive",
                        "agent_id": int(agent_id),
                        "agent": name,
                        "day": day.isoformat(),
                        "params": {"name": name, "code": code},
                    }
                )
    return out


def _seats_and_breaks(
    session: Session,
    plan: RosterPlan,
    roster: rm.Roster,
    p: Problem,
    tmap: dict[str, rm.ShiftTemplate],
) -> None:
    """Give every on-site shift a workstation (keeping the seats people already had) and place
    every break where the queue can best spare the agent."""
    rows = list(session.scalars(select(RosterShift).where(RosterShift.roster_id == plan.id)))
    breaks = place_breaks(roster, p.agents, tmap, p.site, p.horizon, p.requirement, p.break_edge)
    for r in rows:
        r.break_start = breaks.get((str(r.agent_id), r.day))
    previous = {(str(r.agent_id), r.day): r.seat for r in rows if r.seat is not None}
    try:
        seats = assign_seats(roster, p.agents, tmap, p.site, p.horizon, previous)
    except SeatPlanError:
        seats = None  # the seat-limit violation is listed; seats follow once it is fixed
    if seats is not None:
        for r in rows:
            r.seat = seats.get((str(r.agent_id), r.day))
    session.flush()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def make_solver(p: Problem) -> RosterSolver:
    return RosterSolver(
        p.agents,
        list(p.templates.values()),
        p.rules,
        p.site,
        p.horizon,
        p.requirement,
        duties=p.duties,
        retired=list(p.retired.values()),
    )


def store_result(
    session: Session, plan: RosterPlan, result: SolveResult, p: Problem, tz: str
) -> None:
    """Keep a finished solve on the plan: its roster, figures and explanations, re-validated."""
    if result.roster is None:
        plan.status = "failed"
        plan.error = f"solver status {result.status}: no roster meets every hard rule"
    else:
        _store_roster(session, plan, result.roster)
        plan.status = "solved"
        plan.result = {
            "status": result.status,
            "objective": result.objective,
            "lower_bound": result.lower_bound,
            "lp_bound": _finite(result.lp_bound),
            "gap_pct": _finite(result.gap_pct),
            "understaffed": result.understaffed,
            "overstaffed": result.overstaffed,
            "required": p.requirement.total(),
            "first_feasible_s": result.first_feasible_s,
            "wall_s": round(result.wall_s, 2),
            "explanations": [
                {
                    "start": e.start.isoformat(),
                    "skill": e.skill,
                    "missing": e.missing,
                    "reason": e.reason,
                    "local": e.local,
                    "blocked_by": dict(e.blocked_by),
                }
                for e in result.explanations[:MAX_EXPLANATIONS]
            ],
            "explanations_total": len(result.explanations),
        }
        revalidate(session, plan, tz)
    plan.progress = {**(plan.progress or {}), "done": True}
    plan.updated_at = utcnow()


def solve_now(session: Session, plan: RosterPlan, tz: str) -> RosterPlan:
    """Solve in the caller's thread and transaction (demo data, the CLI); same result as the
    page."""
    p = problem(session, plan, tz)
    store_result(session, plan, make_solver(p).solve(time_limit_s=plan.time_limit_s), p, tz)
    return plan


def _store_roster(session: Session, plan: RosterPlan, roster: rm.Roster) -> None:
    """Replace the plan's shifts and duties with the solver's roster."""
    session.execute(delete(RosterShift).where(RosterShift.roster_id == plan.id))
    session.execute(delete(RosterDuty).where(RosterDuty.roster_id == plan.id))
    for agent_id, days in roster.assignments.items():
        for day, code in days.items():
            if code is not None:
                queue = roster.queues.get(agent_id, {}).get(day, "")
                session.add(
                    RosterShift(
                        roster_id=plan.id,
                        agent_id=int(agent_id),
                        day=day,
                        template_code=code,
                        queue_skill=queue,
                    )
                )
    for duty, per_day in roster.duties.items():
        for day, agent_id in per_day.items():
            session.add(RosterDuty(roster_id=plan.id, duty=duty, day=day, agent_id=int(agent_id)))
    session.flush()


# ---- manual edits and publishing ------------------------------------------------------------


def edit_shift(
    session: Session, plan: RosterPlan, tz: str, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """Set or clear one agent's shift on one day, then re-validate the whole roster."""
    if plan.status not in EDITABLE:
        raise DomainError("roster-not-editable", plan.status)
    agent_id = data.get("agent_id")
    if (
        isinstance(agent_id, bool)
        or not isinstance(agent_id, int)
        or session.get(Agent, agent_id) is None
    ):
        raise DomainError("invalid-input", "agent_id: unknown agent")
    active = {a.id for a, _ in workforce.roster_agents(session)}
    if agent_id not in active and data.get("template_code") is not None:
        raise DomainError("invalid-input", "agent_id: the agent is not active")
    try:
        day = dt.date.fromisoformat(str(data.get("day", "")))
    except ValueError:
        raise DomainError("invalid-input", "day: YYYY-MM-DD expected") from None
    if day not in horizon_of(plan):
        raise DomainError("invalid-input", "day is outside the roster")
    code = data.get("template_code")
    queue = data.get("queue_skill") or ""
    if code is not None:
        known = {t.code: t for t in workforce.templates(session, active_only=True)}
        if code not in known:
            raise DomainError("invalid-input", f"template_code: no active shift template {code}")
        agent = session.get(Agent, agent_id)
        assert agent is not None
        if not isinstance(queue, str):
            raise DomainError("invalid-input", "queue_skill must be a skill name")
        if not queue:
            # The agent's first skill the template serves; the validator checks the choice.
            skills = known[code].skills or set(agent.skills or [])
            queue = next((s for s in agent.skills or [] if s in skills), "")
    row = session.scalar(
        select(RosterShift).where(
            RosterShift.roster_id == plan.id,
            RosterShift.agent_id == agent_id,
            RosterShift.day == day,
        )
    )
    if code is None:
        if row is not None:
            session.delete(row)
            session.execute(
                delete(RosterDuty).where(
                    RosterDuty.roster_id == plan.id,
                    RosterDuty.day == day,
                    RosterDuty.agent_id == agent_id,
                )
            )
    elif row is None:
        session.add(
            RosterShift(
                roster_id=plan.id,
                agent_id=agent_id,
                day=day,
                template_code=code,
                queue_skill=queue,
                edited=True,
            )
        )
    else:
        row.template_code, row.queue_skill, row.edited = code, queue, True
    session.flush()
    return revalidate(session, plan, tz)


def publish(session: Session, plan: RosterPlan, tz: str, user_id: int | None) -> RosterPlan:
    """Publish a roster that breaks no hard rule; it is then in force for its days."""
    if plan.status not in ("solved", "draft"):
        raise DomainError("roster-not-editable", plan.status)
    # Days already begun are history (worked shifts, attendance, handovers): a roster may only
    # take effect from today on, in the centre's zone.
    today = workforce.local_day(dt.datetime.now(dt.UTC), tz)
    if plan.start < today:
        raise DomainError("roster-starts-in-past", plan.start.isoformat())
    has_shifts = session.scalar(
        select(RosterShift.id).where(RosterShift.roster_id == plan.id).limit(1)
    )
    if has_shifts is None:
        raise DomainError("roster-empty")
    violations = revalidate(session, plan, tz)
    if violations:
        raise DomainError("roster-violations", str(len(violations)))
    plan.status = "published"
    plan.published_at = utcnow()
    plan.published_by = user_id
    session.flush()
    return plan


# ---- reading -------------------------------------------------------------------------------


def list_plans(session: Session) -> list[RosterPlan]:
    """The latest rosters, newest first (schemas.plan_summary)."""
    return list(
        session.scalars(
            select(RosterPlan).order_by(RosterPlan.start.desc(), RosterPlan.id.desc()).limit(100)
        )
    )


@dataclass(frozen=True)
class GridAgent:
    """One row of the roster grid: the agent, her approved leave days, her shifts by day
    (in the order stored) and their paid hours; `active` False once she left."""

    agent: Agent
    user: User
    leave: list[dt.date]
    shifts: dict[dt.date, RosterShift]
    hours: float
    active: bool


@dataclass(frozen=True)
class PlanDetail:
    """The roster grid: the plan, its days, every shift template, agents × days, the duties."""

    plan: RosterPlan
    days: list[dt.date]
    templates: list[ShiftTemplateRow]
    agents: list[GridAgent]
    duties: list[RosterDuty]
    running: bool


def plan_detail(session: Session, plan: RosterPlan, tz: str, running: bool) -> PlanDetail:
    """The roster grid: agents × days, with progress, result, violations and coverage."""
    # Read on every poll while a roster solves: only what the grid shows, not the whole
    # problem (the forecast's staffing table, the previous roster).
    horizon = horizon_of(plan)
    leave_of = workforce.approved_leave(
        session, plan.start, plan.start + dt.timedelta(days=plan.days - 1)
    )
    stored = workforce.templates(session)
    active = {t.code: workforce.engine_template(t) for t in stored if t.active}
    shifts = list(session.scalars(select(RosterShift).where(RosterShift.roster_id == plan.id)))
    by_agent: dict[int, dict[dt.date, RosterShift]] = defaultdict(dict)
    for s in shifts:
        by_agent[s.agent_id][s.day] = s
    duties = list(
        session.scalars(
            select(RosterDuty).where(RosterDuty.roster_id == plan.id).order_by(RosterDuty.day)
        )
    )
    agents = []
    listed = workforce.roster_agents(session)
    # Agents deactivated since they were rostered keep their row until their shifts are moved.
    gone = sorted(set(by_agent) - {a.id for a, _ in listed})
    if gone:
        listed += list(
            session.execute(
                select(Agent, User).join(User, Agent.user_id == User.id).where(Agent.id.in_(gone))
            ).tuples()
        )
    for a, u in listed:
        cells = by_agent.get(a.id, {})
        hours = sum(
            active[c.template_code].paid_minutes(day, tz) / 60
            for day, c in cells.items()
            if c.template_code in active
        )
        agents.append(
            GridAgent(
                agent=a,
                user=u,
                leave=sorted(leave_of.get(a.id, set())),
                shifts=cells,
                hours=round(hours, 2),
                active=a.id not in gone,
            )
        )
    return PlanDetail(plan, list(horizon.dates()), stored, agents, duties, running)


@dataclass(frozen=True)
class Coverage:
    """Required vs scheduled agents per interval (start, required, scheduled), the
    sealed-coverage gaps and the opening hours they were looked for in."""

    interval_min: int
    rows: list[tuple[dt.datetime, int, int]]
    gaps: list[Gap]
    open_from: dt.time | None
    open_to: dt.time | None


def coverage(session: Session, plan: RosterPlan, tz: str) -> Coverage:
    """Required vs scheduled agents per interval (all queues), and sealed-coverage gaps."""
    p = problem(session, plan, tz)
    roster = stored_roster(session, plan)
    tmap = p.every_template
    step = dt.timedelta(minutes=p.requirement.interval_min)
    spans: list[tuple[dt.datetime, dt.datetime, str]] = []
    for agent_id, days in roster.assignments.items():
        for day, code in days.items():
            t = tmap.get(code) if code else None
            if t is not None:
                span = t.span(day, tz)
                spans.append((span.start, span.end, roster.queues.get(agent_id, {}).get(day, "")))
    # Agents on their planned break are not on the phones.
    away = [
        (r.break_start, r.break_start + dt.timedelta(minutes=tmap[r.template_code].break_min))
        for r in session.scalars(
            select(RosterShift).where(
                RosterShift.roster_id == plan.id, RosterShift.break_start.is_not(None)
            )
        )
        if r.template_code in tmap and r.break_start is not None
    ]
    first = dt.datetime.combine(plan.start, dt.time(0), tzinfo=rm.zone(tz)).astimezone(dt.UTC)
    end = dt.datetime.combine(
        plan.start + dt.timedelta(days=plan.days), dt.time(0), tzinfo=rm.zone(tz)
    ).astimezone(dt.UTC)
    # One pass with a difference array: +1 where an agent starts counting, -1 where she stops.
    n = int((end - first) / step)
    diff = [0] * (n + 1)

    def add(lo: int, hi: int, delta: int) -> None:
        lo, hi = max(lo, 0), min(hi, n)
        if lo < hi:
            diff[lo] += delta
            diff[hi] -= delta

    for s_, e_, _ in spans:  # intervals lying wholly inside the shift
        add(math.ceil((s_ - first) / step), math.floor((e_ - first) / step), 1)
    for s_, e_ in away:  # intervals the break touches
        add(math.floor((s_ - first) / step), math.ceil((e_ - first) / step), -1)
    rows: list[tuple[dt.datetime, int, int]] = []
    staffed = 0
    for i in range(n):
        at = first + i * step
        staffed += diff[i]
        need = sum(p.requirement.needed.get(at, {}).values())
        rows.append((at, need, staffed))
    opening = (
        (p.open_from, p.open_to)
        if p.open_from is not None and p.open_to is not None
        else (dt.time(0), dt.time(0))
    )
    gaps = find_gaps(
        roster, tmap, p.site, p.horizon, opening[0], opening[1], p.requirement.interval_min
    )
    return Coverage(p.requirement.interval_min, rows, gaps, p.open_from, p.open_to)


def agent_name(session: Session, agent_id: int) -> str:
    row = session.execute(
        select(User).join(Agent, Agent.user_id == User.id).where(Agent.id == agent_id)
    ).scalar()
    return (row.display_name or row.username) if row else str(agent_id)


def rostered_agents(session: Session, roster_id: int) -> set[int]:
    """The agents with at least one shift in the roster (told when it is published)."""
    return set(
        session.scalars(select(RosterShift.agent_id).where(RosterShift.roster_id == roster_id))
    )
