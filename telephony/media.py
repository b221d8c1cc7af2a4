"""Types of the Python media ports the engine puts on its conference bridge (no pjsua2 here).

Every frame is 20 ms of signed 16-bit little-endian mono PCM at the port's rate (320 bytes
at 8 kHz, 640 at 16 kHz). Both callables run on pjmedia's clock thread 50 times a second:
they must only touch queues or deques, never block, never do I/O.
"""

from __future__ import annotations

from collections.abc import Callable

# Called with each frame the bridge mixed for the port; b"" when nothing was sent to it.
FrameSink = Callable[[bytes], None]
# Called with the byte count wanted; returns that many bytes, or None for silence.
FrameSource = Callable[[int], bytes | None]


def frame_bytes(rate: int) -> int:
    """Bytes of one 20 ms frame at `rate`."""
    return rate // 50 * 2
