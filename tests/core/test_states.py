from __future__ import annotations

import json
import re
from pathlib import Path

from console.core.events import call_ended
from console.core.models import ROLES
from console.core.states import BUSY_STATES, AgentState, EndReason, Role

ROOT = Path(__file__).resolve().parents[2]
STATES_JS = ROOT / "static" / "lib" / "states.js"


def _js_agent_states() -> dict[str, str]:
    text = STATES_JS.read_text(encoding="utf-8")
    block = re.search(r"export const AgentState = Object\.freeze\(\{(.*?)\}\);", text, re.S)
    assert block is not None
    return dict(re.findall(r'(\w+):\s*"([^"]+)"', block.group(1)))


def _js_busy_states() -> list[str]:
    text = STATES_JS.read_text(encoding="utf-8")
    block = re.search(r"export const BUSY_STATES = Object\.freeze\(\[(.*?)\]\);", text, re.S)
    assert block is not None
    names = re.findall(r"AgentState\.(\w+)", block.group(1))
    js = _js_agent_states()
    return [js[n] for n in names]


def test_the_browser_module_names_the_same_agent_states_as_the_server() -> None:
    assert _js_agent_states() == {m.name: m.value for m in AgentState}


def test_the_browser_module_has_the_same_busy_states_as_the_server() -> None:
    assert _js_busy_states() == [s.value for s in BUSY_STATES]


def test_enum_values_travel_as_their_plain_strings() -> None:
    wire = json.loads(
        json.dumps(call_ended(call_id="c", agent_id=None, end_reason=EndReason.NO_ACK).to_wire())
    )
    assert wire["data"]["end_reason"] == "no-ack"
    assert f"{AgentState.WRAP_UP}" == "wrap_up" and str(Role.QA) == "qa"


def test_roles_keep_their_stored_order() -> None:
    assert ROLES == ("agent", "qa", "scheduler", "supervisor", "admin")
