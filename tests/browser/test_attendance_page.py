from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from console.core.models import Agent, ClockEvent, RosterPlan, RosterShift, User
from console.workforce import services as workforce
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def _publish_a_shift_running_now(live: LiveServer) -> int:
    tz = ZoneInfo(live.hotline.settings.timezone)
    now = dt.datetime.now(tz)
    # A template around the current wall time, so the shift is running whatever the hour.
    start = (now - dt.timedelta(hours=1)).replace(minute=0)
    end = start + dt.timedelta(hours=4)
    day = start.date()
    with live.hotline.sessions.begin() as s:
        workforce.save_template(
            s, {"code": "T", "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
        )
        agent_id = s.scalar(select(Agent.id).join(User).where(User.username == "agent1"))
        assert agent_id is not None
        plan = RosterPlan(
            start=day, days=1, status="published", published_at=dt.datetime.now(dt.UTC)
        )
        s.add(plan)
        s.flush()
        s.add(RosterShift(roster_id=plan.id, agent_id=agent_id, day=day, template_code="T"))
    return int(agent_id)


def test_agent_clocks_in_from_the_console_and_the_planner_sees_it(
    live_server: LiveServer, login: Callable[[str], Page], sign_in: Callable[[str], Page]
) -> None:
    agent_id = _publish_a_shift_running_now(live_server)
    page = login("agent1")
    expect(page).to_have_url(re.compile(r"/agent$"))
    expect(page.get_by_test_id("clock-state")).to_have_text("未打卡上班")
    expect(page.get_by_test_id("clock-shift")).to_contain_text("当前班次:T")
    expect(page.get_by_test_id("clock-score")).to_contain_text("本月考勤分:10 / 10")

    # Keyboard only: focus the button and press Enter.
    button = page.get_by_test_id("clock-button")
    expect(button).to_have_text("上班打卡")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("clock-notice")).to_contain_text("上班打卡。")
    expect(page.get_by_test_id("clock-state")).to_contain_text("已于")
    expect(button).to_have_text("下班打卡")
    expect(button).to_be_focused()
    with live_server.hotline.sessions() as s:
        kinds = list(s.scalars(select(ClockEvent.kind).where(ClockEvent.agent_id == agent_id)))
    assert kinds == ["in"]

    planner = sign_in("planner")
    planner.get_by_test_id("nav-attendance").click()
    expect(planner).to_have_url(re.compile(r"/schedule/attendance$"))
    row = planner.locator(f'[data-test="now-row"][data-agent="{agent_id}"]')
    expect(row.get_by_test_id("name")).to_have_text("坐席 Lin")
    expect(row.get_by_test_id("clocked")).to_contain_text("起已打卡")
    # Clocked in and rostered, but not logged in to the service desk yet.
    expect(row.get_by_test_id("adherence")).to_have_text("已打卡但未登录坐席")
    expect(planner.get_by_test_id("now-summary")).to_have_text("当前排班 1 人,1 人未遵从")
    ledger = planner.locator(f'[data-test="ledger-row"][data-agent="{agent_id}"]')
    expect(ledger.get_by_test_id("score")).to_have_text("10")
    expect(ledger.get_by_test_id("level")).to_have_text("正常")
    # The month's ledger downloads as CSV for payroll.
    with planner.expect_download() as download:
        planner.get_by_test_id("export-ledger").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert csv_text.startswith("agent_id,name,month,score,level") and "坐席 Lin" in csv_text

    # The agent logs in to the desk: the planner's page shows her in adherence at once,
    # pushed live (the periodic refresh is 30 s away, the wait here at most 5 s).
    expect(planner.locator("hl-attendance")).to_have_attribute("data-live", "connected")
    page.get_by_test_id("btn-available").click()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")
    expect(row.get_by_test_id("adherence")).to_have_text("遵从")
    expect(row.get_by_test_id("state")).to_have_text("空闲")
    expect(planner.get_by_test_id("now-summary")).to_have_text("当前排班 1 人,0 人未遵从")
    assert not planner.errors, planner.errors  # type: ignore[attr-defined]

    # agent2 is rostered now too but has not clocked in: agent1 may not just leave her post.
    with live_server.hotline.sessions.begin() as s:
        plan_id = s.scalar(select(RosterPlan.id))
        shift = s.scalar(select(RosterShift).where(RosterShift.agent_id == agent_id))
        agent2 = s.scalar(select(Agent.id).join(User).where(User.username == "agent2"))
        assert plan_id is not None and shift is not None and agent2 is not None
        s.add(RosterShift(roster_id=plan_id, agent_id=agent2, day=shift.day, template_code="T"))
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("clock-error")).to_contain_text("接班人尚未打卡:Agent Kim")
    anyway = page.get_by_test_id("clock-out-anyway")
    expect(anyway).to_be_focused()
    with live_server.hotline.sessions() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(ClockEvent).where(ClockEvent.agent_id == agent_id)
            )
            == 1
        )
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("clock-notice")).to_contain_text("下班打卡")
    expect(anyway).to_be_hidden()
    expect(button).to_have_text("上班打卡")
    with live_server.hotline.sessions() as s:
        rows = list(
            s.execute(
                select(ClockEvent.kind, ClockEvent.source)
                .where(ClockEvent.agent_id == agent_id)
                .order_by(ClockEvent.id)
            )
        )
    assert [tuple(r) for r in rows] == [("in", "console"), ("out", "relief-missing")]
