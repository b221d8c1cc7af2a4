"""Periodic job of the recordings: purge the files past the retention period."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from console.core.models import utcnow
from console.recordings import services as recordings

if TYPE_CHECKING:
    from console.scheduler import JobContext

log = logging.getLogger(__name__)

PURGE_EVERY = dt.timedelta(days=1)


def purge_expired(ctx: JobContext, now: dt.datetime | None = None) -> int:
    """Delete the files of recordings older than the retention period, then mark their rows
    purged; returns how many rows were purged.

    File first, row after, one batch per transaction: a crash in between leaves a row whose
    file is already gone, which the next run marks (a missing file counts as deleted). A
    file that cannot be deleted keeps its row unpurged, so it is retried and never forgotten.
    Emptied day/month/year folders are removed too.
    """
    now = now or utcnow()
    purged = 0
    while True:
        with ctx.sessions.begin() as s:
            rows = recordings.expired_recordings(s, now, ctx.recording_retention_days)
            done = 0
            for row in rows:
                path = Path(row.path)
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    log.exception("cannot delete recording %s", path)
                    continue
                _remove_empty_parents(path.parent, levels=3)
                recordings.mark_purged(s, row.id, now)
                done += 1
        purged += done
        if not rows or done < len(rows):  # all done, or only undeletable files left
            return purged


def _remove_empty_parents(folder: Path, levels: int) -> None:
    for _ in range(levels):
        with contextlib.suppress(OSError):  # not empty (or already gone): stop climbing
            folder.rmdir()
        if folder.exists():
            return
        folder = folder.parent
