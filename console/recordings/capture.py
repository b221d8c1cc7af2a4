"""Recording a live call: two taps on the bridge in, three encrypted files out.

The telephony worker puts two ports on its conference bridge for each answered call, one
hearing the caller's leg and one hearing the agent (her SIP phone's leg or her browser's
port). pjmedia calls both 50 times a second on its clock thread; their sinks only queue the
frame. One `RecordingPump` thread per worker takes the frames off the queue and writes, per
call, the caller's file, the agent's file and the stereo playback file (caller left, agent
right), each through its own `RecordingWriter` (encrypted, see store.py).

Timeline
    Every tick is written, audio or not: a tick without audio (nothing linked, the agent's
    browser away) and every tick while the recording is paused are written as silence, so
    each file is exactly as long as the capture and a paused span holds nothing of either
    side. Pausing is decided in the sink, on the clock thread, at the tick it applies to.

Rates
    Both taps run at the call's higher rate (16 kHz when either side is wideband: G.722 or
    browser audio); the bridge resamples the narrower side. A side whose own rate is half
    of that is stored at its own rate by taking every other sample, which loses nothing:
    the bridge's upsampled signal holds nothing above the lower rate's band.

Start
    The taps start capturing when the call connects; the rows are written next and the files
    created after them (no file without a row), the frames waiting in memory meanwhile. So
    a slow database does not cut the start of the recording: each file is as long as the
    talk time.

Failure
    A writer that fails (full disk, unwritable store) is reported at once through
    `on_failed` and written no more; the other files and the call go on. `close()` queues the
    end behind every frame already queued; `on_closed` then gets the info of every file that
    was closed properly (the acknowledgement its row is marked complete with).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from console.core.errors import DomainError
from console.recordings.store import Channel, RecordingInfo, RecordingKey, RecordingWriter
from telephony.media import frame_bytes

log = logging.getLogger(__name__)

MONO = (Channel.CALLER, Channel.AGENT)
# The pump writes a channel's frames every this many (100 ms): a failing store is still
# reported well within a second.
PUMP_EVERY_FRAMES = 5
OPEN = "open"  # the rows are committed: create the files, write what was captured so far
END = "end"  # the taps are gone: finish the files


@dataclass(frozen=True)
class Track:
    """One file of a call's recording: its row, path and sample rate."""

    channel: Channel
    row_id: int
    path: Path
    rate: int


def _decimate(pcm: bytes) -> bytes:
    """Every other 16-bit sample."""
    return memoryview(pcm).cast("h")[::2].tobytes()


def _interleave(left: bytes, right: bytes) -> bytes:
    out = bytearray(len(left) * 2)
    view = memoryview(out).cast("h")
    view[0::2] = memoryview(left).cast("h")
    view[1::2] = memoryview(right).cast("h")
    return bytes(out)


class RecordingPump:
    """The thread that writes every call's captured frames, in order, off the clock thread."""

    def __init__(self) -> None:
        self._q: queue.SimpleQueue[tuple[CallCapture, Channel | str] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="recording-pump", daemon=True)
        self._thread.start()

    def put(self, capture: CallCapture, what: Channel | str) -> None:
        """Queue a frame tick of a channel, or OPEN / END of the capture; never blocks."""
        self._q.put((capture, what))

    def stop(self, timeout: float = 10) -> None:
        """Write what is queued, then end the thread."""
        self._q.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            capture, what = item
            try:
                if what == OPEN:
                    capture._open()
                elif what == END:
                    capture._finish()
                else:
                    capture._tick(Channel(what))
            except Exception:
                log.exception("recording of call %s failed", capture.call_id)


