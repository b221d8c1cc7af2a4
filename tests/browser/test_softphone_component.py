from __future__ import annotations

import json
import logging
import math
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simple_websocket
from flask import Flask, Response, jsonify, request
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from console.core import i18n
from tests.audio import peak_hz, rms
from tests.browser.conftest import MIC_HZ
from tests.helpers import free_port, wait_until

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOWNLINK_HZ = 1000.0
FRAME_MS = 20

# The page under test: the real element, a table with the softphone's texts in the language
# asked for, and a record of the health events it signals.
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>softphone</title>
<link rel="stylesheet" href="/static/css/hotline.css"></head>
<body><main style="max-width: 980px"><hl-softphone></hl-softphone></main>
<script type="module">
import { setTable } from "/static/lib/i18n.js";
const lang = new URLSearchParams(location.search).get("lang") || "zh-CN";
document.documentElement.lang = lang;
setTable(await (await fetch("/table/" + lang)).json(), lang);
await import("/static/softphone/hl-softphone/hl-softphone.js");
window.sp = document.querySelector("hl-softphone");
window.healthEvents = [];
document.addEventListener("hl-softphone-health", (e) => window.healthEvents.push(e.detail));
window.pageReady = true;
</script></body></html>
"""


class _Detached(Response):
    """The connection belongs to the WebSocket now: Werkzeug must write nothing more."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raise ConnectionError("websocket closed")


@dataclass
class AudioConnection:
    call_id: str
    rate: int
    ws: simple_websocket.Server
    uplink: list[tuple[int, bytes]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, data: bytes | str) -> None:
        # The streamer thread and the handler thread both send; wsproto is not thread-safe.
        with self.lock:
            if not self.closed.is_set():
                self.ws.send(data)

    def close(self, code: int) -> None:
        with self.lock:
            if not self.closed.is_set():
                self.closed.set()
                self.ws.close(reason=code, message="test")

    def samples_after(self, index: int) -> np.ndarray[Any, np.dtype[np.int16]]:
        return np.frombuffer(b"".join(pcm for _, pcm in self.uplink[index:]), dtype="<i2")


class AudioServer:
    """The wire protocol of /api/v1/calls/<id>/audio, enough to test the page against:
    `ready`, uplink recorded, pings answered, stats every 2 s, a tone streamed down at 50
    frames/s. Call ids `forbidden` and `gone` are refused with 4403 and 4404."""

    def __init__(self) -> None:
        self.connections: list[AudioConnection] = []
        self.downlink = threading.Event()
        self.downlink.set()
        self.uplink_gap_ratio = 0.0
        self.burst = 0  # extra frames to send at once on the next tick
        self._changed = threading.Condition()

    def wait_connections(self, n: int, timeout: float = 10.0) -> AudioConnection:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.connections) >= n, timeout), (
                f"{len(self.connections)} connections, wanted {n}"
            )
            return self.connections[n - 1]

    def serve(self, ws: simple_websocket.Server, call_id: str, rate: int) -> None:
        if call_id in ("forbidden", "gone"):
            ws.close(reason=4403 if call_id == "forbidden" else 4404, message=call_id)
            return
        conn = AudioConnection(call_id, rate, ws)
        with self._changed:
            self.connections.append(conn)
            self._changed.notify_all()
        conn.send(json.dumps({"type": "ready", "rate": rate, "frame_ms": FRAME_MS}))
        streamer = threading.Thread(target=self._stream, args=(conn,), daemon=True)
        streamer.start()
        try:
            while not conn.closed.is_set():
                msg = ws.receive(timeout=0.2)
                if isinstance(msg, bytes):
                    seq = struct.unpack_from("<I", msg)[0]
                    conn.uplink.append((seq, msg[4:]))
                elif isinstance(msg, str):
                    text = json.loads(msg)
                    conn.texts.append(text)
                    if text.get("type") == "ping":
                        conn.send(json.dumps({"type": "pong", "t": text["t"]}))
        except (simple_websocket.ConnectionClosed, OSError):
            pass
        finally:
            conn.closed.set()
            streamer.join(timeout=2)

    def _stream(self, conn: AudioConnection) -> None:
        n = conn.rate * FRAME_MS // 1000
        seq = 0
        tick = 0
        start = time.monotonic()
        try:
            while not conn.closed.is_set():
                tick += 1
                if self.downlink.is_set():
                    count = 1 + self.burst
                    self.burst = 0
                    for _ in range(count):
                        t = (np.arange(n) + seq * n) / conn.rate
                        pcm = (0.3 * 32767 * np.sin(2 * math.pi * DOWNLINK_HZ * t)).astype("<i2")
                        conn.send(struct.pack("<I", seq) + pcm.tobytes())
                        seq += 1
                if tick % 100 == 0:
                    frames = len(conn.uplink)
                    gaps = round(frames * self.uplink_gap_ratio / (1 - self.uplink_gap_ratio))
                    conn.send(
                        json.dumps({"type": "stats", "uplink_frames": frames, "uplink_gaps": gaps})
                    )
                time.sleep(max(0.0, start + tick * FRAME_MS / 1000 - time.monotonic()))
        except (simple_websocket.ConnectionClosed, OSError):
            conn.closed.set()


