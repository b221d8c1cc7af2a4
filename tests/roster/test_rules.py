from __future__ import annotations

import ast
import datetime as dt
import sys
from pathlib import Path

from console.core.i18n import translate
from roster.model import (
    FLAG_NO_LATE,
    Agent,
    Horizon,
    Interval,
    Roster,
    Rules,
    ShiftTemplate,
    Site,
    zone,
)
from roster.rules import required_rest_days, validate

TZ = "Asia/Shanghai"
MON = dt.date(2026, 3, 2)  # a Monday
EARLY = ShiftTemplate("E", dt.time(8), dt.time(17, 30), break_min=90)
LATE = ShiftTemplate("L", dt.time(16), dt.time(1), break_min=60, late=True)
A = ShiftTemplate("A", dt.time(9), dt.time(17))
C = ShiftTemplate("C", dt.time(20), dt.time(22), on_site=False)
SALES = ShiftTemplate("S", dt.time(9), dt.time(17), skills=frozenset({"sales"}))
NIGHT = ShiftTemplate("N", dt.time(22), dt.time(6))
HOUR = ShiftTemplate("H", dt.time(12), dt.time(13))
TEMPLATES = {t.code: t for t in (EARLY, LATE, A, C, SALES, NIGHT, HOUR)}
SITE = Site(seats=10, tz=TZ)
WEEK = Horizon(MON, 7)


def day(i: int, start: dt.date = MON) -> dt.date:
    return start + dt.timedelta(days=i)


def row(codes: str, start: dt.date = MON) -> dict[dt.date, str | None]:
    # One character per day: a template code or "." for a rest day.
    return {day(i, start): (None if c == "." else c) for i, c in enumerate(codes)}


def check(
    rows: dict[str, dict[dt.date, str | None]],
    agents: list[Agent] | None = None,
    rules: Rules | None = None,
    site: Site = SITE,
    horizon: Horizon = WEEK,
    queues: dict[str, dict[dt.date, str]] | None = None,
) -> list[str]:
    agents = agents or [Agent(aid) for aid in rows]
    roster = Roster(rows, queues or {})
    found = validate(roster, agents, TEMPLATES, rules or Rules(), site, horizon)
    return [v.rule_id for v in found]


def test_a_clean_week_has_no_violation() -> None:
    assert check({"a": row("AAAAA.."), "b": row("..EELL.")}) == []


def test_six_eight_hour_days_break_the_forty_hour_week() -> None:
    assert check({"a": row("AAAAAA.")}) == ["max-hours-week"]


def test_late_until_one_then_early_at_eight_is_seven_hours_rest() -> None:
    roster = Roster({"a": row("LE.....")})
    found = validate(roster, [Agent("a")], TEMPLATES, Rules(), SITE, WEEK)
    assert [v.rule_id for v in found] == ["min-rest"]
    assert found[0].day == day(1)
    assert found[0].params == {"rest": 7.0, "limit": Rules().min_rest_h}
    # The console words it in the reader's language from the rule's catalog entry.
    assert "7.0 h" in translate("rule.min-rest", "en", **found[0].params)
    assert "7.0 小时" in translate("rule.min-rest", "zh-CN", **found[0].params)


def test_late_then_late_keeps_enough_rest() -> None:
    assert check({"a": row("LLLLL..")}) == []


def test_seven_days_in_a_row_break_max_consecutive_days() -> None:
    assert check({"a": row("CCCCCCC.......")}, horizon=Horizon(MON, 14)) == ["max-consecutive-days"]


def test_two_rest_days_in_a_month_break_the_three_rest_days_rule() -> None:
    feb = dt.date(2026, 2, 1)
    codes = "CCCCCCCCC.CCCCCCCCC.CCCCCCCC"  # 28 days, 2 rest days, runs of at most 9
    assert len(codes) == 28
    found = check(
        {"a": row(codes, feb)}, rules=Rules(max_consecutive_days=10), horizon=Horizon(feb, 28)
    )
    assert found == ["rest-days-month"]


def test_a_partly_covered_month_needs_prorated_rest_days() -> None:
    # 7 of 31 March days need round(3 * 7 / 31) = 1 rest day.
    assert check({"a": row("CCCCCC.")}) == []
    assert check({"a": row("CCCCCCC")}, rules=Rules(max_consecutive_days=7)) == ["rest-days-month"]


def test_one_day_of_a_month_in_the_horizon_needs_no_rest_day() -> None:
    # A week from Monday 30 November touches November for one day: round(3 * 1 / 30) = 0.
    start = dt.date(2026, 11, 30)
    assert required_rest_days(2026, 11, Horizon(start, 7), Rules()) == 0
    assert required_rest_days(2026, 12, Horizon(start, 7), Rules()) == 1
    assert check({"a": row("CCCCC..", start)}, horizon=Horizon(start, 7)) == []


def test_more_agents_on_site_than_seats_breaks_the_seat_limit() -> None:
    assert check({"a": row("A......"), "b": row("A......")}, site=Site(seats=1, tz=TZ)) == [
        "seat-limit"
    ]


def test_on_call_from_home_needs_no_seat() -> None:
    assert check({"a": row("A......"), "b": row("C......")}, site=Site(seats=1, tz=TZ)) == []


def test_a_relief_may_take_the_seat_just_freed() -> None:
    assert check({"a": row("A......"), "b": row(".......")}, site=Site(seats=1, tz=TZ)) == []
    # EARLY ends 17:30 and LATE starts 16:00: they overlap, so one seat is not enough.
    assert check({"a": row("E......"), "b": row("L......")}, site=Site(seats=1, tz=TZ)) == [
        "seat-limit"
    ]


