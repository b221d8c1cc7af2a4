# ruff: noqa: RUF001 — Chinese lines keep their own full-width punctuation, on purpose.
from __future__ import annotations

import datetime as dt

import pytest

from qa import (
    CallEvent,
    CallMetrics,
    ChannelActivity,
    Interruption,
    MetricsParams,
    QaError,
    Segment,
    Side,
    analyse_call,
    call_metrics,
    events_timeline,
)
from qa.segments import clip, complement, intersect, total, union
from tests.qa.conftest import (
    EN_BARGE_S,
    EN_DEAD_AIR_S,
    EN_FIRST_WORD_S,
    EN_HOLD_S,
    EN_RING_S,
    ZH_DEAD_AIR_S,
    ZH_HOLD_S,
    ZH_RING_S,
)
from tests.qa.synth import SynthCall


def S(a: float, b: float) -> Segment:
    return Segment(a, b)


def activity(
    side: Side,
    speech: list[tuple[float, float]],
    holds: list[tuple[float, float]] | None = None,
    duration: float = 60.0,
    syllables: int = 0,
) -> ChannelActivity:
    segs = tuple(S(*x) for x in speech)
    talk = sum(b - a for a, b in speech)
    return ChannelActivity(
        side,
        duration,
        segs,
        tuple(S(*x) for x in holds or []),
        syllables,
        syllables / talk if talk else None,
    )


def test_segment_arithmetic() -> None:
    assert union([S(5, 6), S(0, 2), S(1, 3), S(3, 4)]) == (S(0, 4), S(5, 6))
    assert intersect([S(0, 4), S(5, 9)], [S(3, 6), S(8, 10)]) == (S(3, 4), S(5, 6), S(8, 9))
    assert complement([S(1, 2), S(4, 5)], 0, 6) == (S(0, 1), S(2, 4), S(5, 6))
    assert complement([], 0, 3) == (S(0, 3),)
    assert clip([S(-1, 2), S(5, 9)], 0, 6) == (S(0, 2), S(5, 6))
    assert total([S(0, 2), S(1, 3)]) == 3


def test_talk_silence_overtalk_and_interruptions_from_known_segments() -> None:
    # Agent: 2-6, 8-12, 20-25 ; caller: 5.5-7 (tail crossing), 9-10 (inside the agent's
    # spurt: interruption by the caller), 24-30 (starts 1 s before the agent ends).
    agent = activity(Side.AGENT, [(2, 6), (8, 12), (20, 25)], duration=40)
    caller = activity(Side.CALLER, [(5.5, 7), (9, 10), (24, 30)], duration=40)
    m = call_metrics(caller, agent, params=MetricsParams(min_silence_s=5.0))
    assert m.talk_s == {Side.AGENT: 13.0, Side.CALLER: 8.5}
    assert m.talk_share[Side.AGENT] == pytest.approx(13 / 21.5, abs=1e-4)
    assert m.talk_share[Side.CALLER] == pytest.approx(8.5 / 21.5, abs=1e-4)
    # Silences: 0-2, 7-8, 12-20, 30-40.
    assert m.longest_silence_s == 10.0
    assert m.silences == (S(12, 20), S(30, 40))
    assert m.overtalk == (S(5.5, 6), S(9, 10), S(24, 25))
    assert m.overtalk_s == 2.5
    assert m.interruptions == (
        Interruption(Side.CALLER, 5.5, 0.5),
        Interruption(Side.CALLER, 9.0, 1.0),
        Interruption(Side.CALLER, 24.0, 1.0),
    )
    assert m.agent_first_word_s == 2.0
    assert m.values()["caller_interruptions"] == 3.0
    assert m.values()["agent_interruptions"] == 0.0


def test_a_start_near_the_end_of_the_other_side_is_no_interruption() -> None:
    agent = activity(Side.AGENT, [(0, 5)])
    caller = activity(Side.CALLER, [(4.8, 8)])  # agent goes on 0.2 s < 0.3 s
    m = call_metrics(caller, agent)
    assert m.interruptions == ()
    assert m.overtalk == (S(4.8, 5),)  # 0.2 s is still over-talk


def test_hold_from_audio_and_events_is_neither_talk_nor_dead_air() -> None:
    agent = activity(Side.AGENT, [(1, 5), (40, 45)], holds=[(6, 20)], duration=50)
    caller = activity(Side.CALLER, [(30, 38)], duration=50)
    answered = 1000.0
    events = [
        ("offered", answered - 12.5),
        ("answered", answered),
        ("held", answered + 21),
        ("resumed", answered + 29),
        ("ended", answered + 50),
    ]
    m = call_metrics(caller, agent, events)
    assert m.holds == (S(6, 20), S(21, 29))
    assert m.hold_s == 22.0
    # Gaps: 0-1, 5-6, 20-21, 29-30, 38-40, 45-50.
    assert m.longest_silence_s == 5.0
    assert m.ring_s == 12.5
    assert m.rings == 3
    assert m.answered_within_rings is True


@pytest.mark.parametrize(
    ("ring_s", "rings", "within"),
    [(0.0, 1, True), (4.9, 1, True), (5.0, 1, True), (15.0, 3, True), (15.1, 4, False)],
)
def test_rings_count_whole_ring_cycles(ring_s: float, rings: int, within: bool) -> None:
    t = events_timeline([CallEvent("offered", 100.0), CallEvent("answered", 100.0 + ring_s)])
    assert (t.ring_s, t.rings) == (ring_s, rings)
    m = call_metrics(
        activity(Side.CALLER, []), activity(Side.AGENT, []), [("offered", 0), ("answered", ring_s)]
    )
    assert m.answered_within_rings is within


