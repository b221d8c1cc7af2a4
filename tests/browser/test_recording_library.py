from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.core.i18n import translate
from console.core.models import AuditLog, utcnow
from console.users.services import create_user
from tests.browser.conftest import LiveServer
from tests.quality.recorded import pcm_bytes, recorded_call, store_analysis

pytestmark = pytest.mark.browser

CALL_S = 40.0
# Who speaks when in the generated conversation: (side, start_s, end_s).
TURNS = [
    ("agent", 1.0, 4.0),
    ("caller", 4.6, 10.0),
    ("agent", 9.4, 14.0),  # starts before the caller is done: 0.6 s of over-talk
    ("caller", 22.0, 27.0),  # after 8 s of dead air
    ("agent", 27.5, 33.0),
    ("caller", 33.5, 36.0),
    ("agent", 36.5, 39.0),
]
SILENCE = [14.0, 22.0]
OVERTALK = [9.4, 10.0]
FORBIDDEN_AT = 12.3


def _conversation() -> tuple[bytes, bytes]:
    """Speech-like noise (a syllable rhythm) per channel: the caller at 8 kHz, the agent at
    16 kHz, each speaking in its own turns."""
    rng = np.random.default_rng(3)
    out = []
    for side, rate in (("caller", 8000), ("agent", 16000)):
        x = np.zeros(int(CALL_S * rate))
        for who, a, b in TURNS:
            if who != side:
                continue
            t = np.arange(int((b - a) * rate)) / rate
            envelope = 0.25 * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)) * (0.7 + 0.3 * np.sin(t))
            x[int(a * rate) : int(a * rate) + t.size] = envelope * rng.standard_normal(t.size)
        out.append(pcm_bytes(np.clip(x, -1, 1) * 32767))
    return out[0], out[1]


def _recorded_calls(live: LiveServer) -> str:
    """Three recorded calls; the newest is 40 s long, analysed, with a silence, over-talk, a
    hold and a forbidden phrase (the others are short and without long silence)."""
    hl = live.hotline
    now = utcnow()
    with hl.sessions.begin() as s:
        create_user(s, "qa01", "qa01", "qa", "质检 Qian")
    for minutes in (50, 30):
        other = recorded_call(hl, arrived_at=now - dt.timedelta(minutes=minutes))
        store_analysis(hl, other, {"longest_silence_s": 1.0, "overtalk_s": 0.0})
    call = recorded_call(
        hl,
        agent="agent2",
        arrived_at=now,
        talk_s=CALL_S,
        disposition="complaint",
        tags=["vip"],
        stereo=True,
        audio=_conversation(),
    )
    speech = {side: [[a, b] for who, a, b in TURNS if who == side] for side in ("caller", "agent")}
    segments = {
        "caller": {"speech": speech["caller"], "holds": []},
        "agent": {"speech": speech["agent"], "holds": []},
        "holds": [],
        "overtalk": [OVERTALK],
        "silences": [SILENCE],
        "interruptions": [{"by": "agent", "at_s": 9.4, "overlap_s": 0.6}],
    }
    hit = {
        "side": "agent",
        "phrase": "you are wrong",
        "matched": "you are wrong",
        "score": 100.0,
        "how": "exact",
        "at_s": FORBIDDEN_AT,
        "trigger": False,
        "line": {"start_s": FORBIDDEN_AT, "end_s": 14.0, "text": "sir you are wrong about that"},
    }
    greeting = hit | {
        "phrase": "hello huate transport",
        "matched": "hello huate transport",
        "at_s": 1.0,
        "line": {"start_s": 1.0, "end_s": 4.0, "text": "hello huate transport how can I help"},
    }
    rules = [
        {"language": "en", "rule_id": "greeting", "status": "passed", "evidence": [greeting]},
        {"language": "en", "rule_id": "forbidden", "status": "failed", "evidence": [hit]},
        {"language": "en", "rule_id": "closing", "status": "failed", "evidence": []},
    ]
    metrics = {
        "duration_s": CALL_S,
        "longest_silence_s": 8.0,
        "overtalk_s": 0.6,
        "agent_first_word_s": 1.0,
        "hold_s": 0.0,
        "agent_talk_share": 0.52,
        "interruptions": 1,
    }
    store_analysis(hl, call, metrics, segments=segments, rules=rules)
    return call


def _position(page: Page) -> float:
    return float(page.locator("hl-recording-player").get_attribute("data-position") or "nan")


