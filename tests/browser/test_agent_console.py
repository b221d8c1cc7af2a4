from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.calls import services as call_svc
from console.core.events import (
    call_answered,
    call_ended,
    call_offer_withdrawn,
)
from console.core.models import Call, Customer, CustomerPhone
from tests.browser.conftest import LiveServer
from tests.browser.helpers import agent_id_of, go_available, offer_call, open_console

pytestmark = pytest.mark.browser


def test_agent_goes_available_by_button_and_by_function_keys(
    live_server: LiveServer, login: Callable[[str], Page], page: Page
) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page = open_console(login)
    agent_id = agent_id_of(live_server, "agent1")
    expect(page.get_by_test_id("btn-available")).to_contain_text("F2")
    go_available(live_server, page, agent_id)

    page.get_by_test_id("select-reason").select_option("lunch")
    page.keyboard.press("F3")
    expect(page.get_by_test_id("state-label")).to_have_text("未就绪 · 用餐")
    live = live_server.hotline.live.get_agent(agent_id)
    assert live is not None and (live.state, live.reason) == ("not_ready", "lunch")

    page.keyboard.press("F2")
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")
    assert live_server.hotline.live.get_agent(agent_id).state == "available"  # type: ignore[union-attr]

    # Letter shortcuts and the help: "?" opens the list of shortcuts.
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcut-help")).to_be_visible()
    expect(page.get_by_test_id("shortcut-help")).to_contain_text("Ctrl+Enter")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shortcut-help")).to_be_hidden()

    page.keyboard.press("F4")
    expect(page.get_by_test_id("state-label")).to_have_text("离线")
    # The vendored client upgraded to a websocket against python-socketio (Engine.IO v4).
    assert any("/socket.io/?EIO=4&transport=websocket" in url for url in sockets), sockets