def _app(audio: AudioServer) -> Flask:
    app = Flask(__name__, static_folder=str(ROOT / "static"), static_url_path="/static")

    @app.get("/")
    def index() -> Response:
        return Response(PAGE, mimetype="text/html")

    @app.get("/table/<lang>")
    def table(lang: str) -> Response:
        return jsonify({k: v for k, v in i18n.table(lang).items() if k.startswith("softphone.")})

    # Werkzeug matches a WebSocket handshake only against rules marked websocket=True.
    @app.route("/api/v1/calls/<call_id>/audio", websocket=True)
    def call_audio(call_id: str) -> Response:
        rate = int(request.args.get("rate", "16000"))
        ws = simple_websocket.Server.accept(request.environ)
        audio.serve(ws, call_id, rate)
        return _Detached()

    return app


@pytest.fixture
def audio() -> AudioServer:
    return AudioServer()


@pytest.fixture
def base_url(audio: AudioServer) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = make_server("127.0.0.1", port, _app(audio), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for conn in audio.connections:
            conn.closed.set()
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def open_page(
    browser: Browser, base_url: str, lang: str = "en", init_script: str | None = None
) -> Iterator[Page]:
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 300})
    ctx.set_default_timeout(8000)
    if init_script:
        ctx.add_init_script(init_script)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"/?lang={lang}")
    page.wait_for_function("window.pageReady === true")
    # A real click: Chromium lets an AudioContext run only after a user gesture.
    page.mouse.click(5, 5)
    try:
        yield page
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def sp_page(audio_browser: Browser, base_url: str) -> Iterator[Page]:
    with open_page(audio_browser, base_url) as page:
        yield page


def stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.sp.stats")
    return result


def start(page: Page, call_id: str = "c1", rate: int = 16000) -> None:
    page.evaluate("([id, rate]) => window.sp.start(id, { rate })", [call_id, rate])


def wait_stats(page: Page, condition: str, timeout: float = 8000) -> None:
    page.wait_for_function(
        f"(() => {{ const s = window.sp.stats; return {condition}; }})()", timeout=timeout
    )


# --- the jitter buffer, alone -------------------------------------------------------------


