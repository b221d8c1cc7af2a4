from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.core.models import Agent, HandoverEntry, RosterPlan, RosterShift, User
from console.workforce import services as workforce
from roster import model as rm
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def _publish_around_now(
    live: LiveServer, shifts: list[tuple[str, str, dt.timedelta, dt.timedelta]]
) -> None:
    """One published roster with, per (username, code, start, end), a shift from now+start to
    now+end."""
    tz = live.hotline.settings.timezone
    now = dt.datetime.now(rm.zone(tz)).replace(second=0, microsecond=0)
    rows = []
    with live.hotline.sessions.begin() as s:
        workforce.seed_templates(s)
        for username, code, start, end in shifts:
            begin, finish = now + start, now + end
            workforce.save_template(
                s, {"code": code, "name": code, "start": f"{begin:%H:%M}", "end": f"{finish:%H:%M}"}
            )
            aid = s.scalar(
                select(Agent.id)
                .join(User, Agent.user_id == User.id)
                .where(User.username == username)
            )
            rows.append((aid, begin.date(), code))
        first = min(day for _, day, _ in rows)
        plan = RosterPlan(
            start=first, days=3, status="published", published_at=dt.datetime.now(dt.UTC)
        )
        s.add(plan)
        s.flush()
        for aid, day, code in rows:
            s.add(RosterShift(roster_id=plan.id, agent_id=aid, day=day, template_code=code))


def test_outgoing_agent_files_a_handover_and_the_incoming_agent_takes_it_over(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    _publish_around_now(
        live_server,
        [
            ("agent1", "P", -dt.timedelta(hours=8), -dt.timedelta(minutes=10)),
            ("agent2", "N", -dt.timedelta(minutes=20), dt.timedelta(hours=7)),
        ],
    )

    page = login("agent1")  # zh-CN
    page.get_by_test_id("nav-handover").click()
    expect(page.get_by_test_id("my-shift")).to_contain_text("P 班")
    expect(page.get_by_test_id("incoming-none")).to_be_visible()
    page.get_by_test_id("item-text").first.fill("回电李女士,退款进度")
    page.get_by_test_id("item-ref").first.fill("C-1001")
    page.get_by_test_id("item-text").first.press("Enter")  # Enter adds the next row
    expect(page.get_by_test_id("item-row")).to_have_count(2)
    page.get_by_test_id("item-text").nth(1).fill("打印机卡纸")
    page.get_by_test_id("notes").fill("钥匙在 2 号抽屉")
    page.get_by_test_id("notes").press("Control+Enter")
    expect(page.get_by_test_id("notice")).to_have_text("交接已提交。")
    expect(page.get_by_test_id("my-entry").get_by_test_id("entry-item")).to_have_count(2)
    expect(page.get_by_test_id("handover-form")).to_be_hidden()

    # The weekly summary counts characters as they are typed.
    page.get_by_test_id("went-well").fill("好" * 120)
    page.get_by_test_id("to-improve").fill("改" * 30)
    expect(page.get_by_test_id("char-count")).to_have_text("150 / 200 字")
    page.get_by_test_id("to-improve").press("Control+Enter")
    expect(page.get_by_test_id("weekly-error")).to_contain_text("总结字数不足(150/200 字)")
    page.get_by_test_id("to-improve").fill("改" * 80)
    expect(page.get_by_test_id("char-count")).to_have_text("200 / 200 字")
    page.get_by_test_id("btn-weekly-submit").click()
    expect(page.get_by_test_id("weekly-notice")).to_have_text("总结已提交。")
    expect(page.get_by_test_id("weekly-done")).to_be_visible()
    expect(page.get_by_test_id("my-misses")).to_have_text("本月无违规记录。")

    page.click("#logout")
    page = login("agent2")  # en
    page.goto("/handover")
    incoming = page.get_by_test_id("incoming").get_by_test_id("entry")
    expect(incoming).to_have_count(1)
    expect(incoming).to_contain_text("回电李女士,退款进度")
    expect(incoming).to_contain_text("C-1001")
    expect(incoming).to_contain_text("钥匙在 2 号抽屉")
    incoming.get_by_test_id("btn-acknowledge").click()
    expect(page.get_by_test_id("notice")).to_have_text("Taken over.")
    expect(page.get_by_test_id("incoming-none")).to_be_visible()
    expect(page.get_by_test_id("taken-over").get_by_test_id("entry-ack")).to_contain_text(
        "Taken over by Agent Kim"
    )

    with live_server.hotline.sessions() as s:
        entry = s.scalar(select(HandoverEntry))
        agent2 = s.scalar(
            select(Agent.id).join(User, Agent.user_id == User.id).where(User.username == "agent2")
        )
        assert entry is not None and entry.template_code == "P"
        assert entry.items == [
            {"text": "回电李女士,退款进度", "ref": "C-1001"},
            {"text": "打印机卡纸", "ref": ""},
        ]
        assert entry.acknowledged_by == agent2 and entry.acknowledged_at is not None
