from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

from console.core.i18n import translate
from roster.model import (
    UTC,
    Agent,
    Horizon,
    Requirement,
    Rules,
    ShiftTemplate,
    Site,
    zone,
)
from roster.rules import validate
from roster.solver import Progress, RosterSolver
from tests.roster.conftest import LargeInstance

TZ = "Asia/Shanghai"
ROOT = Path(__file__).resolve().parents[2]
MON = dt.date(2026, 3, 2)
WEEK = Horizon(MON, 7)
EARLY = ShiftTemplate("E", dt.time(8), dt.time(17, 30), break_min=90)
LATE = ShiftTemplate("L", dt.time(16), dt.time(1), break_min=60, late=True)
A = ShiftTemplate("A", dt.time(9), dt.time(17))
SALES_A = ShiftTemplate("SA", dt.time(9), dt.time(17), skills=frozenset({"sales"}))


def local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone(TZ)).astimezone(UTC) + dt.timedelta(
        hours=hour
    )


def hourly(days: list[dt.date], hours: range, need: int, skill: str = "general") -> Requirement:
    return Requirement(60, {local(d, h): {skill: need} for d in days for h in hours})


def solve(
    agents: list[Agent],
    templates: list[ShiftTemplate],
    req: Requirement,
    site: Site | None = None,
    rules: Rules | None = None,
    horizon: Horizon = WEEK,
    **kw: object,
) -> tuple[RosterSolver, object]:
    solver = RosterSolver(
        agents, templates, rules or Rules(), site or Site(seats=10, tz=TZ), horizon, req, **kw
    )  # type: ignore[arg-type]
    return solver, solver.solve(time_limit_s=10)


def test_a_demand_the_team_can_meet_is_met_and_the_roster_is_valid() -> None:
    agents = [Agent(f"a{i}") for i in range(4)]
    req = hourly(WEEK.dates(), range(8, 25), 1)  # 08:00 to 01:00 every day
    _, res = solve(agents, [EARLY, LATE], req)
    assert res.status == "optimal"
    assert res.understaffed == 0 and res.explanations == []
    # EARLY and LATE overlap 16:00-17:00: one extra agent-hour a day is unavoidable.
    assert res.overstaffed == 7
    assert validate(res.roster, agents, [EARLY, LATE], Rules(), Site(10, TZ), WEEK) == []
    assert res.lower_bound <= res.objective and res.gap_pct == 0.0


def test_the_late_shift_covers_the_first_hour_of_the_next_calendar_day() -> None:
    agents = [Agent("a0"), Agent("a1")]
    tuesday = MON + dt.timedelta(days=1)
    req = Requirement(60, {local(tuesday, 0): {"general": 1}})
    _, res = solve(agents, [EARLY, LATE], req)
    assert res.understaffed == 0 and res.overstaffed == 0
    worked = {
        (aid, d, c) for aid, row in res.roster.assignments.items() for d, c in row.items() if c
    }
    assert len(worked) == 1
    ((_, d, code),) = worked
    assert code == "L" and d == MON  # the shift belongs to the day it starts


def test_an_impossible_demand_is_left_understaffed_and_blamed_on_the_seat_limit() -> None:
    agents = [Agent(f"a{i}") for i in range(3)]
    req = hourly([MON], range(9, 17), 2)
    site = Site(seats=1, tz=TZ)
    _, res = solve(agents, [A], req, site=site)
    assert res.understaffed == 8 and res.overstaffed == 0
    assert len(res.explanations) == 8
    assert {e.reason for e in res.explanations} == {"seat-limit"}
    assert all(e.missing == 1 for e in res.explanations)
    assert "seat" in translate("explain.seat-limit", "en")
    assert "座席" in translate("explain.seat-limit", "zh-CN")
    assert res.lower_bound == res.objective
    assert validate(res.roster, agents, [A], Rules(), site, WEEK) == []


