from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from roster.erlang import (
    StaffingInputs,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    required_agents,
    requirement,
    service_level,
    traffic_erlangs,
    with_shrinkage,
)

ROSTER = Path(__file__).resolve().parents[2] / "roster"


# ---------------------------------------------------------------- exact references


def exact_erlang_b(n: int, a: Fraction) -> Fraction:
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[n] / sum(terms)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    # The textbook sum, in exact rational arithmetic.
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


PAIRS = [
    (n, a)
    for n in (1, 2, 3, 5, 8, 13, 21, 34)
    for a in (
        Fraction(1, 10),
        Fraction(1, 2),
        Fraction(3, 2),
        Fraction(5),
        Fraction(99, 10),
        Fraction(20),
        Fraction(33),
    )
    if a < n
]


@pytest.mark.parametrize(("n", "a"), PAIRS)
def test_erlang_c_matches_the_exact_textbook_sum(n: int, a: Fraction) -> None:
    assert erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-12)


@pytest.mark.parametrize(("n", "a"), PAIRS)
def test_erlang_b_matches_the_exact_sum(n: int, a: Fraction) -> None:
    assert erlang_b(n, float(a)) == pytest.approx(float(exact_erlang_b(n, a)), rel=1e-12)


def test_erlang_b_published_table_points() -> None:
    # Standard Erlang B tables (lines x blocking grade x offered Erlangs): 10 lines
    # carry 5.08 E at 2 % and 20 lines 12.03 E at 1 % blocking; at 5.0 E and 12.0 E the
    # exact sums give 0.018385 and 0.009796.
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=1e-5)
    assert erlang_b(20, 12.0) == pytest.approx(0.0098, abs=1e-4)
    assert erlang_b(10, 5.0) == pytest.approx(float(exact_erlang_b(10, Fraction(5))), rel=1e-12)
    assert erlang_b(20, 12.0) == pytest.approx(float(exact_erlang_b(20, Fraction(12))), rel=1e-12)


def test_erlang_c_stays_exact_for_hundreds_of_agents() -> None:
    a = Fraction(561, 2)
    assert erlang_c(300, float(a)) == pytest.approx(float(exact_erlang_c(300, a)), rel=1e-10)
    for n, load in ((1000, 980.0), (2000, 1500.0), (800, 1.0)):
        p = erlang_c(n, load)
        assert 0.0 <= p <= 1.0
    assert erlang_c(800, 1.0) == 0.0  # underflows cleanly, no overflow on the way


def test_call_centre_helper_worked_example() -> None:
    # "Erlang C Formula - Made Simple With an Easy Worked Example" (Call Centre Helper):
    # 100 calls per 30 minutes, AHT 180 s, 80 % in 20 s, max occupancy 85 %, shrinkage 30 %.
    # Its table of Pw for 11..14 agents: 0.6821, 0.4494, 0.2853, 0.1741; 14 agents give
    # 88.8 %, so 14 raw agents and 20 with shrinkage.
    assert traffic_erlangs(100, 180, 1800) == pytest.approx(10.0)
    for n, pw in ((11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)):
        assert erlang_c(n, 10.0) == pytest.approx(pw, abs=5e-5)
    assert service_level(13, 100, 180, 1800, 20) == pytest.approx(0.7956, abs=5e-4)
    assert service_level(14, 100, 180, 1800, 20) == pytest.approx(0.8884, abs=5e-4)
    n = required_agents(100, 180, 1800, target_sl=0.8, target_answer_s=20, max_occupancy=0.85)
    assert n == 14
    assert occupancy(14, 100, 180, 1800) == pytest.approx(10 / 14)
    assert average_speed_of_answer(14, 100, 180, 1800) == pytest.approx(0.17413 * 180 / 4, rel=1e-3)
    assert with_shrinkage(n, 0.30) == 20


def test_overloaded_queue_always_waits() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 12.5) == 1.0
    assert erlang_c(0, 3.0) == 1.0
    assert service_level(10, 100, 180, 1800, 20) == 0.0
    assert average_speed_of_answer(10, 100, 180, 1800) == math.inf
    assert occupancy(10, 200, 180, 1800) == 1.0