def test_a_shift_on_approved_leave_breaks_the_leave_rule() -> None:
    assert check({"a": row("A......")}, agents=[Agent("a", leave=frozenset({MON}))]) == ["leave"]


def test_a_shift_over_an_unavailable_span_breaks_availability() -> None:
    z = zone(TZ)
    busy = Interval(
        dt.datetime.combine(MON, dt.time(10), tzinfo=z),
        dt.datetime.combine(MON, dt.time(12), tzinfo=z),
    )
    assert check({"a": row("A......")}, agents=[Agent("a", unavailable=(busy,))]) == [
        "availability"
    ]
    assert check({"a": row(".A.....")}, agents=[Agent("a", unavailable=(busy,))]) == []


def test_a_late_shift_for_a_no_late_contract_breaks_availability() -> None:
    assert check({"a": row("L......")}, agents=[Agent("a", flags=frozenset({FLAG_NO_LATE}))]) == [
        "availability"
    ]


def test_a_shift_for_a_skill_the_agent_lacks_breaks_the_skill_rule() -> None:
    agent = Agent("a", skills=frozenset({"service"}))
    assert check({"a": row("S......")}, agents=[agent]) == ["skill"]
    assert check({"a": row("A......")}, agents=[agent], queues={"a": {MON: "sales"}}) == ["skill"]
    assert check({"a": row("A......")}, agents=[agent], queues={"a": {MON: "service"}}) == []


def test_night_hours_follow_real_elapsed_time_across_dst_in_berlin() -> None:
    assert NIGHT.paid_minutes(dt.date(2025, 3, 29), "Europe/Berlin") == 7 * 60
    assert NIGHT.paid_minutes(dt.date(2025, 10, 25), "Europe/Berlin") == 9 * 60
    assert NIGHT.paid_minutes(dt.date(2025, 6, 14), "Europe/Berlin") == 8 * 60


def test_the_forty_hour_limit_is_hit_or_not_because_of_the_dst_hour() -> None:
    berlin = Site(seats=10, tz="Europe/Berlin")
    # Monday 1 h + five nights Tuesday..Saturday: 41 h in an ordinary week.
    plain = dt.date(2025, 3, 17)
    assert check({"a": row("HNNNNN.", plain)}, site=berlin, horizon=Horizon(plain, 7)) == [
        "max-hours-week"
    ]
    # The spring-forward night (Sat 29 -> Sun 30 March) is 7 h: 40 h, within the limit.
    spring = dt.date(2025, 3, 24)
    assert check({"a": row("HNNNNN.", spring)}, site=berlin, horizon=Horizon(spring, 7)) == []
    # Five nights with the autumn night (Sat 25 -> Sun 26 October) are 41 h: over the limit.
    autumn = dt.date(2025, 10, 20)
    assert check({"a": row(".NNNNN.", autumn)}, site=berlin, horizon=Horizon(autumn, 7)) == [
        "max-hours-week"
    ]
    assert check({"a": row(".NNNNN.", plain)}, site=berlin, horizon=Horizon(plain, 7)) == []


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_engine_modules_import_only_the_standard_library_and_ortools() -> None:
    root = Path(__file__).resolve().parents[2] / "roster"
    allowed = set(sys.stdlib_module_names) | {"ortools", "roster"}
    for name in ("model.py", "rules.py", "solver.py", "coverage.py"):
        assert imports_of(root / name) <= allowed, name


def test_the_roster_package_imports_no_framework() -> None:
    root = Path(__file__).resolve().parents[2] / "roster"
    banned = {"flask", "flask_socketio", "sqlalchemy", "pjsua2", "console", "telephony"}
    for path in root.rglob("*.py"):
        assert not imports_of(path) & banned, path.name


def _before(*pairs: tuple[int, str]) -> tuple[tuple[dt.date, str], ...]:
    # (days before MON, template code)
    return tuple((MON - dt.timedelta(days=k), code) for k, code in pairs)


def test_a_late_shift_on_the_previous_roster_still_needs_its_rest() -> None:
    agent = Agent("a", worked_before=_before((1, "L")))  # Sunday 16:00 to Monday 01:00
    assert check({"a": row("E......")}, agents=[agent]) == ["min-rest"]
    assert check({"a": row("A......")}, agents=[agent]) == ["min-rest"]  # 09:00 is 8 h later
    assert check({"a": row(".E.....")}, agents=[agent]) == []


def test_a_run_from_the_previous_roster_counts_toward_consecutive_days() -> None:
    six = Agent("a", worked_before=_before(*((k, "A") for k in range(1, 7))))
    assert check({"a": row("A......")}, agents=[six]) == ["max-consecutive-days"]
    assert check({"a": row(".AAAAA.")}, agents=[six]) == []
    broken = Agent("a", worked_before=_before(*((k, "A") for k in range(2, 8))))  # Sunday off
    assert check({"a": row("AAAAA..")}, agents=[broken]) == []


def test_the_first_week_counts_hours_already_worked_before_the_horizon() -> None:
    wednesday = MON + dt.timedelta(days=2)
    horizon = Horizon(wednesday, 5)
    worked = Agent("a", worked_before=((MON, "A"), (MON + dt.timedelta(days=1), "A")))
    assert check({"a": row("AAA..", wednesday)}, agents=[worked], horizon=horizon) == []
    found = check({"a": row("AAAA.", wednesday)}, agents=[worked], horizon=horizon)
    assert found == ["max-hours-week"]