def test_approved_leave_is_respected_even_when_it_costs_coverage() -> None:
    leave = frozenset(WEEK.dates()[:3])
    agents = [Agent("a0", leave=leave), Agent("a1")]
    req = hourly(WEEK.dates(), range(9, 17), 1)
    _, res = solve(agents, [A], req)
    assert all(res.roster.shift("a0", d) is None for d in leave)
    assert res.understaffed == 0  # a1 five days + a0 the last four days cover all seven
    assert validate(res.roster, agents, [A], Rules(), Site(10, TZ), WEEK) == []


def test_nobody_on_leave_and_no_skill_explains_the_gap() -> None:
    agents = [
        Agent("a0", skills=frozenset({"service"})),
        Agent("a1", skills=frozenset({"sales"}), leave=frozenset({MON})),
    ]
    req = hourly([MON], range(9, 10), 1, skill="sales")
    _, res = solve(agents, [A, SALES_A], req)
    assert res.understaffed == 1
    assert [e.reason for e in res.explanations] == ["leave"]


def test_a_peak_above_the_whole_team_is_blamed_on_team_size_not_skills() -> None:
    agents = [Agent("a0"), Agent("a1")]
    req = hourly([MON], range(9, 10), 3)
    _, res = solve(agents, [A], req)
    assert res.understaffed == 1
    assert [e.reason for e in res.explanations] == ["all-working"]
    assert "already works" in translate("explain.all-working", "en", skill="x")


def test_the_new_roster_respects_what_agents_worked_on_the_previous_one() -> None:
    sunday = MON - dt.timedelta(days=1)
    # a0 closed on Sunday (late until 01:00): no early shift on Monday.
    # a1 comes in with six days in a row: Monday must be a rest day.
    # a2 is fresh. Monday 09:00-17:00 needs two agents: one short until a0's late shift starts.
    agents = [
        Agent("a0", worked_before=((sunday, "L"),)),
        Agent("a1", worked_before=tuple((sunday - dt.timedelta(days=k), "E") for k in range(6))),
        Agent("a2"),
    ]
    req = hourly([MON], range(9, 17), 2)
    _, res = solve(agents, [EARLY, LATE], req)
    assert res.roster.shift("a0", MON) != "E" and res.roster.shift("a1", MON) is None
    assert res.roster.shift("a2", MON) == "E"
    assert res.understaffed == 7  # 09:00-16:00; a0's late shift covers 16:00-17:00
    assert validate(res.roster, agents, [EARLY, LATE], Rules(), Site(10, TZ), WEEK) == []
    assert {e.reason for e in res.explanations} <= {"min-rest", "max-consecutive-days"}


def test_a_retired_template_worked_before_still_counts_for_rest() -> None:
    sunday = MON - dt.timedelta(days=1)
    # a0 closed on Sunday with the late shift, which has since been retired: the solver may
    # not assign it any more, yet its 01:00 end still forbids Monday's early shift.
    agents = [Agent("a0", worked_before=((sunday, "L"),)), Agent("a1")]
    req = hourly([MON], range(9, 17), 2)
    _, res = solve(agents, [EARLY], req, retired=[LATE])
    assert res.roster.shift("a0", MON) is None and res.roster.shift("a1", MON) == "E"
    assert "L" not in {c for days in res.roster.assignments.values() for c in days.values()}
    assert {e.reason for e in res.explanations} == {"min-rest"}
    # Without the retired template the solver could not see the late shift at all.
    _, blind = solve(agents, [EARLY], req)
    assert blind.roster.shift("a0", MON) == "E"


def test_weekly_hours_limit_understaffing_is_explained() -> None:
    agents = [Agent("a0")]
    req = hourly(WEEK.dates(), range(9, 17), 1)
    _, res = solve(agents, [A], req)
    assert res.understaffed == 16  # five 8-hour days allowed, two days of 8 hours short
    assert {e.reason for e in res.explanations} <= {"max-hours-week", "max-consecutive-days"}
    assert "max-hours-week" in {e.reason for e in res.explanations}


