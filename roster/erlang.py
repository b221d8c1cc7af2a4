"""Staffing requirement per interval: Erlang B/C/A queueing formulas and shrinkage (pure)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

__all__ = [
    "MAX_AHT_S",
    "MAX_CALLS_PER_INTERVAL",
    "MAX_TRAFFIC_ERLANGS",
    "ErlangAResult",
    "ForecastLike",
    "StaffingInputs",
    "StaffingRow",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "required_agents",
    "requirement",
    "service_level",
    "traffic_erlangs",
    "with_shrinkage",
]

# Galloping search gives up here: no contact centre staffs a million seats per interval,
# and an unreachable target must end in an error rather than an endless loop.
_MAX_AGENTS = 1_000_000
# Queue states whose weight is this many nats below the peak are dropped: e^-50 ~ 2e-22,
# far under double precision once summed, even for the slowly decaying tails of long patience.
_TAIL_NATS = 50.0
# Longest queue (in expected waiting callers) Erlang A will evaluate term by term.
_MAX_QUEUE = 1_000_000
# The domain of a stored forecast interval (the API's schema states the same limits): far
# above any real queue, low enough that sizing the busiest interval stays well under a second.
MAX_CALLS_PER_INTERVAL = 5000.0
MAX_AHT_S = 3600.0
# Offered load beyond which nothing is sized: 5,000 one-hour calls in 15 minutes. Every loop
# here runs about as many steps as there are agents, so this bound is also the time bound.
MAX_TRAFFIC_ERLANGS = 20_000.0


# --------------------------------------------------------------------------- validation


def _check_agents(agents: int) -> None:
    # bool is an int subclass; True agents is always a caller bug. ValueError, not TypeError:
    # every bad input to this module is one kind of error the console reports to the user.
    if isinstance(agents, bool) or not isinstance(agents, int):
        raise ValueError(f"agents must be an integer, got {agents!r}")
    if agents < 0:
        raise ValueError(f"agents must be >= 0, got {agents}")
    if agents > _MAX_AGENTS:
        # The recursions below take one step per agent: 10**16 agents would never return.
        raise ValueError(f"agents must be <= {_MAX_AGENTS}, got {agents}")


def _check_finite(name: str, value: float, *, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def _check_load(calls: float, aht_s: float, interval_s: float) -> None:
    _check_finite("calls", calls)
    _check_finite("aht_s", aht_s, positive=True)
    _check_finite("interval_s", interval_s, positive=True)


def _check_traffic(name: str, traffic: float) -> None:
    _check_finite(name, traffic)
    if traffic > MAX_TRAFFIC_ERLANGS:
        raise ValueError(f"{name} must be <= {MAX_TRAFFIC_ERLANGS:g} Erlangs, got {traffic:g}")


def traffic_erlangs(calls: float, aht_s: float, interval_s: float) -> float:
    """Offered load in Erlangs: calls x AHT / interval length (at most MAX_TRAFFIC_ERLANGS)."""
    _check_load(calls, aht_s, interval_s)
    # 1e308 calls x AHT overflows to inf: that too is refused here, not looped on.
    load = calls * aht_s / interval_s
    _check_traffic("traffic", load)
    return load


# --------------------------------------------------------------------------- Erlang B / C


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of M/M/N/N (Erlang B) by the stable recursion."""
    _check_agents(agents)
    _check_traffic("traffic", traffic)
    # B(0)=1, B(n) = A·B(n-1) / (n + A·B(n-1)): every step stays in [0, 1], so no
    # factorial or power ever overflows, unlike the textbook sum.
    b = 1.0
    for n in range(1, agents + 1):
        ab = traffic * b
        b = ab / (n + ab)
    return b