def test_jitter_buffer_caps_depth_counts_sequence_gaps_and_underruns(sp_page: Page) -> None:
    result = sp_page.evaluate(
        """async () => {
        const { JitterBuffer } = await import("/static/softphone/jitter.js");
        const frame = (v, n = 320) => new Int16Array(n).fill(v);
        const out = new Float32Array(128);
        const jb = new JitterBuffer({ frameSamples: 320, frameMs: 20, targetMs: 40, capMs: 120 });
        // Frames arrive three times faster than they are played.
        let seq = 0, maxDepth = 0;
        for (let round = 0; round < 200; round++) {
          for (let k = 0; k < 3; k++) jb.push(seq++, frame(1000));
          maxDepth = Math.max(maxDepth, jb.depthMs);
          for (let k = 0; k < 2; k++) jb.read(out);
        }
        const capped = { maxDepth, ...jb.stats() };

        const gaps = new JitterBuffer({ frameSamples: 160, frameMs: 20 });
        for (const s of [0, 1, 2, 5, 6, 4, 10]) gaps.push(s, frame(1, 160));
        const seqStats = gaps.stats();

        const under = new JitterBuffer({ frameSamples: 160, frameMs: 20, targetMs: 40 });
        const silentBeforeTarget = under.read(new Float32Array(160));
        under.push(0, frame(16384, 160));
        under.push(1, frame(16384, 160));
        const block = new Float32Array(160);
        const real = [under.read(block), block[0]];
        under.read(block);
        const afterLast = under.read(block);
        const underStats = under.stats();

        const wrap = new JitterBuffer({ frameSamples: 160, frameMs: 20 });
        wrap.push(0xfffffffe, frame(1, 160));
        wrap.push(0xffffffff, frame(1, 160));
        wrap.push(0, frame(1, 160));
        const wrapStats = wrap.stats();
        return { capped, seqStats, silentBeforeTarget, real, afterLast, underStats, wrapStats };
    }"""
    )
    capped = result["capped"]
    assert capped["maxDepth"] <= 120
    assert capped["depthMs"] <= 120
    assert capped["trimmed"] > 0
    assert capped["underruns"] == 0
    assert capped["lost"] == 0
    # 3 and 4 missing, then 7, 8, 9; 4 arriving after 5 and 6 is late, not played.
    assert result["seqStats"]["lost"] == 2 + 3
    assert result["seqStats"]["late"] == 1
    assert result["silentBeforeTarget"] == 0
    assert result["real"] == [160, 0.5]
    assert result["afterLast"] == 0
    assert result["underStats"]["underruns"] == 1
    assert result["wrapStats"]["lost"] == 0 and result["wrapStats"]["late"] == 0


def test_worklets_resample_when_the_context_runs_at_another_rate(sp_page: Page) -> None:
    # The fallback for browsers that refuse a 16 kHz context: a 48 kHz one, rendered offline.
    result = sp_page.evaluate(
        """async () => {
        const worklet = "/static/softphone/audio-worklet.js";
        const up = new OfflineAudioContext(1, 48000, 48000);
        await up.audioWorklet.addModule(worklet);
        const osc = new OscillatorNode(up, { frequency: 440 });
        const capture = new AudioWorkletNode(up, "hl-capture", {
          outputChannelCount: [1], processorOptions: { rate: 16000 } });
        const frames = [];
        capture.port.onmessage = (e) => frames.push(new Int16Array(e.data.buf, 4));
        osc.connect(capture).connect(up.destination);
        osc.start();
        await up.startRendering();
        await new Promise((r) => setTimeout(r, 200));

        const down = new OfflineAudioContext(1, 48000, 48000);
        await down.audioWorklet.addModule(worklet);
        const playback = new AudioWorkletNode(down, "hl-playback", {
          numberOfInputs: 0, outputChannelCount: [1], processorOptions: { rate: 16000 } });
        for (let seq = 0; seq < 6; seq++) {
          const pcm = new Int16Array(320);
          for (let i = 0; i < 320; i++) {
            pcm[i] = Math.round(9000 * Math.sin(2 * Math.PI * 1000 * (seq * 320 + i) / 16000));
          }
          playback.port.postMessage({ type: "frame", seq, pcm: pcm.buffer });
        }
        await new Promise((r) => setTimeout(r, 100));
        playback.connect(down.destination);
        const rendered = await down.startRendering();
        return {
          frameSizes: [...new Set(frames.map((f) => f.length))],
          captured: frames.flatMap((f) => [...f]),
          played: [...rendered.getChannelData(0)],
        };
    }"""
    )
    assert result["frameSizes"] == [320]
    captured = np.array(result["captured"][3200:])
    assert len(captured) > 8000
    assert abs(peak_hz(captured, 16000) - MIC_HZ) < 10
    played = np.array(result["played"])
    sounding = played[np.abs(played) > 0.01]
    assert len(sounding) > 48000 * 0.1  # about 120 ms of tone at 48 kHz
    start = int(np.argmax(np.abs(played) > 0.01))
    assert abs(peak_hz(played[start : start + 4800], 48000) - 1000) < 20


