from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from console.core.models import AuditLog, User
from console.core.settings import Settings
from console.demo import seed
from console.node import Hotline, build, web_app
from console.users.logins import (
    InProcessLoginAttempts,
    LoginAttempts,
    LoginPolicy,
    LoginThrottle,
    RedisLoginAttempts,
)
from tests.conftest import REDIS_URL
from tests.helpers import csrf, make_settings, seeded_hotline


@pytest.fixture
def sqlite_hotline(tmp_path: Path, sqlite_url: str) -> Iterator[Hotline]:
    hl = seeded_hotline(make_settings(tmp_path, sqlite_url))
    yield hl
    hl.close()


@pytest.fixture
def app(sqlite_hotline: Hotline) -> Flask:
    app, _ = web_app(sqlite_hotline)
    app.config["TESTING"] = True
    return app


def post_login(
    client: FlaskClient,
    query: str,
    username: str = "agent1",
    password: str | None = None,
    **headers: str,
):  # type: ignore[no-untyped-def]
    token = csrf(client)
    return client.post(
        "/login" + query,
        data={
            "username": username,
            "password": password if password is not None else username,
            "csrf_token": token,
        },
        headers=headers,
    )


# Each value is sent exactly as written after "?next=" (already percent-encoded).
REDIRECT_BYPASSES = [
    "/%09/evil.example/path",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/%0D%0A/evil.example",
    "%09//evil.example",
    "%20//evil.example",
    "%00//evil.example",
    "//%09/evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "//evil.example/%2F..",
    "/%5Cevil.example",
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "%5C/evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "%252F%252Fevil.example",
    "/%255C%255Cevil.example",
    "http://evil.example",
    "https://evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "HTTP://evil.example",
    "https:%2F%2Fevil.example",
    "ftp://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "%6Aavascript:alert(1)",
    "java%09script:alert(1)",
    "%256Aavascript:alert(1)",
    "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "vbscript:msgbox(1)",
    "/.//evil.example",
    "/./%2F/evil.example",
    "/%2e//evil.example",
    "/%2E%2E//evil.example",
    "/..//evil.example",
    "/x/..//evil.example",
    "/./../.././/evil.example",
    "//agent1@evil.example",
    "http://localhost@evil.example",
    "//localhost%40evil.example",
    "/%2F@evil.example",
    "@evil.example",
    "%EF%BC%8F%EF%BC%8Fevil.example",
    "/%EF%BC%8Fevil.example",
    "/%E2%88%95evil.example",
    "/%E3%80%80/evil.example",
    "%E2%81%84%E2%81%84evil.example",
    "/%C0%AFevil.example",
    "evil.example",
    ".evil.example",
    "?next=//evil.example",
    "#//evil.example",
]


def _stays_on_this_site(location: str) -> bool:
    # A relative path with a single leading "/" that any URL parser resolves to this host.
    return (
        re.match(r"^/(?![/\\])", location) is not None
        and re.search(r"[\x00-\x20\x7f\\]", location) is None
        and location.isascii()
        and urlsplit(urljoin("http://localhost/login", location)).netloc == "localhost"
    )


def test_login_never_redirects_off_the_site(app: Flask) -> None:
    # One app for every value: each case is a fresh client and a real sign-in.
    escaped = []
    for target in REDIRECT_BYPASSES:
        r = post_login(app.test_client(), "?next=" + target)
        assert r.status_code == 302, target
        if not _stays_on_this_site(r.headers["Location"]):
            escaped.append((target, r.headers["Location"]))
    assert escaped == []


def test_the_known_bypass_lands_on_the_users_home(app: Flask) -> None:
    r = post_login(app.test_client(), "?next=/%09/evil.example/path")
    assert r.headers["Location"] == "/"


def test_a_local_next_survives_normalised(app: Flask) -> None:
    assert post_login(app.test_client(), "?next=/agent").headers["Location"] == "/agent"
    r = post_login(
        app.test_client(), "?next=/api/v1/calls%3Fstatus%3Dended%26page%3D2", username="super1"
    )
    assert r.headers["Location"] == "/api/v1/calls?status=ended&page=2"
    assert (
        post_login(app.test_client(), "?next=/schedule/./x/../forecast").headers["Location"]
        == "/schedule/forecast"
    )
    assert post_login(app.test_client(), "?next=/.//agent").headers["Location"] == "/agent"


def test_the_login_redirect_for_an_anonymous_page_comes_back(app: Flask) -> None:
    c = app.test_client()
    r = c.get("/agent")
    assert r.status_code == 302
    login_url = r.headers["Location"]
    r = post_login(c, login_url[login_url.index("?") :])
    assert r.headers["Location"] == "/agent"


# --- failed sign-in throttling ----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=["memory", "redis"])
def attempts(request: pytest.FixtureRequest) -> Iterator[LoginAttempts]:
    if request.param == "memory":
        yield InProcessLoginAttempts()
        return
    prefix = "t" + uuid.uuid4().hex[:8]
    store = RedisLoginAttempts(REDIS_URL, prefix=prefix)
    yield store
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(f"{prefix}:*"))
    if keys:
        r.delete(*keys)
    r.close()
    store.close()


