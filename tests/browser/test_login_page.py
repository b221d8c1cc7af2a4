from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

# Values Chromium used to follow to another host after signing in (sent as written).
OFF_SITE_NEXTS = [
    "/%09/evil.example/path",
    "/%0A/evil.example/path",
    "/%0D/evil.example/path",
    "/%5C/evil.example/path",
    "%5C%5Cevil.example/path",
    "/.//evil.example/path",
    "%2F%2Fevil.example/path",
    "https:evil.example/path",
]


def test_signing_in_with_an_off_site_next_stays_on_the_app(
    live_server: LiveServer, page: Page
) -> None:
    # Leaving the app ends on evil.example or, with no DNS for it, on Chromium's error page:
    # either way the page's host is no longer the app's.
    app_host = urlsplit(live_server.url).netloc
    for nxt in OFF_SITE_NEXTS:
        page.goto(f"/login?next={nxt}")
        page.fill("#username", "agent1")
        page.fill("#password", "agent1")
        page.click("#login")
        page.wait_for_url(lambda url: "/login" not in url)
        assert urlsplit(page.url).netloc == app_host, (nxt, page.url)


def test_signing_in_with_a_local_next_lands_there(live_server: LiveServer, page: Page) -> None:
    page.goto("/calls")  # not signed in: sent to the login page with next=/calls
    assert urlsplit(page.url).path == "/login"
    page.fill("#username", "super1")
    page.fill("#password", "super1")
    page.click("#login")
    page.wait_for_url(lambda url: "/login" not in url)
    assert urlsplit(page.url).path == "/calls"


def test_repeated_wrong_passwords_show_how_long_sign_in_is_locked(
    live_server: LiveServer, page: Page
) -> None:
    page.goto("/login")
    for _ in range(5):
        page.fill("#username", "agent2")
        page.fill("#password", "not-her-password")
        page.click("#login")
        page.wait_for_load_state("domcontentloaded")
    error = page.get_by_test_id("login-error")
    assert error.get_attribute("data-locked") is not None
    assert "sign-in is locked for 5 min" in error.inner_text()
    # The right password changes nothing while the lock lasts.
    page.fill("#username", "agent2")
    page.fill("#password", "agent2")
    page.click("#login")
    page.wait_for_load_state("domcontentloaded")
    assert urlsplit(page.url).path == "/login"
    assert page.get_by_test_id("login-error").get_attribute("data-locked") is not None