# --- the element against the test server ---------------------------------------------------


def test_microphone_reaches_the_server_as_the_440_hz_tone_in_numbered_frames(
    sp_page: Page, audio: AudioServer
) -> None:
    start(sp_page, "c1", 16000)
    conn = audio.wait_connections(1)
    assert conn.call_id == "c1" and conn.rate == 16000
    wait_until(lambda: len(conn.uplink) >= 150, timeout=10)
    seqs = [seq for seq, _ in conn.uplink]
    assert seqs == list(range(len(seqs)))
    assert {len(pcm) for _, pcm in conn.uplink} == {320 * 2}
    samples = conn.samples_after(25)  # past the microphone's start-up
    assert rms(samples) > 300
    assert abs(peak_hz(samples, 16000) - MIC_HZ) < 10
    wait_stats(sp_page, "s.rtt_ms !== null && s.connected && s.mic_level > 0.01")
    assert any(t["type"] == "ping" for t in conn.texts)
    s = stats(sp_page)
    assert s["context_rate"] == 16000  # no resampling on the way
    assert s["frames_out"] >= 150


def test_microphone_at_8_khz_sends_160_sample_frames(sp_page: Page, audio: AudioServer) -> None:
    start(sp_page, "c8", 8000)
    conn = audio.wait_connections(1)
    wait_until(lambda: len(conn.uplink) >= 100, timeout=10)
    assert {len(pcm) for _, pcm in conn.uplink} == {160 * 2}
    assert abs(peak_hz(conn.samples_after(25), 8000) - MIC_HZ) < 10


def test_downlink_is_played_through_a_bounded_buffer(sp_page: Page, audio: AudioServer) -> None:
    start(sp_page)
    audio.wait_connections(1)
    wait_stats(sp_page, "s.frames_in >= 100 && s.played_in >= 100 && s.far_level > 0.05")
    depths = []
    for _ in range(10):
        depths.append(stats(sp_page)["buffer_ms"])
        time.sleep(0.1)
    assert max(depths) <= 120
    # A burst (frames held back somewhere, then all delivered) is trimmed, not kept as delay.
    audio.burst = 25
    wait_stats(sp_page, "s.trimmed > 0")
    for _ in range(10):
        assert stats(sp_page)["buffer_ms"] <= 120
        time.sleep(0.05)
    expect(sp_page.get_by_test_id("softphone")).to_have_attribute("data-level", "ok")
    expect(sp_page.get_by_test_id("sp-health-label")).to_have_text("Audio OK")


def test_mute_sends_silence_and_tells_the_server(sp_page: Page, audio: AudioServer) -> None:
    start(sp_page)
    conn = audio.wait_connections(1)
    wait_until(lambda: len(conn.uplink) >= 50, timeout=10)
    sp_page.get_by_test_id("sp-mute").click()
    wait_until(lambda: {"type": "mute", "on": True} in conn.texts, timeout=5)
    expect(sp_page.get_by_test_id("sp-mute")).to_have_attribute("aria-pressed", "true")
    time.sleep(0.3)  # frames already on the way when the button was pressed
    mark = len(conn.uplink)
    wait_until(lambda: len(conn.uplink) >= mark + 50, timeout=5)
    assert rms(conn.samples_after(mark)) < 1
    # The meter still shows she is talking (the tone pauses 0.1 s in every 0.5 s).
    wait_stats(sp_page, "s.muted && s.mic_level > 0.01")

    sp_page.evaluate("window.sp.setMuted(false)")
    wait_until(lambda: {"type": "mute", "on": False} in conn.texts, timeout=5)
    time.sleep(0.3)
    mark = len(conn.uplink)
    wait_until(lambda: len(conn.uplink) >= mark + 50, timeout=5)
    assert abs(peak_hz(conn.samples_after(mark), 16000) - MIC_HZ) < 10


