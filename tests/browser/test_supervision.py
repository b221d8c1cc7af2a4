from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.calls import services as call_svc
from console.core.events import call_answered, call_arrived, call_ended, call_wrapped
from console.core.models import Disposition, Queue
from console.supervision import figures as fg
from console.supervision.figures import CallFacts
from tests.browser.conftest import LiveServer
from tests.browser.helpers import agent_id_of

pytestmark = pytest.mark.browser

WATCH_JS = """() => {
  window.__touched = new Set();
  const tbody = document.querySelector('[data-test="agent-grid"] tbody');
  new MutationObserver((records) => {
    for (const m of records) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (el.closest('[data-test="cell-since"], [data-test="cell-talk"]')) continue;
      const rows = el === tbody ? [...m.addedNodes, ...m.removedNodes] : [el.closest('tr')];
      for (const r of rows) if (r && r.dataset) window.__touched.add(r.dataset.agentId);
    }
  }).observe(tbody, { subtree: true, childList: true, characterData: true, attributes: true });
}"""

SUMS_JS = """(period) => {
  const el = document.querySelector('hl-supervision');
  return el.board.sums(period, Date.now() / 1000).total;
}"""


def _an_abandoned_call(live: LiveServer) -> None:
    with live.hotline.sessions.begin() as s:
        gone, _, _ = call_svc.open_inbound(s, "13912345678", "10086", "w-test")
        call_svc.mark_ended(s, gone.id, "abandoned")


def _a_call_through_its_events(live: LiveServer, agent_id: int) -> str:
    """What the telephony worker and the wrap-up do and tell, in order."""
    hl = live.hotline
    with hl.sessions.begin() as s:
        call, q, _ = call_svc.open_inbound(s, "13800138000", "10086", "w-test")
        call_id, queue_id = call.id, q.id if q else None
    hl.bus.publish(
        call_arrived(
            call_id=call_id,
            queue_id=queue_id,
            caller_number="8613800138000",
            worker_id="w-test",
            at=time.time(),
        )
    )
    time.sleep(0.3)
    ringing = hl.live.reserve("support", [], call_id)
    assert ringing is not None and ringing.agent_id == agent_id
    hl.agents.record(ringing)
    with hl.sessions.begin() as s:
        call_svc.mark_offered(s, call_id, agent_id)
        call_svc.mark_answered(s, call_id, agent_id)
    hl.agents.transition(agent_id, "on_call", call_id=call_id)
    hl.bus.publish(call_answered(call_id=call_id, agent_id=agent_id, answered_at=time.time()))
    time.sleep(1.1)
    with hl.sessions.begin() as s:
        call_svc.mark_ended(s, call_id, "caller-hangup")
    hl.agents.transition(agent_id, "wrap_up", call_id=call_id)
    hl.bus.publish(call_ended(call_id=call_id, agent_id=agent_id, end_reason="caller-hangup"))
    with hl.sessions.begin() as s:
        code = s.scalar(select(Disposition.code).where(Disposition.active))
        assert code is not None
        call_svc.wrap_up(s, call_id, agent_id, code)
    hl.agents.transition(agent_id, "available")
    hl.bus.publish(call_wrapped(call_id=call_id, agent_id=agent_id, disposition=code))
    return call_id