class CallCapture:
    """The three recordings of one call while it is captured."""

    def __init__(
        self,
        call_id: str,
        keys: tuple[RecordingKey, ...],
        tap_rate: int,
        pump: RecordingPump,
        on_failed: Callable[[Track, str], None],
        on_closed: Callable[[list[tuple[Track, RecordingInfo]]], None],
    ) -> None:
        self.call_id = call_id
        self.tap_rate = tap_rate
        self.paused = False
        self._keys = keys
        self._pump = pump
        self._on_failed = on_failed
        self._on_closed = on_closed
        self._silence = bytes(frame_bytes(tap_rate))
        # The sinks append here on the clock thread; the pump takes them in the same order.
        # Until the files are open (their rows are written first) frames wait here, so the
        # recording starts when the taps do, however long the database takes.
        self._frames: dict[Channel, deque[bytes]] = {ch: deque() for ch in MONO}
        self._pending: dict[Channel, deque[bytes]] = {ch: deque() for ch in MONO}
        self._tracks: dict[Channel, Track] = {}
        self._writers: dict[Channel, RecordingWriter] = {}
        self._opened = False

    def open(self, tracks: list[Track]) -> None:
        """The rows are committed: the pump creates the files and writes the backlog."""
        self._tracks = {t.channel: t for t in tracks}
        self._pump.put(self, OPEN)

    def sink(self, channel: Channel) -> Callable[[bytes], None]:
        """The frame sink of the tap hearing `channel` (caller or agent); clock thread."""
        frames = self._frames[channel]
        put = self._pump.put
        silence = self._silence

        def sink(data: bytes) -> None:
            frames.append(data if data and not self.paused else silence)
            # The pump drains whatever is queued: waking it every few frames, not at each
            # one, spares two thread switches per tick per call (END drains the rest).
            if len(frames) % PUMP_EVERY_FRAMES == 0:
                put(self, channel)

        return sink

    def close(self) -> None:
        """Finish the files once every frame queued so far is written (taps closed first)."""
        self._pump.put(self, END)

    # -- pump thread -------------------------------------------------------------------
    def _write(self, channel: Channel, pcm: bytes) -> None:
        writer = self._writers.get(channel)
        if writer is None:
            return
        try:
            writer.write(pcm)
        except DomainError as e:
            del self._writers[channel]
            self._on_failed(self._tracks[channel], str(e))

    def _open(self) -> None:
        for track in self._tracks.values():
            try:
                self._writers[track.channel] = RecordingWriter.open(
                    track.path, track.channel, track.rate, self._keys
                )
            except DomainError as e:
                self._on_failed(track, str(e))
        self._opened = True
        for channel in MONO:
            self._tick(channel)

    def _tick(self, channel: Channel) -> None:
        """Write every frame of `channel` captured so far (none before the files open)."""
        if not self._opened:
            return
        frames = self._frames[channel]
        track = self._tracks.get(channel)
        while frames:
            pcm = frames.popleft()
            if len(pcm) != len(self._silence):  # never seen; keeps the timelines whole
                pcm = (pcm + self._silence)[: len(self._silence)]
            if track is not None:
                self._write(channel, _decimate(pcm) if track.rate * 2 == self.tap_rate else pcm)
            self._pending[channel].append(pcm)
        caller, agent = self._pending[Channel.CALLER], self._pending[Channel.AGENT]
        while caller and agent:
            self._write(Channel.STEREO, _interleave(caller.popleft(), agent.popleft()))

    def _finish(self) -> None:
        if not self._opened:  # the rows were never written: nothing to keep
            self._on_closed([])
            return
        for channel in MONO:
            self._tick(channel)
        caller, agent = self._pending[Channel.CALLER], self._pending[Channel.AGENT]
        while caller or agent:  # one tap started a tick before the other
            left = caller.popleft() if caller else self._silence
            right = agent.popleft() if agent else self._silence
            self._write(Channel.STEREO, _interleave(left, right))
        closed: list[tuple[Track, RecordingInfo]] = []
        for channel, writer in list(self._writers.items()):
            try:
                closed.append((self._tracks[channel], writer.close()))
            except DomainError as e:
                self._on_failed(self._tracks[channel], str(e))
        self._writers.clear()
        self._on_closed(closed)