def test_zero_calls_need_zero_agents() -> None:
    assert required_agents(0, 180, 1800) == 0
    assert required_agents(0, 180, 1800, patience_s=60) == 0
    assert erlang_c(5, 0.0) == 0.0
    assert service_level(0, 0, 180, 1800, 20) == 1.0
    assert average_speed_of_answer(0, 0, 180, 1800) == 0.0
    assert occupancy(3, 0, 180, 1800) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c(-1, 1.0), "agents must be >= 0"),
        (lambda: erlang_c(2.5, 1.0), "agents must be an integer"),  # type: ignore[arg-type]
        (lambda: erlang_c(3, -1.0), "traffic_erlangs must be >= 0"),
        (lambda: erlang_c(3, math.nan), "traffic_erlangs must be a finite number"),
        (lambda: service_level(3, 10, 0, 1800, 20), "aht_s must be > 0"),
        (lambda: service_level(3, 10, 180, 0, 20), "interval_s must be > 0"),
        (lambda: service_level(3, -5, 180, 1800, 20), "calls must be >= 0"),
        (lambda: service_level(3, 10, 180, 1800, -1), "target_answer_s must be >= 0"),
        (
            lambda: required_agents(10, 180, 1800, target_sl=1.0),
            "target_sl must be between 0 and 1",
        ),
        (lambda: required_agents(10, 180, 1800, target_sl=0), "target_sl must be between 0 and 1"),
        (lambda: required_agents(10, 180, 1800, max_occupancy=1.2), "max_occupancy must be in"),
        (lambda: required_agents(10, 180, 1800, patience_s=0), "patience_s must be > 0"),
        (lambda: erlang_a(3, 10, 180, 1800, 20, -5), "patience_s must be > 0"),
        (lambda: erlang_a(3, 100, 180, 1800, 20, 1e12), "Erlang A queue too long"),
        (lambda: with_shrinkage(10, 1.0), "shrinkage must be in [0, 1)"),
        (lambda: with_shrinkage(10, -0.1), "shrinkage must be in [0, 1)"),
        (lambda: with_shrinkage(-1, 0.1), "agents must be >= 0"),
        (lambda: StaffingInputs(interval_min=20), "interval_min must be 15 or 30"),
        (lambda: StaffingInputs(shrinkage=1.0), "shrinkage must be in [0, 1)"),
        (lambda: StaffingInputs(target_sl=80), "target_sl must be between 0 and 1"),
    ],
)
def test_invalid_inputs_raise_a_clear_value_error(call: object, message: str) -> None:
    with pytest.raises(
        ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
    ):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("calls", "aht", "interval", "sl", "t"),
    [
        (5, 300, 1800, 0.8, 20),
        (100, 180, 1800, 0.8, 20),
        (360, 240, 1800, 0.8, 15),
        (1200, 300, 1800, 0.9, 10),
        (4000, 240, 900, 0.8, 20),
        (0.3, 600, 900, 0.95, 30),
    ],
)
def test_required_agents_is_the_smallest_that_meets_the_target(
    calls: float, aht: float, interval: float, sl: float, t: float
) -> None:
    n = required_agents(calls, aht, interval, target_sl=sl, target_answer_s=t)
    assert service_level(n, calls, aht, interval, t) >= sl
    assert service_level(n - 1, calls, aht, interval, t) < sl


def test_max_occupancy_caps_the_load_per_agent() -> None:
    # 1200 calls x 300 s / 1800 s = 200 E; 80/20 alone needs fewer than 200/0.85 agents.
    plain = required_agents(1200, 300, 1800)
    capped = required_agents(1200, 300, 1800, max_occupancy=0.85)
    assert plain < capped == math.ceil(200 / 0.85)
    assert required_agents(85, 180, 1800, max_occupancy=0.85) >= 10  # 8.5 E / 0.85 = 10 exactly
    assert math.ceil(8.5 / 0.85 - 1e-9) == 10


def test_with_shrinkage_rounds_up_without_float_noise() -> None:
    assert with_shrinkage(14, 0.30) == 20
    assert with_shrinkage(13, 0.35) == 20
    assert with_shrinkage(10, 0.0) == 10
    assert with_shrinkage(0, 0.5) == 0
    assert with_shrinkage(7, 0.5) == 14
    assert with_shrinkage(7, 0.51) == 15


