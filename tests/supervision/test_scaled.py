from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import socketio

from console.calls import services as call_svc
from console.core.bus import RedisLiveState
from console.core.events import call_arrived
from console.demo import seed
from console.node import build, remote_emitter, web_app
from console.supervision import schemas
from tests.conftest import REDIS_URL
from tests.helpers import make_settings, wait_until
from tests.integration.harness import login_session, serve


def test_with_two_web_processes_on_redis_each_page_hears_each_call_once(
    tmp_path: Path, pg_url: str
) -> None:
    settings = make_settings(
        tmp_path, pg_url, redis_url=REDIS_URL, redis_prefix="t" + uuid.uuid4().hex[:10]
    )
    web1 = build(settings)
    with web1.sessions.begin() as s:
        seed(s)
    web1.agents.load_agents()
    web2 = build(settings)
    # A telephony process: it emits to browsers through the Socket.IO queue only.
    telephony = build(settings, remote_emitter(settings))
    nodes = [web1, web2, telephony]
    clients: list[socketio.Client] = []
    try:
        with contextlib.ExitStack() as stack:
            heard: list[list[tuple[str, Any]]] = []
            for node in (web1, web2):
                app, _ = web_app(node)
                base = stack.enter_context(serve(app))
                http = login_session(base, "super1")
                got: list[tuple[str, Any]] = []
                heard.append(got)
                page = socketio.Client(reconnection=False)
                for name in ("call_arrived", schemas.CALLS):
                    page.on(name, lambda data, n=name, g=got: g.append((n, data)))
                cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
                page.connect(
                    base,
                    headers={"Cookie": cookie, "User-Agent": str(http.headers["User-Agent"])},
                    transports=["websocket"],
                )
                clients.append(page)
                assert page.call(schemas.SNAPSHOT, {}, timeout=10)["ok"]
            with telephony.sessions.begin() as s:
                call_id = call_svc.open_inbound(s, "13800138000", "10086", "w-scaled")[0].id
            telephony.bus.publish(
                call_arrived(
                    call_id=call_id,
                    queue_id=None,
                    caller_number="8613800138000",
                    worker_id="w-scaled",
                    at=time.time(),
                )
            )

            def facts(got: list[tuple[str, Any]]) -> list[str]:
                return [c["id"] for n, d in got if n == schemas.CALLS for c in d["calls"]]

            wait_until(lambda: all(call_id in facts(got) for got in heard), timeout=10)
            time.sleep(1.0)  # anything doubled would be here by now
            for got in heard:
                assert [n for n, _ in got].count("call_arrived") == 1, got
                assert facts(got) == [call_id]
            for page in clients:
                page.disconnect()
    finally:
        for node in nodes:
            node.close()
        RedisLiveState(REDIS_URL, prefix=settings.redis_prefix).clear()
