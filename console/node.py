"""The composition root: the one module that builds a Hotline node from its Settings and the
roles it runs (web, telephony, scheduler), and passes every collaborator in.

`build` makes what every process shares (database, bus and live state, agent states, login
throttle, roster solves); `web_app`, `build_worker` and `Node` add the roles, and
`serve_web` serves the web role with gunicorn, building the node in its worker process.
Nothing else creates these objects or patches them afterwards; the web, telephony and
scheduler packages are imported only by the roles that run them (a web process never loads
pjsua2).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from console.agents.keeper import LiveKeeper
from console.agents.services import AgentStateService
from console.core.bus import InProcessBus, InProcessLiveState, LiveState, RedisBus, RedisLiveState
from console.core.db import make_engine, make_session_factory, upgrade
from console.core.notifier import Emit, Publisher
from console.core.settings import Settings
from console.softphone.hub import AudioHub
from console.users.logins import LoginThrottle, build_login_throttle

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from flask import Flask
    from flask_socketio import SocketIO

    from console.rosters.runner import RosterSolves
    from console.softphone.relay import InternalAudioServer
    from telephony.guard import SipGuard
    from telephony.pool import WorkerPool
    from telephony.worker import TelephonyWorker

log = logging.getLogger(__name__)


class NodeRole(StrEnum):
    """What a process runs: `hotline run` all three, the scaled shape one each."""

    WEB = "web"
    TELEPHONY = "telephony"
    SCHEDULER = "scheduler"


ALL_ROLES = frozenset(NodeRole)


@dataclass
class Hotline:
    """Everything a Hotline process shares: database, bus, live state, agent states, login
    throttle, browser audio legs and (made at first use) roster solves."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: Publisher
    live: LiveState
    agents: AgentStateService
    logins: LoginThrottle
    # Browser legs of the calls this process's worker holds; the web role attaches pages
    # to them (console/softphone).
    audio: AudioHub
    # Restores the live state in Redis when it is lost (console/agents/keeper.py); None in
    # process, where the live state cannot be lost without the process.
    keeper: LiveKeeper | None = None
    _rosters: RosterSolves | None = field(default=None, repr=False)
    _rosters_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def rosters(self) -> RosterSolves:
        """The roster solves of this process, made at first use: the solver (OR-Tools, ~65 MB)
        loads only in processes that solve rosters, never in a telephony worker."""
        with self._rosters_lock:
            if self._rosters is None:
                from console.rosters.runner import RosterSolves

                self._rosters = RosterSolves(self.sessions, self.bus, self.settings.timezone)
            return self._rosters

    def close(self) -> None:
        """Stop the bus, write what is queued, release connections."""
        if self.keeper is not None:
            self.keeper.close()
        self.agents.close()
        self.bus.close()
        self.logins.close()
        closer = getattr(self.live, "close", None)
        if closer:
            closer()
        self.engine.dispose()


def build(settings: Settings, emit: Emit | None = None) -> Hotline:
    """Build the shared objects for the single-node or the Redis-backed shape."""
    engine = make_engine(settings.effective_database_url, settings.database_pool_size)
    sessions = make_session_factory(engine)
    keeper: LiveKeeper | None = None
    if settings.redis_url:
        prefix = settings.redis_prefix
        bus = Publisher(RedisBus(settings.redis_url, channel=f"{prefix}:events"), emit)
        redis_live = RedisLiveState(settings.redis_url, prefix=prefix)
        live: LiveState = redis_live
        # Started before anything of this process changes an agent's state: a live state
        # missing now (a first start, Redis restarted empty) is restored first.
        keeper = LiveKeeper(sessions, redis_live)
        keeper.start()
    else:
        bus = Publisher(InProcessBus(), emit)
        live = InProcessLiveState()
    agents = AgentStateService(sessions, live, bus)
    return Hotline(
        settings,
        engine,
        sessions,
        bus,
        live,
        agents,
        build_login_throttle(settings),
        AudioHub(settings.browser_audio_rate),
        keeper,
    )


