"""Framing and per-frame features of one 16-bit mono channel: band energy, noise floor,
spectral persistence.

Frames are 10 ms apart (frame i stands for [i·10 ms, (i+1)·10 ms)) and 32 ms long (Hann
window centred on that span), so every rate gets the same ~31 Hz frequency resolution and
the same time grid; 8 and 16 kHz channels of one call line up frame for frame.

Memory stays flat however long the call: spectra are computed in chunks of `CHUNK`
frames and reduced at once to a few numbers per frame (band powers, level, persistence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from qa.model import QaError

FloatArray = npt.NDArray[np.float64]
PcmLike = bytes | bytearray | memoryview | npt.NDArray[Any]

HOP_S = 0.01
WINDOW_S = 0.032
# 20 s of frames per FFT batch: ~10 MB of spectrum at 16 kHz, whatever the call's length.
CHUNK = 2000
# Speech band for energy and SNR. Below 150 Hz lives mains hum and handling rumble; above
# 7.6 kHz nothing survives a wideband codec.
BAND_LO_HZ = 150.0
BAND_HI_HZ = 7600.0
N_BANDS = 20
# Fine-structure persistence: spectra a quarter second apart, harmonics up to 2.5 kHz.
PERSIST_LAG = 25
PERSIST_LO_HZ = 100.0
PERSIST_HI_HZ = 2500.0
# Bins more than 30 dB under the frame's strongest are flattened: the correlation is then
# carried by the peaks, not by the noise between them.
PERSIST_RANGE = 1e-3
PERSIST_SMOOTH_BINS = 9  # ~280 Hz: wider than a harmonic's peak, narrower than a formant
# The noise floor is tracked on half-second blocks: the 20th percentile of each band in a
# block is what that block's quiet moments look like (the minimum alone would chase the
# random dips of noise).
FLOOR_BLOCK = 50
FLOOR_PERCENTILE = 20.0
# Per-band power below which nothing counts as noise (-80 dB re full scale per bin):
# digital silence would otherwise give a zero floor and infinite SNR to any dither.
ABS_FLOOR_POWER = 1e-8
_TINY = 1e-12


@dataclass(frozen=True, eq=False)
class FrameFeatures:
    """Per-frame figures of one channel, on the 10 ms grid."""

    rate: int
    n_frames: int
    level_db: FloatArray  # in-band power, dB re a full-scale square wave
    band_power: FloatArray  # (n_frames, N_BANDS), mean power per FFT bin of each band
    persistence: FloatArray  # correlation of spectral fine structure 0.25 s apart, -1..1

    @property
    def duration_s(self) -> float:
        """Length of the grid in seconds."""
        return self.n_frames * HOP_S


def to_float(pcm: PcmLike) -> FloatArray:
    """16-bit little-endian PCM (bytes or an int16 array) as floats in [-1, 1)."""
    if isinstance(pcm, bytes | bytearray | memoryview):
        if len(pcm) % 2:
            raise QaError("qa-pcm-odd-length", "16-bit PCM has an even number of bytes")
        arr: npt.NDArray[Any] = np.frombuffer(pcm, dtype="<i2")
    else:
        arr = np.asarray(pcm)
        if arr.ndim != 1:
            raise QaError("qa-pcm-not-mono", f"expected one channel, got shape {arr.shape}")
        if arr.dtype != np.int16:
            raise QaError("qa-pcm-not-int16", f"expected int16 samples, got {arr.dtype}")
    return arr.astype(np.float64) / 32768.0


def check_rate(rate: int) -> None:
    """Reject sample rates the 10 ms grid cannot hold exactly."""
    if rate < 8000 or rate % 100:
        raise QaError("qa-rate-unsupported", f"sample rate {rate} Hz")


def _band_edges(rate: int, nfft: int) -> npt.NDArray[np.int64]:
    """FFT bin edges of N_BANDS mel-spaced bands between BAND_LO_HZ and the band top."""
    hi = min(BAND_HI_HZ, 0.475 * rate)
    mel_lo, mel_hi = (2595 * math.log10(1 + f / 700) for f in (BAND_LO_HZ, hi))
    mels = np.linspace(mel_lo, mel_hi, N_BANDS + 1)
    hz = 700 * (10 ** (mels / 2595) - 1)
    edges = np.round(hz * nfft / rate).astype(np.int64)
    # Every band at least one bin wide, edges strictly increasing.
    for i in range(1, len(edges)):
        edges[i] = max(edges[i], edges[i - 1] + 1)
    return edges


def _moving_mean_rows(x: FloatArray, width: int) -> FloatArray:
    """Moving mean of each row over `width` columns (odd), edges averaged over what exists."""
    half = width // 2
    padded = np.pad(x, ((0, 0), (half + 1, half)), mode="constant")
    csum = np.cumsum(padded, axis=1)
    sums = csum[:, width:] - csum[:, :-width]
    ones = np.pad(np.ones(x.shape[1]), (half + 1, half))
    counts = np.cumsum(ones)
    return sums / (counts[width:] - counts[:-width])


def _row_corr(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pearson correlation of matching rows (0 where either row is flat)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    num = np.einsum("ij,ij->i", a, b)
    den = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
    out = np.zeros(len(a))
    ok = den > 1e-9
    out[ok] = num[ok] / den[ok]
    return out


def frame_features(x: FloatArray, rate: int) -> FrameFeatures:
    """Band powers, level and spectral persistence of every 10 ms frame of `x`."""
    check_rate(rate)
    hop = rate // 100
    win = round(WINDOW_S * rate)
    nfft = 1 << (win - 1).bit_length()
    n = math.ceil(len(x) / hop)
    window = np.hanning(win)
    norm = float(np.sum(window**2))
    # Centre window i on the middle of its 10 ms span; zeros beyond both ends.
    left = win // 2 - hop // 2
    xp = np.concatenate([np.zeros(left), x, np.zeros(win + hop)])
    edges = _band_edges(rate, nfft)
    counts = np.diff(edges).astype(np.float64)
    in_band_scale = 2.0 / nfft
    p_lo = round(PERSIST_LO_HZ * nfft / rate)
    p_hi = round(PERSIST_HI_HZ * nfft / rate)

    level = np.empty(n)
    bands = np.empty((n, N_BANDS))
    # c[i] = correlation of frame i with frame i + PERSIST_LAG.
    corr = np.zeros(max(n - PERSIST_LAG, 0))
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        ext = min(n, stop + PERSIST_LAG)  # look-ahead frames for the persistence pairs
        seg = xp[start * hop : (ext - 1) * hop + win]
        frames = np.lib.stride_tricks.sliding_window_view(seg, win)[::hop]
        spec = np.fft.rfft(frames * window, nfft)
        power = (spec.real**2 + spec.imag**2) / norm
        band_sums = np.add.reduceat(power[:, edges[0] : edges[-1]], edges[:-1] - edges[0], axis=1)
        own = stop - start
        bands[start:stop] = band_sums[:own] / counts
        level[start:stop] = 10 * np.log10(in_band_scale * band_sums[:own].sum(axis=1) + _TINY)
        # Whitened log spectrum: the envelope (formants, the line's colour) removed, the
        # harmonic peaks left. Music holds its peaks for seconds; speech moves them within
        # a syllable; noise has none.
        sub = power[:, p_lo:p_hi]
        logp = np.log(np.maximum(sub, sub.max(axis=1, keepdims=True) * PERSIST_RANGE) + _TINY)
        fine = logp - _moving_mean_rows(logp, PERSIST_SMOOTH_BINS)
        pairs = min(own, ext - start - PERSIST_LAG)
        if pairs > 0:
            corr[start : start + pairs] = _row_corr(
                fine[:pairs], fine[PERSIST_LAG : PERSIST_LAG + pairs]
            )
    # A frame is as persistent as the better of its pairs (with the frame a lag before and
    # the one a lag after), so a steady span scores high up to both of its ends.
    persistence = np.zeros(n)
    if len(corr):
        persistence[: len(corr)] = corr
        persistence[PERSIST_LAG:] = np.maximum(persistence[PERSIST_LAG:], corr)
    return FrameFeatures(rate, n, level, bands, persistence)


def noise_floor(bands: FloatArray, window_s: float) -> FloatArray:
    """Per-frame, per-band noise power: the quiet level around each frame.

    Each half-second block's quiet level (a low percentile) is taken; a frame's floor is
    the quietest block within `window_s` before its own, or the quietest within
    `window_s` after it, whichever is louder (at either end of the call, the one side
    there is). Looking both ways and keeping the louder makes the floor follow a step in
    background noise at once, up or down: right after the noise gets louder, the blocks
    ahead are all loud; right before it gets quieter, the blocks behind are. Speech
    needs one pause within `window_s` on each side to be measured
    against the real floor, which conversation always gives.
    """
    n = len(bands)
    if n == 0:
        return np.zeros((0, N_BANDS))
    n_blocks = math.ceil(n / FLOOR_BLOCK)
    full = n // FLOOR_BLOCK
    quiet = np.empty((n_blocks, bands.shape[1]))
    if full:
        blocks = bands[: full * FLOOR_BLOCK].reshape(full, FLOOR_BLOCK, -1)
        quiet[:full] = np.percentile(blocks, FLOOR_PERCENTILE, axis=1)
    if full < n_blocks:
        quiet[full] = np.percentile(bands[full * FLOOR_BLOCK :], FLOOR_PERCENTILE, axis=0)
    k = max(1, round(window_s / (FLOOR_BLOCK * HOP_S)))
    # The block's own quiet level is left out of both sides: a block that holds a step
    # in the noise would otherwise lend its quiet half to the loud half's floor.
    inf = np.full((k, bands.shape[1]), np.inf)
    view = np.lib.stride_tricks.sliding_window_view
    past = view(np.concatenate([inf, quiet[:-1]]), k, axis=0).min(axis=2)
    future = view(np.concatenate([quiet[1:], inf]), k, axis=0).min(axis=2)
    floor = np.where(
        np.isinf(past),
        np.where(np.isinf(future), quiet, future),
        np.where(np.isinf(future), past, np.maximum(past, future)),
    )
    floor = np.maximum(floor, ABS_FLOOR_POWER)
    return np.repeat(floor, FLOOR_BLOCK, axis=0)[:n]


def snr_db(bands: FloatArray, floor: FloatArray) -> FloatArray:
    """Per-frame mean of the band-wise power ratios to the noise floor, in dB.

    The mean of ratios (not the ratio of sums) lets a few strong formant bands carry the
    frame, so speech stands out of noise whose energy sits elsewhere (hum, hiss).
    """
    return np.asarray(10 * np.log10(np.mean(bands / floor, axis=1) + _TINY), dtype=np.float64)
