"""Voice activity and music on hold in one channel.

Speech: a frame is loud enough against the channel's own noise floor (tracked per band,
see audio.noise_floor), with hysteresis; short pauses are bridged, clicks dropped, and
each spurt gets a short hangover at both ends. Music on hold: sustained spectral
persistence (the same harmonic peaks a quarter second apart, second after second) in a
frame well above the channel's quietest level; what is inside a hold is not speech.
A steady tone shorter than a hold (ring-back, a beep) is dropped from speech the same way.

Everything works on the 10 ms frame grid of audio.py; segments come out in seconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qa.audio import (
    HOP_S,
    FloatArray,
    FrameFeatures,
    PcmLike,
    frame_features,
    noise_floor,
    snr_db,
    to_float,
)
from qa.model import ChannelActivity, Segment, Side, VadParams

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# Music frames must be this far above the channel's 5th-percentile level, so a faint
# steady hum under the whole call is never taken for hold music; or, in a channel that
# is music from end to end (no quiet moment to measure against), above MUSIC_LOUD_DBFS.
MUSIC_ABOVE_QUIET_DB = 10.0
MUSIC_LOUD_DBFS = -40.0
MUSIC_SMOOTH_S = 1.0
# Level modulation: the mean change of the level over 50 ms, each change capped at 8 dB so
# one chord change or click does not make a second of music look like speech. Syllables
# move speech's level by 5-15 dB several times a second; music glides.
MODULATION_LAG = 5
MODULATION_CAP_DB = 8.0
# How far a found hold may reach out to take back the music's own edges (see hold_mask).
HOLD_EDGE_S = 0.8
# Syllable nuclei: a peak of the smoothed level must rise this far above the dips on both
# sides of it; peaks closer than MIN_SYLLABLE_S are one syllable.
SYLLABLE_PROMINENCE_DB = 4.0
SYLLABLE_SMOOTH_FRAMES = 5
MIN_SYLLABLE_S = 0.08


def runs(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Starts and ends (exclusive) of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1).astype(np.int64), np.flatnonzero(d == -1).astype(np.int64)


def bridge(starts: IntArray, ends: IntArray, max_gap: int) -> tuple[IntArray, IntArray]:
    """Merge runs separated by fewer than `max_gap` frames."""
    if len(starts) < 2:
        return starts, ends
    keep = (starts[1:] - ends[:-1]) >= max_gap
    return (
        np.concatenate([starts[:1], starts[1:][keep]]),
        np.concatenate([ends[:-1][keep], ends[-1:]]),
    )


def moving_mean(x: FloatArray, width: int) -> FloatArray:
    """Centred moving mean over `width` frames (edges averaged over what exists)."""
    if width <= 1 or len(x) == 0:
        return x
    half = width // 2
    csum = np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(len(x))
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, len(x))
    return np.asarray((csum[hi] - csum[lo]) / (hi - lo), dtype=np.float64)


def _to_segments(starts: IntArray, ends: IntArray, n: int) -> tuple[Segment, ...]:
    return tuple(
        Segment(round(float(s) * HOP_S, 3), round(float(min(e, n)) * HOP_S, 3))
        for s, e in zip(starts, ends, strict=True)
    )


def modulation(level_db: FloatArray, width: int) -> FloatArray:
    """Mean absolute change of the level over MODULATION_LAG frames, averaged over `width`."""
    if len(level_db) <= MODULATION_LAG:
        return np.zeros(len(level_db))
    smooth = moving_mean(level_db, 3)
    d = np.minimum(np.abs(smooth[MODULATION_LAG:] - smooth[:-MODULATION_LAG]), MODULATION_CAP_DB)
    # Centre each change between the two frames it compares.
    half = MODULATION_LAG // 2
    d = np.concatenate([np.full(half, d[0]), d, np.full(MODULATION_LAG - half, d[-1])])
    return moving_mean(d, width)


def band_snr(f: FrameFeatures, params: VadParams) -> FloatArray:
    """Per-frame SNR against the adaptive noise floor, lightly smoothed (30 ms)."""
    if f.n_frames == 0:
        return np.zeros(0)
    return moving_mean(snr_db(f.band_power, noise_floor(f.band_power, params.floor_window_s)), 3)


def hold_mask(f: FrameFeatures, params: VadParams, snr: FloatArray) -> BoolArray:
    """Frames inside music-on-hold spans."""
    n = f.n_frames
    if n == 0:
        return np.zeros(0, dtype=bool)
    quiet = float(np.percentile(f.level_db, 5))
    gate = min(quiet + MUSIC_ABOVE_QUIET_DB, MUSIC_LOUD_DBFS)
    loud = (f.level_db > gate) & (f.level_db > params.min_level_dbfs)
    width = round(MUSIC_SMOOTH_S / HOP_S) | 1
    score = moving_mean(np.where(loud, f.persistence, 0.0), width)
    music = (score >= params.music_persistence) & (
        modulation(f.level_db, width) <= params.music_max_modulation_db
    )
    starts, ends = runs(music)
    starts, ends = bridge(starts, ends, round(params.hold_bridge_s / HOP_S))
    long = (ends - starts) >= round(params.min_hold_s / HOP_S)
    # The one-second smoothing pulls both ends of a hold up to half a second inwards; the
    # music's edges would then pass for short spurts of speech. A hold takes back the
    # sounding frames that touch it, up to HOLD_EDGE_S on each side (a pause, however
    # short, stops it, so speech before the music is kept when there is one).
    sounding = (snr >= params.off_db) & (f.level_db >= params.min_level_dbfs)
    reach = round(HOLD_EDGE_S / HOP_S)
    mask = np.zeros(n, dtype=bool)
    for s, e in zip(starts[long], ends[long], strict=True):
        lo, hi = int(s), int(e)
        while lo > 0 and s - lo < reach and sounding[lo - 1]:
            lo -= 1
        while hi < n and hi - e < reach and sounding[hi]:
            hi += 1
        mask[lo:hi] = True
    return mask


def speech_mask(
    f: FrameFeatures, params: VadParams, snr: FloatArray, holds: BoolArray
) -> BoolArray:
    """Frames of speech: hysteresis on the band SNR, pauses bridged, clicks and tones
    dropped, hangover added; never inside a hold."""
    n = f.n_frames
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    audible = f.level_db >= params.min_level_dbfs
    # Hysteresis: a run above off_db is speech when it reaches on_db somewhere.
    low = (snr >= params.off_db) & audible & ~holds
    starts, ends = runs(low)
    if len(starts) == 0:
        return mask
    # reduceat spans start to next start: mask the gaps, or a hold's loud frames between
    # two runs would lift the first run's peak.
    peak = np.maximum.reduceat(np.where(low, snr, -np.inf), starts)
    hit = peak >= params.on_db
    starts, ends = bridge(starts[hit], ends[hit], round(params.bridge_s / HOP_S))
    long = (ends - starts) >= round(params.min_speech_s / HOP_S)
    starts, ends = starts[long], ends[long]
    if len(starts):
        # A steady tone holds its spectrum for its whole length: speech never does.
        steady = np.array(
            [np.median(f.persistence[s:e]) for s, e in zip(starts, ends, strict=True)]
        )
        voice = steady < params.tone_persistence
        starts, ends = starts[voice], ends[voice]
    pad = round(params.hangover_s / HOP_S)
    for s, e in zip(starts, ends, strict=True):
        mask[max(0, s - pad) : min(n, e + pad)] = True
    mask &= ~holds
    return mask


def count_syllables(f: FrameFeatures, speech: BoolArray) -> int:
    """Syllable nuclei: prominent peaks of the smoothed level within speech."""
    env = moving_mean(f.level_db, SYLLABLE_SMOOTH_FRAMES)
    min_gap = round(MIN_SYLLABLE_S / HOP_S)
    total = 0
    starts, ends = runs(speech)
    for s, e in zip(starts, ends, strict=True):
        total += _peaks(env[s:e], SYLLABLE_PROMINENCE_DB, min_gap)
    return total


def _peaks(x: FloatArray, delta: float, min_gap: int) -> int:
    """Peaks that rise `delta` above the preceding dip and fall `delta` after (Billauer's
    peak-valley walk), closer peaks merged."""
    count = 0
    last_peak = -min_gap
    hi, lo = -np.inf, np.inf
    hi_at = 0
    looking_for_peak = True
    # The walk starts as if coming out of a dip at the segment's start: the first
    # syllable rises out of the pause before it.
    lo = float(x[0]) if len(x) else lo
    for i, v in enumerate(x.tolist()):
        if v > hi:
            hi, hi_at = v, i
        if v < lo:
            lo = v
        if looking_for_peak:
            if v < hi - delta and hi - lo >= delta:
                if hi_at - last_peak >= min_gap:
                    count += 1
                    last_peak = hi_at
                looking_for_peak = False
                lo = v
        elif v > lo + delta:
            looking_for_peak = True
            hi, hi_at = v, i
    # A final peak that the segment's end cuts off before it falls away.
    if looking_for_peak and hi - lo >= delta and hi_at - last_peak >= min_gap:
        count += 1
    return count


def analyse_channel(
    pcm: PcmLike, rate: int, side: Side, params: VadParams | None = None
) -> ChannelActivity:
    """Speech spurts, hold spans and speaking rate of one 16-bit mono channel."""
    params = params or VadParams()
    f = frame_features(to_float(pcm), rate)
    return activity_from_features(f, side, params)


def activity_from_features(f: FrameFeatures, side: Side, params: VadParams) -> ChannelActivity:
    """The decisions of analyse_channel on features already computed."""
    snr = band_snr(f, params)
    holds = hold_mask(f, params, snr)
    speech = speech_mask(f, params, snr, holds)
    syllables = count_syllables(f, speech)
    talk_s = float(np.sum(speech)) * HOP_S
    return ChannelActivity(
        side=side,
        duration_s=round(f.duration_s, 3),
        speech=_to_segments(*runs(speech), f.n_frames),
        holds=_to_segments(*runs(holds), f.n_frames),
        syllables=syllables,
        syllable_rate=syllables / talk_s if talk_s > 0 else None,
    )