def socketio_channel(settings: Settings) -> str:
    return f"{settings.redis_prefix}:socketio"


def web_app(hotline: Hotline) -> tuple[Flask, SocketIO]:
    """The web role on a built node: the Flask app and its Socket.IO server. Events born in
    this process reach browsers through that server (its emitter is set here, once); the
    process takes part in roster solves (fails dead ones, hears Stop from the others)."""
    from flask_socketio import SocketIO

    from console.web import create_app

    # Configured by create_app (init_app): given a message queue here, Flask-SocketIO would
    # start a server at once and drop the channel name for the app's own server.
    socketio = SocketIO()
    hotline.bus.set_emit(lambda name, data, room: socketio.emit(name, data, to=room))
    app = create_app(hotline, socketio)
    hotline.rosters.attach()
    return app, socketio


def remote_emitter(settings: Settings) -> Emit:
    """For a process without the web role in the Redis-backed shape: write-only, it emits to
    browsers through the web processes' Socket.IO queue."""
    from flask_socketio import SocketIO

    writer = SocketIO(message_queue=settings.redis_url, channel=socketio_channel(settings))
    return lambda name, data, room: writer.emit(name, data, to=room)


def build_worker(hotline: Hotline, audio_url: str = "") -> TelephonyWorker:
    """A telephony worker with its SIP engine, control queue, timers, writer and router;
    `audio_url` is its internal audio server when the web role runs in another process."""
    from console.calls.routing import CallRouter
    from console.calls.writer import OrderedWriter
    from console.recordings.capture import RecordingPump
    from console.recordings.store import parse_keys
    from telephony.engine import SipEngine
    from telephony.worker import (
        Control,
        ControlTimers,
        FromEngine,
        TelephonyWorker,
        engine_config,
    )

    inbox: queue.Queue[Control] = queue.Queue()
    timers = ControlTimers()
    # Call-record updates after the call is opened go through one ordered writer, so a burst
    # of calls is offered without waiting on each other's disk flushes.
    writer = OrderedWriter(hotline.sessions, "hotline-call-writer")
    router = CallRouter(hotline, timers.schedule, writer)
    # The engine's callbacks run on pjsua2's thread: they only post to the control queue.
    engine = SipEngine(engine_config(hotline.settings), lambda event: inbox.put(FromEngine(event)))
    keys = parse_keys(hotline.settings.effective_recording_keys)
    return TelephonyWorker(
        hotline,
        engine,
        inbox,
        timers,
        router,
        writer,
        hotline.audio,
        RecordingPump(),
        keys,
        audio_url=audio_url,
    )


def start_telephony(
    hotline: Hotline, audio_url: str = ""
) -> tuple[TelephonyWorker, SipGuard | None]:
    """Start the node's worker, behind the SIP guard when kamailio is there."""
    import dataclasses

    from telephony.guard import SipGuard, guard_binary, phone_sources, plan_guard

    settings = hotline.settings
    binary = guard_binary(settings)
    if binary is None:
        if settings.sip_guard.strip().lower() != "off":
            log.warning(
                "kamailio is not installed: the worker listens on %s:%d itself, unguarded; "
                "an INVITE flood from a non-trunk address aborts it (see README, SIP guard)",
                settings.sip_host,
                settings.sip_port,
            )
        worker = build_worker(hotline, audio_url)
        worker.start()
        return worker, None
    worker_settings, config = plan_guard(settings, phone_sources(hotline))
    # Same database, bus and live state; only the SIP fields differ.
    worker = build_worker(dataclasses.replace(hotline, settings=worker_settings), audio_url)
    # The worker first: the guard relays to it as soon as it listens.
    worker.start()
    guard = SipGuard(config, binary, settings.data_dir / "kamailio")
    try:
        guard.start()
    except BaseException:
        worker.stop()
        raise
    return worker, guard


