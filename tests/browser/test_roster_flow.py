"""A scheduler builds, solves, edits and publishes a roster in Chromium; an agent asks for a
swap, her colleague accepts, and the approval re-validates the roster and names the rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from console.core.models import Agent, Queue, RosterPlan, RosterShift, User
from console.forecasts import services as forecasts
from console.requests import services as requests
from console.rosters import services as rosters
from console.workforce import services as workforce
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
TZ = "Asia/Shanghai"


def _agent_id(live: LiveServer, username: str) -> int:
    with live.hotline.sessions() as s:
        agent_id = s.scalar(
            select(Agent.id).join(User, Agent.user_id == User.id).where(User.username == username)
        )
    assert agent_id is not None
    return agent_id


def _approved_leave(live: LiveServer, agent_id: int, day: dt.date) -> None:
    with live.hotline.sessions.begin() as s:
        row = requests.request_leave(
            s, agent_id, {"first_day": day.isoformat(), "last_day": day.isoformat()}
        )
        planner = s.scalar(select(User.id).where(User.username == "planner"))
        assert planner is not None
        requests.decide_leave(s, row.id, {"approve": True}, planner, TZ)


def test_scheduler_publishes_a_roster_and_a_swap_approval_is_revalidated(
    live_server: LiveServer, login: Callable[[str], Page], sign_in: Callable[[str], Page]
) -> None:
    live = live_server
    today = workforce.local_day(dt.datetime.now(dt.UTC), TZ)
    monday = today + dt.timedelta(days=7 - today.weekday())
    wednesday = monday + dt.timedelta(days=2)
    a1, a2 = _agent_id(live, "agent1"), _agent_id(live, "agent2")
    lines = ["start,calls,aht_s"]
    for d in range(7):
        for hour in range(8, 22):
            for minute in (0, 30):
                lines.append(
                    f"{(monday + dt.timedelta(days=d)).isoformat()}T{hour:02d}:{minute:02d},4,180"
                )
    with live.hotline.sessions.begin() as s:
        qid = s.scalar(select(Queue.id).where(Queue.name == "support"))
        assert qid is not None
        forecasts.import_csv(s, qid, "\n".join(lines) + "\n", TZ)
    _approved_leave(live, a1, wednesday)

    # The scheduler builds a one-week roster from next Monday and solves it.
    page = login("planner")
    page.get_by_test_id("nav-rosters").click()
    expect(page.get_by_test_id("new-start")).to_have_value(monday.isoformat())
    # agent2's contract: no weekends (the solver must honour it).
    row2 = page.locator(f'[data-test="agent-row"][data-agent="{a2}"]')
    row2.get_by_test_id("agent-no-weekend").check()
    row2.get_by_test_id("btn-save-agent").click()
    expect(page.get_by_test_id("notice")).to_have_text("已保存。")
    with live.hotline.sessions() as s:
        agent2 = s.get(Agent, a2)
        assert agent2 is not None and agent2.contract_flags == ["no-weekend"]
    # The attendance rulebook and the escalation ladder are configuration too.
    page.get_by_test_id("policy-late_points").fill("1")
    page.get_by_test_id("policy-escalation").fill("口头警告\n书面警告\n罚款")
    expect(page.get_by_test_id("policy-handover_grace_min")).to_have_value("30")
    page.get_by_test_id("policy-handover_grace_min").fill("45")
    page.get_by_test_id("btn-save-policy").click()
    expect(page.get_by_test_id("notice")).to_have_text("已保存。")
    with live.hotline.sessions() as s:
        cfg = workforce.settings_row(s)
        assert workforce.attendance_policy(cfg).late_points == 1.0
        assert cfg.escalation == ["口头警告", "书面警告", "罚款"]
        assert cfg.handover_grace_min == 45 and cfg.weekly_summary_remind_h == 2
    page.get_by_test_id("new-weeks").fill("1")
    page.get_by_test_id("new-limit").fill("10")
    page.get_by_test_id("btn-create").click()
    expect(page.get_by_test_id("roster-grid")).to_be_visible()
    page.get_by_test_id("btn-solve").click()
    expect(page.get_by_test_id("roster-status")).to_have_attribute(
        "data-status", "solved", timeout=30000
    )
    expect(page.get_by_test_id("result")).to_contain_text("距下界")
    expect(page.get_by_test_id("no-violations")).to_be_visible()
    expect(page.get_by_test_id("explanation").first).to_be_visible()
    expect(page.get_by_test_id("coverage-chart").locator("polyline")).to_have_count(1)

    # Rostering agent1 on her approved leave day is flagged at once and blocks publishing.
    cell = page.locator(
        f'[data-test="cell"][data-agent="{a1}"][data-day="{wednesday.isoformat()}"]'
    )
    expect(cell).to_have_value("")
    cell.select_option("E")
    # Other rules may break too (e.g. the 40-hour week); the leave rule must be among them.
    expect(page.locator('[data-test="violation"][data-rule="leave"]')).to_have_count(1)
    expect(
        page.locator(f'td.hl-cell-bad [data-test="cell"][data-agent="{a1}"]').first
    ).to_be_visible()
    expect(page.get_by_test_id("btn-publish")).to_be_disabled()
    cell = page.locator(
        f'[data-test="cell"][data-agent="{a1}"][data-day="{wednesday.isoformat()}"]'
    )
    cell.select_option("")
    expect(page.get_by_test_id("no-violations")).to_be_visible()
    page.get_by_test_id("btn-publish").click()
    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-status", "published")
    expect(page.get_by_test_id("notice")).to_contain_text("已发布")

    with live.hotline.sessions() as s:
        plan = s.scalar(select(RosterPlan).where(RosterPlan.status == "published"))
        assert plan is not None
        days = sorted(
            r.day
            for r in s.scalars(
                select(RosterShift).where(
                    RosterShift.roster_id == plan.id, RosterShift.agent_id == a1
                )
            )
        )
        weekend2 = [
            r.day
            for r in s.scalars(
                select(RosterShift).where(
                    RosterShift.roster_id == plan.id, RosterShift.agent_id == a2
                )
            )
            if r.day.weekday() >= 5
        ]
    assert days and wednesday not in days
    assert weekend2 == []
    swap_day = days[0]
    # agent2 gets approved leave that day: she is free, but the swap would roster her on leave.
    _approved_leave(live, a2, swap_day)

    # agent2 has her schedule open; agent1 sees her published week and asks agent2 for a swap.
    two = sign_in("agent2")
    two.goto("/my/schedule")
    expect(two.get_by_test_id("incoming")).to_contain_text(
        "Nothing waiting"
    )  # agent2 reads English
    one = sign_in("agent1")
    one.get_by_test_id("nav-my-schedule").click()
    expect(one.get_by_test_id("my-shift")).to_have_count(len(days))
    expect(one.get_by_test_id("ical")).to_have_attribute("href", "/api/v1/agent/schedule.ics")
    one.locator(
        f'[data-test="my-shift"][data-day="{swap_day.isoformat()}"] [data-test="btn-swap"]'
    ).click()
    one.get_by_test_id("swap-partner").select_option(str(a2))
    one.get_by_test_id("swap-reason").fill("家里有事")
    one.get_by_test_id("btn-send-swap").click()
    expect(one.get_by_test_id("notice")).to_have_text("申请已提交。")
    expect(one.get_by_test_id("my-swap")).to_have_attribute("data-status", "pending")

    # agent2's open page shows the request live, without a reload, and she accepts it.
    expect(two.get_by_test_id("notice")).to_contain_text("asks you to swap")
    two.get_by_test_id("incoming-swap").get_by_test_id("btn-accept").click()
    expect(two.get_by_test_id("notice")).to_be_visible()
    expect(two.get_by_test_id("incoming-swap")).to_have_count(0)

    # The approval re-validates: agent2 is on leave that day, so it is refused with the rule named.
    page.get_by_test_id("nav-requests").click()
    request = page.get_by_test_id("swap-request")
    expect(request).to_have_count(1)
    request.get_by_test_id("btn-approve").click()
    expect(page.get_by_test_id("error")).to_contain_text("未批准")
    expect(page.locator('[data-test="swap-violation"][data-rule="leave"]')).to_have_count(1)
    with live.hotline.sessions() as s:
        still = s.scalar(
            select(RosterShift).where(
                RosterShift.roster_id == plan.id,
                RosterShift.agent_id == a1,
                RosterShift.day == swap_day,
            )
        )
        assert still is not None
    page.get_by_test_id("swap-request").get_by_test_id("btn-refuse").click()
    expect(page.get_by_test_id("notice")).to_have_text("已驳回")
    expect(page.get_by_test_id("swap-request")).to_have_count(0)
    one.reload()
    expect(one.get_by_test_id("my-swap")).to_have_attribute("data-status", "refused")
    assert not one.errors and not two.errors  # type: ignore[attr-defined]
    one.context.close()
    two.context.close()


def test_the_roster_grid_is_edited_from_the_keyboard(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    live = live_server
    today = workforce.local_day(dt.datetime.now(dt.UTC), TZ)
    monday = today + dt.timedelta(days=7 - today.weekday())
    tue, wed = (monday + dt.timedelta(days=n) for n in (1, 2))
    a1, a2 = _agent_id(live, "agent1"), _agent_id(live, "agent2")
    with live.hotline.sessions.begin() as s:
        planner = s.scalar(select(User.id).where(User.username == "planner"))
        plan = rosters.create(s, {"start": monday.isoformat(), "weeks": 1}, planner)
        roster_id = plan.id

    def cell(agent_id: int, day: dt.date) -> Locator:
        return page.locator(
            f'[data-test="cell"][data-agent="{agent_id}"][data-day="{day.isoformat()}"]'
        )

    def stored(agent_id: int, day: dt.date) -> str | None:
        with live.hotline.sessions() as s:
            return s.scalar(
                select(RosterShift.template_code).where(
                    RosterShift.roster_id == roster_id,
                    RosterShift.agent_id == agent_id,
                    RosterShift.day == day,
                )
            )

    def edited(agent_id: int, day: dt.date, code: str | None, total: str) -> None:
        """The edit is stored (the row's total is recomputed), and the rebuilt grid keeps the
        keyboard on the cell."""
        expect(
            page.locator(f'[data-test="grid-row"][data-agent="{agent_id}"] [data-test="hours"]')
        ).to_have_text(total)
        expect(cell(agent_id, day)).to_have_value(code or "")
        expect(cell(agent_id, day)).to_be_focused()
        assert stored(agent_id, day) == code

    page = login("planner")
    page.goto(f"/schedule/rosters/{roster_id}")
    expect(page.get_by_test_id("export-roster")).to_have_attribute(
        "href", f"/api/v1/rosters/{roster_id}/roster.csv"
    )
    cell(a1, monday).focus()
    # Arrows move between cells instead of scrolling through the options.
    page.keyboard.press("ArrowRight")
    expect(cell(a1, tue)).to_be_focused()
    expect(cell(a1, monday)).to_have_value("")
    page.keyboard.press("ArrowDown")
    expect(cell(a2, tue)).to_be_focused()
    # A code letter picks the shift.
    page.keyboard.press("B")
    edited(a2, tue, "B", "8.0")
    # Copy it to the next day, then clear that one with Delete.
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("notice")).to_contain_text("B")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+v")
    edited(a2, wed, "B", "16.0")
    page.keyboard.press("Delete")
    edited(a2, wed, None, "8.0")
    assert stored(a2, tue) == "B"
