from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from console.calls import services as call_svc
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_supervisor_filters_the_call_log_and_exports_the_same_filter(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    with live_server.hotline.sessions.begin() as s:
        for caller in ("13800138000", "13912345678", "13800138000"):
            call, _, _ = call_svc.open_inbound(s, caller, "10086", "w-test")
            call_svc.mark_ended(s, call.id, "abandoned")

    page = login("super1")
    expect(page).to_have_url(re.compile(r"/supervision$"))  # the wallboard first
    page.goto("/calls")
    table = page.get_by_test_id("calls-table")
    expect(table.locator("tbody tr")).to_have_count(3)

    form = page.get_by_test_id("filter-form")
    form.get_by_test_id("filter-number").fill("138 0013 8000")
    page.get_by_test_id("btn-filter").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("+8613800138000")
    expect(table).not_to_contain_text("+8613912345678")
    expect(table).to_contain_text("放弃")

    href = page.get_by_test_id("export-csv").get_attribute("href")
    assert href is not None
    assert parse_qs(urlsplit(href).query) == {"number": ["138 0013 8000"]}
    csv = page.request.get(href)
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text().strip().splitlines()
    assert len(lines) == 3 and all("+8613800138000" in line for line in lines[1:])

    # A bad filter shows the server's message in the user's language.
    form.get_by_test_id("filter-number").fill("abc")
    page.get_by_test_id("btn-filter").click()
    expect(page.get_by_test_id("error")).to_contain_text("无效的电话号码")
