"""What every benchmark prints about the machine it ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """Host, CPU model, cores and Python version."""
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"
    )


TICKS = os.sysconf("SC_CLK_TCK")


def proc_stats() -> dict[int, tuple[int, float, float, int]]:
    """Every process: (parent, own user + system seconds, those of its children that ended
    and were waited for, start time in clock ticks after boot)."""
    stats: dict[int, tuple[int, float, float, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        own = (int(fields[11]) + int(fields[12])) / TICKS
        reaped = (int(fields[13]) + int(fields[14])) / TICKS
        stats[int(entry.name)] = (int(fields[1]), own, reaped, int(fields[19]))
    return stats


def descendants(root: int, stats: dict[int, tuple[int, float, float, int]]) -> set[int]:
    """root and every process under it."""
    tree, todo = {root}, [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, *_) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                todo.append(pid)
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of every process under it, all their
    threads, with their children that have ended: `hotline run` serves from gunicorn's
    worker, a child of the process started, and runs Kamailio under that worker."""
    stats = proc_stats()
    return sum(stats[p][1] + stats[p][2] for p in descendants(pid, stats) if p in stats)
