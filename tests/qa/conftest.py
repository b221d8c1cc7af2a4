"""Generated calls for the QA tests: espeak-ng clips are spoken once per session into a
temporary cache; each call's layout is fixed here, so what was built into it is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.model import Side
from tests.qa.synth import (
    AGENT_LINES,
    CALLER_LINES,
    CLOSING,
    GREETING,
    HOLD_ASK,
    HOLD_THANKS,
    CallBuilder,
    Speaker,
    SynthCall,
)

# What the fixtures below build in, for the tests to compare against.
EN_RING_S = 7.5
EN_FIRST_WORD_S = 1.2
EN_DEAD_AIR_S = 7.0
EN_HOLD_S = 12.0
EN_BARGE_S = 1.0
ZH_RING_S = 16.0
ZH_HOLD_S = 10.0
ZH_DEAD_AIR_S = 5.5


@pytest.fixture(scope="session")
def speaker(tmp_path_factory: pytest.TempPathFactory) -> Speaker:
    return Speaker(Path(tmp_path_factory.mktemp("espeak")))


@pytest.fixture(scope="session")
def en_call(speaker: Speaker) -> SynthCall:
    """English: caller 8 kHz μ-law, agent 16 kHz; a barge-in by the agent, music on hold
    in the agent's channel, seven seconds of dead air; white noise."""
    b = CallBuilder(speaker, "en", "en", 8000, 16000, ring_s=EN_RING_S)
    c, a = CALLER_LINES["en"], AGENT_LINES["en"]
    b.pause(EN_FIRST_WORD_S)
    b.say(Side.AGENT, GREETING["en"])
    b.pause(0.6)
    b.say(Side.CALLER, c[1])  # the complaint
    b.pause(0.5)
    b.say(Side.AGENT, a[0])
    b.pause(0.4)
    said = b.say(Side.CALLER, c[2])
    b.cursor = said.end_s - EN_BARGE_S  # the agent reads back before the caller is done
    b.say(Side.AGENT, a[1])
    b.pause(0.5)
    b.say(Side.AGENT, HOLD_ASK["en"])
    b.hold(EN_HOLD_S, Side.AGENT, "chords")
    b.pause(0.6)
    b.say(Side.AGENT, HOLD_THANKS["en"])
    b.pause(0.5)
    b.say(Side.AGENT, a[3])
    b.pause(EN_DEAD_AIR_S)
    b.say(Side.CALLER, c[5])
    b.pause(0.5)
    b.say(Side.AGENT, a[4])  # the promised time
    b.pause(0.5)
    b.say(Side.CALLER, c[7])
    b.pause(0.4)
    b.say(Side.AGENT, CLOSING["en"])
    snr = {Side.CALLER: 15.0, Side.AGENT: 25.0}
    return b.build(np.random.default_rng(1), snr, color="white", tail_s=1.0)


@pytest.fixture(scope="session")
def zh_call(speaker: Speaker) -> SynthCall:
    """Mandarin: both legs 8 kHz μ-law; arpeggio hold music in the caller's channel (a
    caller put on hold by another switch), dead air, pink noise that gets 6 dB louder
    halfway through."""
    b = CallBuilder(speaker, "zh", "zh", 8000, 8000, ring_s=ZH_RING_S)
    c, a = CALLER_LINES["zh"], AGENT_LINES["zh"]
    b.pause(0.8)
    b.say(Side.AGENT, GREETING["zh"])
    b.pause(0.5)
    b.say(Side.CALLER, c[0])
    b.pause(0.6)
    b.say(Side.AGENT, a[0])
    b.pause(0.5)
    b.say(Side.CALLER, c[1])  # 投诉
    b.pause(0.5)
    b.say(Side.AGENT, a[2])
    b.pause(0.4)
    b.say(Side.AGENT, HOLD_ASK["zh"])
    b.hold(ZH_HOLD_S, Side.CALLER, "arpeggio")
    b.pause(0.7)
    b.say(Side.AGENT, HOLD_THANKS["zh"])
    b.pause(ZH_DEAD_AIR_S)
    b.say(Side.AGENT, a[4])
    b.pause(0.5)
    b.say(Side.CALLER, c[7])
    b.pause(0.5)
    b.say(Side.AGENT, CLOSING["zh"])
    snr = {Side.CALLER: 12.0, Side.AGENT: 20.0}
    return b.build(np.random.default_rng(2), snr, color="pink", noise_step_db=6.0, tail_s=1.5)
