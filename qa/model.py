"""Frozen value types at the seams of the QA engine: segments, activity, events, metrics.

Times are seconds on the recording's own timeline (0 = the first sample), except
`CallEvent.at`, which is on whatever clock the switch logged (epoch seconds, say): only
differences between events are used, and the answer anchors the recording (Hotline's
taps start capturing when the call connects).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class QaError(ValueError):
    """Bad input to the engine: a stable id for the caller to translate, and details."""

    def __init__(self, id: str, detail: str = "") -> None:
        super().__init__(f"{id}: {detail}" if detail else id)
        self.id = id
        self.detail = detail


class Side(enum.StrEnum):
    """A recording channel; the values are the recording store's channel names."""

    CALLER = "caller"
    AGENT = "agent"

    @property
    def other(self) -> Side:
        """The opposite side of the conversation."""
        return Side.AGENT if self is Side.CALLER else Side.CALLER


@dataclass(frozen=True, order=True)
class Segment:
    """A half-open span [start_s, end_s) of the recording."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class VadParams:
    """Tuning of the voice activity detector; the defaults are what B6 is measured with.

    The detector compares each 10 ms frame's spectrum with a noise floor tracked per band,
    so thresholds are in dB above the local noise, not absolute levels.
    """

    # A frame starts speech when its mean band SNR reaches `on_db`; speech goes on while
    # it stays above `off_db` (hysteresis keeps weak word endings attached).
    on_db: float = 9.0
    off_db: float = 5.0
    # Nothing quieter than this is speech, whatever the noise floor (digital silence has
    # no floor to be above).
    min_level_dbfs: float = -55.0
    # Pauses shorter than this inside a turn are bridged: conversation metrics count talk
    # spurts, not words, and espeak's comma pause is ~0.16 s, a breath ~0.25 s.
    bridge_s: float = 0.3
    # Bursts shorter than this are clicks and pops, not speech.
    min_speech_s: float = 0.12
    # Hangover: each spurt is extended by this much at both ends, for the weak onset and
    # the decaying tail the thresholds miss under noise.
    hangover_s: float = 0.04
    # The noise floor of a frame is the quietest level seen within this many seconds
    # before it and, separately, after it; the louder of the two is used (see audio.py).
    floor_window_s: float = 6.0
    # Music on hold: how steady the spectrum's fine structure must stay over a quarter of
    # a second (correlation), averaged over a second ...
    music_persistence: float = 0.4
    # ... how little its level may move (dB per 50 ms, averaged over a second; see
    # vad.modulation: speech, even espeak's monotone, moves several dB) ...
    music_max_modulation_db: float = 3.0
    # ... and for how long: shorter steady sounds are tones, not a hold.
    min_hold_s: float = 4.0
    # Music fades between chords and phrases; gaps up to this long stay inside one hold.
    hold_bridge_s: float = 1.5
    # A spurt this steady (median persistence) is a tone (ring-back, beep), not a voice.
    tone_persistence: float = 0.7

    def __post_init__(self) -> None:
        if self.off_db > self.on_db:
            raise QaError("qa-vad-hysteresis", "off_db must not exceed on_db")
        spans = (self.bridge_s, self.min_speech_s, self.hangover_s, self.floor_window_s)
        if min(spans) < 0 or self.min_hold_s <= 0 or self.hold_bridge_s < 0:
            raise QaError("qa-vad-negative-span", "durations are seconds >= 0")


@dataclass(frozen=True)
class MetricsParams:
    """Thresholds of the conversation metrics."""

    # Dead air at least this long is listed (the longest silence is reported regardless).
    min_silence_s: float = 5.0
    # Both sides speaking for less than this is a turn change, not over-talk (each spurt
    # carries the VAD's hangover at its edges).
    min_overtalk_s: float = 0.2
    # An interruption: a side starts while the other is speaking and goes on speaking for
    # at least this long after the start (a tail end crossing the other's start is not).
    interruption_overlap_s: float = 0.3
    # One ring cycle of the ring-back the caller hears: China's is 1 s on, 4 s off.
    ring_cycle_s: float = 5.0
    # The rulebook: answer within three rings.
    max_rings: int = 3


@dataclass(frozen=True)
class TranscriptLine:
    """A recognised utterance of one side: when, and what was said."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class ChannelActivity:
    """What one channel holds: speech spurts, music-on-hold spans and the speaking rate."""

    side: Side
    duration_s: float
    speech: tuple[Segment, ...]
    holds: tuple[Segment, ...]
    # Syllable nuclei (energy peaks) counted within speech; rate is per second of speech.
    syllables: int
    syllable_rate: float | None

    @property
    def talk_s(self) -> float:
        """Total speaking time."""
        return sum(s.duration_s for s in self.speech)


@dataclass(frozen=True)
class CallEvent:
    """One line of the call's event log: kind ("offered", "answered", "held", …) and time
    (seconds on any clock, e.g. epoch seconds; metrics.as_events also takes datetimes)."""

    kind: str
    at: float


@dataclass(frozen=True)
class EventTimeline:
    """Ring time and hold spans read from the event log, holds on the recording's timeline."""

    ring_s: float | None
    rings: int | None
    holds: tuple[Segment, ...]


@dataclass(frozen=True)
class Interruption:
    """One side started speaking while the other was (and went on) speaking."""

    by: Side
    at_s: float
    overlap_s: float


@dataclass(frozen=True)
class CallMetrics:
    """Conversation metrics of a two-channel call; `values()` names them for scorecards."""

    duration_s: float
    talk_s: dict[Side, float]
    talk_share: dict[Side, float]
    longest_silence_s: float
    silences: tuple[Segment, ...]  # dead air of at least the requested length
    overtalk_s: float
    overtalk: tuple[Segment, ...]
    interruptions: tuple[Interruption, ...]
    agent_first_word_s: float | None
    holds: tuple[Segment, ...]
    hold_s: float
    syllable_rate: dict[Side, float | None]
    words_per_minute: dict[Side, float | None]
    ring_s: float | None
    rings: int | None
    answered_within_rings: bool | None

    def values(self) -> dict[str, float | bool | None]:
        """Flat, named figures a scorecard question can be bound to."""
        out: dict[str, float | bool | None] = {
            "duration_s": self.duration_s,
            "longest_silence_s": self.longest_silence_s,
            "silences": float(len(self.silences)),
            "overtalk_s": self.overtalk_s,
            "interruptions": float(len(self.interruptions)),
            "agent_first_word_s": self.agent_first_word_s,
            "hold_s": self.hold_s,
            "holds": float(len(self.holds)),
            "ring_s": self.ring_s,
            "rings": None if self.rings is None else float(self.rings),
            "answered_within_rings": self.answered_within_rings,
        }
        for side in Side:
            out[f"{side}_talk_s"] = self.talk_s[side]
            out[f"{side}_talk_share"] = self.talk_share[side]
            out[f"{side}_syllable_rate"] = self.syllable_rate[side]
            out[f"{side}_words_per_minute"] = self.words_per_minute[side]
            out[f"{side}_interruptions"] = float(sum(1 for i in self.interruptions if i.by is side))
        return out