def guess(throttle: LoginThrottle, username: str, address: str | None) -> int:
    """One wrong password, as the login view counts it: the seconds sign-in is locked for."""
    return throttle.attempt(username, address) or throttle.failed(username, address)


def test_five_failures_lock_the_account_for_a_doubling_period(attempts: LoginAttempts) -> None:
    clock = FakeClock()
    throttle = LoginThrottle(attempts, LoginPolicy(), clock)
    locks = []
    for _ in range(6):
        assert [guess(throttle, "agent1", f"10.0.0.{i}") for i in range(4)] == [0, 0, 0, 0]
        locked = guess(throttle, "agent1", "10.0.0.9")
        locks.append(locked)
        # Locked from every address; other accounts are untouched.
        assert throttle.retry_after("agent1", "192.0.2.1") == locked
        assert throttle.retry_after("agent2", "10.0.0.1") == 0
        clock.advance(locked - 1)
        assert throttle.retry_after("agent1", None) == 1
        clock.advance(1)
        assert throttle.retry_after("agent1", None) == 0
    assert locks == [300, 600, 1200, 2400, 3600, 3600]


def test_a_successful_sign_in_resets_the_count_and_the_doubling(attempts: LoginAttempts) -> None:
    clock = FakeClock()
    throttle = LoginThrottle(attempts, LoginPolicy(), clock)
    for _ in range(4):
        guess(throttle, "agent1", "10.0.0.1")
    throttle.succeeded("agent1", "10.0.0.1")
    assert [guess(throttle, "agent1", "10.0.0.1") for _ in range(4)] == [0, 0, 0, 0]
    assert guess(throttle, "agent1", "10.0.0.1") == 300
    clock.advance(300)
    throttle.succeeded("agent1", "10.0.0.1")
    assert [guess(throttle, "agent1", "10.0.0.1") for _ in range(5)][-1] == 300


def test_guesses_sent_in_parallel_get_no_more_tries(attempts: LoginAttempts) -> None:
    throttle = LoginThrottle(attempts, LoginPolicy(), FakeClock())
    # Eight requests arrive before the first password check has finished.
    waits = [throttle.attempt("agent1", "10.0.0.1") for _ in range(8)]
    assert waits == [0, 0, 0, 0, 0, 300, 300, 300]
    assert [throttle.failed("agent1", "10.0.0.1") for _ in range(5)] == [300] * 5


def test_failures_older_than_the_window_no_longer_count(attempts: LoginAttempts) -> None:
    clock = FakeClock()
    throttle = LoginThrottle(attempts, LoginPolicy(), clock)
    for _ in range(4):
        guess(throttle, "agent1", None)
    clock.advance(901)
    assert [guess(throttle, "agent1", None) for _ in range(4)] == [0, 0, 0, 0]
    assert guess(throttle, "agent1", None) == 300
    # The doubling is forgotten a day after the last lock.
    clock.advance(300 + 24 * 3600 + 1)
    assert [guess(throttle, "agent1", None) for _ in range(5)][-1] == 300


def test_one_address_guessing_many_accounts_is_locked(attempts: LoginAttempts) -> None:
    clock = FakeClock()
    throttle = LoginThrottle(attempts, LoginPolicy(), clock)
    assert [guess(throttle, f"user{i}", "198.51.100.7") for i in range(19)] == [0] * 19
    assert guess(throttle, "user19", "198.51.100.7") == 300
    assert throttle.retry_after("agent1", "198.51.100.7") == 300
    assert throttle.retry_after("agent1", "198.51.100.8") == 0
    # An IPv6 sender owns its whole /64: changing the last bits does not help.
    for i in range(20):
        guess(throttle, f"v6user{i}", f"2001:db8:1:2::{i + 1:x}")
    assert throttle.retry_after("agent1", "2001:db8:1:2:ffff::1") == 300
    assert throttle.retry_after("agent1", "2001:db8:1:3::1") == 0


def test_web_processes_sharing_redis_share_the_counts() -> None:
    prefix = "t" + uuid.uuid4().hex[:8]
    clock = FakeClock()
    first = LoginThrottle(RedisLoginAttempts(REDIS_URL, prefix=prefix), LoginPolicy(), clock)
    second = LoginThrottle(RedisLoginAttempts(REDIS_URL, prefix=prefix), LoginPolicy(), clock)
    try:
        assert [guess(first, "agent1", "10.0.0.1") for _ in range(3)] == [0, 0, 0]
        assert guess(second, "agent1", "10.0.0.2") == 0
        assert guess(second, "agent1", "10.0.0.2") == 300
        assert first.retry_after("agent1", None) == 300
        first.succeeded("agent1", "10.0.0.1")
        assert second.retry_after("agent1", None) == 0
    finally:
        first.store.reset("user:agent1")
        for ip in ("10.0.0.1", "10.0.0.2"):
            first.store.reset(f"addr:{ip}")
        first.close()
        second.close()