def start_pool(hotline: Hotline) -> WorkerPool:
    """Start the node's pool of telephony worker processes behind Kamailio's dispatcher, and
    its supervisor (HOTLINE_TELEPHONY_WORKERS > 1; checked by `check_pool`)."""
    from telephony.guard import guard_binary
    from telephony.pool import WorkerPool

    binary = guard_binary(hotline.settings)
    assert binary is not None, "check_pool() runs first"
    pool = WorkerPool(hotline, hotline.settings.telephony_workers, binary)
    pool.start()
    return pool


def check_pool(settings: Settings) -> None:
    """Refuse a pool the node cannot run, before anything starts: its workers share the
    queue and live state through Redis, and Kamailio spreads the calls over them."""
    from console.core.errors import DomainError
    from telephony.guard import GuardError, guard_binary

    if settings.telephony_workers < 1:
        raise DomainError("pool-size", str(settings.telephony_workers))
    if settings.telephony_workers == 1:
        return
    if not settings.redis_url:
        raise DomainError("pool-needs-redis", str(settings.telephony_workers))
    try:
        binary = guard_binary(settings)
    except GuardError as err:
        raise DomainError("pool-needs-kamailio", str(err)) from err
    if binary is None:
        raise DomainError("pool-needs-kamailio", settings.sip_guard_binary)


