"""Conversation metrics from the two channels' activity and the call's event log.

The recording's timeline starts when the call is answered (Hotline's taps start capturing
on connect), so event times are moved onto it by subtracting the answer time. Hold comes
from both sources: the music the VAD found in either channel, and the held/resumed spans
of the event log (Hotline's own recordings keep a hold silent: the music goes to the
caller's leg, the taps hear the parties). Hold is neither talk nor dead air.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence

from qa import segments as seg
from qa.model import (
    CallEvent,
    CallMetrics,
    ChannelActivity,
    EventTimeline,
    Interruption,
    MetricsParams,
    QaError,
    Segment,
    Side,
    TranscriptLine,
)

EventLike = CallEvent | tuple[str, float | dt.datetime]
LineLike = TranscriptLine | tuple[float, float, str]
Transcript = Mapping[Side, Sequence[LineLike]]

# Words for the speaking rate: each CJK character is a word (Mandarin's rate is quoted in
# characters per minute), any other run of letters or digits is one.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:'[^\W_{_CJK}]+)*")


def _seconds(at: float | dt.datetime) -> float:
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            # Naive times are the database's UTC (the house rule: stored in UTC).
            at = at.replace(tzinfo=dt.UTC)
        return at.timestamp()
    return float(at)


def as_events(events: Iterable[EventLike]) -> list[CallEvent]:
    """Events as CallEvent (datetimes as epoch seconds), sorted by time (stable)."""
    out = [e if isinstance(e, CallEvent) else CallEvent(str(e[0]), _seconds(e[1])) for e in events]
    return sorted(out, key=lambda e: e.at)


def as_lines(lines: Iterable[LineLike]) -> list[TranscriptLine]:
    """Transcript lines as TranscriptLine, sorted by start."""
    out = [x if isinstance(x, TranscriptLine) else TranscriptLine(*x) for x in lines]
    for x in out:
        if x.end_s < x.start_s:
            raise QaError("qa-line-ends-before-start", f"{x.start_s}..{x.end_s} {x.text!r}")
    return sorted(out, key=lambda x: (x.start_s, x.end_s))


def events_timeline(
    events: Iterable[EventLike], params: MetricsParams | None = None, end_s: float | None = None
) -> EventTimeline:
    """Ring time (last offer to answer), rings and hold spans from the event log.

    Holds are on the recording's timeline (0 = answered); a hold never resumed lasts
    until "ended", else until `end_s` (the recording's length), else the last event.
    """
    params = params or MetricsParams()
    evs = as_events(events)
    answered = next((e.at for e in evs if e.kind == "answered"), None)
    if answered is None:
        return EventTimeline(ring_s=None, rings=None, holds=())
    # The last offer before the answer rang at the agent who took it; earlier offers
    # went to agents who let it ring out (their own metrics).
    offers = [e.at for e in evs if e.kind == "offered" and e.at <= answered]
    ring_s = round(answered - offers[-1], 3) if offers else None
    rings = None
    if ring_s is not None:
        # A call answered during the first ring cycle rang once; 1e-9 keeps 15.0 s of a
        # 5 s cycle at three rings, not four.
        rings = max(1, math.ceil(ring_s / params.ring_cycle_s - 1e-9))
    ended = next((e.at - answered for e in evs if e.kind == "ended"), None)
    last = end_s if end_s is not None else ended
    if last is None:
        last = evs[-1].at - answered
    holds: list[Segment] = []
    held_at: float | None = None
    for e in evs:
        t = e.at - answered
        if e.kind == "held" and held_at is None:
            held_at = t
        elif e.kind in ("resumed", "ended") and held_at is not None:
            holds.append(Segment(round(held_at, 3), round(t, 3)))
            held_at = None
    if held_at is not None:
        holds.append(Segment(round(held_at, 3), round(max(held_at, last), 3)))
    return EventTimeline(ring_s=ring_s, rings=rings, holds=seg.clip(holds, 0.0, math.inf))


def interruptions(
    caller: Sequence[Segment], agent: Sequence[Segment], min_overlap_s: float
) -> tuple[Interruption, ...]:
    """Starts of one side's spurt inside the other's, the other going on `min_overlap_s`."""
    found: list[Interruption] = []
    for by, mine, theirs in ((Side.CALLER, caller, agent), (Side.AGENT, agent, caller)):
        other = seg.union(theirs)  # disjoint and sorted: one spurt at most holds a start
        starts = [t.start_s for t in other]
        for s in seg.union(mine):
            k = bisect.bisect_left(starts, s.start_s) - 1
            if k < 0:
                continue
            t = other[k]
            if s.start_s < t.end_s and t.end_s - s.start_s >= min_overlap_s:
                overlap = min(t.end_s, s.end_s) - s.start_s
                found.append(Interruption(by, s.start_s, round(overlap, 3)))
    return tuple(sorted(found, key=lambda i: i.at_s))


def words(text: str) -> int:
    """Words in a line (CJK characters one each)."""
    return len(_WORD.findall(text))


def call_metrics(
    caller: ChannelActivity,
    agent: ChannelActivity,
    events: Iterable[EventLike] = (),
    transcript: Transcript | None = None,
    params: MetricsParams | None = None,
) -> CallMetrics:
    """Talk, silence, over-talk, interruptions, first word, hold, rate and ring figures."""
    params = params or MetricsParams()
    if caller.side is not Side.CALLER or agent.side is not Side.AGENT:
        raise QaError("qa-channels-swapped", "call_metrics(caller, agent)")
    duration = max(caller.duration_s, agent.duration_s)
    timeline = events_timeline(events, params, end_s=duration)
    holds = seg.clip(seg.union(caller.holds, agent.holds, timeline.holds), 0.0, duration)
    speech = {Side.CALLER: seg.union(caller.speech), Side.AGENT: seg.union(agent.speech)}
    talk = {side: round(seg.total(speech[side]), 3) for side in Side}
    both = talk[Side.CALLER] + talk[Side.AGENT]
    share = {side: round(talk[side] / both, 4) if both else 0.0 for side in Side}
    dead = seg.complement(seg.union(speech[Side.CALLER], speech[Side.AGENT], holds), 0.0, duration)
    overtalk = tuple(
        s
        for s in seg.intersect(speech[Side.CALLER], speech[Side.AGENT])
        if s.duration_s >= params.min_overtalk_s
    )
    wpm: dict[Side, float | None] = {side: None for side in Side}
    if transcript is not None:
        for side in Side:
            n = sum(words(x.text) for x in as_lines(transcript.get(side, ())))
            wpm[side] = round(n / (talk[side] / 60), 1) if talk[side] > 0 else None
    rate = {
        Side.CALLER: caller.syllable_rate,
        Side.AGENT: agent.syllable_rate,
    }
    return CallMetrics(
        duration_s=round(duration, 3),
        talk_s=talk,
        talk_share=share,
        longest_silence_s=round(max((s.duration_s for s in dead), default=0.0), 3),
        silences=tuple(s for s in dead if s.duration_s >= params.min_silence_s),
        overtalk_s=round(sum(s.duration_s for s in overtalk), 3),
        overtalk=overtalk,
        interruptions=interruptions(
            speech[Side.CALLER], speech[Side.AGENT], params.interruption_overlap_s
        ),
        agent_first_word_s=speech[Side.AGENT][0].start_s if speech[Side.AGENT] else None,
        holds=holds,
        hold_s=round(seg.total(holds), 3),
        syllable_rate={k: None if v is None else round(v, 2) for k, v in rate.items()},
        words_per_minute=wpm,
        ring_s=timeline.ring_s,
        rings=timeline.rings,
        answered_within_rings=None
        if timeline.rings is None
        else timeline.rings <= params.max_rings,
    )