# ---------------------------------------------------------------- Erlang A


@pytest.mark.parametrize(("n", "calls"), [(13, 100), (11, 100), (60, 550), (300, 2900)])
def test_erlang_a_approaches_erlang_c_as_patience_grows(n: int, calls: float) -> None:
    ec_sl = service_level(n, calls, 180, 1800, 20)
    ec_asa = average_speed_of_answer(n, calls, 180, 1800)
    ec_pw = erlang_c(n, traffic_erlangs(calls, 180, 1800))
    far = erlang_a(n, calls, 180, 1800, 20, 1e9)
    assert far.service_level == pytest.approx(ec_sl, abs=1e-6)
    assert far.p_wait == pytest.approx(ec_pw, abs=1e-6)
    assert far.asa_s == pytest.approx(ec_asa, rel=1e-5)
    assert far.p_abandon < 1e-6
    # Monotone approach: more patience, fewer abandons.
    abandons = [erlang_a(n, calls, 180, 1800, 20, p).p_abandon for p in (10, 60, 600, 6000)]
    assert abandons == sorted(abandons, reverse=True)


def _reference_erlang_a(
    n: int, lam: float, mu: float, theta: float, t: float
) -> tuple[float, float, float]:
    # Independent route: stationary birth-death probabilities by plain products, then the
    # tagged caller's absorbing chain solved by uniformization (no closed forms involved).
    kmax = 400
    w = [1.0]
    for s in range(1, n + kmax + 1):
        death = min(s, n) * mu + max(0, s - n) * theta
        w.append(w[-1] * lam / death)
    z = sum(w)
    pi = [x / z for x in w]
    queue_mean = sum(max(0, s - n) * p for s, p in enumerate(pi))
    p_ab_little = theta * queue_mean / lam

    # Tagged chain on "j callers ahead" (j = 0..K) plus absorbing answered/abandoned.
    kk = 120
    a = n * mu
    big = a + (kk + 1) * theta
    v = [pi[n + k] for k in range(kk + 1)]  # arrival finds k waiting → k ahead
    answered = 0.0
    within = 0.0
    poisson = math.exp(-big * t)
    cumulative = poisson
    step = 0
    while cumulative < 1 - 1e-15 and step < 5000:
        step += 1
        nv = [0.0] * (kk + 1)
        gained = 0.0
        for j, mass in enumerate(v):
            advance = (a + j * theta) / big
            quit_ = theta / big
            if j == 0:
                gained += mass * advance
            else:
                nv[j - 1] += mass * advance
            nv[j] += mass * (1 - advance - quit_)
        answered += gained
        v = nv
        poisson *= big * t / step
        within += poisson * answered
        cumulative += poisson
    sl = sum(pi[:n]) + within
    return sl, p_ab_little, sum(pi[n:])


@pytest.mark.parametrize(
    ("n", "calls", "aht", "patience", "t"),
    [(3, 40, 180, 120, 20), (5, 60, 240, 90, 30), (8, 100, 180, 300, 20), (4, 90, 200, 45, 15)],
)
def test_erlang_a_matches_an_independent_chain_computation(
    n: int, calls: float, aht: float, patience: float, t: float
) -> None:
    lam, mu, theta = calls / 1800, 1 / aht, 1 / patience
    sl, p_ab, p_wait = _reference_erlang_a(n, lam, mu, theta, t)
    r = erlang_a(n, calls, aht, 1800, t, patience)
    assert r.service_level == pytest.approx(sl, abs=1e-9)
    assert r.p_abandon == pytest.approx(p_ab, abs=1e-12)
    assert r.p_wait == pytest.approx(p_wait, abs=1e-12)
    assert r.mean_wait_s == pytest.approx(p_ab * patience, rel=1e-9)


def test_erlang_a_with_hundreds_of_agents_in_overload_conserves_work() -> None:
    # 600 E offered to 500 agents: at most 500 E can be carried, so at least 1/6 abandon.
    r = erlang_a(500, 3600, 300, 1800, 20, 60)
    assert 0 <= r.service_level <= 1 and 0 <= r.p_wait <= 1
    assert r.p_abandon >= 1 - 500 / 600 - 1e-12
    assert r.p_abandon < 0.25
    assert 0.99 < r.occupancy <= 1.0
    assert math.isfinite(r.asa_s)


