"""The browser leg's jitter buffers: bounded both ways, gaps counted, a page replaced."""

from __future__ import annotations

from console.softphone.hub import AudioHub, BrowserLeg


def frame(n: int, size: int = 640) -> bytes:
    return bytes([n % 256]) * size


def test_uplink_waits_for_its_target_then_plays_in_order() -> None:
    leg = BrowserLeg("c1", 7, 16000, target=2, cap=6)
    assert leg.source(640) is None  # no page attached: silence, no gap counted
    leg.attach()
    leg.push_uplink(frame(1))
    assert leg.source(640) is None  # one frame is below the 40 ms target
    leg.push_uplink(frame(2))
    assert leg.source(640) == frame(1)
    assert leg.source(640) == frame(2)
    assert leg.stats.uplink_gaps == 0
    assert leg.source(640) is None  # ran dry: a gap, and it refills to the target again
    leg.push_uplink(frame(3))
    assert leg.source(640) is None
    assert leg.stats.uplink_gaps == 2
    leg.push_uplink(frame(4))
    assert leg.source(640) == frame(3)


def test_uplink_over_its_cap_drops_the_oldest_so_latency_stays_bounded() -> None:
    leg = BrowserLeg("c1", 7, 8000, target=2, cap=6)
    leg.attach()
    for n in range(20):  # a burst after a network stall
        leg.push_uplink(frame(n, 320))
    assert leg.source(320) == frame(14, 320)  # only the newest 6 are kept
    assert leg.stats.uplink_trimmed == 14
    leg.push_uplink(frame(99, 100))  # a frame of another rate is ignored
    assert [leg.source(320) for _ in range(5)] == [frame(n, 320) for n in range(15, 20)]


def test_muted_uplink_is_silence_and_downlink_is_bounded() -> None:
    leg = BrowserLeg("c1", 7, 16000, target=1, cap=3)
    leg.sink(frame(1))  # no page: nothing kept
    assert leg.next_downlink(0.01) is None
    leg.attach()
    leg.muted = True
    leg.push_uplink(frame(1))
    assert leg.source(640) is None
    for n in range(5):
        leg.sink(frame(n))
    leg.sink(b"")  # the bridge had nothing for the agent: silence, not a hole
    assert leg.stats.downlink_dropped == 3
    assert [leg.next_downlink(0.01) for _ in range(3)] == [frame(3), frame(4), bytes(640)]
    assert leg.next_downlink(0.01) is None


def test_a_second_page_takes_the_leg_and_the_first_one_loses_it() -> None:
    hub = AudioHub(8000)
    leg = hub.open("c1", 7)
    first = leg.attach()
    second = leg.attach()
    assert not leg.holds(first) and leg.holds(second)
    assert leg.detach(first) is False and leg.attached
    assert leg.detach(second) is True and not leg.attached
    assert hub.get("c1", 7) is leg and hub.get("c1", 8) is None and hub.holds_call("c1")
    consulted = hub.open("c1", 8)  # a colleague consulted about the call: her own leg
    assert hub.get("c1", 8) is consulted and hub.get("c1", 7) is leg
    hub.rekey(consulted, "c2")  # she takes the call over under its new record
    assert consulted.call_id == "c2" and hub.get("c2", 8) is consulted
    assert hub.get("c1", 8) is None
    assert hub.close("c1", 7) is leg and hub.get("c1", 7) is None
    assert not hub.holds_call("c1") and hub.holds_call("c2")
