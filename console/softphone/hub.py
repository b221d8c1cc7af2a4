"""The browser legs of the calls a worker holds: jitter buffers between a page's WebSocket
and the worker's conference bridge.

A `BrowserLeg` is created when a call is answered by an agent on browser audio, before her
page attaches, and lives until the call ends: a page that reloads or loses the network
detaches and attaches again to the same leg. The bridge side (`source`, `sink`) runs on
pjmedia's clock thread 50 times a second; the page side (`push_uplink`, `next_downlink`) on
the WebSocket's threads. They share deques (thread-safe for append/popleft) and counters.

Jitter buffers, capped, trimming drift
    Uplink (page -> bridge): frames wait until `target` are queued before playing starts
    (40 ms by default), so a late packet does not become a gap at once; above `cap`
    (120 ms) the oldest are dropped. Without that trim the page's clock, a little faster than
    the bridge's, or a burst after a network stall adds latency that never goes away.
    An empty buffer plays silence and counts a gap (only while a page is attached).
    Downlink (bridge -> page): a bounded deque of `cap` frames; a stalled page loses the
    oldest frames rather than hearing the caller later and later.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from telephony.media import frame_bytes

TARGET_FRAMES = 2  # 40 ms
CAP_FRAMES = 6  # 120 ms


@dataclass
class LegStats:
    """Counters of one browser leg since its page attached."""

    uplink_frames: int = 0  # frames the bridge took from the page
    uplink_gaps: int = 0  # ticks the bridge played silence because nothing had arrived
    uplink_trimmed: int = 0  # frames dropped because the buffer was over its cap
    downlink_frames: int = 0  # frames handed to the page
    downlink_dropped: int = 0  # frames the page did not take in time


class BrowserLeg:
    """One agent's browser audio on one call."""

    def __init__(
        self,
        call_id: str,
        agent_id: int,
        rate: int,
        *,
        target: int = TARGET_FRAMES,
        cap: int = CAP_FRAMES,
    ) -> None:
        self.call_id = call_id
        self.agent_id = agent_id
        self.rate = rate
        self.frame_bytes = frame_bytes(rate)
        self.muted = False
        self.held = False  # the agent put the call on hold: the page shows it, not as a fault
        self.stats = LegStats()
        self._target = target
        self._cap = cap
        self._uplink: deque[bytes] = deque()
        self._playing = False
        self._started = False  # played at least once since the page attached
        # A SimpleQueue (C) rather than a deque and an Event: the page's sender waits on it
        # for every frame, and threading.Event costs several times more per wake-up. None
        # wakes the sender without a frame (a page took over, the leg closed).
        self._downlink: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._attached = 0  # generation of the attached page, 0 = none
        self._generation = 0
        self._lock = threading.Lock()
        # Told (from the page's threads) when a page attaches or the last one leaves; the
        # worker plays music to the caller meanwhile and counts the grace period.
        self.on_presence: Callable[[bool], None] | None = None

    # -- page side --------------------------------------------------------------------
    def attach(self) -> int:
        """A page takes the leg (a second page replaces the first); returns its ticket."""
        with self._lock:
            self._generation += 1
            self._attached = self._generation
            self._uplink.clear()
            self._drain_downlink()
            self._playing = self._started = False
            self.stats = LegStats()
            self._downlink.put(None)  # the replaced page's sender wakes, sees it lost the leg
            ticket = self._attached
        if self.on_presence is not None:
            self.on_presence(True)
        return ticket

    def detach(self, ticket: int) -> bool:
        """The page with this ticket left; False when another page had already taken over."""
        with self._lock:
            if self._attached != ticket:
                return False
            self._attached = 0
            self._uplink.clear()
            self._playing = False
            self._downlink.put(None)
        if self.on_presence is not None:
            self.on_presence(False)
        return True

    def holds(self, ticket: int) -> bool:
        return self._attached == ticket

    @property
    def attached(self) -> bool:
        return self._attached != 0

    def push_uplink(self, pcm: bytes) -> None:
        """A frame from the page's microphone (already one 20 ms frame at `rate`)."""
        if len(pcm) != self.frame_bytes:
            return  # a page on another rate; refused at the door, ignored here
        self._uplink.append(pcm)

    def next_downlink(self, timeout: float) -> bytes | None:
        """The next frame for the page, waiting up to `timeout`; None when none came."""
        try:
            frame = self._downlink.get(timeout=timeout)
        except queue.Empty:
            return None
        if frame is not None:
            self.stats.downlink_frames += 1
        return frame

    def wake(self) -> None:
        """Wake the page's sender without a frame (the leg closed)."""
        self._downlink.put(None)

    def _drain_downlink(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._downlink.get_nowait()

    # -- bridge side (clock thread) ----------------------------------------------------
    def source(self, size: int) -> bytes | None:
        """What the page said this tick, or None (silence)."""
        buf = self._uplink
        if not self._attached:
            return None
        if not self._playing:
            if len(buf) < self._target:
                if self._started:
                    self.stats.uplink_gaps += 1  # refilling after running dry: still a gap
                return None
            self._playing = self._started = True
        while len(buf) > self._cap:
            buf.popleft()
            self.stats.uplink_trimmed += 1
        try:
            frame = buf.popleft()
        except IndexError:
            # Ran dry: count the gap and wait for `target` frames again before playing.
            self.stats.uplink_gaps += 1
            self._playing = False
            return None
        self.stats.uplink_frames += 1
        return None if self.muted else frame

    def sink(self, pcm: bytes) -> None:
        """What the bridge mixed for the agent this tick (b"": nothing)."""
        if not self._attached:
            return
        down = self._downlink
        while down.qsize() >= self._cap:  # a stalled page loses the oldest frames
            with contextlib.suppress(queue.Empty):
                if down.get_nowait() is not None:  # a wake-up is no frame lost
                    self.stats.downlink_dropped += 1
        down.put(pcm or bytes(self.frame_bytes))


class AudioHub:
    """The browser legs of one worker, by call and agent (thread-safe): the agent on the
    call, and a colleague she consults about it, each have their own."""

    def __init__(self, rate: int = 16000) -> None:
        if rate not in (8000, 16000):
            raise ValueError(f"browser audio rate must be 8000 or 16000, not {rate}")
        self.rate = rate
        self._legs: dict[tuple[str, int], BrowserLeg] = {}
        self._lock = threading.Lock()

    def open(self, call_id: str, agent_id: int) -> BrowserLeg:
        leg = BrowserLeg(call_id, agent_id, self.rate)
        with self._lock:
            self._legs[call_id, agent_id] = leg
        return leg

    def get(self, call_id: str, agent_id: int | None) -> BrowserLeg | None:
        if agent_id is None:
            return None
        with self._lock:
            return self._legs.get((call_id, agent_id))

    def holds_call(self, call_id: str) -> bool:
        """Some agent's leg of this call is here (this worker holds the call)."""
        with self._lock:
            return any(c == call_id for c, _ in self._legs)

    def rekey(self, leg: BrowserLeg, call_id: str) -> None:
        """The leg goes on under another call id (a consulted agent taking the call over):
        the page's socket stays attached."""
        with self._lock:
            if self._legs.get((leg.call_id, leg.agent_id)) is leg:
                del self._legs[leg.call_id, leg.agent_id]
            leg.call_id = call_id
            self._legs[call_id, leg.agent_id] = leg

    def close(self, call_id: str, agent_id: int) -> BrowserLeg | None:
        with self._lock:
            leg = self._legs.pop((call_id, agent_id), None)
        if leg is not None:
            leg.wake()
        return leg
