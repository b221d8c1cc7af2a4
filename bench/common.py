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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of every process under it, all their
    threads, with their children that have ended: `hotline run` serves from gunicorn's
    worker, a child of the process started, and runs Kamailio under that worker."""
    ticks = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, float]] = {}  # pid: (parent, seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        # utime, stime, then cutime, cstime: children waited for (no longer in the tree)
        used = sum(int(f) for f in fields[11:15]) / ticks
        procs[int(entry.name)] = (int(fields[1]), used)
    tree, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _) in procs.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                todo.append(child)
    return sum(procs[p][1] for p in tree if p in procs)
