"""Moving calls from the agent console in Chromium, against a real node and SIPp peers: a
blind transfer to a queue from the F10 dialog (a second agent is offered the call, the first
goes to wrap-up; a stale choice is refused in the page's language), consults to an outside
number through the outbound trunk (busy, cancelled, then conference and complete, with the
consult bar), and click-to-dial (busy line, then calling → talking → hang up).

The outbound trunk is a SIPp UAS on loopback (`outbound_trunk="127.0.0.1:<port>"`).
Screenshots go to $HOTLINE_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from console.core.i18n import translate
from console.core.models import Call
from tests.helpers import free_port
from tests.integration.harness import AgentClient, Node, Sipp, start_node

pytestmark = pytest.mark.browser

SCENARIOS = Path(__file__).parent / "scenarios"
CUSTOMER = "+8613900139000"  # the outside number called (no customer file has it)


def zh(key: str, **params: object) -> str:
    """A message as the page shows it in zh-CN (for texts with full-width punctuation,
    which ruff takes for confusables)."""
    return translate(key, "zh-CN", **params)


@pytest.fixture
def trunk_port() -> int:
    return free_port()


@pytest.fixture
def trunk_node(tmp_path: Path, sqlite_url: str, trunk_port: int) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url, outbound_trunk=f"127.0.0.1:{trunk_port}")


def _shot(page: Page, name: str) -> None:
    where = os.environ.get("HOTLINE_SCREENSHOTS")
    if where:
        page.screenshot(path=str(Path(where) / f"{name}.png"))


OpenConsole = Callable[..., Page]


def _consoles(b: Browser, node: Node) -> Iterator[OpenConsole]:
    """Sign agents in to their console, each in a context of her own; at the end, no page
    may have thrown a JavaScript error."""
    contexts: list[tuple[BrowserContext, list[str]]] = []

    def open_console(username: str = "agent1", *, browser_audio: bool = False) -> Page:
        ctx = b.new_context(base_url=node.base_url, viewport={"width": 1366, "height": 768})
        ctx.set_default_timeout(10000)
        errors: list[str] = []
        contexts.append((ctx, errors))
        page = ctx.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", username)
        if browser_audio:
            page.check("#audio-browser")
        page.click("#login")
        expect(page.get_by_test_id("state-label")).to_be_visible()
        return page

    yield open_console
    for ctx, errors in contexts:
        ctx.close()
        assert not errors, errors


@pytest.fixture
def console(browser: Browser, trunk_node: Node) -> Iterator[OpenConsole]:
    yield from _consoles(browser, trunk_node)


@pytest.fixture
def audio_console(audio_browser: Browser, trunk_node: Node) -> Iterator[OpenConsole]:
    yield from _consoles(audio_browser, trunk_node)


def answer_a_caller(node: Node, sipp: Sipp, page: Page) -> str:
    """agent1 (SIP phone) goes available, a SIPp caller rings her, she answers on the page."""
    sipp.start("agent_phone.xml", port=node.phones["agent1"])
    page.get_by_test_id("btn-available").click()
    expect(page.get_by_test_id("state-label")).to_have_text("空闲")
    sipp.start("caller.xml", target=node.sip_target, keys={"caller": "013800138000"})
    card = page.get_by_test_id("call-card")
    card.get_by_test_id("btn-answer").click()
    expect(page.get_by_test_id("state-label")).to_have_text("通话中")
    expect(card).to_have_attribute("data-mode", "on_call")
    call_id = card.get_attribute("data-call-id")
    assert call_id
    return call_id


def selected(dialog: Locator) -> Locator:
    return dialog.locator('[role="option"][aria-selected="true"]')


def test_blind_transfer_to_a_queue_from_the_f10_dialog(
    trunk_node: Node, sipp: Sipp, console: OpenConsole
) -> None:
    node = trunk_node
    page = console("agent1")
    # Every new shortcut is in the list.
    page.keyboard.press("?")
    help_ = page.get_by_test_id("shortcut-help")
    for key in ("F10", "Alt+C", "Alt+N"):
        expect(help_).to_contain_text(key)
    page.keyboard.press("Escape")
    # She talks through her SIP phone: dialling out needs browser audio, and the page says so.
    page.get_by_test_id("btn-not-ready").click()
    expect(page.get_by_test_id("dial-why")).to_have_text(zh("error.dial-needs-browser-audio"))
    expect(page.get_by_test_id("btn-dial")).to_be_disabled()
    call_id = answer_a_caller(node, sipp, page)
    agent2 = AgentClient(node.base_url, "agent2")
    try:
        agent2.available()

        page.keyboard.press("F10")
        dialog = page.get_by_test_id("transfer-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("转接通话")
        search = dialog.get_by_test_id("transfer-search")
        expect(search).to_be_focused()
        # The queues first, then the agents; ↓ moves the choice.
        expect(selected(dialog)).to_have_attribute("data-kind", "queue")
        expect(selected(dialog)).to_contain_text("support")
        page.keyboard.press("ArrowDown")
        expect(selected(dialog)).to_contain_text("sales")
        kim = dialog.locator('[data-kind="agent"]', has_text="Agent Kim")
        expect(kim).to_contain_text("空闲")
        expect(kim).not_to_have_attribute("aria-disabled", "true")
        _shot(page, "transfer-dialog-zh")

        # She picks Agent Kim, who went not ready meanwhile: refused, said in Chinese, and
        # the dialog stays open for another choice.
        assert agent2.call("set_state", {"state": "not_ready", "reason": "lunch"})["ok"]
        search.fill("kim")
        expect(dialog.get_by_test_id("transfer-option")).to_have_count(1)
        expect(selected(dialog)).to_contain_text("Agent Kim")
        search.press("Enter")
        expect(dialog.get_by_test_id("transfer-error")).to_have_text("该坐席当前不是就绪状态。")
        expect(dialog).to_be_visible()
        # Esc closes; opened again, the list is fresh: she cannot be chosen now.
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        page.keyboard.press("F10")
        expect(kim).to_contain_text("未就绪")
        expect(kim).to_have_attribute("aria-disabled", "true")
        expect(search).to_have_value("")
        agent2.available()

        # Search as you type: "supp" leaves the support queue; Enter confirms.
        search.fill("supp")
        expect(selected(dialog)).to_have_attribute("data-kind", "queue")
        expect(selected(dialog)).to_have_text(re.compile("support"))
        search.press("Enter")

        expect(dialog).to_be_hidden()
        wrap = page.get_by_test_id("wrap-up")
        expect(wrap).to_be_visible()
        expect(wrap).to_contain_text("已转接")
        expect(page.get_by_test_id("state-label")).to_have_text("话后处理")
        expect(page.get_by_test_id("notice")).to_have_text("通话已转接至 support。")

        offer = agent2.wait_for("call_offered", lambda d: d["call_id"] != call_id)
        assert offer["pop"]["number"] == "+8613800138000"
        assert offer["pop"]["queue"]["name"] == "support"
        with node.hotline.sessions() as s:
            old, new = s.get(Call, call_id), s.get(Call, offer["call_id"])
            assert old is not None and old.end_reason == "transferred"
            assert new is not None and new.parent_id == call_id
    finally:
        agent2.close()


def test_consult_an_outside_number_then_conference_and_complete(
    trunk_node: Node, sipp: Sipp, trunk_port: int, console: OpenConsole
) -> None:
    node = trunk_node
    page = console("agent1")
    answer_a_caller(node, sipp, page)
    bar = page.get_by_test_id("consult-bar")
    hold = page.get_by_test_id("btn-hold")
    notice = page.get_by_test_id("notice")

    def consult(number: str, state: str = "connected") -> None:
        page.keyboard.press("Alt+KeyC")
        dialog = page.get_by_test_id("transfer-dialog")
        expect(dialog).to_contain_text("咨询后转接")
        expect(dialog).to_contain_text("Agent Kim")  # a colleague can be consulted too
        dialog.get_by_test_id("transfer-search").fill(number)
        expect(selected(dialog)).to_have_text("呼叫 13900139000")
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(bar).to_be_visible()
        expect(bar.get_by_test_id("consult-number")).to_have_text(CUSTOMER)
        expect(bar.get_by_test_id("consult-state")).to_have_text(zh(f"consult.state.{state}"))
        expect(hold).to_have_attribute("aria-pressed", "true")

    # The line is busy: the bar says so, and that the caller still waits on hold until
    # she takes her back with F6.
    busy, _ = sipp.start(str(SCENARIOS / "busy.xml"), port=trunk_port)
    consult("13900139000", "failed")
    expect(bar.get_by_test_id("consult-held-hint")).to_be_visible()
    expect(bar.get_by_test_id("btn-consult-complete")).to_be_hidden()
    page.keyboard.press("F6")
    expect(hold).to_have_attribute("aria-pressed", "false")
    expect(bar).to_be_hidden()
    assert sipp.wait(busy) == 0, sipp.stats(busy)

    # A consult she cancels: she is back with the caller.
    third, _ = sipp.start("agent_phone.xml", port=trunk_port, calls=2)
    consult("139 0013 9000")
    expect(page.get_by_test_id("btn-transfer")).to_be_disabled()
    expect(bar.get_by_test_id("btn-consult-conference")).to_be_enabled()
    _shot(page, "consult-bar-zh")
    # Hold is part of the consult: F6 is refused, and the page says why.
    page.keyboard.press("F6")
    expect(page.get_by_test_id("error")).to_have_text(zh("error.consult-in-progress"))
    bar.get_by_test_id("btn-consult-cancel").click()
    expect(bar).to_be_hidden()
    expect(hold).to_have_attribute("aria-pressed", "false")
    expect(notice).to_have_text(f"与 {CUSTOMER} 的咨询通话已结束。")

    # Once more: all three talk, then she leaves them to it.
    consult("13900139000")
    bar.get_by_test_id("btn-consult-conference").click()
    expect(bar.get_by_test_id("consult-state")).to_have_text("三方通话中")
    expect(hold).to_have_attribute("aria-pressed", "false")
    expect(bar.get_by_test_id("btn-consult-cancel")).to_have_text("挂断第三方")
    _shot(page, "consult-bar-conference-zh")
    # A reload finds the conference as it is.
    page.reload()
    expect(bar.get_by_test_id("consult-state")).to_have_text("三方通话中")
    expect(bar.get_by_test_id("consult-number")).to_have_text(CUSTOMER)
    expect(hold).to_have_attribute("aria-pressed", "false")
    bar.get_by_test_id("btn-consult-complete").click()
    wrap = page.get_by_test_id("wrap-up")
    expect(wrap).to_be_visible()
    expect(wrap).to_contain_text("已转接")
    expect(notice).to_have_text(f"通话已转接至 {CUSTOMER}。")
    expect(bar).to_be_hidden()
    with node.hotline.sessions() as s:
        calls = list(s.scalars(select(Call).order_by(Call.arrived_at)))
        assert [c.end_reason for c in calls][:1] == ["transferred"]
        assert calls[-1].parent_id == calls[0].id and calls[-1].callee_number == CUSTOMER
    assert third.poll() is None  # the third party still talks to the caller


def test_click_to_dial_busy_then_calling_talking_and_hang_up(
    trunk_node: Node, sipp: Sipp, trunk_port: int, audio_console: OpenConsole
) -> None:
    node = trunk_node
    page = audio_console("agent1", browser_audio=True)
    label = page.get_by_test_id("state-label")
    card = page.get_by_test_id("call-card")
    page.get_by_test_id("btn-not-ready").click()
    expect(label).to_contain_text("未就绪")

    # A busy line: the card goes, the page says so, she is back not ready.
    busy, _ = sipp.start(str(SCENARIOS / "busy.xml"), port=trunk_port)
    page.keyboard.press("Alt+KeyN")
    number = page.get_by_test_id("input-dial")
    expect(number).to_be_focused()
    expect(page.get_by_test_id("dial-why")).to_be_hidden()
    number.fill("139 0013 9000")
    _shot(page, "dial-idle-zh")
    number.press("Enter")
    expect(page.get_by_test_id("error")).to_have_text(zh("dial.not_reached", number=CUSTOMER))
    expect(card).to_be_hidden()
    _shot(page, "dial-not-reached-zh")
    expect(label).to_contain_text("未就绪")
    assert sipp.wait(busy) == 0, sipp.stats(busy)

    # The attempt is in her recent calls: she calls back from there. It rings 3 s.
    row = page.get_by_test_id("recent-calls").locator("tr", has_text=CUSTOMER).first
    expect(row).to_contain_text("未接通")
    answer, _ = sipp.start(str(SCENARIOS / "slow_answer.xml"), port=trunk_port)
    row.get_by_test_id("btn-call-back").click()
    expect(card).to_have_attribute("data-mode", "dialling")
    expect(card.get_by_test_id("dialling")).to_have_text(f"正在呼叫 {CUSTOMER}…")
    expect(card.get_by_test_id("card-kind")).to_have_text("外呼")
    expect(card.get_by_test_id("btn-cancel-dial")).to_be_visible()
    expect(label).to_have_text("通话中")
    expect(page.get_by_test_id("error")).to_be_hidden()
    _shot(page, "dialling-zh")

    # The customer answers: the card is a call in hand, the softphone carries it.
    expect(card).to_have_attribute("data-mode", "on_call")
    expect(card.get_by_test_id("talk-timer")).to_have_text(re.compile(r"^00:0\d$"))
    expect(card.get_by_test_id("card-kind")).to_have_text("外呼")
    expect(page.locator("hl-softphone")).to_be_visible()
    expect(page.get_by_test_id("btn-transfer")).to_be_visible()
    card.get_by_test_id("btn-hangup").click()
    wrap = page.get_by_test_id("wrap-up")
    expect(wrap).to_be_visible()
    expect(wrap).to_contain_text("坐席挂断")
    expect(label).to_have_text("话后处理")
    assert sipp.wait(answer) == 0, sipp.stats(answer)
    with node.hotline.sessions() as s:
        calls = list(s.scalars(select(Call).order_by(Call.arrived_at)))
    assert [(c.direction, c.caller_number, c.end_reason) for c in calls] == [
        ("outbound", CUSTOMER, "not-reached"),
        ("outbound", CUSTOMER, "agent-hangup"),
    ]
    assert calls[1].answered_at is not None
