"""Fixtures for the roster tests.

`large_instance` is a centre too big for CP-SAT to prove optimal in a minute without the
greedy hint and symmetry breaking: the benchmark's generated centre (roster.samples) with
50 agents over 4 weeks, seed 7.
"""

from __future__ import annotations

import pytest

from roster.model import Agent, Horizon, Requirement, Rules, ShiftTemplate, Site
from roster.samples import TEMPLATES, instance

LargeInstance = tuple[
    list[Agent], list[ShiftTemplate], Site, Horizon, Requirement, Rules
]  # agents, templates, site, horizon, requirement, rules


@pytest.fixture
def large_instance() -> LargeInstance:
    """50 agents over 4 weeks (seed 7): far from proven optimal in 60 s with a plain model."""
    agents, site, horizon, req, rules = instance(50, 4, 7)
    return agents, TEMPLATES, site, horizon, req, rules