def test_health_turns_red_when_the_server_sends_nothing_for_two_seconds(
    sp_page: Page, audio: AudioServer
) -> None:
    start(sp_page)
    audio.wait_connections(1)
    wait_stats(sp_page, "s.frames_in > 20 && s.health === 'ok'")
    audio.downlink.clear()
    stopped = time.monotonic()
    wait_stats(sp_page, "s.health === 'bad' && s.health_key === 'no_downlink'", timeout=6000)
    assert time.monotonic() - stopped > 1.9
    card = sp_page.get_by_test_id("softphone")
    expect(card).to_have_attribute("data-level", "bad")
    expect(sp_page.get_by_test_id("sp-message")).to_contain_text("No audio from the call for")
    expect(sp_page.get_by_test_id("sp-health-label")).to_have_text("Audio problem")
    events = sp_page.evaluate("window.healthEvents")
    assert events[-1]["level"] == "bad" and events[-1]["key"] == "no_downlink"
    assert events[-1]["message"].startswith("No audio from the call")

    audio.downlink.set()
    wait_stats(sp_page, "s.health === 'ok'")
    expect(sp_page.get_by_test_id("sp-message")).to_be_hidden()


def test_uplink_gaps_reported_by_the_server_turn_the_indicator_red(
    sp_page: Page, audio: AudioServer
) -> None:
    audio.uplink_gap_ratio = 0.5
    start(sp_page)
    audio.wait_connections(1)
    wait_stats(sp_page, "s.health_key === 'uplink_gaps'", timeout=8000)
    expect(sp_page.get_by_test_id("softphone")).to_have_attribute("data-level", "bad")
    expect(sp_page.get_by_test_id("sp-message")).to_contain_text("missing 50% of your voice")


def test_socket_closed_by_the_server_reconnects_and_says_so_meanwhile(
    sp_page: Page, audio: AudioServer
) -> None:
    start(sp_page)
    first = audio.wait_connections(1)
    wait_until(lambda: len(first.uplink) >= 25, timeout=10)
    first.close(1011)
    second = audio.wait_connections(2)
    wait_stats(sp_page, "s.state === 'connected' && s.reconnects === 1 && s.health === 'ok'")
    shown = sp_page.evaluate("window.healthEvents.map((e) => e.key)")
    assert "reconnecting" in shown
    assert shown.index("reconnecting") < len(shown) - 1
    # A new connection numbers its frames from 0 again, and the microphone still flows.
    wait_until(lambda: len(second.uplink) >= 50, timeout=10)
    seqs = [seq for seq, _ in second.uplink]
    assert seqs == list(range(len(seqs)))
    assert abs(peak_hz(second.samples_after(10), 16000) - MIC_HZ) < 10


def test_close_codes_end_or_refuse_without_reconnecting(sp_page: Page, audio: AudioServer) -> None:
    start(sp_page, "gone")
    wait_stats(sp_page, "s.state === 'ended'")
    assert sp_page.evaluate("window.sp.health.key") == "not_found"
    expect(sp_page.get_by_test_id("sp-message")).to_have_text(
        "The call has ended or does not exist."
    )

    start(sp_page, "forbidden")
    wait_stats(sp_page, "s.health === 'bad' && s.health_key === 'forbidden'")
    expect(sp_page.get_by_test_id("softphone")).to_have_attribute("data-level", "bad")

    start(sp_page, "c1")
    conn = audio.wait_connections(1)
    wait_stats(sp_page, "s.connected")
    conn.close(1000)
    wait_stats(sp_page, "s.state === 'ended' && s.health === 'ended'")
    time.sleep(1)
    assert len(audio.connections) == 1


