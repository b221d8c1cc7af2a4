from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from console.core.models import Call
from tests.helpers import wait_until
from tests.integration.harness import Node, Sipp


@pytest.fixture
def agent_page(browser: Browser, node: Node) -> Iterator[Page]:
    ctx = browser.new_context(base_url=node.base_url, viewport={"width": 1366, "height": 768})
    ctx.set_default_timeout(10000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto("/login")
    page.fill("#username", "agent1")
    page.fill("#password", "agent1")
    page.click("#login")
    expect(page.get_by_test_id("state-label")).to_have_text("离线")
    yield page
    ctx.close()
    assert not errors, errors


def test_real_sip_call_rings_in_chromium_and_is_answered_and_wrapped_up(
    node: Node,
    sipp: Sipp,
    agent_page: Page,
) -> None:
    page = agent_page
    phone, _ = sipp.start("agent_phone.xml", port=node.phones["agent1"])
    page.get_by_test_id("btn-available").click()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")
    caller, _ = sipp.start("caller.xml", target=node.sip_target, keys={"caller": "013800138000"})

    card = page.get_by_test_id("call-card")
    expect(card.get_by_test_id("customer-name")).to_have_text("张伟")
    expect(card.get_by_test_id("customer-grade")).to_have_text("A")
    expect(card.get_by_test_id("countdown")).to_be_visible()
    card.get_by_test_id("btn-answer").click()
    expect(page.get_by_test_id("state-label")).to_contain_text("通话中")
    expect(page.get_by_test_id("btn-hangup")).to_be_visible()
    page.keyboard.press("h")

    wrap = page.get_by_test_id("wrap-up")
    expect(wrap).to_be_visible()
    assert sipp.wait(caller) == 0, sipp.stats(caller)
    assert sipp.wait(phone) == 0, sipp.stats(phone)
    wrap.get_by_test_id("select-disposition").select_option("repair")
    wrap.get_by_test_id("input-tags").fill("燃气, 报修")
    wrap.get_by_test_id("input-notes").fill("表具漏气,已派单")
    wrap.get_by_test_id("btn-wrap-up").click()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")

    with node.hotline.sessions() as s:
        call = s.scalar(select(Call))
        assert call is not None
    wait_until(lambda: _wrapped(node))
    with node.hotline.sessions() as s:
        call = s.scalar(select(Call))
        assert call is not None
        assert call.caller_number == "+8613800138000" and call.end_reason == "agent-hangup"
        assert call.disposition_code == "repair" and sorted(t.tag for t in call.tags) == [
            "报修",
            "燃气",
        ]
        assert (
            call.arrived_at
            <= call.offered_at
            <= call.answered_at
            <= call.ended_at
            <= call.wrapped_at
        )
    row = page.get_by_test_id("recent-calls").locator(f'tr[data-call-id="{call.id}"]')
    expect(row).to_be_visible()


def _wrapped(node: Node) -> bool:
    with node.hotline.sessions() as s:
        call = s.scalar(select(Call))
        return call is not None and call.wrapped_at is not None
