"""Set arithmetic on time segments: union, intersection, complement, clipping.

Inputs may overlap and come in any order; outputs are sorted, disjoint, non-empty.
Segments that merely touch are merged, so a union never reports a zero-length gap.
"""

from __future__ import annotations

from collections.abc import Iterable

from qa.model import Segment


def union(*groups: Iterable[Segment]) -> tuple[Segment, ...]:
    """Sorted, merged segments covering every input."""
    items = sorted(s for g in groups for s in g if s.end_s > s.start_s)
    out: list[Segment] = []
    for s in items:
        if out and s.start_s <= out[-1].end_s:
            if s.end_s > out[-1].end_s:
                out[-1] = Segment(out[-1].start_s, s.end_s)
        else:
            out.append(s)
    return tuple(out)


def intersect(a: Iterable[Segment], b: Iterable[Segment]) -> tuple[Segment, ...]:
    """Spans covered by both."""
    xs, ys = union(a), union(b)
    out: list[Segment] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        lo = max(xs[i].start_s, ys[j].start_s)
        hi = min(xs[i].end_s, ys[j].end_s)
        if hi > lo:
            out.append(Segment(lo, hi))
        if xs[i].end_s < ys[j].end_s:
            i += 1
        else:
            j += 1
    return tuple(out)


def complement(segments: Iterable[Segment], start_s: float, end_s: float) -> tuple[Segment, ...]:
    """The gaps of `segments` within [start_s, end_s)."""
    out: list[Segment] = []
    t = start_s
    for s in union(segments):
        if s.end_s <= start_s:
            continue
        if s.start_s >= end_s:
            break
        if s.start_s > t:
            out.append(Segment(t, s.start_s))
        t = max(t, s.end_s)
    if t < end_s:
        out.append(Segment(t, end_s))
    return tuple(out)


def clip(segments: Iterable[Segment], start_s: float, end_s: float) -> tuple[Segment, ...]:
    """The parts of `segments` within [start_s, end_s), merged."""
    return intersect(segments, [Segment(start_s, end_s)])


def total(segments: Iterable[Segment]) -> float:
    """Covered time, overlaps counted once."""
    return sum(s.duration_s for s in union(segments))
