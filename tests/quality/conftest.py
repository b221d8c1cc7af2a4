"""A generated English call with known truth (espeak-ng speech, music on hold, dead air),
spoken once per session, and a QA reviewer to sign in as."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from console.node import Hotline
from console.users.services import create_user
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

# What the call below is built with, for the tests to compare against.
RING_S = 7.5  # two rings of 5 s: answered within three
HOLD_S = 9.0
DEAD_AIR_S = 6.0


@pytest.fixture(scope="session")
def quality_speaker(tmp_path_factory: pytest.TempPathFactory) -> Speaker:
    return Speaker(Path(tmp_path_factory.mktemp("espeak")))


@pytest.fixture(scope="session")
def synth_call(quality_speaker: Speaker) -> SynthCall:
    """Caller 8 kHz μ-law, agent 16 kHz: greeting, a complaint, the agent puts the caller on
    hold (music in the agent's channel, held/resumed in the events), dead air, closing."""
    b = CallBuilder(quality_speaker, "quality-en", "en", 8000, 16000, ring_s=RING_S)
    c, a = CALLER_LINES["en"], AGENT_LINES["en"]
    b.pause(1.2)
    b.say(Side.AGENT, GREETING["en"])
    b.pause(0.6)
    b.say(Side.CALLER, c[1])
    b.pause(0.5)
    b.say(Side.AGENT, a[0])
    b.pause(0.5)
    b.say(Side.AGENT, HOLD_ASK["en"])
    b.hold(HOLD_S, Side.AGENT, "chords")
    b.pause(0.6)
    b.say(Side.AGENT, HOLD_THANKS["en"])
    b.pause(DEAD_AIR_S)
    b.say(Side.CALLER, c[7])
    b.pause(0.4)
    b.say(Side.AGENT, CLOSING["en"])
    snr = {Side.CALLER: 18.0, Side.AGENT: 25.0}
    return b.build(np.random.default_rng(7), snr, color="white", tail_s=1.0)


@pytest.fixture
def qa_user(hotline: Hotline) -> str:
    """A QA reviewer (password = user name)."""
    with hotline.sessions.begin() as s:
        create_user(s, "qa01", "qa01", "qa", "质检 Qian")
    return "qa01"
