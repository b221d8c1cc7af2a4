"""Re-encrypt recordings with the newest key, so an old key can be dropped before the
retention period has purged every file it wrote.

    python -m console.recordings.rekey [--dry-run]

Reads the node's settings from the environment (HOTLINE_DATABASE_URL, HOTLINE_DATA_DIR,
HOTLINE_RECORDING_KEYS, ...). Per recording not yet purged whose key is not the first:
the audio is decrypted (a failed recording up to its last sealed segment), written to a new
file under the first key and synced, then the row is pointed at it (path, key, size,
checksum) in one transaction, and only then the old file is deleted. A crash in between
leaves either the old file in use and a stray `.rekey` file (removed by the next run) or the
new file in use and a stray old file (deleted by the next run, which finds nothing to do
for that row). Nothing acknowledged is ever unreadable: the row always names a whole file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from console.core.models import Recording
from console.recordings.store import (
    Channel,
    RecordingKey,
    RecordingStatus,
    RecordingWriter,
    read_pcm,
)

log = logging.getLogger(__name__)
SUFFIX = ".rekey"


def stale(s: Session, key_id: str) -> list[Recording]:
    """Rows whose file is still there and was not written with `key_id`."""
    return list(
        s.scalars(
            select(Recording)
            .where(Recording.status != RecordingStatus.PURGED)
            .where(Recording.status != RecordingStatus.RECORDING)
            .where(Recording.key_id != key_id)
            .order_by(Recording.id)
        )
    )


def rekey(sessions: sessionmaker[Session], keys: tuple[RecordingKey, ...], dry_run: bool) -> int:
    """Re-encrypt every stale recording under keys[0]; returns how many were (or would be)."""
    newest = keys[0]
    with sessions() as s:
        todo = [(r.id, Path(r.path), r.channel, r.status) for r in stale(s, newest.id)]
    done = 0
    for row_id, path, channel, status in todo:
        if dry_run:
            done += 1
            continue
        pcm = read_pcm(path, keys, partial=status != RecordingStatus.COMPLETE)
        new_path = path.with_name(path.name + SUFFIX)
        new_path.unlink(missing_ok=True)  # a stray one from an interrupted run
        writer = RecordingWriter.open(new_path, Channel(channel), pcm.sample_rate, keys)
        writer.write(pcm.data)
        info = writer.close()
        final = path.with_name(path.stem + f".{newest.id}" + path.suffix)
        new_path.rename(final)
        with sessions.begin() as s:
            row = s.get(Recording, row_id)
            if row is None or row.status == RecordingStatus.PURGED:
                final.unlink(missing_ok=True)
                continue
            row.path = str(final)
            row.key_id = newest.id
            row.size_bytes = final.stat().st_size
            row.sha256 = info.sha256
        path.unlink(missing_ok=True)
        done += 1
    return done


def main(argv: list[str]) -> int:
    from console.core.db import make_engine, make_session_factory
    from console.core.settings import Settings
    from console.recordings.store import parse_keys

    ap = argparse.ArgumentParser(prog="python -m console.recordings.rekey", description=__doc__)
    ap.add_argument("--dry-run", action="store_true", help="only count what would change")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    keys = parse_keys(settings.effective_recording_keys)
    engine = make_engine(settings.effective_database_url)
    try:
        n = rekey(make_session_factory(engine), keys, args.dry_run)
    finally:
        engine.dispose()
    verb = "would re-encrypt" if args.dry_run else "re-encrypted"
    print(f"{verb} {n} recording(s) with key {keys[0].id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
