"""The staffing formulas refuse inputs outside their domain at once instead of looping for ever."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from roster.erlang import (
    MAX_TRAFFIC_ERLANGS,
    StaffingInputs,
    erlang_a,
    erlang_b,
    erlang_c,
    required_agents,
    requirement,
    traffic_erlangs,
)
from roster.forecast import ForecastError, ForecastRow, load_csv
from roster.model import Rules

# A bound on the test, not a speed claim: before the fix these calls ran for hours.
GIVE_UP_S = 60.0


def _outcome(fn: Callable[[], Any]) -> BaseException | Any:
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as err:
            box.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(GIVE_UP_S)
    assert box, "still computing: the input was not bounded"
    return box[0]


@pytest.mark.parametrize("calls", [1e16, 1e308, math.inf, math.nan, -1.0])
def test_absurd_call_counts_are_refused(calls: float) -> None:
    err = _outcome(lambda: required_agents(calls, 300, 1800))
    assert isinstance(err, ValueError), err
    row = ForecastRow(start=datetime(2025, 1, 6, 1, tzinfo=UTC), calls=calls, aht_s=300)
    assert isinstance(_outcome(lambda: requirement([row], StaffingInputs())), ValueError)


def test_erlang_b_and_c_refuse_endless_agent_counts_and_traffic() -> None:
    assert isinstance(_outcome(lambda: erlang_b(10**16, 1.0)), ValueError)
    assert isinstance(_outcome(lambda: erlang_c(10**16, 1.0)), ValueError)
    assert isinstance(_outcome(lambda: erlang_b(10, 1e308)), ValueError)
    assert isinstance(_outcome(lambda: erlang_c(10, 1e16)), ValueError)
    assert isinstance(_outcome(lambda: erlang_a(10**16, 10, 300, 1800, 20, 60)), ValueError)
    assert isinstance(_outcome(lambda: traffic_erlangs(1e308, 1e308, 1800)), ValueError)


def test_the_largest_load_in_the_domain_is_still_sized() -> None:
    # 5,000 one-hour calls in 15 minutes: the forecast's upper bound.
    a = traffic_erlangs(5000, 3600, 900)
    assert a == MAX_TRAFFIC_ERLANGS
    n = _outcome(lambda: required_agents(5000, 3600, 900))
    assert isinstance(n, int) and a < n < a * 1.05
    assert _outcome(lambda: erlang_b(50, MAX_TRAFFIC_ERLANGS)) == pytest.approx(1.0, abs=1e-2)


def test_a_forecast_csv_with_an_absurd_value_is_refused() -> None:
    for line in ("2025-01-06T09:00:00+08:00,1e16,300", "2025-01-06T09:00:00+08:00,10,1e308"):
        with pytest.raises(ForecastError):
            load_csv("start,calls,aht_s\n" + line + "\n")


@pytest.mark.parametrize("factor", [math.inf, math.nan, -1.0, 1e308])
def test_rules_refuse_a_holiday_factor_the_coverage_cannot_round(factor: float) -> None:
    with pytest.raises(ValueError, match="holiday_reinforcement"):
        Rules(holiday_reinforcement=factor)