@dataclass
class Node:
    """One process of a Hotline node, running the given roles until SIGINT/SIGTERM.

    Without the web role the roles run in this process. With it, this process becomes
    gunicorn's master and the roles run in its one worker process (`serve_web`)."""

    settings: Settings
    roles: frozenset[NodeRole] = ALL_ROLES
    demo: bool = False
    hotline: Hotline | None = None
    worker: TelephonyWorker | None = None
    guard: SipGuard | None = None
    pool: WorkerPool | None = None
    scheduler: BackgroundScheduler | None = None
    audio_server: InternalAudioServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    # Stopping may start on one thread (the web worker's drain) and end on another.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, settings: Settings, roles: Iterable[NodeRole], demo: bool = False) -> Node:
        return cls(settings, frozenset(roles), demo)

    def setup(self) -> None:
        """Once per start, before any role runs (in gunicorn's master when this node serves
        the web): create the data directory, migrate the database, seed the demo data. Its
        engines are disposed of before it returns: nothing of it is inherited by a fork."""
        settings = self.settings
        if NodeRole.TELEPHONY in self.roles:
            check_pool(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
        if self.demo:
            from console.demo import seed, seed_workforce
            from console.workforce.services import local_day

            engine = make_engine(settings.effective_database_url)
            try:
                sessions = make_session_factory(engine)
                with sessions.begin() as s:
                    seed(s)
                with sessions.begin() as s:
                    today = local_day(dt.datetime.now(dt.UTC), settings.timezone)
                    seed_workforce(s, settings.timezone, today)
            finally:
                engine.dispose()

    def start(self) -> Hotline:
        """Build the shared objects (with the emitter the roles call for), load the agents and
        start the telephony and scheduler roles of this process; the web role is served by
        `serve_web`, which calls this in the process that serves."""
        settings = self.settings
        web = NodeRole.WEB in self.roles
        remote = not web and bool(settings.redis_url)
        hl = build(settings, remote_emitter(settings) if remote else None)
        self.hotline = hl
        hl.agents.load_agents()
        if NodeRole.TELEPHONY in self.roles and settings.telephony_workers > 1:
            self.pool = start_pool(hl)
            print(
                f"SIP: {self.pool.address} (kamailio dispatcher in front of "
                f"{settings.telephony_workers} telephony worker processes, max "
                f"{settings.max_calls} calls each)",
                flush=True,
            )
        elif NodeRole.TELEPHONY in self.roles:
            audio_url = ""
            if not web:
                # Pages reach browser audio through the web tier, which relays to here.
                from console.softphone.relay import InternalAudioServer

                self.audio_server = InternalAudioServer(
                    hl.audio, settings.effective_secret_key, settings.audio_host,
                    settings.audio_port,
                ).start()  # fmt: skip
                audio_url = self.audio_server.url
            # Kamailio in front of the worker whenever it is installed (HOTLINE_SIP_GUARD).
            self.worker, self.guard = start_telephony(hl, audio_url)
            worker = self.worker
            sip = self.guard.address if self.guard else f"{settings.sip_host}:{worker.sip_port}"
            behind = (
                f"guarded by kamailio, worker on 127.0.0.1:{worker.sip_port}"
                if self.guard
                else "unguarded"
            )
            print(
                f"SIP: {sip} ({behind}; max {worker.effective_max_calls} calls per worker)",
                flush=True,
            )
        if NodeRole.SCHEDULER in self.roles:
            from console.scheduler import JobContext, start_scheduler

            ctx = JobContext(
                hl.sessions,
                hl.bus,
                settings.timezone,
                recording_retention_days=settings.recording_retention_days,
                recording_keys=settings.effective_recording_keys,
            )
            self.scheduler = start_scheduler(ctx)
        return hl

    def run(self) -> int:
        """Start the roles, serve until told to stop, then stop them in order; the exit
        status."""
        self.setup()
        if NodeRole.WEB in self.roles:
            return serve_web(self)

        def stop(*_: object) -> None:
            self._stop.set()

        # SIGTERM (docker stop, systemd) like Ctrl+C: calls are hung up, records closed.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            self.start()
            self._stop.wait()
        finally:
            self.close()
        return 0

    def stop_roles(self) -> None:
        """Stop the scheduler, hang up this process's calls and close their records, stop the
        audio server and the guard; the shared objects stay open. Idempotent."""
        with self._lock:
            scheduler, self.scheduler = self.scheduler, None
            worker, self.worker = self.worker, None
            pool, self.pool = self.pool, None
            audio_server, self.audio_server = self.audio_server, None
            guard, self.guard = self.guard, None
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if worker is not None:
                worker.stop()
            if pool is not None:
                pool.stop()
            if audio_server is not None:
                audio_server.stop()
            if guard is not None:
                guard.stop()  # after the worker: its BYEs to callers go out through the guard

    def close(self) -> None:
        """Stop the roles, then close the shared objects. Idempotent."""
        self.stop_roles()
        with self._lock:
            hotline, self.hotline = self.hotline, None
            if hotline is not None:
                hotline.close()


# The web role's server: gunicorn with its gthread worker (Flask-SocketIO's threading mode,
# simple-websocket for the WebSocket transport). One worker process, many threads: the
# node's in-process state (live agent state, the bus, the pjsua2 endpoint) lives in it.

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

SOCKETIO_PATH = "/socket.io/"
# gunicorn's master kills a worker whose heartbeat is older than this. gthread's main loop
# beats every second whatever its threads are doing, so this bounds the worker's boot
# (building the node, pjsua2, Kamailio) and a stuck main loop, never a request: WebSockets
# and long-polls live as long as they like.
WEB_HEARTBEAT_TIMEOUT_S = 60
# After SIGTERM the worker stops the roles, closes the long-lived connections and lets the
# other requests finish; past this the master kills it.
WEB_GRACEFUL_TIMEOUT_S = 30
WEB_KEEPALIVE_S = 5
# How long a stopping worker lets Socket.IO's close packets out before it cuts the long-lived
# connections still open.
DRAIN_GRACE_S = 1.0
# How long an exiting worker waits for its other threads to end.
THREADS_AT_EXIT_S = 2.0


class LongLivedRequests:
    """WSGI middleware that keeps the sockets of the web worker's long-lived requests —
    WebSockets (Socket.IO's, the audio socket) and Socket.IO's long-polls — so a stopping
    worker can end them: gthread waits for every open request before it exits, and these do
    not end by themselves."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._open: dict[socket.socket, bool] = {}  # socket: is a WebSocket
        self._changed = threading.Condition()
        self._closing = False

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        websocket = str(environ.get("HTTP_UPGRADE", "")).lower() == "websocket"
        if sock is None or not (
            websocket or str(environ.get("PATH_INFO", "")).startswith(SOCKETIO_PATH)
        ):
            return self._app(environ, start_response)
        with self._changed:
            if self._closing:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"stopping\n"]
            self._open[sock] = websocket
        try:
            return self._app(environ, start_response)
        finally:
            with self._changed:
                self._open.pop(sock, None)
                self._changed.notify_all()

    def close(self, grace: float) -> None:
        """Refuse new long-lived requests and cut the WebSockets' connections at once (their
        handlers end as a closed connection ends them); give the other requests `grace`
        seconds to end, then cut theirs too."""
        with self._changed:
            self._closing = True
            websockets = [sock for sock, websocket in self._open.items() if websocket]
        _cut(websockets)
        with self._changed:
            self._changed.wait_for(lambda: not self._open, grace)
            left = list(self._open)
        _cut(left)


def _cut(sockets: Iterable[socket.socket]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class WebRole:
    """The web role in the process that serves it, gunicorn's worker. `load` builds the node
    (its shared objects and its other roles) and the app there, after the fork, once per
    worker; `begin_stop` starts stopping from a signal handler; `close` finishes as the
    worker exits."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.socketio: SocketIO | None = None
        self.requests: LongLivedRequests | None = None
        self._stopping: threading.Thread | None = None

    def load(self) -> WSGIApp:
        hl = self.node.start()
        app, self.socketio = web_app(hl)
        self.requests = LongLivedRequests(app)
        s = self.node.settings
        print(
            f"web: http://{s.web_host}:{s.web_port}/ (gunicorn, {s.web_threads} threads, "
            f"worker pid {os.getpid()})",
            flush=True,
        )
        return self.requests

    def begin_stop(self) -> None:
        """Stop the roles and close the long-lived connections on a thread of their own;
        returns at once."""
        if self._stopping is None:
            self._stopping = threading.Thread(target=self._drain, name="hotline-web-stop")
            self._stopping.start()

    def _drain(self) -> None:
        try:
            # Scheduler; calls hung up and their records closed (browsers hear of it while
            # still connected); the guard.
            self.node.stop_roles()
        except Exception:
            log.exception("stopping the node's roles failed")
        if self.socketio is not None:
            # A long-poll waits for a packet: a close packet ends it and its session. (A
            # WebSocket session ends with its connection, below: a close packet of the
            # server's own races engine.io's writer against simple-websocket's reader.)
            # Browsers reconnect by themselves, to this node once it is back or to another
            # web process.
            for session in list(self.socketio.server.eio.sockets.values()):
                if not session.upgraded:
                    with contextlib.suppress(Exception):
                        session.close(wait=False)
        if self.requests is not None:
            self.requests.close(DRAIN_GRACE_S)

    def close(self) -> None:
        self.begin_stop()
        if self._stopping is not None:
            self._stopping.join()
        self.node.close()


