"""Fast tests without a running endpoint: URI parsing, source ACL, MOH generator."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from telephony.engine import (
    EngineConfig,
    SipEngine,
    SipEngineError,
    _compile_sources,
    _source_allowed,
    build_call_cap,
    parse_sip_user,
    parse_uri,
)
from telephony.moh import ensure_moh_wav


@pytest.mark.parametrize(
    ("value", "user", "uri"),
    [
        ("sip:+8613800138000@10.0.0.1", "+8613800138000", "sip:+8613800138000@10.0.0.1"),
        ("<sip:13800138000@h:5060>;tag=abc", "13800138000", "sip:13800138000@h:5060"),
        (
            '"Zhang San" <sip:1001@pbx.example;user=phone>;tag=1',
            "1001",
            "sip:1001@pbx.example;user=phone",
        ),
        ("Bob <sips:bob:secret@h>", "bob", "sips:bob:secret@h"),
        (
            "<tel:+8613800138000;phone-context=+86>",
            "+8613800138000",
            "tel:+8613800138000;phone-context=+86",
        ),
        ("tel:+8610086", "+8610086", "tel:+8610086"),
        ("sip:+86138;npdi@h;transport=tcp", "+86138", "sip:+86138;npdi@h"),
        ("<sip:%2B8613800138000@h>", "+8613800138000", "sip:%2B8613800138000@h"),
        ("sip:h.example", "", "sip:h.example"),
        ("<mailto:x@y>", "", "mailto:x@y"),
        ("garbage", "", "garbage"),
        ("", "", ""),
    ],
)
def test_parse_user_and_uri(value: str, user: str, uri: str) -> None:
    assert parse_sip_user(value) == user
    assert parse_uri(value) == uri


def test_source_acl() -> None:
    rules = _compile_sources(["10.1.0.0/16", "127.0.0.1/32", "192.168.1.5:5070", "172.16.0.9"])
    assert _source_allowed(rules, "10.1.200.3:5060")
    assert _source_allowed(rules, "127.0.0.1:40000")
    assert not _source_allowed(rules, "127.0.0.2:40000")
    assert _source_allowed(rules, "192.168.1.5:5070")
    assert not _source_allowed(rules, "192.168.1.5:5071")  # ip:port entries are exact
    assert _source_allowed(rules, "172.16.0.9:1234")
    assert not _source_allowed(rules, "not-an-ip:5060")
    assert not _source_allowed(rules, "")
    assert not _source_allowed((), "127.0.0.1:5060")
    v6 = _compile_sources(["::1", "[2001:db8::1]:5060"])
    assert _source_allowed(v6, "[::1]:5060")
    assert _source_allowed(v6, "[2001:db8::1]:5060")
    assert not _source_allowed(v6, "127.0.0.1:5060")
    with pytest.raises(ValueError):
        _compile_sources(["300.1.1.1/8"])


def test_commands_before_start_fail_cleanly() -> None:
    engine = SipEngine(EngineConfig(port=0), lambda e: None)
    fut = engine.hangup("nope")
    with pytest.raises(SipEngineError):
        fut.result(1)
    assert engine.active_legs() == []
    with pytest.raises(ValueError):
        engine.set_allowed_sources(["nonsense/99"])
    with pytest.raises(ValueError):
        engine.answer("x", 302)
    assert engine.effective_max_calls == min(4, build_call_cap())
    engine.stop()  # stop before start is a no-op


def test_moh_wav(tmp_path: Path) -> None:
    path = ensure_moh_wav(tmp_path / "sub" / "moh.wav")
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == 16000
        assert wav.getnframes() == 30 * 16000
        frames = wav.readframes(wav.getnframes())
    samples = memoryview(frames).cast("h")
    peak = max(abs(s) for s in samples[::7])
    assert 2000 < peak < 20000  # audible but soft
    assert abs(samples[0]) < 50 and abs(samples[-1]) < 50  # faded in and out
    mtime = path.stat().st_mtime_ns
    assert ensure_moh_wav(path) == path and path.stat().st_mtime_ns == mtime  # not regenerated
