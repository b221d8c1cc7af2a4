from __future__ import annotations

import logging
import math
import shutil
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from flask_socketio import SocketIO
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from console.core.events import Event
from console.demo import seed
from console.node import Hotline, build, web_app
from tests.helpers import make_settings
from tests.integration.harness import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class LiveServer:
    url: str
    hotline: Hotline
    app: Flask
    socketio: SocketIO
    events: list[Event] = field(default_factory=list)
    _seen: threading.Condition = field(default_factory=threading.Condition)

    def record(self, event: Event) -> None:
        with self._seen:
            self.events.append(event)
            self._seen.notify_all()

    def wait_for_event(self, name: str, timeout: float = 5.0, **match: object) -> Event:
        """The first bus event with this name (and these field values), waiting for it."""

        def found() -> Event | None:
            for ev in self.events:
                if ev.name == name and all(getattr(ev, k, None) == v for k, v in match.items()):
                    return ev
            return None

        with self._seen:
            if not self._seen.wait_for(lambda: found() is not None, timeout=timeout):
                raise AssertionError(
                    f"no {name} {match} on the bus; saw {[e.name for e in self.events]}"
                )
            ev = found()
            assert ev is not None
            return ev


@pytest.fixture
def live_server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    hotline = build(make_settings(tmp_path, sqlite_url))
    with hotline.sessions.begin() as s:
        seed(s)
    hotline.agents.load_agents()
    app, socketio = web_app(hotline)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        with serve(app) as url:
            live = LiveServer(url, hotline, app, socketio)
            hotline.bus.subscribe(live.record)
            yield live
    finally:
        hotline.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright for the session: a second sync_playwright() in the same thread fails."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install the Debian chromium package")
    with sync_playwright() as pw:
        # The pages mark stable test hooks with data-test (see static/<feature>/hl-*/).
        pw.selectors.set_test_id_attribute("data-test")
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


MIC_HZ = 440.0


@pytest.fixture(scope="session")
def mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake microphone: bursts of a 440 Hz tone (a steady tone is what noise suppression
    learns to remove, speech-like on/off is what it keeps)."""
    path = tmp_path_factory.mktemp("mic") / "tone440.wav"
    rate = 48000
    t = np.arange(rate * 4) / rate
    envelope = ((t % 0.5) < 0.4).astype(float)
    pcm = (0.5 * 32767 * np.sin(2 * math.pi * MIC_HZ * t) * envelope).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture(scope="session")
def audio_browser(playwright: Playwright, mic_wav: Path) -> Iterator[Browser]:
    """Chromium whose microphone plays `mic_wav` (for the softphone)."""
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={mic_wav}"]
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    ctx.set_default_timeout(5000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda err: errors.append(str(err)))
    yield p
    assert not errors, f"JavaScript errors on the page: {errors}"


def log_in(page: Page, username: str) -> Page:
    """Sign in through the real login form (password = username in the demo data)."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", username)
    page.click("#login")
    page.wait_for_load_state("domcontentloaded")
    return page


@pytest.fixture
def login(page: Page) -> Callable[[str], Page]:
    """Sign in on the test's page."""
    return lambda username: log_in(page, username)


@pytest.fixture
def sign_in(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[str], Page]]:
    """Another user signed in, in a browser context of her own (closed after the test); the
    page's JavaScript errors are collected in `page.errors` for the test to check."""
    contexts: list[BrowserContext] = []

    def do(username: str) -> Page:
        ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
        ctx.set_default_timeout(5000)
        contexts.append(ctx)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.errors = errors  # type: ignore[attr-defined]
        return log_in(page, username)

    yield do
    for ctx in contexts:
        ctx.close()
