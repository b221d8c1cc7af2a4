from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console.core.models import ForecastInterval
from console.users.services import create_user
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

CSV = "start,calls,aht_s\n2030-01-07T09:00,12,180\n2030-01-07T09:30,20,200\n2030-01-07T10:00,0,0\n"


def test_scheduler_imports_a_forecast_csv_and_edits_an_interval(
    live_server: LiveServer, login: Callable[[str], Page]
) -> None:
    with live_server.hotline.sessions.begin() as s:
        create_user(s, "sched1", "sched1", "scheduler")
    page = login("sched1")
    page.goto("/schedule/forecast")
    expect(page.get_by_test_id("empty")).to_be_visible()

    page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "forecast.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    rows = page.get_by_test_id("forecast-row")
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("notice")).to_contain_text("已导入 3 个时段")
    expect(page.get_by_test_id("week")).to_have_value("2030-W02")
    expect(rows.first).to_contain_text("09:00")
    expect(page.get_by_test_id("chart").locator("rect")).to_have_count(3)
    expect(rows.nth(2).get_by_test_id("agents")).to_have_text("0")

    calls = rows.first.get_by_test_id("edit-calls")
    calls.fill("30")
    calls.press("Enter")
    expect(page.get_by_test_id("notice")).to_have_text("已保存。")
    expect(rows.first.get_by_test_id("edited")).to_be_visible()
    with live_server.hotline.sessions() as s:
        row = s.scalar(
            select(ForecastInterval).where(
                ForecastInterval.start == dt.datetime(2030, 1, 7, 1, 0, tzinfo=dt.UTC)
            )
        )
        assert row is not None and row.calls == 30 and row.aht_s == 180 and row.edited

    bad = page.get_by_test_id("setting-target_sl")
    bad.fill("150")
    page.get_by_test_id("btn-save-settings").click()
    expect(page.get_by_test_id("error")).to_contain_text("输入无效")