def test_the_login_numbers_are_settings() -> None:
    s = Settings.from_env({"HOTLINE_LOGIN_MAX_FAILURES": "3", "HOTLINE_LOGIN_LOCK_S": "60"})
    policy = LoginPolicy.from_settings(s)
    assert (policy.max_failures, policy.lock_s, policy.window_s) == (3, 60.0, 900.0)
    assert Settings().login_max_failures == 5


def _use_clock(hotline: Hotline, clock: FakeClock) -> None:
    hotline.logins = LoginThrottle(
        InProcessLoginAttempts(), LoginPolicy.from_settings(hotline.settings), clock
    )


def test_wrong_passwords_lock_sign_in_with_a_message_in_the_users_language(
    app: Flask, sqlite_hotline: Hotline
) -> None:
    clock = FakeClock()
    _use_clock(sqlite_hotline, clock)
    c = app.test_client()
    for _ in range(4):
        r = post_login(c, "", password="wrong", **{"Accept-Language": "zh-CN"})
        assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = post_login(c, "", password="wrong", **{"Accept-Language": "zh-CN"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "300"
    assert "已锁定 5 分钟" in r.get_data(as_text=True)
    # The right password is refused too while the lock lasts, in English for an English browser.
    r = post_login(c, "", **{"Accept-Language": "en"})
    assert r.status_code == 429
    assert "sign-in is locked for 5 min" in r.get_data(as_text=True)
    clock.advance(270)
    r = post_login(c, "", **{"Accept-Language": "en"})
    assert r.status_code == 429 and "locked for 30 s" in r.get_data(as_text=True)
    clock.advance(30)
    assert post_login(c, "").status_code == 302
    with sqlite_hotline.sessions() as s:
        agent1 = s.scalar(select(User.id).where(User.username == "agent1"))
        rows = s.scalars(
            select(AuditLog).where(AuditLog.action.in_(["login-failed", "login-locked"]))
        ).all()
    assert [r.action for r in rows].count("login-failed") == 5
    locked = [r for r in rows if r.action == "login-locked"]
    assert len(locked) == 1 and locked[0].user_id == agent1 and locked[0].detail["seconds"] == 300
    assert {r.detail["address"] for r in rows} == {"127.0.0.1"}


def test_parallel_wrong_passwords_are_checked_five_times_at_most(
    app: Flask, sqlite_hotline: Hotline
) -> None:
    _use_clock(sqlite_hotline, FakeClock())
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf(c) for c in clients]
    start = threading.Barrier(len(clients))
    codes: list[int] = []

    def send(c: FlaskClient, token: str) -> None:
        start.wait()
        r = c.post("/login", data={"username": "agent1", "password": "wrong", "csrf_token": token})
        codes.append(r.status_code)

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(codes) == 12
    assert codes.count(401) <= 4 and codes.count(429) >= 8 and set(codes) <= {401, 429}


def test_unknown_usernames_lock_the_same_way(app: Flask, sqlite_hotline: Hotline) -> None:
    _use_clock(sqlite_hotline, FakeClock())
    c = app.test_client()
    codes = [post_login(c, "", username="nobody", password="x").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]


def test_a_successful_sign_in_resets_the_account_on_the_web(
    app: Flask, sqlite_hotline: Hotline
) -> None:
    _use_clock(sqlite_hotline, FakeClock())
    for _ in range(4):
        assert post_login(app.test_client(), "", password="wrong").status_code == 401
    assert post_login(app.test_client(), "").status_code == 302
    codes = [post_login(app.test_client(), "", password="wrong").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 401]


def test_a_node_with_redis_locks_across_its_web_processes(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(
        tmp_path, sqlite_url, redis_url=REDIS_URL, redis_prefix="t" + uuid.uuid4().hex[:8]
    )
    one, two = build(settings), build(settings)
    try:
        with one.sessions.begin() as s:
            seed(s)
        assert isinstance(one.logins.store, RedisLoginAttempts)
        apps = [web_app(hl)[0] for hl in (one, two)]
        codes = [
            post_login(apps[i % 2].test_client(), "", password="wrong").status_code
            for i in range(5)
        ]
        assert codes == [401, 401, 401, 401, 429]
        assert post_login(apps[0].test_client(), "").status_code == 429
        assert post_login(apps[1].test_client(), "").status_code == 429
    finally:
        for key in ("user:agent1", "addr:127.0.0.1"):
            one.logins.store.reset(key)
        one.close()
        two.close()


def test_the_in_process_counters_forget_what_no_longer_matters() -> None:
    clock = FakeClock()
    store = InProcessLoginAttempts()
    store.PRUNE_ABOVE = store._prune_at = 50  # type: ignore[misc]
    throttle = LoginThrottle(store, LoginPolicy(), clock)
    for _ in range(5):
        guess(throttle, "agent1", None)  # a lock: kept
    for i in range(60):
        guess(throttle, f"spray{i}", None)
    clock.advance(901)
    for i in range(60):
        guess(throttle, f"later{i}", None)
    assert len(store._entries) < 100
    assert throttle.retry_after("agent1", None) == 0  # its lock is over, its level is kept
    assert [guess(throttle, "agent1", None) for _ in range(5)][-1] == 600
