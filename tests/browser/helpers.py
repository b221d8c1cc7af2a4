"""Plain helpers shared by the browser tests: the agent console and a call offered to it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.core.events import call_offered
from console.core.models import Agent, User
from tests.browser.conftest import LiveServer


def agent_id_of(live: LiveServer, username: str) -> int:
    with live.hotline.sessions() as s:
        agent_id = s.scalar(select(Agent.id).join(User).where(User.username == username))
        assert agent_id is not None
        return int(agent_id)


def open_console(login: Callable[[str], Page], username: str = "agent1") -> Page:
    page = login(username)
    expect(page).to_have_url(re.compile(r"/agent$"))
    expect(page.get_by_test_id("state-label")).to_have_text("离线")
    return page


def go_available(live: LiveServer, page: Page, agent_id: int) -> None:
    page.get_by_test_id("btn-available").click()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")
    assert live.hotline.live.get_agent(agent_id).state == "available"  # type: ignore[union-attr]


def offer_call(live: LiveServer, caller: str = "13800138000") -> tuple[str, int]:
    """What the telephony worker does: open the record, reserve an agent, offer the call."""
    hl = live.hotline
    with hl.sessions.begin() as s:
        call, q, callers = call_svc.open_inbound(s, caller, "10086", "w-test")
        pop = call_schemas.screen_pop(call, q, callers)
        call_id = call.id
        ring = q.ring_timeout_s if q else 15
    pop["wait_started"] = time.time() - 3
    agent = hl.live.reserve("support", [], call_id)
    assert agent is not None
    hl.bus.publish(
        call_offered(
            call_id=call_id,
            agent_id=agent.agent_id,
            ring_timeout_s=ring,
            offered_at=time.time(),
            pop=pop,
        )
    )
    hl.agents.record(agent)
    with hl.sessions.begin() as s:
        call_svc.mark_offered(s, call_id, agent.agent_id)
    return call_id, agent.agent_id