def erlang_c(agents: int, traffic_erlangs: float) -> float:
    """Probability that a call waits (Erlang C); 1.0 when traffic >= agents."""
    _check_agents(agents)
    _check_traffic("traffic_erlangs", traffic_erlangs)
    if traffic_erlangs == 0:
        # No calls, nobody waits (also for zero agents: there is nothing to queue).
        return 0.0
    if traffic_erlangs >= agents:
        # Unstable queue: in steady state every call waits.
        return 1.0
    b = erlang_b(agents, traffic_erlangs)
    # C = N·B / (N − A·(1 − B)); the denominator is > N − A > 0 here.
    c = agents * b / (agents - traffic_erlangs * (1.0 - b))
    return min(1.0, max(0.0, c))


def service_level(
    agents: int, calls_per_interval: float, aht_s: float, interval_s: float, target_answer_s: float
) -> float:
    """Share of calls answered within target_answer_s under Erlang C."""
    _check_agents(agents)
    _check_finite("target_answer_s", target_answer_s)
    a = traffic_erlangs(calls_per_interval, aht_s, interval_s)
    if a == 0:
        return 1.0
    if agents <= a:
        return 0.0
    c = erlang_c(agents, a)
    return min(1.0, max(0.0, 1.0 - c * math.exp(-(agents - a) * target_answer_s / aht_s)))


def average_speed_of_answer(
    agents: int, calls_per_interval: float, aht_s: float, interval_s: float
) -> float:
    """Mean wait in seconds over all calls under Erlang C; inf when unstable."""
    _check_agents(agents)
    a = traffic_erlangs(calls_per_interval, aht_s, interval_s)
    if a == 0:
        return 0.0
    if agents <= a:
        return math.inf
    return erlang_c(agents, a) * aht_s / (agents - a)