def test_a_reviewer_filters_saves_a_filter_and_plays_a_call_from_its_marks(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    call = _recorded_calls(live_server)

    page = login("qa01")
    expect(page).to_have_url(re.compile(r"/quality/recordings$"))
    table = page.get_by_test_id("library-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first).to_contain_text("Agent Kim")
    expect(table.locator('[data-test="metric-longest_silence_s"][data-flagged]')).to_have_count(0)
    expect(table.locator('[data-test="failed-rule"]')).to_have_count(2)  # forbidden, closing

    # Long silence ≥ 5 s: only the long call; the filter is in the URL.
    page.get_by_test_id("filter-silence").fill("5")
    page.get_by_test_id("btn-filter").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    assert parse_qs(urlsplit(page.url).query) == {"silence": ["5"]}

    # Saved under a name, cleared, picked again from the list.
    page.get_by_test_id("saved-name").fill("长静默")
    page.get_by_test_id("saved-save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("长静默")
    page.get_by_test_id("btn-reset").click()
    expect(table.locator("tbody tr")).to_have_count(3)
    page.get_by_test_id("saved-filters").select_option(label="长静默")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("filter-silence")).to_have_value("5")
    assert parse_qs(urlsplit(page.url).query) == {"silence": ["5"]}

    page.get_by_test_id("open-call").click()
    expect(page).to_have_url(re.compile(rf"/quality/recordings/{call}$"))
    player = page.locator("hl-recording-player")
    expect(page.get_by_test_id("call-facts")).to_contain_text("Agent Kim")
    no_transcript = translate("quality.transcript.none", "zh-CN")
    expect(page.get_by_test_id("transcript")).to_contain_text(no_transcript)

    # Two lanes drawn: the caller's blue and the agent's green waveform, each in its lane.
    expect(page.locator(".hl-wave-label")).to_have_text(["来电方", "坐席"])
    page.wait_for_function(
        "() => document.querySelector('.hl-wave-note')?.hidden === true", timeout=10000
    )
    inked = page.evaluate(
        """() => {
          const c = document.querySelector('hl-waveform canvas');
          const ctx = c.getContext('2d');
          const r = window.devicePixelRatio || 1;
          const count = (top, rgb) => {
            const d = ctx.getImageData(0, Math.round(top * r), c.width, Math.round(70 * r)).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4)
              if (d[i] === rgb[0] && d[i + 1] === rgb[1] && d[i + 2] === rgb[2]) n++;
            return n;
          };
          return { caller: count(14, [43, 108, 176]), agent: count(96, [47, 133, 90]),
                   agentInCallerLane: count(14, [47, 133, 90]) };
        }"""
    )
    assert inked["caller"] > 1000 and inked["agent"] > 1000, inked
    assert inked["agentInCallerLane"] == 0, inked

    # The marks, by time: the agent's first word, the greeting, over-talk, the forbidden
    # phrase, the silence.
    marks = page.get_by_test_id("marks").get_by_test_id("mark")
    expect(marks).to_have_count(5)
    expect(marks.nth(3)).to_contain_text("sir you are wrong about that")
    expect(page.get_by_test_id("rules")).to_contain_text("未通过")
    assert _position(page) == 0.0

    # A click on the forbidden phrase jumps there and plays (the playback is audited).
    marks.nth(3).click()
    page.wait_for_function(
        f"() => {{ const a = document.querySelector('[data-test=audio-stereo]');"
        f" return a.readyState >= 1 && a.currentTime >= {FORBIDDEN_AT - 0.01}; }}",
        timeout=10000,
    )
    expect(player).to_have_attribute("data-playing", "true")
    assert FORBIDDEN_AT - 0.01 <= _position(page) < FORBIDDEN_AT + 5
    expect(marks.nth(3)).to_have_attribute("aria-current", "")
    with live_server.hotline.sessions() as s:
        plays = s.scalars(select(AuditLog).where(AuditLog.action == "play")).all()
        assert [a.detail["call_id"] for a in plays] == [call]  # one playback, one entry

    # Speed by keyboard: ] faster, [ slower; the audio follows.
    page.keyboard.press("]")
    expect(player).to_have_attribute("data-rate", "1.25")
    page.keyboard.press("]")
    expect(player).to_have_attribute("data-rate", "1.5")
    page.keyboard.press("[")
    expect(player).to_have_attribute("data-rate", "1.25")
    assert page.evaluate("document.querySelector('[data-test=audio-stereo]').playbackRate") == 1.25
    expect(page.locator('[data-test="rate"][aria-pressed="true"]')).to_have_text("1.25×")

    # Space pauses (also with a mark's button focused); N goes to the next mark (the
    # silence), P to the one before, ←/→ 5 s.
    page.keyboard.press(" ")
    expect(player).to_have_attribute("data-playing", "false")
    page.keyboard.press("n")
    expect(player).to_have_attribute("data-position", f"{SILENCE[0]:.2f}")
    page.keyboard.press("p")
    expect(player).to_have_attribute("data-position", f"{FORBIDDEN_AT:.2f}")
    page.keyboard.press("ArrowLeft")
    expect(player).to_have_attribute("data-position", f"{FORBIDDEN_AT - 5:.2f}")
    page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-position", f"{FORBIDDEN_AT:.2f}")
    expect(player).to_have_attribute("data-playing", "false")

    # Back to the library as it was left.
    page.get_by_test_id("back").click()
    expect(page).to_have_url(re.compile(r"/quality/recordings\?silence=5$"))
    expect(table.locator("tbody tr")).to_have_count(1)