def _join_threads(timeout: float) -> list[threading.Thread]:
    """Wait up to `timeout` seconds for this process's other non-daemon threads to end (the
    interpreter would wait for them for ever as it exits); those still running."""
    deadline = time.monotonic() + timeout
    others = [
        t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon
    ]
    for t in others:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t for t in others if t.is_alive()]


def web_bind(settings: Settings) -> str:
    host = settings.web_host
    return f"[{host}]:{settings.web_port}" if ":" in host else f"{host}:{settings.web_port}"


def serve_web(node: Node) -> int:
    """Serve the node's web role with gunicorn: this process becomes its master (it holds the
    listening socket and restarts a worker that dies) and its one gthread worker process runs
    the node's roles (`WebRole`). SIGTERM, SIGINT, SIGQUIT or SIGHUP to the master stop the
    worker gracefully (calls hung up, records closed), then the master. Returns the exit
    status. Other gunicorn settings can be given in GUNICORN_CMD_ARGS (e.g.
    `--access-logfile -`); the worker count, its class, preloading and the address are
    Hotline's."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.gthread import ThreadWorker

    role = WebRole(node)
    settings = node.settings

    class HotlineWorker(ThreadWorker):  # type: ignore[misc]
        """gthread, stopping the node: the first stop signal starts `WebRole.begin_stop`
        while gthread stops accepting and lets the open requests finish; the node is closed
        as the worker exits, however it exits."""

        def init_signals(self) -> None:
            super().init_signals()
            signal.signal(signal.SIGHUP, self.handle_exit)  # a closed terminal stops it too

        def handle_exit(self, sig: int, frame: object) -> None:
            first = self.alive
            super().handle_exit(sig, frame)
            if first and self.booted:
                role.begin_stop()

        def handle_quit(self, sig: int, frame: object) -> None:
            # SIGINT, SIGQUIT (the master's "quick" stop): as graceful as SIGTERM, so calls
            # are hung up and records closed; gthread would exit at once.
            self.handle_exit(sig, frame)

        def init_process(self) -> None:
            try:
                super().init_process()  # loads the app, then serves until stopped
            finally:
                self.alive = False
                role.close()
            # simple-websocket's reader threads are no daemons, and one whose connection
            # was closed under it (gunicorn closes a finished WebSocket's connection while
            # it still reads) can stay blocked for good. The node is closed: leave.
            stuck = _join_threads(THREADS_AT_EXIT_S)
            if stuck:
                self.log.info(
                    "Worker exiting (pid: %s), not waiting for %s",
                    self.pid,
                    ", ".join(t.name for t in stuck),
                )
                logging.shutdown()
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):
                        stream.flush()
                os._exit(0)

    class HotlineArbiter(Arbiter):  # type: ignore[misc]
        """The master, for a node: one worker, no reload. SIGHUP stops it like SIGTERM
        (there is no configuration to reload); SIGTTIN, SIGTTOU and SIGUSR2 are ignored: a
        second worker or master would start a second telephony worker and scheduler."""

        def handle_hup(self) -> None:
            raise StopIteration

        def handle_ttin(self) -> None:
            self.log.warning("ignored: a Hotline node serves its web role with one worker")

        handle_ttou = handle_usr2 = handle_ttin

    class WebServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            defaults: dict[str, object] = {
                # A pool's workers start with the node (25 took 34 s on 2 cores).
                "timeout": WEB_HEARTBEAT_TIMEOUT_S + 2 * settings.telephony_workers,
                "graceful_timeout": WEB_GRACEFUL_TIMEOUT_S,
                "keepalive": WEB_KEEPALIVE_S,
                "worker_connections": max(1000, 2 * settings.web_threads),
                "proc_name": "hotline",
            }
            hotline: dict[str, object] = {
                "bind": [web_bind(settings)],
                "workers": 1,
                "worker_class": HotlineWorker,
                "threads": settings.web_threads,
                # The app, and with it the node, is built in the worker after the fork.
                "preload_app": False,
                "reload": False,
                "daemon": False,
                # gunicornc's socket (one per user by default) could add workers.
                "control_socket_disable": True,
            }
            parser = self.cfg.parser()
            env = parser.parse_args(self.cfg.get_cmd_args_from_env())
            given = {k: v for k, v in vars(env).items() if v is not None and k != "args"}
            for name, value in {**defaults, **given, **hotline}.items():
                self.cfg.set(name, value)

        def load(self) -> WSGIApp:
            return role.load()

        def run(self) -> None:
            HotlineArbiter(self).run()

    master = os.getpid()
    try:
        WebServer(prog="hotline").run()
    except SystemExit as done:
        if os.getpid() != master:
            raise  # the worker leaving (gunicorn exits it with its status)
        return done.code if isinstance(done.code, int) else (1 if done.code else 0)
    return 0