def test_skills_route_shifts_to_the_right_queue() -> None:
    agents = [Agent("s", skills=frozenset({"sales"})), Agent("v", skills=frozenset({"service"}))]
    req = Requirement(60, {local(MON, h): {"sales": 1, "service": 1} for h in range(9, 17)})
    _, res = solve(agents, [A], req)
    assert res.understaffed == 0
    assert res.roster.queues["s"][MON] == "sales" and res.roster.queues["v"][MON] == "service"


def test_hard_rules_hold_over_two_weeks_with_rest_and_monthly_rest_days() -> None:
    agents = [Agent(f"a{i}", skills=frozenset({"general"})) for i in range(6)]
    horizon = Horizon(MON, 14)
    req = hourly(horizon.dates(), range(8, 25), 2)
    site = Site(seats=3, tz=TZ)
    rules = Rules(max_late_shifts_per_week=3)
    seen: list[Progress] = []
    solver, res = solve(
        agents,
        [EARLY, LATE, A],
        req,
        site=site,
        rules=rules,
        horizon=horizon,
        duties={"cleaning": "E"},
    )
    res2 = solver.solve(time_limit_s=5, progress=seen.append)
    for r in (res, res2):
        assert r.roster is not None
        assert validate(r.roster, agents, [EARLY, LATE, A], rules, site, horizon) == []
        assert r.first_feasible_s is not None and r.lower_bound <= r.objective + 1e-6
    assert seen and seen[-1].objective >= seen[-1].best_bound - 1e-6
    cleaning = res.roster.duties["cleaning"]
    assert all(res.roster.shift(aid, d) == "E" for d, aid in cleaning.items())


def test_the_plain_model_without_hint_or_symmetry_breaking_is_also_valid() -> None:
    agents = [Agent(f"a{i}") for i in range(4)]
    req = hourly(WEEK.dates(), range(8, 25), 1)
    _, res = solve(agents, [EARLY, LATE], req, greedy_hint=False, symmetry_breaking=False)
    assert res.understaffed == 0
    assert validate(res.roster, agents, [EARLY, LATE], Rules(), Site(10, TZ), WEEK) == []


def test_ctrl_c_after_a_solve_still_reaches_the_host_process() -> None:
    # CP-SAT installs a SIGINT handler of its own unless told not to; the console must still
    # shut down cleanly on Ctrl+C after solving a roster (hotline demo solves one at start).
    script = (
        "import os, signal, sys\n"
        "from tests.roster.test_solver import A, Agent, WEEK, hourly, solve\n"
        "solve([Agent('a0')], [A], hourly(WEEK.dates()[:1], range(9, 17), 1))\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    signal.pause() if hasattr(signal, 'pause') else None\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_cancel_stops_a_long_solve_at_once_and_keeps_the_best_roster(
    large_instance: LargeInstance,
) -> None:
    agents, templates, site, horizon, req, rules = large_instance
    # Without the hint and symmetry breaking this model is far from proven optimal in 60 s;
    # with an hour's time limit, a solve that returns "feasible" was stopped by cancel().
    solver = RosterSolver(
        agents,
        templates,
        rules,
        site,
        horizon,
        req,
        greedy_hint=False,
        symmetry_breaking=False,
    )
    first = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        box["result"] = solver.solve(time_limit_s=3600, progress=lambda p: first.set())

    worker = threading.Thread(target=run, daemon=True)  # daemon: a failed cancel must not hang
    worker.start()
    assert first.wait(30), "no first roster within 30 s"
    solver.cancel()
    worker.join(30)  # generous: fails only when cancel() does not stop the solve
    assert not worker.is_alive(), "cancel() did not stop the solve"
    res = box["result"]
    assert res.roster is not None and res.status == "feasible"  # type: ignore[attr-defined]
    assert validate(res.roster, agents, templates, rules, site, horizon) == []  # type: ignore[attr-defined]
