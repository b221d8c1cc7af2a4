from __future__ import annotations

import numpy as np
import pytest

from qa import QaError, Segment, Side, VadParams, analyse_channel
from qa.audio import frame_features, to_float
from qa.segments import intersect, total
from tests.qa.conftest import EN_HOLD_S, ZH_HOLD_S
from tests.qa.synth import (
    AGENT_LINES,
    CALLER_LINES,
    ESPEAK_RATE,
    CallBuilder,
    Speaker,
    SynthCall,
    Voice,
    arpeggio_music,
    f1,
    f1_counts,
    frame_labels,
    hold_music,
    mulaw_roundtrip,
    noise,
    resample,
    spoken_segments,
    to_pcm,
    tone,
)

BOUNDARY_TOLERANCE_S = 0.2


def channel(call: SynthCall, side: Side) -> tuple[np.ndarray, int]:
    return (call.caller, call.caller_rate) if side is Side.CALLER else (call.agent, call.agent_rate)


def frame_f1(truth: tuple[Segment, ...], found: tuple[Segment, ...], duration_s: float) -> float:
    return f1(*f1_counts(frame_labels(truth, duration_s), frame_labels(found, duration_s)))


@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("which", ["en_call", "zh_call"])
def test_speech_frames_match_the_truth_with_f1_over_0_95(
    which: str, side: Side, request: pytest.FixtureRequest
) -> None:
    call: SynthCall = request.getfixturevalue(which)
    act = analyse_channel(*channel(call, side), side)
    assert frame_f1(call.speech[side], act.speech, call.duration_s) >= 0.95


@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("which", ["en_call", "zh_call"])
def test_every_spoken_line_is_one_spurt_with_boundaries_within_tolerance(
    which: str, side: Side, request: pytest.FixtureRequest
) -> None:
    call: SynthCall = request.getfixturevalue(which)
    act = analyse_channel(*channel(call, side), side)
    assert len(act.speech) == len(call.speech[side])
    for truth, found in zip(call.speech[side], act.speech, strict=True):
        assert abs(found.start_s - truth.start_s) <= BOUNDARY_TOLERANCE_S, (truth, found)
        assert abs(found.end_s - truth.end_s) <= BOUNDARY_TOLERANCE_S, (truth, found)


def test_hold_music_in_the_agent_channel_is_one_hold_and_no_speech(en_call: SynthCall) -> None:
    act = analyse_channel(en_call.agent, en_call.agent_rate, Side.AGENT)
    (truth,) = en_call.holds[Side.AGENT]
    assert truth.duration_s == pytest.approx(EN_HOLD_S)
    (found,) = act.holds
    assert abs(found.start_s - truth.start_s) <= 1.0
    assert abs(found.end_s - truth.end_s) <= 1.0
    assert total(intersect(act.speech, [truth])) == 0.0
    # The caller's channel has no music: no hold there.
    assert analyse_channel(en_call.caller, en_call.caller_rate, Side.CALLER).holds == ()


def test_arpeggio_hold_music_in_a_noisy_8k_caller_channel_is_found(zh_call: SynthCall) -> None:
    act = analyse_channel(zh_call.caller, zh_call.caller_rate, Side.CALLER)
    (truth,) = zh_call.holds[Side.CALLER]
    assert truth.duration_s == pytest.approx(ZH_HOLD_S)
    (found,) = act.holds
    assert total(intersect([found], [truth])) >= 0.9 * truth.duration_s
    assert found.duration_s <= truth.duration_s + 1.0
    assert total(intersect(act.speech, [truth])) == 0.0


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("style", ["chords", "arpeggio"])
def test_a_channel_that_is_music_from_end_to_end_is_one_hold(rate: int, style: str) -> None:
    music = hold_music(40.0, rate) if style == "chords" else arpeggio_music(40.0, rate)
    x = music + noise(len(music), "white", np.random.default_rng(3)) * 10 ** (-60 / 20)
    if rate == 8000:
        x = mulaw_roundtrip(x)
    act = analyse_channel(to_pcm(x), rate, Side.CALLER)
    assert act.speech == ()
    assert total(act.holds) >= 0.9 * 40.0


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize(
    ("color", "level_dbfs"), [("white", -40.0), ("pink", -35.0), ("white", -70.0)]
)
def test_noise_alone_is_neither_speech_nor_hold(rate: int, color: str, level_dbfs: float) -> None:
    n = 30 * rate
    x = noise(n, color, np.random.default_rng(4)) * 10 ** (level_dbfs / 20)
    act = analyse_channel(to_pcm(x), rate, Side.AGENT)
    assert act.speech == ()
    assert act.holds == ()
    assert act.syllables == 0
    assert act.syllable_rate is None