def occupancy(agents: int, calls_per_interval: float, aht_s: float, interval_s: float) -> float:
    """Share of agent time spent handling calls (offered load / agents, capped at 1)."""
    _check_agents(agents)
    a = traffic_erlangs(calls_per_interval, aht_s, interval_s)
    if a == 0:
        return 0.0
    if agents <= a:
        return 1.0
    return a / agents


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady-state figures of the Erlang A (M/M/N+M, Palm) queue."""

    service_level: float  # answered within the target, over all offered calls
    p_abandon: float  # offered calls that hang up before being answered
    p_wait: float  # offered calls that find every agent busy
    asa_s: float  # mean wait of answered calls (those answered at once count as 0)
    mean_wait_s: float  # mean time in queue over all offered calls, abandoned ones included
    occupancy: float  # carried load / agents


def _logaddexp(x: float, y: float) -> float:
    if x == -math.inf:
        return y
    if y == -math.inf:
        return x
    if x < y:
        x, y = y, x
    return x + math.log1p(math.exp(y - x))


def erlang_a(
    agents: int,
    calls_per_interval: float,
    aht_s: float,
    interval_s: float,
    target_answer_s: float,
    patience_s: float,
) -> ErlangAResult:
    """Erlang A (Palm's M/M/N+M) figures with exponential patience of mean patience_s."""
    _check_agents(agents)
    _check_finite("target_answer_s", target_answer_s)
    _check_finite("patience_s", patience_s, positive=True)
    a_load = traffic_erlangs(calls_per_interval, aht_s, interval_s)
    if a_load == 0:
        return ErlangAResult(1.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    # Reference: O. Garnett, A. Mandelbaum, M. Reiman, "Designing a call center with
    # impatient customers", M&SOM 4(3), 2002, and A. Mandelbaum, S. Zeltyn, "The Palm/Erlang-A
    # queue, with applications to call centers" (2005). Their closed forms use the incomplete
    # gamma function; we evaluate the same birth-death chain term by term in log space, which
    # is exact up to the dropped tail and cannot overflow for hundreds of agents.
    lam = calls_per_interval / interval_s  # arrivals per second
    mu = 1.0 / aht_s
    theta = 1.0 / patience_s
    n = agents
    served_rate = n * mu  # rate at which the head of the queue enters service

    # Weights relative to state N (all agents busy, nobody waiting).
    # States below N: sum_{k<N} pi_k/pi_N = 1/B(N, A) − 1 = (N/A)·(1/B(N−1, A)); the
    # recursion r_n = 1 + (n/A)·r_{n−1} on r = 1/B is run in logs to survive tiny B.
    if n == 0:
        log_below = -math.inf
    else:
        log_r = 0.0
        for k in range(1, n):
            log_r = _logaddexp(0.0, math.log(k / a_load) + log_r)
        log_below = math.log(n / a_load) + log_r

    # States N+k (k callers queued): w_k = prod_{j=1..k} lam / (N·mu + j·theta). The weights
    # peak near k = (lam − N·mu)/theta; an overloaded queue with near-endless patience would
    # need millions of terms, and is Erlang C's "unstable" case anyway.
    # Near the critical load the peak is ~sqrt(lam/theta) wide, hence the second term.
    if (lam - served_rate) / theta + 10 * math.sqrt(lam / theta) > _MAX_QUEUE:
        raise ValueError(
            "Erlang A queue too long to evaluate: calls exceed what the agents can serve and "
            "patience_s is almost endless; add agents or shorten patience_s"
        )
    log_w: list[float] = [0.0]
    peak = 0.0
    k = 0
    while True:
        k += 1
        ratio = lam / (served_rate + k * theta)
        nxt = log_w[-1] + math.log(ratio)
        log_w.append(nxt)
        peak = max(peak, nxt)
        # Past the mode (ratio < 1) and deep below the peak: the rest is negligible.
        if ratio < 1.0 and nxt < peak - _TAIL_NATS:
            break

    log_z = log_below
    for lw in log_w:
        log_z = _logaddexp(log_z, lw)
    p_immediate = math.exp(log_below - log_z) if n > 0 else 0.0

    # A caller who finds k waiting ahead advances at rate N·mu + j·theta (j ahead), so its
    # offered wait V is hypoexponential with rates N·mu + j·theta, j = 0..k, whose density is
    # theta·e^{−a t}(1 − e^{−theta t})^k / Beta(a/theta, k+1) with a = N·mu. With its own
    # patience tau ~ Exp(theta):
    #   P(answered)          = a / (a + (k+1)·theta)
    #   P(answered within T) = a / (a + (k+1)·theta) · (1 − I_x(a/theta + 1, k+1)),
    #                          x = e^{−theta T}
    #   E[V; answered]       = a / (a + (k+1)·theta) · sum_{j=1..k+1} 1/(a + j·theta)
    # and for an integer second argument I_x(p, k+1) = x^p · sum_{j=0..k} (p)_j/j! · (1−x)^j,
    # a running sum of positive terms (no cancellation), kept in logs.
    p = served_rate / theta + 1.0
    timed = target_answer_s > 0
    log_xp = -theta * target_answer_s * p
    log_1mx = math.log(-math.expm1(-theta * target_answer_s)) if timed else -math.inf
    log_term = 0.0
    log_sum = 0.0
    harmonic = 0.0
    sl = p_immediate
    p_served = p_immediate
    served_wait = 0.0
    p_wait = 0.0
    for k, lw in enumerate(log_w):
        pi = math.exp(lw - log_z)
        if k > 0 and timed:
            log_term += math.log((p + k - 1) / k) + log_1mx
            log_sum = _logaddexp(log_sum, log_term)
        harmonic += 1.0 / (served_rate + (k + 1) * theta)
        answered = served_rate / (served_rate + (k + 1) * theta)
        within = 1.0 - min(1.0, math.exp(log_xp + log_sum)) if timed else 0.0
        p_wait += pi
        p_served += pi * answered
        sl += pi * answered * within
        served_wait += pi * answered * harmonic
    p_abandon = min(1.0, max(0.0, 1.0 - p_served))
    asa = served_wait / p_served if p_served > 0 else math.inf
    carried = a_load * (1.0 - p_abandon)
    occ = min(1.0, carried / n) if n > 0 else 0.0
    return ErlangAResult(
        service_level=min(1.0, max(0.0, sl)),
        p_abandon=p_abandon,
        p_wait=min(1.0, max(0.0, p_wait)),
        asa_s=asa,
        # Little's law on the abandonment stream: theta·E[Q] = lam·P(Ab) ⇒ E[W] = P(Ab)/theta.
        mean_wait_s=p_abandon * patience_s,
        occupancy=occ,
    )


# --------------------------------------------------------------------------- sizing


def _smallest(meets: Callable[[int], bool], lo: int) -> int:
    # Service level rises monotonically with agents, so gallop up, then bisect.
    if meets(lo):
        return lo
    step = 1
    hi = lo + step
    while not meets(hi):
        lo = hi
        step *= 2
        hi = lo + step
        if hi > _MAX_AGENTS:
            raise ValueError("service-level target unreachable with a realistic number of agents")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi


def required_agents(
    calls: float,
    aht_s: float,
    interval_s: float,
    target_sl: float = 0.8,
    target_answer_s: float = 20,
    max_occupancy: float | None = None,
    patience_s: float | None = None,
) -> int:
    """Smallest number of agents meeting the service-level target (Erlang C, or A with patience)."""
    a = traffic_erlangs(calls, aht_s, interval_s)
    _check_finite("target_sl", target_sl)
    if not 0 < target_sl < 1:
        raise ValueError(f"target_sl must be between 0 and 1 (exclusive), got {target_sl}")
    _check_finite("target_answer_s", target_answer_s)
    if max_occupancy is not None:
        _check_finite("max_occupancy", max_occupancy)
        if not 0 < max_occupancy <= 1:
            raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy}")
    if patience_s is not None:
        _check_finite("patience_s", patience_s, positive=True)
    if a == 0:
        return 0

    if patience_s is None:
        patience = 0.0

        def meets(n: int) -> bool:
            return service_level(n, calls, aht_s, interval_s, target_answer_s) >= target_sl

        # Erlang C needs N > A for a stable queue.
        n_sl = _smallest(meets, math.floor(a) + 1)
    else:
        patience = patience_s

        def meets(n: int) -> bool:
            r = erlang_a(n, calls, aht_s, interval_s, target_answer_s, patience)
            return r.service_level >= target_sl

        # With abandonment the queue is stable for any N, so start from one agent.
        n_sl = _smallest(meets, 1)

    if max_occupancy is None:
        return n_sl
    # The cap uses the offered load (conservative under Erlang A, where some calls abandon);
    # the small epsilon keeps 8.5/0.85 from becoming 11 through rounding noise.
    n_occ = math.ceil(a / max_occupancy - 1e-9)
    return max(n_sl, n_occ)


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to roster so that `agents` remain after shrinkage: ceil(N / (1 − shrinkage))."""
    _check_agents(agents)
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, (int, float)):
        raise ValueError(f"shrinkage must be a number in [0, 1), got {shrinkage!r}")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage}")
    # The epsilon stops 13 / (1 − 0.35) = 20.000000000000004 from rounding up to 21.
    return math.ceil(agents / (1.0 - shrinkage) - 1e-9)


# --------------------------------------------------------------------------- per interval


class ForecastLike(Protocol):
    """Anything with a forecast row's fields (roster.forecast.ForecastRow fits)."""

    @property
    def start(self) -> datetime: ...

    @property
    def calls(self) -> float: ...

    @property
    def aht_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class StaffingInputs:
    """Parameters shared by every interval of a staffing requirement."""

    interval_min: int = 30
    target_sl: float = 0.8
    target_answer_s: float = 20.0
    shrinkage: float = 0.0  # breaks, training, absence: share of rostered time not on the phones
    max_occupancy: float | None = None
    patience_s: float | None = None  # mean patience; set it to use Erlang A

    def __post_init__(self) -> None:
        if self.interval_min not in (15, 30):
            raise ValueError(f"interval_min must be 15 or 30, got {self.interval_min!r}")
        _check_finite("target_sl", self.target_sl)
        if not 0 < self.target_sl < 1:
            raise ValueError(f"target_sl must be between 0 and 1 (exclusive), got {self.target_sl}")
        _check_finite("target_answer_s", self.target_answer_s)
        _check_finite("shrinkage", self.shrinkage)
        if not self.shrinkage < 1:
            raise ValueError(f"shrinkage must be in [0, 1), got {self.shrinkage}")
        if self.max_occupancy is not None:
            _check_finite("max_occupancy", self.max_occupancy)
            if not 0 < self.max_occupancy <= 1:
                raise ValueError(f"max_occupancy must be in (0, 1], got {self.max_occupancy}")
        if self.patience_s is not None:
            _check_finite("patience_s", self.patience_s, positive=True)

    @property
    def interval_s(self) -> int:
        """Interval length in seconds."""
        return self.interval_min * 60

    @property
    def model(self) -> str:
        """Which formula sizes the intervals: "erlang_c" or "erlang_a"."""
        return "erlang_c" if self.patience_s is None else "erlang_a"


@dataclass(frozen=True, slots=True)
class StaffingRow:
    """One interval's requirement with the inputs and results of the formula kept visible."""

    start: datetime
    calls: float
    aht_s: float
    traffic_erlangs: float
    agents: int  # on the phones, before shrinkage
    service_level: float  # achieved with `agents`
    asa_s: float  # Erlang C: over all calls; Erlang A: over answered calls
    occupancy: float
    p_abandon: float | None  # only under Erlang A
    agents_with_shrinkage: int  # to roster


def requirement(
    forecast_rows: Iterable[ForecastLike], inputs: StaffingInputs | None = None
) -> list[StaffingRow]:
    """Agents needed per forecast interval, with the figures behind each number."""
    cfg = inputs if inputs is not None else StaffingInputs()
    rows: Sequence[ForecastLike] = sorted(forecast_rows, key=lambda r: r.start)
    step = timedelta(minutes=cfg.interval_min)
    out: list[StaffingRow] = []
    previous: datetime | None = None
    for row in rows:
        if row.start.tzinfo is None:
            raise ValueError(f"forecast row {row.start.isoformat()} has no time zone")
        # Gaps (closed hours) are fine; overlap means the rows use another interval length.
        if previous is not None and row.start - previous < step:
            raise ValueError(
                f"forecast rows {previous.isoformat()} and {row.start.isoformat()} are closer "
                f"than the {cfg.interval_min}-minute interval"
            )
        previous = row.start
        _check_finite("calls", row.calls)
        if row.calls > 0 and not (math.isfinite(row.aht_s) and row.aht_s > 0):
            raise ValueError(
                f"forecast row {row.start.isoformat()} has calls but aht_s {row.aht_s}"
            )
        out.append(_size(row, cfg))
    return out


def _size(row: ForecastLike, cfg: StaffingInputs) -> StaffingRow:
    if row.calls == 0:
        return StaffingRow(
            row.start,
            0.0,
            row.aht_s,
            0.0,
            0,
            1.0,
            0.0,
            0.0,
            None if cfg.patience_s is None else 0.0,
            0,
        )
    interval_s = cfg.interval_s
    a = traffic_erlangs(row.calls, row.aht_s, interval_s)
    n = required_agents(
        row.calls,
        row.aht_s,
        interval_s,
        cfg.target_sl,
        cfg.target_answer_s,
        cfg.max_occupancy,
        cfg.patience_s,
    )
    p_abandon: float | None
    if cfg.patience_s is None:
        sl = service_level(n, row.calls, row.aht_s, interval_s, cfg.target_answer_s)
        asa = average_speed_of_answer(n, row.calls, row.aht_s, interval_s)
        occ = occupancy(n, row.calls, row.aht_s, interval_s)
        p_abandon = None
    else:
        r = erlang_a(n, row.calls, row.aht_s, interval_s, cfg.target_answer_s, cfg.patience_s)
        sl, asa, occ, p_abandon = r.service_level, r.asa_s, r.occupancy, r.p_abandon
    return StaffingRow(
        start=row.start,
        calls=row.calls,
        aht_s=row.aht_s,
        traffic_erlangs=a,
        agents=n,
        service_level=sl,
        asa_s=asa,
        occupancy=occ,
        p_abandon=p_abandon,
        agents_with_shrinkage=with_shrinkage(n, cfg.shrinkage),
    )