def test_offer_pops_the_customer_and_reject_reaches_the_worker(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    page = open_console(login)
    agent_id = agent_id_of(live_server, "agent1")
    go_available(live_server, page, agent_id)

    call_id, offered_to = offer_call(live_server)
    assert offered_to == agent_id
    card = page.get_by_test_id("call-card")
    expect(card).to_be_visible()
    expect(card).to_have_class(re.compile("is-ringing"))
    expect(card.get_by_test_id("customer-name").first).to_have_text("张伟")
    expect(card.get_by_test_id("customer-grade").first).to_have_text("A")
    expect(card).to_contain_text("VIP")
    expect(card).to_contain_text("北京市朝阳区建国路 88 号")
    expect(card.get_by_test_id("queue-name")).to_have_text("support")
    expect(page.get_by_test_id("state-label")).to_have_text("振铃中")
    countdown = int(card.get_by_test_id("countdown").inner_text())
    assert 0 < countdown <= 15
    metrics = page.evaluate("window.hlMetrics")
    assert metrics["received"][call_id] <= metrics["painted"][call_id]

    # Typing in a field does not fire the shortcut; outside a field "R" rejects.
    page.keyboard.press("r")
    live_server.wait_for_event("call_reject_requested", call_id=call_id, agent_id=agent_id)

    live_server.hotline.agents.transition(
        agent_id, "available", expect=["ringing"], expect_call=call_id
    )
    live_server.hotline.bus.publish(
        call_offer_withdrawn(call_id=call_id, agent_id=agent_id, reason="rejected")
    )
    expect(card).to_be_hidden()
    expect(page.get_by_test_id("notice")).to_have_text("已拒接来电。")
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")


def test_answer_hang_up_and_wrap_up_with_a_required_disposition(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    hl = live_server.hotline
    page = open_console(login)
    agent_id = agent_id_of(live_server, "agent1")
    go_available(live_server, page, agent_id)
    call_id, _ = offer_call(live_server)

    card = page.get_by_test_id("call-card")
    expect(card.get_by_test_id("btn-answer")).to_contain_text("A")
    card.get_by_test_id("btn-answer").click()
    live_server.wait_for_event("call_answer_requested", call_id=call_id, agent_id=agent_id)
    with hl.sessions.begin() as s:
        call_svc.mark_answered(s, call_id, agent_id)
    hl.agents.transition(
        agent_id, "on_call", call_id=call_id, expect=["ringing"], expect_call=call_id
    )
    hl.bus.publish(call_answered(call_id=call_id, agent_id=agent_id, answered_at=time.time()))
    expect(page.get_by_test_id("btn-hangup")).to_be_visible()
    expect(page.get_by_test_id("talk-timer")).to_have_text(re.compile(r"^00:0\d$"))
    expect(page.get_by_test_id("state-label")).to_have_text("通话中")

    page.keyboard.press("h")
    live_server.wait_for_event("call_hangup_requested", call_id=call_id, agent_id=agent_id)
    with hl.sessions.begin() as s:
        call_svc.mark_ended(s, call_id, "agent-hangup")
    hl.agents.transition(
        agent_id, "wrap_up", call_id=call_id, expect=["on_call"], expect_call=call_id
    )
    hl.bus.publish(
        call_ended(call_id=call_id, agent_id=agent_id, end_reason="agent-hangup", wrap_up_s=60)
    )

    wrap = page.get_by_test_id("wrap-up")
    expect(wrap).to_be_visible()
    expect(page.get_by_test_id("state-label")).to_have_text("话后处理")
    expect(wrap).to_contain_text("坐席挂断")

    # A reload rebuilds the page from the server's snapshot, not from history.
    page.reload()
    wrap = page.get_by_test_id("wrap-up")
    expect(wrap).to_be_visible()
    expect(wrap.get_by_test_id("customer-form")).to_be_visible()

    wrap.get_by_test_id("input-notes").fill("燃气表年检预约")
    wrap.get_by_test_id("btn-wrap-up").click()
    expect(wrap.get_by_test_id("wrap-up-form").get_by_test_id("error")).to_have_text(
        "请选择处理结果。"
    )
    assert hl.live.get_agent(agent_id).state == "wrap_up"  # type: ignore[union-attr]

    wrap.get_by_test_id("select-disposition").select_option("resolved")
    wrap.get_by_test_id("input-tags").fill("燃气, 年检,燃气")
    expect(wrap.get_by_test_id("tag-chips").locator(".hl-chip")).to_have_count(2)
    wrap.get_by_test_id("input-tags").press("Control+Enter")
    expect(wrap).to_be_hidden()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")

    with hl.sessions() as s:
        call = s.get(Call, call_id)
        assert call is not None
        assert call.disposition_code == "resolved" and call.notes == "燃气表年检预约"
        assert sorted(t.tag for t in call.tags) == ["年检", "燃气"]
    assert hl.live.get_agent(agent_id).state == "available"  # type: ignore[union-attr]
    row = page.get_by_test_id("recent-calls").locator(f'tr[data-call-id="{call_id}"]')
    expect(row).to_contain_text("+8613800138000")
    expect(row).to_contain_text("已解决")


def test_unknown_caller_gets_a_new_customer_form_that_creates_the_file(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    page = open_console(login)
    agent_id = agent_id_of(live_server, "agent1")
    go_available(live_server, page, agent_id)
    offer_call(live_server, caller="15900001111")

    card = page.get_by_test_id("call-card")
    form = card.get_by_test_id("new-customer-form")
    expect(form).to_be_visible()
    expect(form.get_by_test_id("input-customer-phones")).to_have_value("+8615900001111")
    form.get_by_test_id("btn-save-customer").click()
    expect(form.get_by_test_id("error")).to_have_text("姓名为必填项。")

    form.get_by_test_id("input-customer-name").fill("赵六")
    form.get_by_test_id("select-customer-grade").select_option("B")
    form.get_by_test_id("btn-add-field").click()
    form.locator(".hl-field-key").last.fill("address")
    form.locator(".hl-field-value").last.fill("上海市徐汇区")
    # Typing "r" in the form must not reject the call.
    form.get_by_test_id("input-customer-notes").type("rar")
    form.get_by_test_id("btn-save-customer").click()

    expect(card.get_by_test_id("customer-name")).to_have_text("赵六")
    expect(card.get_by_test_id("customer-grade")).to_have_text("B")
    with live_server.hotline.sessions() as s:
        c = s.scalar(
            select(Customer).join(CustomerPhone).where(CustomerPhone.number == "+8615900001111")
        )
        assert c is not None and (c.name, c.grade, c.notes) == ("赵六", "B", "rar")
        assert c.fields == {
            "address": "上海市徐汇区",
            "intent": "",
        }  # the queue's registration fields
        linked = s.scalars(
            select(Call.customer_id).where(Call.caller_number == "+8615900001111")
        ).all()
        assert linked == [c.id]  # the call now belongs to the new customer file
    assert not [e for e in live_server.events if e.name == "call_reject_requested"]
    expect(card).to_have_class(re.compile("is-ringing"))


def test_a_phone_chosen_without_one_set_up_is_said_on_the_console(page: Page) -> None:
    """agent1 has no SIP contact in the demo data: her calls go to the page, and it says so;
    with browser audio chosen nothing is said."""
    for choice, shown in (("#audio-phone", True), ("#audio-browser", False)):
        page.goto("/login")
        page.fill("#username", "agent1")
        page.fill("#password", "agent1")
        page.check(choice)
        page.click("#login")
        page.wait_for_load_state("domcontentloaded")
        expect(page.get_by_test_id("btn-available")).to_be_visible()
        warning = page.get_by_test_id("phone-missing")
        if shown:
            expect(warning).to_have_text(re.compile("SIP 话机"))
        else:
            expect(warning).to_have_count(0)
        page.context.clear_cookies()