# What the browser answers when the agent has blocked the microphone for the site (the fake
# media UI always allows it, so the refusal is played here, not in the element).
BLOCK_MIC = """
window.blockMic = true;
const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => window.blockMic
  ? Promise.reject(new DOMException("Permission denied", "NotAllowedError"))
  : realGetUserMedia(constraints);
"""


def test_blocked_microphone_is_red_and_retry_recovers(
    audio_browser: Browser, base_url: str, audio: AudioServer
) -> None:
    with open_page(audio_browser, base_url, init_script=BLOCK_MIC) as page:
        start(page)
        wait_stats(page, "s.health === 'bad' && s.health_key === 'mic_blocked'")
        expect(page.get_by_test_id("sp-message")).to_contain_text("Microphone blocked")
        assert audio.connections == []  # no "on call" without a microphone
        page.evaluate("window.blockMic = false")
        page.get_by_test_id("sp-retry").click()
        audio.wait_connections(1)
        wait_stats(page, "s.connected && s.health === 'ok'")
        expect(page.get_by_test_id("sp-retry")).to_be_hidden()


def test_device_choice_is_remembered_and_the_microphone_keeps_flowing(
    sp_page: Page, audio: AudioServer
) -> None:
    page = sp_page
    start(page)
    conn = audio.wait_connections(1)
    wait_stats(page, "s.connected && s.frames_out > 10")
    page.get_by_test_id("sp-devices").click()
    expect(page.get_by_test_id("sp-devices")).to_have_attribute("aria-expanded", "true")
    # The system default and Chromium's two fake microphones.
    expect(page.get_by_test_id("sp-input").locator("option")).to_have_count(3)
    page.get_by_test_id("sp-input").select_option(label="Fake Audio Input 1")
    page.get_by_test_id("sp-output").select_option(label="Fake Audio Output 1")
    chosen = page.evaluate(
        """() => [localStorage.getItem("hotline.softphone.input"),
                  localStorage.getItem("hotline.softphone.output"),
                  document.querySelector("[data-test=sp-input]").value]"""
    )
    assert chosen[0] and chosen[1] and chosen[0] == chosen[2]
    mark = len(conn.uplink)
    wait_until(lambda: len(conn.uplink) >= mark + 75, timeout=10)
    assert abs(peak_hz(conn.samples_after(mark + 25), 16000) - MIC_HZ) < 10
    assert len(audio.connections) == 1  # a new microphone, the same call
    page.reload()
    page.wait_for_function("window.pageReady === true")
    page.wait_for_function(
        """document.querySelector("[data-test=sp-input]").value
           === localStorage.getItem("hotline.softphone.input")"""
    )


def test_screenshots_in_both_languages(
    audio_browser: Browser, base_url: str, audio: AudioServer
) -> None:
    for lang, label in (("en", "Audio OK"), ("zh-CN", "音频正常")):
        with open_page(audio_browser, base_url, lang) as page:
            start(page)
            wait_stats(page, "s.frames_in > 50 && s.rtt_ms !== null && s.health === 'ok'")
            page.get_by_test_id("sp-devices").click()
            expect(page.get_by_test_id("sp-health-label")).to_have_text(label)
            page.locator("hl-softphone").screenshot(path=f"/tmp/softphone-{lang}.png")
            audio.downlink.clear()
            wait_stats(page, "s.health === 'bad'", timeout=6000)
            page.locator("hl-softphone").screenshot(path=f"/tmp/softphone-{lang}-red.png")
            audio.downlink.set()
            page.evaluate("window.sp.stop()")