def test_digital_silence_and_an_empty_channel_hold_nothing() -> None:
    silent = analyse_channel(np.zeros(80000, dtype=np.int16), 8000, Side.CALLER)
    assert (silent.speech, silent.holds, silent.duration_s) == ((), (), 10.0)
    empty = analyse_channel(b"", 16000, Side.AGENT)
    assert (empty.speech, empty.holds, empty.duration_s) == ((), (), 0.0)


def test_ring_back_tones_and_a_beep_are_not_speech_nor_hold() -> None:
    rate = 8000
    rng = np.random.default_rng(5)
    x = noise(20 * rate, "white", rng) * 10 ** (-50 / 20)
    for k in range(4):  # China's ring-back: 450 Hz, 1 s on, 4 s off
        start = (1 + 5 * k) * rate
        x[start : start + rate] += tone(450.0, 1.0, rate)
    x[int(3.5 * rate) : int(3.5 * rate) + int(0.6 * rate)] += tone(1000.0, 0.6, rate)
    act = analyse_channel(to_pcm(x), rate, Side.CALLER)
    assert act.speech == ()
    assert act.holds == ()


def test_speech_next_to_a_steady_tone_is_kept_and_the_tone_is_not(speaker: Speaker) -> None:
    b = CallBuilder(speaker, "tone", "en", 8000, 8000)
    b.pause(0.5)
    b.say(Side.AGENT, AGENT_LINES["en"][5])
    b.pause(1.0)
    b.place_raw(Side.AGENT, tone(1000.0, 1.5, 8000), b.cursor)
    b.pause(1.0)
    b.say(Side.AGENT, AGENT_LINES["en"][4])
    call = b.build(np.random.default_rng(6), {Side.CALLER: 30.0, Side.AGENT: 30.0})
    act = analyse_channel(call.agent, call.agent_rate, Side.AGENT)
    assert len(act.speech) == 2
    assert frame_f1(call.speech[Side.AGENT], act.speech, call.duration_s) >= 0.95


def test_a_noise_step_up_does_not_turn_into_speech(speaker: Speaker) -> None:
    """Background noise 12 dB louder from the middle of a call with long pauses: the
    floor follows the step at once, the louder noise is not talk."""
    b = CallBuilder(speaker, "step", "en", 8000, 8000)
    for line in CALLER_LINES["en"][:4]:
        b.pause(4.0)
        b.say(Side.CALLER, line)
    call = b.build(
        np.random.default_rng(7),
        {Side.CALLER: 25.0, Side.AGENT: 25.0},
        noise_step_db=12.0,
        tail_s=4.0,
    )
    act = analyse_channel(call.caller, call.caller_rate, Side.CALLER)
    assert frame_f1(call.speech[Side.CALLER], act.speech, call.duration_s) >= 0.95
    assert len(act.speech) == 4


def test_a_faint_mains_hum_under_the_call_is_not_hold_music(speaker: Speaker) -> None:
    b = CallBuilder(speaker, "hum", "zh", 8000, 8000)
    for line in AGENT_LINES["zh"][:3]:
        b.pause(1.5)
        b.say(Side.AGENT, line)
    b.pause(6.0)
    call = b.build(np.random.default_rng(8), {Side.CALLER: 30.0, Side.AGENT: 30.0})
    t = np.arange(len(call.agent)) / 8000
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 4, 5, 6))
    x = to_float(call.agent) + 10 ** (-48 / 20) * hum
    act = analyse_channel(to_pcm(x), 8000, Side.AGENT)
    assert act.holds == ()
    assert frame_f1(call.speech[Side.AGENT], act.speech, call.duration_s) >= 0.95


def test_syllable_rate_of_bursts_at_four_per_second_is_four() -> None:
    """Voiced bursts (a 140 Hz pulse train through a vowel-ish filter) at exactly 4 Hz."""
    rate = 16000
    t = np.arange(6 * rate) / rate
    carrier = np.sign(np.sin(2 * np.pi * 140 * t)) * 0.1
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    x = carrier * envelope
    x = np.concatenate([np.zeros(rate), x, np.zeros(rate)])
    x += noise(len(x), "white", np.random.default_rng(9)) * 10 ** (-60 / 20)
    act = analyse_channel(to_pcm(x), rate, Side.AGENT)
    assert act.syllables == 24
    assert act.syllable_rate == pytest.approx(4.0, rel=0.1)


