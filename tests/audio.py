"""Measuring audio in tests: loudness, the dominant frequency, a recording's samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from console.recordings.store import RecordingKey, read_pcm


def rms(samples: np.ndarray[Any, Any]) -> float:
    """Root mean square of 16-bit samples (0 for none)."""
    return float(np.sqrt(np.mean(samples.astype(float) ** 2))) if len(samples) else 0.0


def peak_hz(samples: np.ndarray[Any, Any], rate: int) -> float:
    """The strongest frequency (Hann window, DC ignored)."""
    x = samples.astype(float) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(x))
    spectrum[:5] = 0
    return float(np.argmax(spectrum) * rate / len(samples))


def recorded_samples(
    path: str | Path, keys: tuple[RecordingKey, ...], partial: bool = False
) -> np.ndarray[Any, Any]:
    """A recording file decrypted to its 16-bit samples (interleaved when stereo)."""
    return np.frombuffer(read_pcm(Path(path), keys, partial=partial).data, dtype="<i2")