def test_ring_time_counts_from_the_last_offer_and_unanswered_calls_have_none() -> None:
    events = [("arrived", 0.0), ("offered", 2.0), ("offer_withdrawn", 20.0)]
    events += [("offered", 21.0), ("answered", 27.0)]
    assert events_timeline(events).ring_s == 6.0
    assert events_timeline([("arrived", 0.0), ("offered", 2.0), ("ended", 30.0)]).ring_s is None
    assert events_timeline([]) == events_timeline([("ended", 5.0)])


def test_a_hold_never_resumed_lasts_until_the_end() -> None:
    events = [("answered", 10.0), ("held", 40.0), ("ended", 70.0)]
    assert events_timeline(events).holds == (S(30, 60),)
    no_end = [("answered", 10.0), ("held", 40.0)]
    assert events_timeline(no_end, end_s=50.0).holds == (S(30, 50),)


def test_words_per_minute_from_a_transcript_counts_cjk_characters() -> None:
    agent = activity(Side.AGENT, [(0, 30)])
    caller = activity(Side.CALLER, [(40, 55)])
    transcript = {
        Side.AGENT: [(0.0, 10.0, "Hello, Huate Transport, how can I help?"), (12, 30, "it's fine")],
        Side.CALLER: [(40.0, 55.0, "你好，我要投诉。")],
    }
    m = call_metrics(caller, agent, transcript=transcript)
    assert m.words_per_minute == {Side.AGENT: 18.0, Side.CALLER: 24.0}
    assert call_metrics(caller, agent).words_per_minute == {Side.AGENT: None, Side.CALLER: None}


def test_swapped_channels_and_backwards_lines_are_refused() -> None:
    with pytest.raises(QaError) as err:
        call_metrics(activity(Side.AGENT, []), activity(Side.CALLER, []))
    assert err.value.id == "qa-channels-swapped"
    with pytest.raises(QaError) as err:
        call_metrics(
            activity(Side.CALLER, []),
            activity(Side.AGENT, []),
            transcript={Side.AGENT: [(5.0, 4.0, "x")]},
        )
    assert err.value.id == "qa-line-ends-before-start"


def truth_metrics(call: SynthCall) -> CallMetrics:
    return call_metrics(
        ChannelActivity(Side.CALLER, call.duration_s, call.speech[Side.CALLER], (), 0, None),
        ChannelActivity(Side.AGENT, call.duration_s, call.speech[Side.AGENT], (), 0, None),
        call.events,
    )


def test_english_call_metrics_are_what_was_built_in(en_call: SynthCall) -> None:
    r = analyse_call(en_call.caller, en_call.caller_rate, en_call.agent, en_call.agent_rate)
    m = r.metrics
    ref = truth_metrics(en_call)
    assert m.agent_first_word_s == pytest.approx(EN_FIRST_WORD_S, abs=0.15)
    # Without events the hold comes from the music alone.
    (hold,) = m.holds
    assert hold.duration_s == pytest.approx(EN_HOLD_S, abs=1.0)
    assert m.longest_silence_s == pytest.approx(EN_DEAD_AIR_S, abs=0.3)
    assert [round(s.duration_s) for s in m.silences] == [round(EN_DEAD_AIR_S)]
    (barge,) = m.interruptions
    assert barge.by is Side.AGENT
    assert barge.overlap_s == pytest.approx(EN_BARGE_S, abs=0.2)
    assert m.overtalk_s == pytest.approx(EN_BARGE_S, abs=0.2)
    assert m.ring_s is None  # no events given
    with_events = call_metrics(r.caller, r.agent, en_call.events)
    assert (with_events.ring_s, with_events.rings) == (EN_RING_S, 2)
    # The logged hold and the music found are one span once merged.
    assert len(with_events.holds) == 1
    assert with_events.hold_s == pytest.approx(EN_HOLD_S, abs=1.0)
    for side in Side:
        assert m.talk_s[side] == pytest.approx(ref.talk_s[side], rel=0.05)


def test_mandarin_call_metrics_are_what_was_built_in(zh_call: SynthCall) -> None:
    r = analyse_call(
        zh_call.caller, zh_call.caller_rate, zh_call.agent, zh_call.agent_rate, zh_call.events
    )
    m = r.metrics
    assert m.ring_s == ZH_RING_S
    assert m.rings == 4 and m.answered_within_rings is False
    # The events' hold and the music the caller's channel carried are the same span.
    (truth,) = zh_call.holds[Side.CALLER]
    (hold,) = m.holds
    assert hold.start_s == pytest.approx(truth.start_s, abs=1.0)
    assert hold.end_s == pytest.approx(truth.end_s, abs=1.0)
    assert m.hold_s == pytest.approx(ZH_HOLD_S, abs=1.0)
    assert m.longest_silence_s == pytest.approx(ZH_DEAD_AIR_S, abs=0.3)
    assert m.interruptions == () and m.overtalk == ()
    assert r.caller.holds and not r.agent.holds


def test_event_times_may_be_datetimes_naive_ones_being_utc() -> None:
    offered = dt.datetime(2026, 3, 2, 8, 0, 0)
    events = [
        ("offered", offered),
        ("answered", offered + dt.timedelta(seconds=9)),
        ("held", (offered + dt.timedelta(seconds=20)).replace(tzinfo=dt.UTC)),
        ("resumed", offered + dt.timedelta(seconds=35.5)),
    ]
    t = events_timeline(events)
    assert (t.ring_s, t.rings, t.holds) == (9.0, 2, (S(11, 26.5),))
