"""CP-SAT roster solver: hard rules as constraints, staffing and fairness as a weighted objective.

Modelling choices (why the model is shaped like this):

* Decision variables x[a, d, t, s] = agent a works template t on day d serving queue s. Only
  combinations allowed by leave, availability, contract flags and skills get a variable at all,
  so those rules cost nothing in the search.
* Coverage is aggregated: an integer n[d, t, s] = sum_a x[a, d, t, s] per (day, template, queue)
  carries every coverage and seat constraint. The interval constraints then have a handful of
  terms instead of hundreds of agents, which keeps CP-SAT's LP relaxation small and tight.
* Rest between shifts is precomputed per (day, template) pair with real DST-aware spans and
  posted as clique-style constraints x[a,d,t] + sum_{t' forbidden after t} x[a,d+k,t'] <= 1.
* Identical agents (same skills, limits, leave, availability) are ordered lexicographically by
  (template on the first day, number of shifts): any roster can be permuted to satisfy that, so
  it only removes symmetric copies of solutions.
* A greedy chronological roster, feasible by construction, is given as a complete hint, so the
  first feasible roster arrives right after presolve.
* Objective: weighted sum with big weights (Rules.weight_under >> weight_over >> fairness
  weights), not a strict lexicographic order. With the defaults (1000/10/1) one understaffed
  agent-interval outweighs 100 overstaffed ones, which is lexicographic in practice.
  Fairness = the largest number of late shifts of any agent plus the largest number of weekend
  shifts: minimising the maximum spreads them evenly and, unlike max - min, never pays for
  a useless extra shift.
* The LP relaxation is solved first; its fractional shift counts per (day, template, queue),
  rounded, are quotas for the greedy, which fills them chronologically while pacing each
  agent's weekly hours. That hint is usually within 1 % of the bound.
* Lower bound: max(CP-SAT's best objective bound, an LP relaxation of an aggregated model
  solved with GLOP). The LP bounds the staffing part (under + over) only, which is also a
  valid bound on the full objective because the fairness terms are >= 0.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from roster.model import (
    Agent,
    Horizon,
    Requirement,
    Roster,
    Rules,
    ShiftTemplate,
    Site,
    zone,
)
from roster.rules import (
    local_midnight_utc,
    months_of,
    required_rest_days,
    rest_hours,
    template_block,
    week_of,
)

Key = tuple[int, int, int, int]  # (agent, day, template, skill) indexes

# Why an understaffed interval could not be covered: a rule id (rules.RULE_IDS) or one of these.
# The console words them in the reader's language (catalog keys "explain.<reason>").
REASONS: tuple[str, ...] = (
    "skill",
    "seat-limit",
    "leave",
    "availability",
    "max-hours-week",
    "min-rest",
    "max-consecutive-days",
    "rest-days-month",
    "max-late-week",
    "assigned-elsewhere",
    "no-shift",
    "all-working",
    "none",
)


@dataclass(frozen=True)
class Progress:
    """A progress report sent on every improved solution."""

    elapsed_s: float
    objective: float
    best_bound: float
    solutions: int


@dataclass(frozen=True)
class UnderstaffedInterval:
    """One understaffed (interval, queue) and the rule that blocks covering it."""

    start: dt.datetime  # aware UTC
    skill: str
    missing: int
    reason: str  # one of REASONS
    blocked_by: Mapping[str, int]  # candidate agents per blocking reason, most frequent first
    local: str  # the interval's start in the site's time zone, "YYYY-MM-DD HH:MM"


@dataclass
class SolveResult:
    """Outcome of a solve: roster, objective parts, bounds and explanations."""

    status: str
    roster: Roster | None
    objective: float | None
    parts: dict[str, int] = field(default_factory=dict)
    understaffed: int = 0  # agent-intervals short
    overstaffed: int = 0  # agent-intervals above requirement
    lower_bound: float = 0.0
    cp_sat_bound: float = 0.0
    lp_bound: float | None = None
    gap_pct: float | None = None
    first_feasible_s: float | None = None
    wall_s: float = 0.0
    hint_objective: float | None = None
    explanations: list[UnderstaffedInterval] = field(default_factory=list)


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(
        self, t0: float, progress: Callable[[Progress], None] | None, stop: threading.Event
    ) -> None:
        super().__init__()
        self.t0 = t0
        self.progress = progress
        self.stop = stop
        self.first: float | None = None
        self.count = 0

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.t0
        self.count += 1
        if self.first is None:
            self.first = now
        if self.progress is not None:
            self.progress(
                Progress(now, self.objective_value, self.best_objective_bound, self.count)
            )
        if self.stop.is_set():
            self.stop_search()


class RosterSolver:
    """Builds a 1–6 week roster for one site with CP-SAT."""

    def __init__(
        self,
        agents: Sequence[Agent],
        templates: Sequence[ShiftTemplate],
        rules: Rules,
        site: Site,
        horizon: Horizon,
        requirement: Requirement,
        duties: Mapping[str, str] | None = None,
        workers: int = 2,
        symmetry_breaking: bool = True,
        greedy_hint: bool = True,
        lp_bound: bool = True,
        retired: Sequence[ShiftTemplate] = (),
    ) -> None:
        if not 1 <= horizon.days <= 42:
            raise ValueError("horizon must be 1 to 42 days")
        self.agents = [a for a in agents if a.site == site.id]
        self.templates = list(templates)
        self.tmap = {t.code: t for t in self.templates}
        # Templates no longer assigned that shifts worked before the horizon may still name:
        # their rest, runs and hours carry over like any other.
        self.worked_tmap = {**{t.code: t for t in retired}, **self.tmap}
        self.rules = rules
        self.site = site
        self.horizon = horizon
        self.requirement = requirement
        # duty name -> template code whose workers share the duty (e.g. cleaning before early).
        self.duties = dict(duties or {})
        self.workers = workers
        self.symmetry_breaking = symmetry_breaking
        self.greedy_hint = greedy_hint
        self.use_lp = lp_bound
        self._stop = threading.Event()
        self._cp: cp_model.CpSolver | None = None
        self._cp_lock = threading.Lock()
        self.lp_counts: dict[tuple[int, int, int], float] = {}
        self._prepare()

    def cancel(self) -> None:
        """Stop a running solve now; it returns the best roster found so far (thread-safe)."""
        with self._cp_lock:
            self._stop.set()
            if self._cp is not None:
                # Interrupts the search wherever it is, also while it is proving a bound and
                # finds no new solution that the callback could stop at.
                self._cp.stop_search()

    # ---- precomputation -------------------------------------------------------------------

    def _prepare(self) -> None:
        tz = self.site.tz
        self.days = self.horizon.dates()
        self.skills = sorted(self.requirement.skills())
        nd, nt = len(self.days), len(self.templates)
        self.span = {
            (d, t): self.templates[t].span(self.days[d], tz) for d in range(nd) for t in range(nt)
        }
        self.paid = {
            (d, t): self.templates[t].paid_minutes(self.days[d], tz)
            for d in range(nd)
            for t in range(nt)
        }
        step = dt.timedelta(minutes=self.requirement.interval_min)
        # Requirement rows: (start, skill) -> needed; coverage = interval fully inside the shift.
        self.req: dict[tuple[dt.datetime, int], int] = {}
        for at, per in self.requirement.needed.items():
            for skill_name, count in per.items():
                self.req[(at.astimezone(dt.UTC), self.skills.index(skill_name))] = count
        self.covering: dict[tuple[dt.datetime, int], list[tuple[int, int]]] = defaultdict(list)
        for at, s in self.req:
            for (d, t), sp in self.span.items():
                if (
                    sp.start <= at
                    and at + step <= sp.end
                    and self.templates[t].serves(self.skills[s])
                ):
                    self.covering[(at, s)].append((d, t))
        # Seat cells: a grid from local midnight of the first day; a shift holds a seat in every
        # cell it overlaps (conservative when a shift boundary is off the grid).
        base = local_midnight_utc(self.days[0], tz)
        self.seat_cells: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for (d, t), sp in self.span.items():
            if not self.templates[t].on_site:
                continue
            k0 = math.floor((sp.start - base) / step)
            k1 = math.ceil((sp.end - base) / step)
            for k in range(k0, k1):
                self.seat_cells[k].append((d, t))
        self.cell_base, self.cell_step = base, step
        # Forbidden follow-ups for the rest rule, with real spans so DST nights are exact.
        self.forbidden: dict[tuple[int, int, int], list[int]] = {}
        for d in range(nd):
            for k in (1, 2):
                if d + k >= nd:
                    continue
                for t in range(nt):
                    bad = [
                        u
                        for u in range(nt)
                        if rest_hours(self.span[(d, t)], self.span[(d + k, u)])
                        < self.rules.min_rest_h
                    ]
                    if bad:
                        self.forbidden[(d, k, t)] = bad
        self.week_days: dict[dt.date, list[int]] = defaultdict(list)
        for d, day in enumerate(self.days):
            self.week_days[week_of(day, self.rules.week_start)].append(d)
        self.month_days: dict[tuple[int, int], list[int]] = defaultdict(list)
        for d, day in enumerate(self.days):
            self.month_days[(day.year, day.month)].append(d)
        self.month_need = {
            m: required_rest_days(m[0], m[1], self.horizon, self.rules)
            for m in months_of(self.horizon)
        }
        # What each agent worked just before the horizon: the run of working days it ends,
        # the first week's hours and late shifts so far, and shifts the rest rule then forbids.
        self.prior_run = [a.run_before(self.horizon.start) for a in self.agents]
        self.week_prior: Counter[tuple[int, dt.date]] = Counter()
        self.week_prior_late: Counter[tuple[int, dt.date]] = Counter()
        rest_block: set[tuple[int, int, int]] = set()
        for a, agent in enumerate(self.agents):
            for pday, code in agent.before(self.horizon.start).items():
                ptpl = self.worked_tmap.get(code)
                if ptpl is None:
                    continue
                wk = week_of(pday, self.rules.week_start)
                if wk in self.week_days:
                    self.week_prior[(a, wk)] += ptpl.paid_minutes(pday, tz)
                    self.week_prior_late[(a, wk)] += int(ptpl.late)
                pspan = ptpl.span(pday, tz)
                for d in range(min(2, nd)):
                    if 1 <= (self.days[d] - pday).days <= 2:
                        for t in range(nt):
                            if rest_hours(pspan, self.span[(d, t)]) < self.rules.min_rest_h:
                                rest_block.add((a, d, t))
        # Allowed (agent, day, template, skill) combinations.
        self.keys: list[Key] = []
        self.block: dict[tuple[int, int, int], tuple[str, str]] = {}
        for a, agent in enumerate(self.agents):
            for d, day in enumerate(self.days):
                for t, tpl in enumerate(self.templates):
                    b = template_block(agent, tpl, day, self.site)
                    if b is None and (a, d, t) in rest_block:
                        b = ("min-rest", "after the previous roster")
                    if b is not None:
                        self.block[(a, d, t)] = b
                        continue
                    for si, skill in enumerate(self.skills):
                        if skill in agent.skills and tpl.serves(skill):
                            self.keys.append((a, d, t, si))
        self.limit_min = [
            int(min(a.max_hours_week, self.rules.max_hours_week) * 60) for a in self.agents
        ]

    # ---- model ------------------------------------------------------------------------------

    def _build(self) -> None:
        m = cp_model.CpModel()
        self.model = m
        x = {k: m.new_bool_var(f"x{k}") for k in self.keys}
        self.x = x
        by_ad: dict[tuple[int, int], list[Key]] = defaultdict(list)
        by_adt: dict[tuple[int, int, int], list[Key]] = defaultdict(list)
        by_dts: dict[tuple[int, int, int], list[Key]] = defaultdict(list)
        for k in self.keys:
            a, d, t, s = k
            by_ad[(a, d)].append(k)
            by_adt[(a, d, t)].append(k)
            by_dts[(d, t, s)].append(k)
        self.by_ad, self.by_adt, self.by_dts = by_ad, by_adt, by_dts
        rules = self.rules
        na, nd = len(self.agents), len(self.days)

        def works(a: int, d: int) -> list[cp_model.IntVar]:
            return [x[k] for k in by_ad.get((a, d), [])]

        for ks in by_ad.values():
            if len(ks) > 1:
                m.add_at_most_one(x[k] for k in ks)
        for a in range(na):
            for wk, days in self.week_days.items():
                hours = [(self.paid[(d, k[2])], x[k]) for d in days for k in by_ad.get((a, d), [])]
                cap = max(0, self.limit_min[a] - self.week_prior[(a, wk)])
                # At most one shift a day: skip rows that even the longest shifts cannot break.
                worst = sum(
                    max((self.paid[(d, k[2])] for k in by_ad.get((a, d), [])), default=0)
                    for d in days
                )
                if worst > cap:
                    m.add(sum(c * v for c, v in hours) <= cap)
                if rules.max_late_shifts_per_week is not None:
                    late_cap = max(
                        0, rules.max_late_shifts_per_week - self.week_prior_late[(a, wk)]
                    )
                    late = [
                        x[k]
                        for d in days
                        for k in by_ad.get((a, d), [])
                        if self.templates[k[2]].late
                    ]
                    if len(late) > late_cap:
                        m.add(sum(late) <= late_cap)
            for (d, gap, t), bad in self.forbidden.items():
                first = [x[q] for q in by_adt.get((a, d, t), [])]
                then = [x[q] for u in bad for q in by_adt.get((a, d + gap, u), [])]
                if first and then:
                    m.add(sum(first) + sum(then) <= 1)
            span = rules.max_consecutive_days + 1
            if self.prior_run[a]:
                # A run carried in from the previous roster needs a rest day soon enough.
                head = max(1, span - self.prior_run[a])
                window = [v for d in range(min(head, nd)) for v in works(a, d)]
                if len(window) > head - 1:
                    m.add(sum(window) <= head - 1)
            for d0 in range(nd - span + 1):
                window = [v for d in range(d0, d0 + span) for v in works(a, d)]
                if len(window) > rules.max_consecutive_days:
                    m.add(sum(window) <= rules.max_consecutive_days)
            for mon, days in self.month_days.items():
                cap = len(days) - self.month_need[mon]
                terms = [v for d in days for v in works(a, d)]
                if len(terms) > cap:
                    m.add(sum(terms) <= cap)

        # Aggregated counts per (day, template, skill) carry coverage and seats.
        n: dict[tuple[int, int, int], cp_model.IntVar] = {}
        n_hi: dict[tuple[int, int, int], int] = {}
        for key, ks in by_dts.items():
            n[key] = m.new_int_var(0, len(ks), f"n{key}")
            n_hi[key] = len(ks)
            m.add(n[key] == sum(x[k] for k in ks))
        self.n = n
        for dts in self.seat_cells.values():
            keys = [(d, t, s) for d, t in dts for s in range(len(self.skills)) if (d, t, s) in n]
            if sum(n_hi[k] for k in keys) > self.site.seats:
                m.add(sum(n[k] for k in keys) <= self.site.seats)
        self.under: dict[tuple[dt.datetime, int], cp_model.IntVar | int] = {}
        self.over: dict[tuple[dt.datetime, int], cp_model.IntVar | int] = {}
        for (at, s), need in self.req.items():
            keys = [(d, t, s) for d, t in self.covering.get((at, s), []) if (d, t, s) in n]
            terms = [n[k] for k in keys]
            if not terms:
                self.under[(at, s)] = need
                self.over[(at, s)] = 0
                continue
            hi = sum(n_hi[k] for k in keys)
            u = m.new_int_var(0, need, f"u{at:%m%d%H%M}_{s}")
            o = m.new_int_var(0, max(0, hi - need), f"o{at:%m%d%H%M}_{s}")
            m.add(sum(terms) - need == o - u)
            self.under[(at, s)], self.over[(at, s)] = u, o

        self.late_count: dict[int, cp_model.LinearExpr] = {}
        self.weekend_count: dict[int, cp_model.LinearExpr] = {}
        fair_terms = []
        fairness: tuple[tuple[str, Callable[[Key], bool], int], ...] = (
            ("late", lambda k: self.templates[k[2]].late, rules.weight_fair_late),
            ("weekend", lambda k: self.days[k[1]].weekday() >= 5, rules.weight_fair_weekend),
        )
        for name, pick, weight in fairness:
            per_agent: dict[int, list[cp_model.IntVar]] = defaultdict(list)
            for k in self.keys:
                if pick(k):
                    per_agent[k[0]].append(x[k])
            if weight <= 0 or len(per_agent) < 2:
                continue
            # Minimising the largest count spreads these shifts evenly; unlike max - min it never
            # rewards giving an extra, useless late or weekend shift to the agent with fewest.
            hi = max(len(v) for v in per_agent.values())
            top = m.new_int_var(0, hi, f"max_{name}")
            for vs in per_agent.values():
                m.add(sum(vs) <= top)
            fair_terms.append((weight, top, name))
        self.fair_terms = fair_terms

        if self.symmetry_breaking:
            self._break_symmetry()

        objective = (
            rules.weight_under * sum(self.under.values())
            + rules.weight_over * sum(self.over.values())
            + sum(w * top for w, top, _ in fair_terms)
        )
        m.minimize(objective)

    def _signature(self, a: int) -> tuple[object, ...]:
        ag = self.agents[a]
        return (ag.skills, self.limit_min[a], ag.leave, ag.unavailable, ag.flags, ag.worked_before)

    def _groups(self) -> list[list[int]]:
        groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for a in range(len(self.agents)):
            groups[self._signature(a)].append(a)
        return [g for g in groups.values() if len(g) > 1]

    def _sym_key(self, a: int) -> tuple[int, list[tuple[int, cp_model.IntVar]]]:
        # key = (days+1) * (template index + 1 on day 0, or 0) + number of shifts: a
        # lexicographic order on (first-day template, workload) expressed as one linear term.
        mult = len(self.days) + 1
        terms = []
        for k in self.keys_of_agent(a):
            coef = 1 + (mult * (k[2] + 1) if k[1] == 0 else 0)
            terms.append((coef, self.x[k]))
        return mult, terms

    def keys_of_agent(self, a: int) -> list[Key]:
        """Variable keys of agent index `a`."""
        return [k for d in range(len(self.days)) for k in self.by_ad.get((a, d), [])]

    def _break_symmetry(self) -> None:
        for g in self._groups():
            exprs = [sum(c * v for c, v in self._sym_key(a)[1]) for a in g]
            for e1, e2 in itertools.pairwise(exprs):
                self.model.add(e1 >= e2)

    def _sym_value(self, a: int, chosen: set[Key]) -> int:
        mult = len(self.days) + 1
        return sum(
            1 + (mult * (k[2] + 1) if k[1] == 0 else 0)
            for k in self.keys_of_agent(a)
            if k in chosen
        )

    # ---- greedy hint ------------------------------------------------------------------------

    def _take(
        self,
        a: int,
        d: int,
        t: int,
        s: int,
        tpl: ShiftTemplate,
        wk: dt.date,
        mon: tuple[int, int],
        busy: set[int],
        chosen: set[Key],
        shift_of: dict[tuple[int, int], int],
        week_min: Counter[tuple[int, dt.date]],
        week_late: Counter[tuple[int, dt.date]],
        month_work: Counter[tuple[int, tuple[int, int]]],
        late_total: list[int],
        residual: dict[tuple[dt.datetime, int], int],
        cover_of: Mapping[tuple[int, int, int], list[tuple[dt.datetime, int]]],
        seat_used: Counter[int],
        cells_of: Mapping[tuple[int, int], list[int]],
    ) -> None:
        busy.add(a)
        chosen.add((a, d, t, s))
        shift_of[(a, d)] = t
        week_min[(a, wk)] += self.paid[(d, t)]
        month_work[(a, mon)] += 1
        if tpl.late:
            week_late[(a, wk)] += 1
            late_total[a] += 1
        for r in cover_of[(d, t, s)]:
            residual[r] -= 1
        if tpl.on_site:
            for c in cells_of[(d, t)]:
                seat_used[c] += 1

    def greedy(self, quota: Mapping[tuple[int, int, int], int] | None = None) -> set[Key]:
        """A chronological greedy roster that satisfies every hard rule by construction.

        With `quota` (shifts per (day, template, queue), e.g. from the LP relaxation) the greedy
        first fills those counts, then adds shifts only where they reduce understaffing.
        """
        rules = self.rules
        na, nt = len(self.agents), len(self.templates)
        residual = dict(self.req)
        cover_of: dict[tuple[int, int, int], list[tuple[dt.datetime, int]]] = defaultdict(list)
        for (at, s), dts in self.covering.items():
            for d, t in dts:
                cover_of[(d, t, s)].append((at, s))
        seat_used: Counter[int] = Counter()
        cells_of: dict[tuple[int, int], list[int]] = defaultdict(list)
        for cell, dts in self.seat_cells.items():
            for dt_ in dts:
                cells_of[dt_].append(cell)
        keys_adt: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        for a, d, t, s in self.keys:
            keys_adt[(a, d, t)].append(s)
        chosen: set[Key] = set()
        shift_of: dict[tuple[int, int], int] = {}
        week_min: Counter[tuple[int, dt.date]] = Counter(self.week_prior)
        week_late: Counter[tuple[int, dt.date]] = Counter(self.week_prior_late)
        month_work: Counter[tuple[int, tuple[int, int]]] = Counter()
        run = list(self.prior_run)
        late_total = [0] * na
        avail_day = {(a, d) for a, d, _, _ in self.keys}
        left: dict[tuple[int, int], int] = {}
        for days in self.week_days.values():
            for a in range(na):
                for i, d in enumerate(days):
                    left[(a, d)] = max(1, sum(1 for e in days[i:] if (a, e) in avail_day))
        for d, day in enumerate(self.days):
            wk = week_of(day, rules.week_start)
            mon = (day.year, day.month)
            mon_cap = len(self.month_days[mon]) - self.month_need[mon]
            eligible: dict[tuple[int, int], list[int]] = defaultdict(list)
            used: Counter[tuple[int, int]] = Counter()
            for a in range(na):
                if run[a] >= rules.max_consecutive_days or month_work[(a, mon)] >= mon_cap:
                    continue
                for t in range(nt):
                    if (a, d, t) not in keys_adt:
                        continue
                    if week_min[(a, wk)] + self.paid[(d, t)] > self.limit_min[a]:
                        continue
                    tpl = self.templates[t]
                    if (
                        tpl.late
                        and rules.max_late_shifts_per_week is not None
                        and week_late[(a, wk)] >= rules.max_late_shifts_per_week
                    ):
                        continue
                    if any(
                        t in self.forbidden.get((d - k, k, shift_of[(a, d - k)]), [])
                        for k in (1, 2)
                        if (a, d - k) in shift_of
                    ):
                        continue
                    for s in keys_adt[(a, d, t)]:
                        eligible[(t, s)].append(a)
            busy: set[int] = set()
            for phase in ("quota", "gain") if quota is not None else ("gain",):
                while True:
                    best, best_gain = None, None
                    for (t, s), cands in eligible.items():
                        if phase == "quota" and used[(t, s)] >= quota.get((d, t, s), 0):  # type: ignore[union-attr]
                            continue
                        if not any(a not in busy for a in cands):
                            continue
                        if self.templates[t].on_site and any(
                            seat_used[c] >= self.site.seats for c in cells_of[(d, t)]
                        ):
                            continue
                        gain = sum(
                            rules.weight_under if residual[r] > 0 else -rules.weight_over
                            for r in cover_of[(d, t, s)]
                        )
                        if (phase == "quota" or gain > 0) and (
                            best_gain is None or gain > best_gain
                        ):
                            best, best_gain = (t, s), gain
                    if best is None:
                        break
                    t, s = best
                    used[best] += 1
                    tpl = self.templates[t]
                    # Most pressed agent first: the largest share of weekly hours still to place
                    # per remaining available day (keeps weekends staffable), then
                    # single-skilled before multi-skilled (keep flexibility), then fewest late
                    # shifts for a late template (fair spread from the start).
                    a = min(
                        (a for a in eligible[best] if a not in busy),
                        key=lambda a: (
                            -(self.limit_min[a] - week_min[(a, wk)]) / left[(a, d)],
                            len(self.agents[a].skills),
                            late_total[a] if tpl.late else 0,
                            a,
                        ),
                    )
                    self._take(
                        a,
                        d,
                        t,
                        s,
                        tpl,
                        wk,
                        mon,
                        busy,
                        chosen,
                        shift_of,
                        week_min,
                        week_late,
                        month_work,
                        late_total,
                        residual,
                        cover_of,
                        seat_used,
                        cells_of,
                    )
            for a in range(na):
                run[a] = run[a] + 1 if a in busy else 0
        if self.symmetry_breaking:
            chosen = self._permute_for_symmetry(chosen)
        return chosen

    def _permute_for_symmetry(self, chosen: set[Key]) -> set[Key]:
        # Identical agents are interchangeable: reorder their rows to satisfy the ordering
        # constraints so the hint stays feasible.
        out = set(chosen)
        for g in self._groups():
            rows = {a: {k for k in chosen if k[0] == a} for a in g}
            ranked = sorted(g, key=lambda a: -self._sym_value(a, chosen))
            for k in [k for k in out if k[0] in rows]:
                out.discard(k)
            for target, source in zip(g, ranked, strict=True):
                out.update((target, d, t, s) for _, d, t, s in rows[source])
        return out

    # ---- LP bound ---------------------------------------------------------------------------

    def lp_bound(self) -> float | None:
        """An LP-relaxation lower bound on weighted under+over staffing (aggregated model, GLOP)."""
        lp = pywraplp.Solver.CreateSolver("GLOP")
        if lp is None:
            return None
        inf = lp.infinity()
        rules = self.rules
        nd, ns = len(self.days), len(self.skills)
        keys_dts: dict[tuple[int, int, int], set[int]] = defaultdict(set)
        agent_day: dict[tuple[int, int], set[int]] = defaultdict(set)
        agent_day_paid: dict[tuple[int, int], int] = defaultdict(int)
        for a, d, t, s in self.keys:
            keys_dts[(d, t, s)].add(a)
            agent_day[(a, d)].add(t)
            agent_day_paid[(a, d)] = max(agent_day_paid[(a, d)], self.paid[(d, t)])
        n = {k: lp.NumVar(0, len(v), f"n{k}") for k, v in keys_dts.items()}
        obj = []
        for (at, s), need in self.req.items():
            terms = [n[(d, t, s)] for d, t in self.covering.get((at, s), []) if (d, t, s) in n]
            u = lp.NumVar(0, need, "")
            o = lp.NumVar(0, inf, "")
            lp.Add(sum(terms, lp.Sum([])) - need == o - u)
            obj += [rules.weight_under * u, rules.weight_over * o]
        for dts in self.seat_cells.values():
            terms = [n[(d, t, s)] for d, t in dts for s in range(ns) if (d, t, s) in n]
            if terms:
                lp.Add(lp.Sum(terms) <= self.site.seats)
        # Each valid inequality below is a sum over agents of a per-agent constraint.
        for d in range(nd):
            avail = [a for a in range(len(self.agents)) if (a, d) in agent_day]
            day_terms = [v for (dd, _, _), v in n.items() if dd == d]
            if day_terms:
                lp.Add(lp.Sum(day_terms) <= len(avail))
            for s in range(ns):
                ts = [v for (dd, _, ss), v in n.items() if dd == d and ss == s]
                if ts:
                    lp.Add(
                        lp.Sum(ts)
                        <= len(
                            {
                                a
                                for (dd, _, ss), ag in keys_dts.items()
                                if dd == d and ss == s
                                for a in ag
                            }
                        )
                    )
        for days in self.week_days.values():
            week_cap = [
                min(self.limit_min[a], sum(agent_day_paid.get((a, d), 0) for d in days))
                for a in range(len(self.agents))
            ]
            terms = [self.paid[(d, t)] * v for (d, t, _), v in n.items() if d in days]
            if terms:
                lp.Add(lp.Sum(terms) <= sum(week_cap))
            for s in range(ns):
                skilled = {
                    a for (dd, _, ss), ag in keys_dts.items() if ss == s and dd in days for a in ag
                }
                ts = [self.paid[(d, t)] * v for (d, t, ss), v in n.items() if d in days and ss == s]
                if ts:
                    lp.Add(lp.Sum(ts) <= sum(week_cap[a] for a in skilled))
        span = rules.max_consecutive_days + 1
        for d0 in range(nd - span + 1):
            window = range(d0, d0 + span)
            cap = sum(
                min(rules.max_consecutive_days, sum(1 for d in window if (a, d) in agent_day))
                for a in range(len(self.agents))
            )
            lp.Add(lp.Sum([v for (d, _, _), v in n.items() if d in window]) <= cap)
        for mon, days in self.month_days.items():
            cap = sum(
                min(len(days) - self.month_need[mon], sum(1 for d in days if (a, d) in agent_day))
                for a in range(len(self.agents))
            )
            lp.Add(lp.Sum([v for (d, _, _), v in n.items() if d in days]) <= cap)
        lp.Minimize(lp.Sum(obj))
        if lp.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        self.lp_counts = {k: v.solution_value() for k, v in n.items()}
        return float(lp.Objective().Value())

    # ---- solve ------------------------------------------------------------------------------

    def solve(
        self, time_limit_s: float = 60.0, progress: Callable[[Progress], None] | None = None
    ) -> SolveResult:
        """Solve within the time limit; `progress` is called on every improved solution."""
        t0 = time.perf_counter()
        self._build()
        hint_obj: float | None = None
        lp_bound = self.lp_bound() if self.use_lp else None
        if self.greedy_hint:
            # The LP's fractional shift counts say how many of each shift a day wants; rounding
            # them and letting the greedy fill them paces weekly hours across the week.
            quota = (
                {k: math.floor(v + 0.5) for k, v in self.lp_counts.items()}
                if self.lp_counts
                else None
            )
            chosen = self.greedy(quota)
            hint_obj = self._hint(chosen)
        solver = cp_model.CpSolver()
        remaining = max(1.0, time_limit_s - (time.perf_counter() - t0))
        solver.parameters.max_time_in_seconds = remaining
        solver.parameters.num_workers = self.workers
        # The host process owns Ctrl+C: CP-SAT's own SIGINT handler would outlive the solve and
        # turn the console's clean shutdown into a kill (cancel() stops a solve instead).
        solver.parameters.catch_sigint_signal = False
        cb = _Callback(t0, progress, self._stop)
        with self._cp_lock:
            if self._stop.is_set():  # cancelled while the model was built: take the hint
                solver.parameters.max_time_in_seconds = 1.0
            self._cp = solver
        try:
            code = solver.solve(self.model, cb)
        finally:
            with self._cp_lock:
                self._cp = None
        status = solver.status_name(code).lower()
        wall = time.perf_counter() - t0
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return SolveResult(
                status, None, None, wall_s=wall, lp_bound=lp_bound, hint_objective=hint_obj
            )
        chosen = {k for k, v in self.x.items() if solver.boolean_value(v)}
        roster = self.to_roster(chosen)
        under, over = self.staffing(roster)
        parts = {"under": under, "over": over}
        for _, top, name in self.fair_terms:
            parts[f"max_{name}"] = solver.value(top)
        objective = solver.objective_value
        cp_bound = solver.best_objective_bound
        lb = max(cp_bound, math.ceil(lp_bound - 1e-6) if lp_bound is not None else 0.0)
        gap = 0.0 if objective <= lb else (100.0 * (objective - lb) / lb if lb > 0 else math.inf)
        return SolveResult(
            status=status,
            roster=roster,
            objective=objective,
            parts=parts,
            understaffed=under,
            overstaffed=over,
            lower_bound=lb,
            cp_sat_bound=cp_bound,
            lp_bound=lp_bound,
            gap_pct=gap,
            first_feasible_s=cb.first,
            wall_s=wall,
            hint_objective=hint_obj,
            explanations=self.explain(roster),
        )

    def _hint(self, chosen: set[Key]) -> float:
        m = self.model
        for k, v in self.x.items():
            m.add_hint(v, 1 if k in chosen else 0)
        counts = Counter((d, t, s) for _, d, t, s in chosen)
        for key, v in self.n.items():
            m.add_hint(v, counts[key])
        total_u = total_o = 0
        for r, need in self.req.items():
            staffed = sum(counts[(d, t, r[1])] for d, t in self.covering.get(r, []))
            u, o = max(0, need - staffed), max(0, staffed - need)
            total_u, total_o = total_u + u, total_o + o
            under_var, over_var = self.under[r], self.over[r]
            if not isinstance(under_var, int) and not isinstance(over_var, int):
                m.add_hint(under_var, u)
                m.add_hint(over_var, o)
        fair = 0
        for w, top, name in self.fair_terms:
            pick: Callable[[Key], bool] = (
                (lambda k: self.templates[k[2]].late)
                if name == "late"
                else (lambda k: self.days[k[1]].weekday() >= 5)
            )
            have = {k[0] for k in self.keys if pick(k)}
            per = Counter(k[0] for k in chosen if pick(k))
            vals = [per[a] for a in have]
            m.add_hint(top, max(vals))
            fair += w * max(vals)
        return float(self.rules.weight_under * total_u + self.rules.weight_over * total_o + fair)

    # ---- results ----------------------------------------------------------------------------

    def to_roster(self, chosen: set[Key]) -> Roster:
        """Turn chosen variable keys into a Roster, with duties rotated fairly."""
        assignments: dict[str, dict[dt.date, str | None]] = {
            a.id: {day: None for day in self.days} for a in self.agents
        }
        queues: dict[str, dict[dt.date, str]] = defaultdict(dict)
        for a, d, t, s in sorted(chosen):
            aid = self.agents[a].id
            assignments[aid][self.days[d]] = self.templates[t].code
            queues[aid][self.days[d]] = self.skills[s]
        duties: dict[str, dict[dt.date, str]] = {}
        for duty, code in self.duties.items():
            done: Counter[str] = Counter()
            per_day: dict[dt.date, str] = {}
            for day in self.days:
                on = [aid for aid, row in assignments.items() if row[day] == code]
                if on:
                    # Rotate: whoever has done this duty least often, ties by id.
                    pick = min(on, key=lambda aid: (done[aid], aid))
                    done[pick] += 1
                    per_day[day] = pick
            duties[duty] = per_day
        return Roster(assignments, dict(queues), duties)

    def staffing(self, roster: Roster) -> tuple[int, int]:
        """Understaffed and overstaffed agent-intervals of a roster (same rules as the model)."""
        counts = self._counts(roster)
        under = over = 0
        for r, need in self.req.items():
            staffed = sum(counts[(d, t, r[1])] for d, t in self.covering.get(r, []))
            under += max(0, need - staffed)
            over += max(0, staffed - need)
        return under, over

    def _counts(self, roster: Roster) -> Counter[tuple[int, int, int]]:
        tindex = {t.code: i for i, t in enumerate(self.templates)}
        counts: Counter[tuple[int, int, int]] = Counter()
        for a in self.agents:
            for d, day in enumerate(self.days):
                code = roster.shift(a.id, day)
                if code is None:
                    continue
                q = roster.queues.get(a.id, {}).get(day)
                if q in self.skills:
                    counts[(d, tindex[code], self.skills.index(q))] += 1
        return counts

    def explain(self, roster: Roster) -> list[UnderstaffedInterval]:
        """For every understaffed (interval, queue): which rule keeps each candidate agent out."""
        counts = self._counts(roster)
        tindex = {t.code: i for i, t in enumerate(self.templates)}
        shift = {
            (a, d): tindex[c]
            for a, ag in enumerate(self.agents)
            for d, day in enumerate(self.days)
            if (c := roster.shift(ag.id, day)) is not None
        }
        seat: Counter[int] = Counter()
        for cell, dts in self.seat_cells.items():
            seat[cell] = sum(
                1 for a in range(len(self.agents)) for d, t in dts if shift.get((a, d)) == t
            )
        cells_of: dict[tuple[int, int], list[int]] = defaultdict(list)
        for cell, dts in self.seat_cells.items():
            for dt_ in dts:
                cells_of[dt_].append(cell)
        week_min: Counter[tuple[int, dt.date]] = Counter(self.week_prior)
        week_late: Counter[tuple[int, dt.date]] = Counter(self.week_prior_late)
        for (a, d), t in shift.items():
            wk = week_of(self.days[d], self.rules.week_start)
            week_min[(a, wk)] += self.paid[(d, t)]
            week_late[(a, wk)] += int(self.templates[t].late)
        cache: dict[tuple[int, int, int], str] = {}

        def why(a: int, d: int, t: int) -> str:
            key = (a, d, t)
            if key in cache:
                return cache[key]
            cache[key] = reason = self._why(a, d, t, shift, week_min, week_late, seat, cells_of)
            return reason

        out: list[UnderstaffedInterval] = []
        z = zone(self.site.tz)
        for (at, s), need in sorted(self.req.items()):
            dts = self.covering.get((at, s), [])
            staffed = sum(counts[(d, t, s)] for d, t in dts)
            if staffed >= need:
                continue
            skill = self.skills[s]
            cands = [a for a, ag in enumerate(self.agents) if skill in ag.skills]
            blocked: Counter[str] = Counter()
            if not dts:
                reason = "no-shift"
            elif not cands:
                reason = "skill"
            else:
                for a in cands:
                    if any(
                        shift.get((a, d)) == t and self._serves(roster, a, d, skill) for d, t in dts
                    ):
                        continue  # already covering this interval for this queue
                    reasons = [why(a, d, t) for d, t in dts]
                    blocked["none" if "none" in reasons else _first_reason(reasons)] += 1
                hard = {r: c for r, c in blocked.items() if r not in ("none", "assigned-elsewhere")}
                reason = (
                    max(hard, key=lambda r: hard[r])
                    if hard
                    # No candidate left out: the team is simply too small for the peak.
                    else (blocked.most_common(1)[0][0] if blocked else "all-working")
                )
            out.append(
                UnderstaffedInterval(
                    at,
                    skill,
                    need - staffed,
                    reason,
                    dict(blocked.most_common()),
                    at.astimezone(z).strftime("%Y-%m-%d %H:%M"),
                )
            )
        return out

    def _serves(self, roster: Roster, a: int, d: int, skill: str) -> bool:
        q = roster.queues.get(self.agents[a].id, {}).get(self.days[d])
        return q is None or q == skill

    def _why(
        self,
        a: int,
        d: int,
        t: int,
        shift: Mapping[tuple[int, int], int],
        week_min: Mapping[tuple[int, dt.date], int],
        week_late: Mapping[tuple[int, dt.date], int],
        seat: Mapping[int, int],
        cells_of: Mapping[tuple[int, int], list[int]],
    ) -> str:
        # Check, in a fixed order, the first rule that adding (a, d, t) to the roster breaks.
        if (a, d, t) in self.block:
            return self.block[(a, d, t)][0]
        current = shift.get((a, d))
        if current is not None:
            return "assigned-elsewhere"
        rules = self.rules
        day = self.days[d]
        wk = week_of(day, rules.week_start)
        if week_min.get((a, wk), 0) + self.paid[(d, t)] > self.limit_min[a]:
            return "max-hours-week"
        tpl = self.templates[t]
        if (
            tpl.late
            and rules.max_late_shifts_per_week is not None
            and week_late.get((a, wk), 0) >= rules.max_late_shifts_per_week
        ):
            return "max-late-week"
        for k in (1, 2):
            prev = shift.get((a, d - k))
            if prev is not None and t in self.forbidden.get((d - k, k, prev), []):
                return "min-rest"
            nxt = shift.get((a, d + k))
            if nxt is not None and nxt in self.forbidden.get((d, k, t), []):
                return "min-rest"
        before = 0
        while (a, d - before - 1) in shift:
            before += 1
        if before == d:  # the run reaches the first day: add the one carried in
            before += self.prior_run[a]
        after = 0
        while (a, d + after + 1) in shift:
            after += 1
        if before + after + 1 > rules.max_consecutive_days:
            return "max-consecutive-days"
        mon = (day.year, day.month)
        worked = sum(1 for dd in self.month_days[mon] if (a, dd) in shift)
        if worked + 1 > len(self.month_days[mon]) - self.month_need[mon]:
            return "rest-days-month"
        if tpl.on_site and any(seat[c] >= self.site.seats for c in cells_of.get((d, t), [])):
            return "seat-limit"
        return "none"


_ORDER = [
    "seat-limit",
    "max-hours-week",
    "min-rest",
    "max-consecutive-days",
    "rest-days-month",
    "max-late-week",
    "leave",
    "availability",
    "skill",
    "assigned-elsewhere",
    "none",
]


def _first_reason(reasons: list[str]) -> str:
    return min(reasons, key=lambda r: _ORDER.index(r) if r in _ORDER else len(_ORDER))


__all__ = ["Progress", "RosterSolver", "SolveResult", "UnderstaffedInterval"]
