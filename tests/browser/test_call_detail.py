from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.calls import services as call_svc
from console.core.models import Disposition
from tests.browser.conftest import LiveServer
from tests.browser.helpers import agent_id_of

pytestmark = pytest.mark.browser


def test_from_the_call_log_to_a_calls_timeline(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    a1, a2 = agent_id_of(live_server, "agent1"), agent_id_of(live_server, "agent2")
    with live_server.hotline.sessions.begin() as s:
        call_id = call_svc.open_inbound(s, "13800138000", "10086", "w-test")[0].id
        code = s.scalar(select(Disposition.code).where(Disposition.active))
        assert code is not None
    for step in (
        lambda s: call_svc.mark_offered(s, call_id, a2),
        lambda s: call_svc.mark_offer_withdrawn(s, call_id, a2, "rona"),
        lambda s: call_svc.mark_offered(s, call_id, a1),
        lambda s: call_svc.mark_answered(s, call_id, a1),
        lambda s: call_svc.mark_ended(s, call_id, "caller-hangup"),
        lambda s: call_svc.wrap_up(s, call_id, a1, code, ["vip"], "回访客户"),
    ):
        with live_server.hotline.sessions.begin() as s:
            step(s)
    page = login("super1")
    page.goto("/calls")
    page.locator(f'tr[data-call-id="{call_id}"]').get_by_test_id("call-link").click()
    expect(page).to_have_url(re.compile(rf"/calls/{call_id}$"))
    entries = page.get_by_test_id("timeline-entry")
    expect(entries).to_have_count(7)
    expect(entries.nth(0)).to_contain_text("来电进入队列")
    expect(entries.nth(1)).to_contain_text("分配给 Agent Kim")
    expect(entries.nth(2)).to_contain_text("振铃超时")
    expect(entries.nth(4)).to_contain_text("坐席 Lin 接听")
    expect(page.get_by_test_id("detail-facts")).to_contain_text("张伟")
    expect(page.get_by_test_id("detail-facts")).to_contain_text("回访客户")
    expect(entries.nth(6)).to_contain_text("已解决")  # the disposition, in her language
