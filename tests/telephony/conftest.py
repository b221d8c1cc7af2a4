"""Fixtures for the telephony tests (helpers live in siptest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from siptest import EventRecorder


@pytest.fixture(scope="session")
def moh_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Music-on-hold WAV generated once per session."""
    from telephony.moh import ensure_moh_wav

    return ensure_moh_wav(tmp_path_factory.mktemp("moh") / "moh.wav")


@pytest.fixture(scope="module")
def module_engine() -> Iterator[tuple[Any, EventRecorder]]:
    """One SipEngine (port 0, UDP+TCP) shared by a test module, with its recorder."""
    from telephony.engine import EngineConfig, SipEngine

    recorder = EventRecorder()
    engine = SipEngine(EngineConfig(port=0), recorder)
    engine.start()
    try:
        yield engine, recorder
    finally:
        engine.stop()
