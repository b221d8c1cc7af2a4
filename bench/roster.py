"""B5 roster: build a 4-week roster for generated 50 / 200 / 500-agent centres with CP-SAT.

Run: `python -m bench.roster [--agents 50,200] [--time-limit 60] [--seed 7] [--weeks 4]
[--baseline]`.

* `--agents`     comma-separated instance sizes (default 50,200; add 500 for the big one)
* `--time-limit` CP-SAT wall-clock budget per instance in seconds, including model build
                 (default 60)
* `--seed`       instance generator seed (default 7)
* `--weeks`      horizon length in weeks, 1–6 (default 4)
* `--baseline`   also run the straightforward model (no greedy hint, no symmetry breaking)
                 with the same budget, and print the ratio of the gaps

Instance (fixed seed): Asia/Shanghai, 30-minute intervals, centre open 08:00–01:00, two queues
("service" 60 % of calls, "sales" 40 %) with a double daily peak (10:30 and 20:30), weekends
at 85 %, the Dragon Boat holiday reinforced x1.25; requirement from Erlang C for 80 % answered
in 20 s with AHT 300 s, call volume scaled so the requirement is about 65 % of the agents'
weekly capacity. Templates: early 08:00–17:30 (90 min unpaid break), late 16:00–01:00
(60 min unpaid, late), A 09:00–17:00 and B 12:00–20:00 (60 min unpaid), C 20:00–22:00 on call
from home (no seat). Rules: <= 40 h/week, >= 11 h rest, <= 6 consecutive days, >= 3 rest days
per month, seats = the peak requirement (binding where shifts overlap). Agents: 45 % service
only, 30 % sales only, 25 % both; 30 % have a block of 2–5 days of approved leave; 10 % are
unavailable one weekday evening each week; 10 % have no late shifts by contract.
"""

from __future__ import annotations

import argparse
import math
import time

from bench.common import machine
from roster.model import (
    Requirement,
    Site,
)
from roster.rules import validate
from roster.samples import TEMPLATES, instance
from roster.solver import RosterSolver, SolveResult

ERLANG_SOURCE = "roster.erlang.required_agents"


def run(
    n_agents: int, weeks: int, seed: int, limit: float, baseline: bool
) -> tuple[SolveResult, int, Site, Requirement]:
    """Solve one instance and count hard-rule violations with rules.validate."""
    agents, site, horizon, req, rules = instance(n_agents, weeks, seed)
    solver = RosterSolver(
        agents,
        TEMPLATES,
        rules,
        site,
        horizon,
        req,
        duties={"cleaning-before-early": "E", "cleaning-after-late": "L"},
        symmetry_breaking=not baseline,
        greedy_hint=not baseline,
    )
    result = solver.solve(limit)
    violations = -1
    if result.roster is not None:
        violations = len(validate(result.roster, agents, TEMPLATES, rules, site, horizon))
    return result, violations, site, req


def fmt(v: float | None, digits: int = 1) -> str:
    """A number for the table, '-' when missing."""
    if v is None:
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f"{v:.{digits}f}"


def main() -> None:
    """Parse flags, run every size, print the table and RESULT lines."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--agents", default="50,200")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--weeks", type=int, default=4)
    p.add_argument("--baseline", action="store_true")
    args = p.parse_args()
    sizes = [int(s) for s in args.agents.split(",") if s]
    print(f"B5 roster · machine: {machine()} · requirement: {ERLANG_SOURCE}")
    header = (
        f"{'model':<9}{'agents':>7}{'seats':>6}{'req':>7}{'first_s':>8}{'hint':>9}"
        f"{'obj':>9}{'cp_lb':>9}{'lp_lb':>9}{'gap%':>7}{'under':>7}{'under%':>7}"
        f"{'over':>7}{'fair':>7}{'viol':>5}{'wall_s':>7}  status"
    )
    print(header)
    lines = []
    for n in sizes:
        kinds = ["tuned"] + (["baseline"] if args.baseline else [])
        gaps: dict[str, float | None] = {}
        for kind in kinds:
            t0 = time.perf_counter()
            res, viol, site, req = run(
                n, args.weeks, args.seed, args.time_limit, kind == "baseline"
            )
            total = req.total()
            spread = sum(v for k, v in res.parts.items() if k.startswith("max_"))
            print(
                f"{kind:<9}{n:>7}{site.seats:>6}{total:>7}{fmt(res.first_feasible_s, 2):>8}"
                f"{fmt(res.hint_objective, 0):>9}{fmt(res.objective, 0):>9}"
                f"{fmt(res.cp_sat_bound, 0):>9}"
                f"{fmt(res.lp_bound, 0):>9}{fmt(res.gap_pct, 2):>7}{res.understaffed:>7}"
                f"{fmt(100 * res.understaffed / max(total, 1), 2):>7}{res.overstaffed:>7}"
                f"{spread:>7}{viol:>5}{time.perf_counter() - t0:>7.1f}  {res.status}",
                flush=True,
            )
            gaps[kind] = res.gap_pct
            if kind == "tuned":
                reasons: dict[str, int] = {}
                for e in res.explanations:
                    reasons[e.reason] = reasons.get(e.reason, 0) + e.missing
                lines.append(
                    f"RESULT B5 agents={n} first_feasible_s={fmt(res.first_feasible_s, 2)} "
                    f"gap_pct={fmt(res.gap_pct, 3)} under={res.understaffed} "
                    f"over={res.overstaffed} "
                    f"violations={viol} required={total} lower_bound={fmt(res.lower_bound, 0)} "
                    f"objective={fmt(res.objective, 0)} time_limit_s={args.time_limit:g} "
                    f"status={res.status} under_reasons="
                    + ",".join(f"{k}:{v}" for k, v in sorted(reasons.items()))
                )
        if args.baseline:
            print(
                f"  {n} agents, same budget: gap baseline {fmt(gaps.get('baseline'), 2)} % "
                f"vs tuned {fmt(gaps.get('tuned'), 3)} %"
            )
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
