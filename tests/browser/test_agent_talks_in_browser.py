"""An agent signed in with browser audio talks to a real SIP caller from the console page in
Chromium (fake microphone: a 440 Hz tone): the caller hears her, she hears the caller, mute
silences her, a reload keeps the call and the audio comes back, and the recordings prove it.

The caller is SIPp echoing the audio it receives, so the caller channel of the recording is
what the caller heard.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from console.core.models import Agent, CallEvent, Recording, User
from console.recordings.store import parse_keys
from tests.audio import peak_hz, recorded_samples, rms
from tests.browser.conftest import MIC_HZ
from tests.helpers import wait_until
from tests.integration.harness import Node, Sipp, recordings_of, start_node

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url, with_phones=True)


@pytest.fixture
def agent_page(audio_browser: Browser, browser_node: Node) -> Iterator[Page]:
    ctx = audio_browser.new_context(
        base_url=browser_node.base_url, viewport={"width": 1366, "height": 768}
    )
    ctx.set_default_timeout(10000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto("/login")
    page.fill("#username", "agent1")
    page.fill("#password", "agent1")
    # She has a SIP phone too, and chooses the browser for this sign-in.
    page.check("#audio-browser")
    page.click("#login")
    expect(page.get_by_test_id("state-label")).to_have_text("离线")
    yield page
    ctx.close()
    assert not errors, errors


def softphone(page: Page) -> dict[str, Any]:
    stats: dict[str, Any] = page.evaluate("document.querySelector('hl-softphone').stats")
    return stats


def frames_in(page: Page) -> int:
    return int(softphone(page)["frames_in"])


def test_agent_talks_to_the_caller_through_the_page_and_survives_a_reload(
    browser_node: Node, sipp: Sipp, agent_page: Page, tmp_path: Path
) -> None:
    node, page = browser_node, agent_page
    shots = Path(os.environ.get("HOTLINE_SCREENSHOTS", tmp_path))
    with node.hotline.sessions() as s:
        agent = s.scalar(select(Agent).join(User).where(User.username == "agent1"))
        assert agent is not None and agent.sip_contact and agent.audio == "browser"
    page.get_by_test_id("btn-available").click()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")
    sipp.start(
        "caller.xml", target=node.sip_target, keys={"caller": "013800138000"},
        extra=("-rtp_echo",),
    )  # fmt: skip
    card = page.get_by_test_id("call-card")
    card.get_by_test_id("btn-answer").click()
    expect(page.get_by_test_id("state-label")).to_contain_text("通话中")

    # The softphone is up, green, and hears the caller (here: the page's own voice, echoed).
    expect(page.locator("hl-softphone")).to_be_visible()
    wait_until(lambda: softphone(page)["connected"] and frames_in(page) > 100, timeout=15)
    stats = softphone(page)
    assert stats["health"] == "ok", stats
    assert stats["far_level"] > 0 and stats["rtt_ms"] is not None
    time.sleep(1.0)

    # F8 mutes her: nothing of her reaches the caller until she unmutes.
    muted_at = dt.datetime.now(dt.UTC)
    page.keyboard.press("F8")
    wait_until(lambda: softphone(page)["muted"] is True)
    time.sleep(1.5)
    page.keyboard.press("F8")
    unmuted_at = dt.datetime.now(dt.UTC)
    time.sleep(1.0)

    # A reload: the call stays, the card and the audio come back.
    page.reload()
    expect(page.get_by_test_id("state-label")).to_contain_text("通话中")
    expect(page.locator("hl-softphone")).to_be_visible()
    wait_until(lambda: softphone(page)["connected"] and frames_in(page) > 50, timeout=15)
    reloaded_at = dt.datetime.now(dt.UTC)
    time.sleep(1.5)

    # F6 holds: the button says so and the softphone shows "on hold", not a fault.
    page.keyboard.press("F6")
    expect(page.get_by_test_id("btn-hold")).to_have_attribute("aria-pressed", "true")
    wait_until(lambda: softphone(page)["call_state"] == "held")
    assert softphone(page)["health"] != "bad"
    page.keyboard.press("F6")
    expect(page.get_by_test_id("btn-hold")).to_have_attribute("aria-pressed", "false")
    # F7 opens the keypad; digits typed there go out as tones, shown masked.
    page.keyboard.press("F7")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.keyboard.press("5")
    page.get_by_test_id("dtmf-#").click()
    expect(page.get_by_test_id("dtmf-sent")).to_contain_text("••")
    page.screenshot(path=str(shots / "agent-on-call.png"))
    page.keyboard.press("h")
    expect(page.get_by_test_id("wrap-up")).to_be_visible()
    expect(page.locator("hl-softphone")).to_be_hidden()

    with node.hotline.sessions() as s:
        call_id = s.scalar(select(Recording.call_id))
        kinds = list(s.scalars(select(CallEvent.kind).where(CallEvent.call_id == call_id)))
    assert "page-away" in kinds and "page-back" in kinds  # the reload, logged on the call
    assert {"held", "resumed", "dtmf"} <= set(kinds)

    def rows() -> dict[str, Recording]:
        return {r.channel: r for r in recordings_of(node.hotline.sessions, call_id)}

    wait_until(lambda: {r.status for r in rows().values()} == {"complete"} and len(rows()) == 3)
    keys = parse_keys(node.hotline.settings.effective_recording_keys)
    rec = rows()
    start = rec["agent"].started_at

    def part(channel: str, begin: dt.datetime, end: dt.datetime) -> tuple[np.ndarray, int]:
        row = rec[channel]
        x = recorded_samples(row.path, keys)
        a = (begin - start).total_seconds()
        b = (end - start).total_seconds()
        return x[int(a * row.sample_rate) : int(b * row.sample_rate)], row.sample_rate

    # What she said (the 440 Hz microphone) before the mute, and what the caller heard.
    said, rate = part("agent", muted_at - dt.timedelta(seconds=1.0), muted_at)
    assert rms(said) > 500 and abs(peak_hz(said, rate) - MIC_HZ) < 10
    heard, rate = part("caller", muted_at - dt.timedelta(seconds=0.8), muted_at)
    assert rms(heard) > 300 and abs(peak_hz(heard, rate) - MIC_HZ) < 10
    # While muted: nothing of her, on either channel.
    said, _ = part(
        "agent", muted_at + dt.timedelta(seconds=0.3), unmuted_at - dt.timedelta(seconds=0.2)
    )
    assert rms(said) < 30
    # After the reload she is heard again.
    said, rate = part("agent", reloaded_at, reloaded_at + dt.timedelta(seconds=1.2))
    assert rms(said) > 500 and abs(peak_hz(said, rate) - MIC_HZ) < 10
