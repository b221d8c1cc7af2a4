"""B1 screen pop: INVITE sent by SIPp → the agent's Socket.IO client has the offer → the
agent's Chromium page has painted the card with the customer record.

Starts a single node (`hotline run`: SQLite or --database-url, pjsua2 worker, web server)
in its own process on loopback, four browser agents
each with a Socket.IO client and a Chromium page, and measures one call at a time and then
every call slot of the worker busy at once. Run: `python -m bench.screen_pop`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.common import machine
from console.core.db import upgrade
from console.core.models import Customer, CustomerPhone
from console.core.settings import Settings
from console.demo import seed
from console.node import build
from console.users.services import create_user
from tests.conftest import free_media_port, free_port
from tests.integration.harness import SCENARIOS, AgentClient

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def invites_sent(workdir: Path, pid: int) -> dict[str, float]:
    """Wall-clock time SIPp sent each INVITE, by caller number, from its message trace."""
    log = next(workdir.glob(f"*_{pid}_messages.log"))
    sent: dict[str, float] = {}
    for block in log.read_text(errors="replace").split(
        "----------------------------------------------- "
    )[1:]:
        head, _, body = block.partition("\n")
        if "message sent" not in body.split("\n", 1)[0] or "\nINVITE " not in body:
            continue
        caller = body.split('From: "', 1)[1].split('"', 1)[0]
        sent.setdefault(
            caller, dt.datetime.strptime(head.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        )
    return sent


def place(workdir: Path, target: str, callers: list[str], hold_ms: int) -> subprocess.Popen[bytes]:
    """One SIPp process placing one call per caller, all at once."""
    scenario = workdir / "callers.xml"
    if not scenario.exists():
        text = (SCENARIOS / "caller_hangup.xml").read_text().replace("[caller]", "[field0]")
        scenario.write_text(text)
    inf = workdir / f"callers-{callers[0]}.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{c};\n" for c in callers))
    n = len(callers)
    cmd = [
        "sipp",
        "-sf",
        str(scenario),
        "-inf",
        str(inf),
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_media_port()),
        "-m",
        str(n),
        "-l",
        str(n),
        "-r",
        "1000",
        "-s",
        "10086",
        "-nostdin",
        "-timeout",
        "20s",
        "-d",
        str(hold_ms),
        "-trace_msg",
        target,
    ]
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=40, help="rounds per scenario")
    ap.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = ap.parse_args()

    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="hotline-b1-"))
    url = args.database_url or f"sqlite:///{tmp / 'b1.db'}"
    upgrade(url)
    settings = Settings(
        data_dir=tmp, database_url=url, secret_key="bench", sip_port=free_port(), worker_id="b1"
    )
    hl = build(settings)
    agents = ["agent1", "agent2", "agent3", "agent4"]
    with hl.sessions.begin() as s:
        seed(s)
        for name in agents[2:]:
            create_user(s, name, name, "agent", name, skills=["support"])
        # One customer per test caller, so every pop carries a real record.
        for i in range(20):
            c = Customer(name=f"客户{i:02d}", grade="ABCD"[i % 4])
            c.phones = [CustomerPhone(number=f"+86139000100{i:02d}")]
            s.add(c)
    hl.close()
    # The node runs in its own process, as `hotline run` does, so the measuring clients
    # here do not share its interpreter lock.
    web_port = free_port()
    log = tmp / "node.log"
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp),
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_SECRET_KEY": "bench",
        "HOTLINE_SIP_PORT": str(settings.sip_port),
        "HOTLINE_WEB_PORT": str(web_port),
        "HOTLINE_WORKER_ID": "b1",
    }
    node = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b"web: http" not in log.read_bytes():
        if node.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    time.sleep(0.5)
    base_url = f"http://127.0.0.1:{web_port}"
    target = f"127.0.0.1:{settings.sip_port}"
    # "SIP: … (…; max N calls per worker)", printed by `hotline run` before the web line.
    slots = int(re.search(r"max (\d+) calls", log.read_text())[1])  # type: ignore[index]
    results: dict[str, dict[str, list[float]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages = {}
        clients = {}
        for name in agents:
            ctx = browser.new_context(base_url=base_url)
            page = ctx.new_page()
            page.goto("/login")
            page.fill("#username", name)
            page.fill("#password", name)
            page.click("#login")
            page.wait_for_selector('[data-test="state-label"]')
            pages[name] = page
            clients[name] = AgentClient(base_url, name)
            clients[name].available()
        time.sleep(0.5)
        workdir = tmp / "sipp"
        workdir.mkdir()
        for label, concurrent in (("1 call", 1), (f"{slots} calls (all slots)", slots)):
            sock: list[float] = []
            paint: list[float] = []
            for r in range(args.rounds):
                callers = [
                    f"+86139000100{(r * concurrent + i) % 20:02d}" for i in range(concurrent)
                ]
                proc = place(workdir, target, callers, 400)
                offers: dict[str, dict[str, object]] = {}
                deadline = time.monotonic() + 10
                while len(offers) < concurrent and time.monotonic() < deadline:
                    for cl in clients.values():
                        try:
                            data = cl.wait_for("call_offered", timeout=0.2)
                        except AssertionError:
                            continue
                        offers[data["pop"]["number"]] = data
                proc.wait(timeout=20)
                sent_at = invites_sent(workdir, proc.pid)
                for caller in callers:
                    offer = offers.get(caller)
                    if offer is None or caller not in sent_at:
                        continue
                    sent = sent_at[caller]
                    sock.append((float(offer["_received_at"]) - sent) * 1000)  # type: ignore[arg-type]
                    painted = None
                    for page in pages.values():
                        painted = (
                            page.evaluate(
                                "id => window.hlMetrics && window.hlMetrics.painted[id]",
                                offer["call_id"],
                            )
                            or painted
                        )
                    if painted:
                        paint.append(float(painted) - sent * 1000)
                # Let the withdrawals land and the agents settle before the next round.
                time.sleep(0.3)
                for cl in clients.values():
                    while not cl.events.empty():
                        cl.events.get_nowait()
                    cl.seen.clear()
            results[label] = {"socket": sock, "paint": paint}
        for cl in clients.values():
            cl.close()
        browser.close()
    node.send_signal(signal.SIGINT)
    node.wait(timeout=30)

    print(f"B1 screen pop — {machine()}")
    print(
        f"{'scenario':<24}{'n':>5}{'sock p50':>10}{'sock p95':>10}{'sock p99':>10}"
        f"{'paint p50':>11}{'paint p95':>11}{'paint p99':>11}"
    )
    for label, r in results.items():
        s, p = r["socket"], r["paint"]
        print(
            f"{label:<24}{len(s):>5}{pct(s, 50):>10.1f}{pct(s, 95):>10.1f}{pct(s, 99):>10.1f}"
            f"{pct(p, 50):>11.1f}{pct(p, 95):>11.1f}{pct(p, 99):>11.1f}"
        )
    one, busy = list(results.values())
    print(
        f"RESULT B1 calls={len(one['socket'])} socket_p50_ms={pct(one['socket'], 50):.1f} "
        f"socket_p99_ms={pct(one['socket'], 99):.1f} paint_p99_ms={pct(one['paint'], 99):.1f} "
        f"busy_calls={len(busy['socket'])} busy_slots={slots} "
        f"busy_socket_p99_ms={pct(busy['socket'], 99):.1f} "
        f"busy_paint_p99_ms={pct(busy['paint'], 99):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