def test_syllables_of_mandarin_lines_match_their_pinyin_syllables(speaker: Speaker) -> None:
    b = CallBuilder(speaker, "syl", "zh", 8000, 16000)
    b.voices[Side.AGENT] = Voice("zh", "", 150)
    for line in AGENT_LINES["zh"]:
        b.pause(1.0)
        b.say(Side.AGENT, line)
    call = b.build(np.random.default_rng(10), {Side.CALLER: 30.0, Side.AGENT: 30.0})
    act = analyse_channel(call.agent, call.agent_rate, Side.AGENT)
    spoken = sum(line.phrase.syllables for line in call.lines)
    assert act.syllables == pytest.approx(spoken, rel=0.2)


def test_faster_speech_has_a_higher_syllable_rate(speaker: Speaker) -> None:
    rates = []
    for wpm in (110, 200):
        b = CallBuilder(speaker, f"wpm{wpm}", "en", 8000, 8000)
        b.voices[Side.CALLER] = Voice("en", "", wpm)
        for line in CALLER_LINES["en"]:
            b.pause(1.0)
            b.say(Side.CALLER, line)
        call = b.build(np.random.default_rng(11), {Side.CALLER: 30.0, Side.AGENT: 30.0})
        rate = analyse_channel(call.caller, call.caller_rate, Side.CALLER).syllable_rate
        assert rate is not None
        rates.append(rate)
    assert rates[1] >= 1.4 * rates[0]


def test_bytes_and_int16_arrays_give_the_same_answer(en_call: SynthCall) -> None:
    from_array = analyse_channel(en_call.caller, 8000, Side.CALLER)
    from_bytes = analyse_channel(en_call.caller.astype("<i2").tobytes(), 8000, Side.CALLER)
    assert from_array == from_bytes


def test_the_same_audio_at_8_and_16_khz_gives_the_same_segments(speaker: Speaker) -> None:
    clip = speaker.say(CALLER_LINES["en"][0].spoken, Voice("en"))
    x = np.concatenate([np.zeros(ESPEAK_RATE), clip * 2, np.zeros(ESPEAK_RATE)])
    found = {}
    for rate in (8000, 16000):
        y = resample(x, ESPEAK_RATE, rate)
        found[rate] = analyse_channel(to_pcm(y), rate, Side.CALLER).speech
    (a,), (b,) = found[8000], found[16000]
    truth = spoken_segments(resample(x, ESPEAK_RATE, 16000), 16000)
    assert abs(a.start_s - b.start_s) <= 0.05 and abs(a.end_s - b.end_s) <= 0.05
    assert abs(a.start_s - truth[0].start_s) <= BOUNDARY_TOLERANCE_S


@pytest.mark.parametrize(
    ("pcm", "rate", "error"),
    [
        (b"\x00\x01\x02", 8000, "qa-pcm-odd-length"),
        (np.zeros((10, 2), dtype=np.int16), 8000, "qa-pcm-not-mono"),
        (np.zeros(10, dtype=np.float32), 8000, "qa-pcm-not-int16"),
        (np.zeros(10, dtype=np.int16), 11025, "qa-rate-unsupported"),
        (np.zeros(10, dtype=np.int16), 4000, "qa-rate-unsupported"),
    ],
)
def test_bad_pcm_is_refused_with_a_stable_id(pcm: object, rate: int, error: str) -> None:
    with pytest.raises(QaError) as err:
        analyse_channel(pcm, rate, Side.CALLER)  # type: ignore[arg-type]
    assert err.value.id == error


def test_frames_are_ten_milliseconds_whatever_the_rate() -> None:
    for rate in (8000, 16000, 48000):
        f = frame_features(np.zeros(rate * 3 + 7), rate)
        assert f.n_frames == 301
        assert f.duration_s == pytest.approx(3.01)


def test_stricter_thresholds_find_less_speech(en_call: SynthCall) -> None:
    loose = analyse_channel(en_call.caller, 8000, Side.CALLER)
    strict = analyse_channel(en_call.caller, 8000, Side.CALLER, VadParams(on_db=20, off_db=15))
    assert total(strict.speech) < total(loose.speech)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"on_db": 4.0, "off_db": 6.0}, "qa-vad-hysteresis"),
        ({"bridge_s": -0.1}, "qa-vad-negative-span"),
        ({"min_hold_s": 0.0}, "qa-vad-negative-span"),
    ],
)
def test_inconsistent_vad_parameters_are_refused(kwargs: dict[str, float], error: str) -> None:
    with pytest.raises(QaError) as err:
        VadParams(**kwargs)
    assert err.value.id == error