def test_the_supervisor_lands_on_the_wallboard_and_follows_agents_and_calls_live(
    live_server: LiveServer, login: Callable[[str], Page], sign_in: Callable[[str], Page]
) -> None:
    _an_abandoned_call(live_server)
    a1 = agent_id_of(live_server, "agent1")
    sup = login("super1")
    expect(sup).to_have_url(re.compile(r"/supervision$"))
    root = sup.locator("hl-supervision")
    expect(root).to_have_attribute("data-loaded", "true")
    expect(sup.get_by_test_id("link-status")).to_have_text("实时")
    expect(sup.get_by_test_id("tile-offered")).to_have_text("1")
    expect(sup.get_by_test_id("tile-abandoned")).to_have_text("1")
    expect(sup.get_by_test_id("tile-waiting")).to_have_text("0")
    row = sup.locator(f'tr[data-agent-id="{a1}"]')
    expect(row.get_by_test_id("cell-state")).to_have_text("离线")

    # Her state change shows in the grid without a reload.
    agent = sign_in("agent1")
    expect(agent).to_have_url(re.compile(r"/agent$"))
    agent.get_by_test_id("btn-available").click()
    expect(row.get_by_test_id("cell-state")).to_have_text("空闲")
    expect(row.get_by_test_id("cell-adherence")).to_have_text(re.compile(r"\S"))
    expect(sup.get_by_test_id("agents-available")).to_have_text("1")

    # A call told by its events: waiting, answered, ended, wrapped; the page's figures end
    # equal to the figures recomputed from the records.
    call_id = _a_call_through_its_events(live_server, a1)
    expect(row.get_by_test_id("cell-handled")).to_have_text("1")
    expect(sup.get_by_test_id("tile-answered")).to_have_text("1")
    expect(sup.get_by_test_id("tile-offered")).to_have_text("2")
    for period in ("day", "interval", "hour"):
        recomputed = sup.request.get(f"/api/v1/supervision/figures?period={period}").json()

        def same(p: str = period, want: dict[str, Any] = recomputed) -> bool:
            page = sup.evaluate(SUMS_JS, p)
            return all(page[k] == want["total"][k] for k in page)

        deadline = time.monotonic() + 10
        while not same() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert same(), (period, sup.evaluate(SUMS_JS, period), recomputed["total"])
    page_call = sup.evaluate(
        "(id) => document.querySelector('hl-supervision').board.calls.get(id)", call_id
    )
    assert page_call["wrapped_at"] is not None and page_call["talk_s"] >= 1

    # Full screen for the wall: the key and the button, out with Esc.
    sup.keyboard.press("f")
    expect(root).to_have_attribute("data-wall", "on")
    expect(sup.get_by_test_id("agent-grid-panel")).to_be_hidden()
    expect(sup.locator(".hl-topbar")).to_be_hidden()
    big = sup.get_by_test_id("tile-offered").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert big >= 40
    sup.keyboard.press("Escape")
    expect(root).to_have_attribute("data-wall", "off")
    expect(sup.get_by_test_id("agent-grid-panel")).to_be_visible()
    sup.get_by_test_id("btn-wall").click()
    expect(root).to_have_attribute("data-wall", "on")
    sup.get_by_test_id("btn-wall").click()
    expect(root).to_have_attribute("data-wall", "off")

    # One agent's change touches her row only (the clock's time cells aside).
    a2 = agent_id_of(live_server, "agent2")
    sup.evaluate(WATCH_JS)
    live_server.hotline.agents.transition(a2, "not_ready", "break")
    row2 = sup.locator(f'tr[data-agent-id="{a2}"]')
    expect(row2.get_by_test_id("cell-state")).to_have_text("未就绪休息")
    assert sup.evaluate("() => [...window.__touched]") == [str(a2)]

    # Periods by key; the grid filters and sorts.
    sup.keyboard.press("3")
    expect(sup.get_by_test_id("period-hour")).to_have_attribute("aria-pressed", "true")
    sup.keyboard.press("/")
    expect(sup.get_by_test_id("grid-search")).to_be_focused()
    sup.keyboard.type("agent2")
    expect(sup.locator("tr[data-agent-id]:visible")).to_have_count(1)
    sup.get_by_test_id("grid-search").fill("")
    sup.get_by_test_id("grid-state").select_option("available")
    expect(sup.locator("tr[data-agent-id]:visible")).to_have_count(1)
    expect(sup.locator("tr[data-agent-id]:visible")).to_have_attribute("data-agent-id", str(a1))
    sup.get_by_test_id("grid-state").select_option("")
    sup.get_by_test_id("sort-handled").click()
    sup.get_by_test_id("sort-handled").click()  # descending: agent1 first
    expect(sup.locator("tr[data-agent-id]").first).to_have_attribute("data-agent-id", str(a1))
    assert not agent.errors  # type: ignore[attr-defined]


def test_the_page_adds_up_calls_as_the_server_does(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    sup = login("super1")
    expect(sup.locator("hl-supervision")).to_have_attribute("data-loaded", "true")
    with live_server.hotline.sessions() as s:
        support = s.scalar(select(Queue.id).where(Queue.name == "support"))
    facts = [
        CallFacts(
            "a",
            support,
            1,
            "inbound",
            False,
            1000.0,
            1012.5,
            1100.0,
            1130.25,
            12.5,
            4.0,
            87.5,
            30.25,
        ),
        CallFacts(
            "b",
            support,
            None,
            "inbound",
            False,
            1001.0,
            ended_at=1060.0,
            wait_s=59.0,
            end_reason="abandoned",
        ),
        CallFacts("c", support, 2, "inbound", False, 1002.0, 1030.0, wait_s=28.0, ring_s=16.0),
        CallFacts(
            "d", None, None, "inbound", False, 1003.0, ended_at=1003.0, end_reason="no-capacity"
        ),
        CallFacts(
            "e", support, 1, "inbound", True, 1004.0, 1004.0, 1010.0, 1011.0, 0.0, None, 6.0, 1.0
        ),
        CallFacts(
            "f", support, 1, "outbound", False, 1005.0, 1009.0, 1020.0, 1021.0, 4.0, None, 11.0, 1.0
        ),
        CallFacts("g", support, None, "inbound", False, 1006.0),
    ]
    rules = {support: fg.QueueRule(20, 15)}
    server = fg.sums_by_queue(facts, fg.Period(1000.0, 2000.0), rules)
    browser = sup.evaluate(
        """async ([calls, queue]) => {
          const f = await import('/static/supervision/figures.js');
          const rules = new Map([[String(queue), { service_level_s: 20, ring_timeout_s: 15 }]]);
          const by = f.sumsByQueue(calls, 1000, 2000, rules);
          return { byQueue: Object.fromEntries(by), figures: f.figures(f.total(by)) };
        }""",
        [[_wire(c) for c in facts], support],
    )
    assert browser["byQueue"] == {fg.queue_key(q): s.as_dict() for q, s in server.items()}
    expected = fg.figures(fg.total(server))
    assert browser["figures"]["service_level"] == expected.service_level
    assert browser["figures"]["asa_s"] == expected.asa_s
    assert browser["figures"]["aht_s"] == expected.aht_s
    assert browser["figures"]["abandon_rate"] == expected.abandon_rate
    assert browser["figures"]["three_rings"] == expected.three_rings


def _wire(c: CallFacts) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(c)