def test_erlang_a_required_agents_is_the_smallest_that_meets_the_target() -> None:
    for calls, patience in ((100, 60), (800, 120), (3000, 30), (12, 200)):
        n = required_agents(
            calls, 180, 1800, target_sl=0.8, target_answer_s=20, patience_s=patience
        )
        assert erlang_a(n, calls, 180, 1800, 20, patience).service_level >= 0.8
        assert n == 1 or erlang_a(n - 1, calls, 180, 1800, 20, patience).service_level < 0.8


def test_erlang_a_with_zero_target_counts_only_immediate_answers() -> None:
    r = erlang_a(13, 100, 180, 1800, 0, 120)
    assert r.service_level == pytest.approx(1 - r.p_wait, abs=1e-12)


# ---------------------------------------------------------------- requirement rows


@dataclass(frozen=True)
class Row:
    start: datetime
    calls: float
    aht_s: float


def test_requirement_keeps_the_formula_inputs_visible() -> None:
    t0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
    rows = [
        Row(t0, 100, 180),
        Row(t0 + timedelta(minutes=30), 0, 0),
        Row(t0 + timedelta(hours=2), 360, 240),
    ]
    out = requirement(rows, StaffingInputs(shrinkage=0.3, max_occupancy=0.85))
    first = out[0]
    assert (first.calls, first.aht_s, first.traffic_erlangs, first.agents) == (100, 180, 10.0, 14)
    assert first.service_level == pytest.approx(0.8884, abs=5e-4)
    assert first.occupancy == pytest.approx(10 / 14)
    assert first.asa_s == pytest.approx(average_speed_of_answer(14, 100, 180, 1800))
    assert first.agents_with_shrinkage == 20
    assert first.p_abandon is None
    quiet = out[1]
    assert (quiet.agents, quiet.agents_with_shrinkage, quiet.service_level) == (0, 0, 1.0)
    busy = out[2]
    assert busy.traffic_erlangs == pytest.approx(48.0)
    assert busy.service_level >= 0.8 and busy.agents == required_agents(
        360, 240, 1800, max_occupancy=0.85
    )


def test_requirement_uses_erlang_a_when_patience_is_configured() -> None:
    t0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
    rows = [Row(t0 + timedelta(minutes=15 * i), 50 + 10 * i, 200) for i in range(4)]
    inputs = StaffingInputs(interval_min=15, patience_s=90, shrinkage=0.25)
    assert inputs.model == "erlang_a" and inputs.interval_s == 900
    for row, got in zip(rows, requirement(reversed(rows), inputs), strict=True):
        assert got.start == row.start
        expected = erlang_a(got.agents, row.calls, 200, 900, 20, 90)
        assert got.service_level == pytest.approx(expected.service_level)
        assert got.p_abandon == pytest.approx(expected.p_abandon)
        assert got.agents_with_shrinkage == with_shrinkage(got.agents, 0.25)


def test_requirement_rejects_rows_that_do_not_fit_the_interval() -> None:
    t0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="closer than the 30-minute interval"):
        requirement([Row(t0, 10, 180), Row(t0 + timedelta(minutes=15), 10, 180)])
    with pytest.raises(ValueError, match="has no time zone"):
        requirement([Row(datetime(2025, 3, 3), 10, 180)])
    with pytest.raises(ValueError, match="has calls but aht_s"):
        requirement([Row(t0, 10, 0)])


# ---------------------------------------------------------------- purity


def test_erlang_and_forecast_import_only_the_standard_library_and_holidays() -> None:
    allowed = {
        "__future__",
        "math",
        "collections",
        "dataclasses",
        "datetime",
        "typing",
        "csv",
        "io",
        "enum",
        "zoneinfo",
        "holidays",
        "roster",  # each other (forecast reads erlang's domain limits); roster/ is pure itself
    }
    for name in ("erlang.py", "forecast.py"):
        tree = ast.parse((ROSTER / name).read_text())
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
        assert found <= allowed, (name, found - allowed)
