"""Socket.IO: logged-in, same-origin connections only; rooms per agent and for supervisors."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room

from console.agents.views import agent_snapshot
from console.core.errors import DomainError
from console.core.events import (
    call_answer_requested,
    call_control_requested,
    call_hangup_requested,
    call_reject_requested,
    recording_pause_requested,
)
from console.core.notifier import SUPERVISORS, WORKFORCE, agent_room
from console.core.states import AgentState, Role
from console.node import Hotline
from console.web import errors
from console.web.access import hotline as hl


def _authed(*allowed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every event re-checks the login (a revoked session stops working at once) and the role."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any) -> Any:
            if not current_user.is_authenticated:
                disconnect()
                return {"ok": False, "error": "login-required"}
            lang = current_user.language
            if allowed and current_user.role not in allowed:
                return errors.as_dict(DomainError("forbidden"), lang) | {"ok": False}
            try:
                result = fn(*args)
            except DomainError as err:
                return errors.as_dict(err, lang) | {"ok": False}
            return {"ok": True} | (result or {})

        return inner

    return wrap


def _payload(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise DomainError("invalid-input", "object expected")
    return data


DTMF_DIGITS = frozenset("0123456789*#ABCD")


def _offered_call(data: Any, states: tuple[str, ...]) -> tuple[int, str]:
    call_id = str(_payload(data).get("call_id") or "")
    agent_id = current_user.agent_id
    live = hl().live.get_agent(agent_id) if agent_id is not None else None
    if live is None or live.call_id != call_id or live.state not in states:
        raise DomainError("call-not-offered")
    return int(agent_id), call_id


class ConsoleConnections:
    """Which agents have a console open in this web process; the last one closing signs off."""

    def __init__(self, hotline: Hotline) -> None:
        self._hl = hotline
        self._lock = threading.Lock()
        self._sids: dict[int, set[str]] = {}

    def opened(self, agent_id: int, sid: str) -> None:
        with self._lock:
            self._sids.setdefault(agent_id, set()).add(sid)

    def closed(self, agent_id: int, sid: str) -> None:
        with self._lock:
            self._sids.get(agent_id, set()).discard(sid)
        timer = threading.Timer(
            self._hl.settings.agent_disconnect_grace_s, self._check, (agent_id,)
        )
        timer.daemon = True
        timer.start()

    def _check(self, agent_id: int) -> None:
        with self._lock:
            if self._sids.get(agent_id):
                return
        # Busy agents keep their call; only an idle, unattended console goes offline.
        try:
            self._hl.agents.transition(
                agent_id,
                AgentState.OFFLINE,
                expect=[AgentState.AVAILABLE, AgentState.NOT_READY],
            )
        except Exception:  # the node may be shutting down; nothing to sign off then
            logging.getLogger(__name__).exception("signing off agent %s failed", agent_id)


Handler = TypeVar("Handler", bound=Callable[..., Any])


def _on(socketio: SocketIO, event: str) -> Callable[[Handler], Handler]:
    """`socketio.on(event)` with its type (Flask-SocketIO ships no type hints): it registers
    the handler and returns it unchanged."""
    register: Callable[[Handler], Handler] = socketio.on(event)
    return register


def init_app(app: Flask, socketio: SocketIO) -> None:
    connections = ConsoleConnections(app.extensions["hotline"])

    @_on(socketio, "disconnect")
    def disconnect_(reason: Any = None) -> None:
        agent_id = getattr(current_user, "agent_id", None)
        if agent_id is not None:
            connections.closed(agent_id, _sid())

    @_on(socketio, "connect")
    def connect(auth: Any = None) -> Any:
        if not current_user.is_authenticated:
            return False
        if current_user.agent_id is not None:
            connections.opened(current_user.agent_id, _sid())
            join_room(agent_room(current_user.agent_id))
            socketio.emit("snapshot", agent_snapshot(hl(), current_user.agent_id), to=_sid())
        if current_user.role == Role.SCHEDULER:
            join_room(WORKFORCE)  # live adherence; a supervisor hears the same in her room
        if current_user.role in (Role.SUPERVISOR, Role.ADMIN):
            join_room(SUPERVISORS)
            socketio.emit(
                "snapshot", {"agents": [a.as_dict() for a in hl().live.agents()]}, to=_sid()
            )
        return True

    @_on(socketio, "set_state")
    @_authed(Role.AGENT)
    def set_state(data: Any) -> dict[str, Any]:
        d = _payload(data)
        new = hl().agents.choose(
            current_user.agent_id, str(d.get("state") or ""), str(d.get("reason") or "")
        )
        return {"agent": new.as_dict()}

    @_on(socketio, "answer")
    @_authed(Role.AGENT)
    def answer(data: Any) -> None:
        agent_id, call_id = _offered_call(data, (AgentState.RINGING,))
        hl().bus.publish(call_answer_requested(call_id=call_id, agent_id=agent_id))

    @_on(socketio, "reject")
    @_authed(Role.AGENT)
    def reject(data: Any) -> None:
        agent_id, call_id = _offered_call(data, (AgentState.RINGING,))
        hl().bus.publish(call_reject_requested(call_id=call_id, agent_id=agent_id))

    @_on(socketio, "hangup")
    @_authed(Role.AGENT)
    def hangup(data: Any) -> None:
        agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
        hl().bus.publish(call_hangup_requested(call_id=call_id, agent_id=agent_id))

    @_on(socketio, "pause_recording")
    @_authed(Role.AGENT)
    def pause_recording(data: Any) -> None:
        # A card number or other sensitive detail is about to be read out: nothing of either
        # side is stored until resumed. The worker logs both on the call with who did it.
        agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
        paused = bool(_payload(data).get("paused", True))
        hl().bus.publish(
            recording_pause_requested(call_id=call_id, agent_id=agent_id, paused=paused)
        )

    @_on(socketio, "hold")
    @_authed(Role.AGENT)
    def hold(data: Any) -> None:
        agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
        action = "hold" if _payload(data).get("on", True) else "resume"
        hl().bus.publish(call_control_requested(call_id=call_id, agent_id=agent_id, action=action))

    @_on(socketio, "dtmf")
    @_authed(Role.AGENT)
    def dtmf(data: Any) -> None:
        agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
        digits = str(_payload(data).get("digits") or "")
        if not digits or len(digits) > 32 or any(d not in DTMF_DIGITS for d in digits):
            raise DomainError("invalid-input", detail="digits")
        hl().bus.publish(
            call_control_requested(call_id=call_id, agent_id=agent_id, action="dtmf", digits=digits)
        )

    @_on(socketio, "snapshot")
    @_authed()
    def snapshot(data: Any = None) -> dict[str, Any]:
        if current_user.agent_id is not None:
            return agent_snapshot(hl(), current_user.agent_id)
        return {"agents": [a.as_dict() for a in hl().live.agents()]}


def _sid() -> str:
    from flask import request

    sid: str = request.sid  # type: ignore[attr-defined]  # set by Flask-SocketIO
    return sid
