"""The composition root: the one module that builds a Hotline node from its Settings and the
roles it runs (web, telephony, scheduler), and passes every collaborator in.

`build` makes what every process shares (database, bus and live state, agent states, login
throttle, roster solves); `web_app`, `build_worker` and `Node` add the roles. Nothing else
creates these objects or patches them afterwards; the web, telephony and scheduler packages
are imported only by the roles that run them (a web process never loads pjsua2).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

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
    throttle and roster solves."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: Publisher
    live: LiveState
    agents: AgentStateService
    logins: LoginThrottle
    rosters: RosterSolves
    # Browser legs of the calls this process's worker holds; the web role attaches pages
    # to them (console/softphone).
    audio: AudioHub

    def close(self) -> None:
        """Stop the bus, write what is queued, release connections."""
        self.agents.close()
        self.bus.close()
        self.logins.close()
        closer = getattr(self.live, "close", None)
        if closer:
            closer()
        self.engine.dispose()


def build(settings: Settings, emit: Emit | None = None) -> Hotline:
    """Build the shared objects for the single-node or the Redis-backed shape."""
    # Imported here: the roster solver (OR-Tools) loads only when a node is built.
    from console.rosters.runner import RosterSolves

    engine = make_engine(settings.effective_database_url)
    sessions = make_session_factory(engine)
    if settings.redis_url:
        prefix = settings.redis_prefix
        bus = Publisher(RedisBus(settings.redis_url, channel=f"{prefix}:events"), emit)
        live: LiveState = RedisLiveState(settings.redis_url, prefix=prefix)
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
        RosterSolves(sessions, bus, settings.timezone),
        AudioHub(settings.browser_audio_rate),
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


@dataclass
class Node:
    """One process of a Hotline node, running the given roles until SIGINT/SIGTERM."""

    settings: Settings
    roles: frozenset[NodeRole] = ALL_ROLES
    demo: bool = False
    hotline: Hotline | None = None
    worker: TelephonyWorker | None = None
    guard: SipGuard | None = None
    scheduler: BackgroundScheduler | None = None
    audio_server: InternalAudioServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of(cls, settings: Settings, roles: Iterable[NodeRole], demo: bool = False) -> Node:
        return cls(settings, frozenset(roles), demo)

    def prepare(self) -> Hotline:
        """Create the data directory, migrate the database, build the shared objects (with
        the emitter the roles call for) and load the agents."""
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
        remote = NodeRole.WEB not in self.roles and bool(settings.redis_url)
        hl = build(settings, remote_emitter(settings) if remote else None)
        if self.demo:
            from console.demo import seed, seed_workforce
            from console.workforce.services import local_day

            with hl.sessions.begin() as s:
                seed(s)
            with hl.sessions.begin() as s:
                today = local_day(dt.datetime.now(dt.UTC), settings.timezone)
                seed_workforce(s, settings.timezone, today)
        hl.agents.load_agents()
        self.hotline = hl
        return hl

    def run(self) -> int:
        """Start the roles, serve until told to stop, then stop them in order."""
        hl = self.prepare()
        settings = self.settings
        web = NodeRole.WEB in self.roles
        if NodeRole.TELEPHONY in self.roles:
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
            )
            self.scheduler = start_scheduler(ctx)

        def stop(*_: object) -> None:
            self._stop.set()
            if web:
                # The web server blocks the main thread: leave it the way Ctrl+C does, so that
                # SIGTERM (docker stop, systemd) also hangs up calls and closes their records.
                raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            if web:
                app, socketio = web_app(hl)
                print(f"web: http://{settings.web_host}:{settings.web_port}/", flush=True)
                socketio.run(
                    app,
                    host=settings.web_host,
                    port=settings.web_port,
                    allow_unsafe_werkzeug=True,
                    use_reloader=False,
                    log_output=False,
                )
            else:
                signal.signal(signal.SIGINT, stop)
                self._stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.close()
        return 0

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.worker is not None:
            self.worker.stop()
        if self.audio_server is not None:
            self.audio_server.stop()
        if self.guard is not None:
            self.guard.stop()  # after the worker: its BYEs to callers go out through the guard
        if self.hotline is not None:
            self.hotline.close()
