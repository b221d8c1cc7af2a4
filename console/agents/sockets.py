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

from console.agents import services as agent_svc
from console.agents.views import agent_snapshot
from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.core.errors import DomainError
from console.core.events import (
    call_answer_requested,
    call_control_requested,
    call_dial_requested,
    call_dialling,
    call_hangup_requested,
    call_reject_requested,
    recording_pause_requested,
)
from console.core.models import new_call_id
from console.core.notifier import SUPERVISORS, WORKFORCE, agent_room
from console.core.states import AgentState, AudioPath, Role, TransferTo
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

    @_on(socketio, "transfer")
    @_authed(Role.AGENT)
    def transfer(data: Any) -> None:
        # Blind: {to: queue|agent|number, target}. The worker checks again (the agent may
        # have moved on) and answers call_control_failed when it cannot be done.
        agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
        d = _payload(data)
        with hl().sessions() as s:
            to, target = call_svc.transfer_target(
                s, str(d.get("to") or ""), str(d.get("target") or ""), hl().settings.country_code
            )
        if to == TransferTo.AGENT:
            _colleague_available(agent_id, int(target))
        _need_trunk(to)
        hl().bus.publish(
            call_control_requested(
                call_id=call_id, agent_id=agent_id, action="transfer", to=to, target=target
            )
        )

    @_on(socketio, "consult")
    @_authed(Role.AGENT)
    def consult(data: Any) -> None:
        # Attended transfer: the caller on hold, the agent calls {number} or rings a
        # colleague {agent}; then complete, cancel or conference.
        agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
        d = _payload(data)
        if d.get("agent") is not None:  # a colleague: {agent: id}
            with hl().sessions() as s:
                to, target = call_svc.transfer_target(
                    s, TransferTo.AGENT, str(d.get("agent")), hl().settings.country_code
                )
            _colleague_available(agent_id, int(target))
        else:  # an outside number: {number}
            to = TransferTo.NUMBER
            target = call_svc.outside_number(str(d.get("number") or ""), hl().settings.country_code)
            _need_trunk(to)
        hl().bus.publish(
            call_control_requested(
                call_id=call_id, agent_id=agent_id, action="consult", to=to, target=target
            )
        )

    def _party_move(action: str) -> Callable[[Any], None]:
        def move(data: Any) -> None:
            agent_id, call_id = _offered_call(data, (AgentState.ON_CALL,))
            hl().bus.publish(
                call_control_requested(call_id=call_id, agent_id=agent_id, action=action)
            )

        return move

    for action, event in (
        ("complete", "consult_complete"),
        ("cancel", "consult_cancel"),
        ("conference", "conference"),
    ):
        _on(socketio, event)(_authed(Role.AGENT)(_party_move(action)))

    @_on(socketio, "dial")
    @_authed(Role.AGENT)
    def dial(data: Any) -> dict[str, Any]:
        # Click-to-dial {number, queue_id?, customer_id?}: from available or not ready, the
        # agent is on the call at once (no offer comes in meanwhile); the record is opened
        # here and a live telephony worker places the call.
        d = _payload(data)
        agent_id = current_user.agent_id
        node = hl()
        _need_trunk(TransferTo.NUMBER)
        with node.sessions.begin() as s:
            plan = call_svc.plan_outbound(
                s,
                str(d.get("number") or ""),
                d.get("queue_id"),
                d.get("customer_id"),
                node.settings.country_code,
            )
        with node.sessions() as s:
            path, _ = agent_svc.audio_of(s, agent_id)
        if path != AudioPath.BROWSER:  # the worker calls the customer into her browser only
            raise DomainError("dial-needs-browser-audio")
        before = node.live.get_agent(agent_id)
        if before is None or before.state == AgentState.OFFLINE:
            raise DomainError("agent-offline")
        if before.state not in (AgentState.AVAILABLE, AgentState.NOT_READY):
            raise DomainError("agent-busy")
        call_id = new_call_id()
        if not node.agents.transition(
            agent_id, AgentState.ON_CALL, call_id=call_id, expect=[before.state]
        ):
            raise DomainError("agent-busy")
        try:
            with node.sessions.begin() as s:
                pop = call_schemas.screen_pop(
                    *call_svc.open_outbound(s, agent_id, plan, call_id=call_id)
                )
        except Exception:
            node.agents.transition(
                agent_id, before.state, before.reason, expect=[AgentState.ON_CALL]
            )
            raise
        node.bus.publish(
            call_dialling(call_id=call_id, agent_id=agent_id, number=plan.number, pop=dict(pop))
        )
        node.bus.publish(
            call_dial_requested(
                call_id=call_id,
                agent_id=agent_id,
                worker_id=plan.worker_id,
                number=plan.number,
                caller_id=plan.caller_id,
                resume_state=before.state,
                resume_reason=before.reason,
            )
        )
        return {"call_id": call_id}

    @_on(socketio, "snapshot")
    @_authed()
    def snapshot(data: Any = None) -> dict[str, Any]:
        if current_user.agent_id is not None:
            return agent_snapshot(hl(), current_user.agent_id)
        return {"agents": [a.as_dict() for a in hl().live.agents()]}


def _colleague_available(agent_id: int, colleague: int) -> None:
    """A transfer or consult goes to another agent who is available now (the worker checks
    again, atomically, when it reserves her)."""
    live = hl().live.get_agent(colleague)
    if colleague == agent_id or live is None or live.state != AgentState.AVAILABLE:
        raise DomainError("agent-not-available")


def _need_trunk(to: str) -> None:
    """Outside numbers need the outbound trunk; said before anything changes."""
    if to == TransferTo.NUMBER and not hl().settings.outbound_trunk:
        raise DomainError("no-outbound-trunk")


def _sid() -> str:
    from flask import request

    sid: str = request.sid  # type: ignore[attr-defined]  # set by Flask-SocketIO
    return sid
