"""B1 screen pop: INVITE sent by SIPp → the agent's Socket.IO client has the offer → the
agent's Chromium page has painted the card with the customer record.

Starts a single node on loopback (SQLite, pjsua2 worker, web server), two agents each
with a Socket.IO client and a Chromium page, and measures one call at a time and then
every inbound slot of the worker busy at once. Run: `python -m bench.screen_pop`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select

from console.container import build
from console.db import upgrade
from console.demo import seed
from console.models import Customer, CustomerPhone
from console.settings import Settings
from console.web import create_app
from telephony.worker import TelephonyWorker
from tests.integration.harness import SCENARIOS, AgentClient, serve
from tests.conftest import free_port

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def invite_sent_at(workdir: Path, pid: int) -> float:
    """Wall-clock time SIPp sent the INVITE, from its message trace."""
    log = next(workdir.glob(f"*_{pid}_messages.log"))
    lines = log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("-----") and i + 3 < len(lines) and lines[i + 3].startswith("INVITE "):
            stamp = line.strip("- ").strip()
            return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
    raise RuntimeError(f"no INVITE in {log}")


def place(workdir: Path, target: str, caller: str, hold_ms: int) -> subprocess.Popen[bytes]:
    cmd = [
        "sipp", "-sf", str(SCENARIOS / "caller_hangup.xml"), "-i", "127.0.0.1", "-p", str(free_port()),
        "-mp", str(free_port()), "-m", "1", "-s", "10086", "-nostdin", "-timeout", "20s",
        "-d", str(hold_ms), "-trace_msg", "-key", "caller", caller, target,
    ]
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=40, help="rounds per scenario")
    args = ap.parse_args()

    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="hotline-b1-"))
    url = f"sqlite:///{tmp / 'b1.db'}"
    upgrade(url)
    settings = Settings(data_dir=tmp, database_url=url, secret_key="bench", sip_port=free_port(), worker_id="b1")
    hl = build(settings)
    with hl.sessions.begin() as s:
        seed(s)
        # One customer per test caller, so every pop carries a real record.
        for i in range(20):
            c = Customer(name=f"客户{i:02d}", grade="ABCD"[i % 4])
            c.phones = [CustomerPhone(number=f"+86139000100{i:02d}")]
            s.add(c)
    hl.agents.load_agents()
    app, _ = create_app(settings, hl)
    worker = TelephonyWorker(hl)
    worker.start()
    target = f"127.0.0.1:{worker.sip_port}"
    slots = worker.inbound_limit
    results: dict[str, dict[str, list[float]]] = {}
    with serve(app) as base_url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages = {}
        clients = {}
        for name in ("agent1", "agent2"):
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
                callers = [f"+86139000100{(r * concurrent + i) % 20:02d}" for i in range(concurrent)]
                procs = [place(workdir, target, c, 400) for c in callers]
                offers: dict[str, dict[str, object]] = {}
                deadline = time.monotonic() + 10
                while len(offers) < concurrent and time.monotonic() < deadline:
                    for cl in clients.values():
                        try:
                            data = cl.wait_for("call_offered", timeout=0.2)
                        except AssertionError:
                            continue
                        offers[data["pop"]["number"]] = data
                for proc in procs:
                    proc.wait(timeout=20)
                for caller, proc in zip(callers, procs, strict=True):
                    offer = offers.get(caller)
                    if offer is None:
                        continue
                    sent = invite_sent_at(workdir, proc.pid)
                    sock.append((float(offer["_received_at"]) - sent) * 1000)  # type: ignore[arg-type]
                    painted = None
                    for page in pages.values():
                        painted = page.evaluate(
                            "id => window.hlMetrics && window.hlMetrics.painted[id]", offer["call_id"]
                        ) or painted
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
    worker.stop()
    hl.close()

    print(f"B1 screen pop — {machine()}")
    print(f"{'scenario':<24}{'n':>5}{'sock p50':>10}{'sock p95':>10}{'sock p99':>10}{'paint p50':>11}{'paint p95':>11}{'paint p99':>11}")
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
        f"busy_calls={len(busy['socket'])} busy_slots={slots} busy_socket_p99_ms={pct(busy['socket'], 99):.1f} "
        f"busy_paint_p99_ms={pct(busy['paint'], 99):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
