from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.calls import services as call_svc
from console.core.models import Agent, Call, User
from tests.browser.conftest import LiveServer
from tests.browser.helpers import agent_id_of, go_available, offer_call, open_console

pytestmark = pytest.mark.browser


def _call_cut_by_a_crash(live: LiveServer, caller: str) -> str:
    """An answered call of agent1 that a dead worker left open, closed by its recovery."""
    with live.hotline.sessions.begin() as s:
        agent_id = s.scalar(select(Agent.id).join(User).where(User.username == "agent1"))
        assert agent_id is not None
        call, _, _ = call_svc.open_inbound(s, caller, "10086", "w-dead")
        call_svc.mark_offered(s, call.id, agent_id)
        call_svc.mark_answered(s, call.id, agent_id)
        call_id = call.id
    with live.hotline.sessions.begin() as s:
        last_seen = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        call_svc.close_orphans(s, "w-dead", "worker-restart", last_seen)
    return call_id


def test_agent_wraps_up_a_call_a_crash_cut_and_the_log_marks_it_until_then(
    live_server: LiveServer, login: Callable[[str], Page], sign_in: Callable[[str], Page]
) -> None:
    call_id = _call_cut_by_a_crash(live_server, "12345678901234567890")

    sup = sign_in("super1")
    expect(sup).to_have_url(re.compile(r"/supervision$"))  # the wallboard first
    sup.goto("/calls")
    row = sup.get_by_test_id("calls-table").locator(f'tr[data-call-id="{call_id}"]')
    expect(row).to_contain_text("12345678901234567890")
    expect(row).not_to_contain_text("+86")
    expect(row.get_by_test_id("number-invalid")).to_contain_text("号码无效")
    expect(row.get_by_test_id("needs-wrap-up")).to_contain_text("待话后处理")
    expect(row).to_contain_text("系统重启")

    page = login("agent1")
    pending = page.get_by_test_id("pending-wrap-ups")
    item = pending.locator(f'[data-call-id="{call_id}"]')
    expect(item).to_contain_text("12345678901234567890")
    item.get_by_test_id("btn-late-wrap-up").click()
    form = page.get_by_test_id("wrap-up")
    expect(form).to_have_attribute("data-call-id", call_id)
    expect(form.get_by_test_id("number-invalid")).to_have_count(0)  # the card is not shown
    page.get_by_test_id("btn-wrap-up").click()  # no disposition: the server says so, nothing saved
    expect(form.get_by_test_id("wrap-up-form").get_by_test_id("error")).to_contain_text("处理结果")
    form.get_by_test_id("select-disposition").select_option("resolved")
    page.get_by_test_id("btn-wrap-up").click()
    expect(page.get_by_test_id("notice")).to_contain_text("话后处理已完成")
    expect(pending).to_be_hidden()
    expect(form).to_be_hidden()
    with live_server.hotline.sessions() as s:
        call = s.get(Call, call_id)
        assert call is not None and call.status == "ended" and call.disposition_code == "resolved"

    sup.get_by_test_id("filter-needs_wrap_up").check()
    sup.get_by_test_id("btn-filter").click()
    expect(sup.get_by_test_id("calls-table").locator("tbody")).to_contain_text("没有通话记录")
    assert sup.errors == []  # type: ignore[attr-defined]


def test_screen_pop_shows_a_20_digit_caller_as_it_came_with_a_mark(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    page = open_console(login)
    go_available(live_server, page, agent_id_of(live_server, "agent1"))
    offer_call(live_server, "12345678901234567890")
    card = page.get_by_test_id("call-card")
    expect(card.get_by_test_id("caller-number")).to_have_text("12345678901234567890")
    expect(card.get_by_test_id("number-invalid")).to_contain_text("号码无效")
