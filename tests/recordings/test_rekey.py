"""Key rotation: old recordings re-encrypted under the newest key, then the old key can go."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from console.core.errors import DomainError
from console.core.models import Recording, utcnow
from console.node import Hotline
from console.recordings.rekey import rekey
from console.recordings.store import Channel, generate_key, parse_keys, read_pcm
from tests.recordings.test_rows_and_purge import keys, new_call, recorded


def test_rekey_moves_every_recording_to_the_newest_key_and_the_old_key_can_go(
    hotline: Hotline,
) -> None:
    old = keys(hotline)
    call_id = new_call(hotline)
    when = utcnow() - dt.timedelta(days=3)
    ids = [recorded(hotline, call_id, ch, when, seconds=0.5)[0] for ch in Channel]
    before = {i: read_pcm(Path(row_path(hotline, i)), old).data for i in ids}

    rotated = parse_keys([generate_key("k2026"), *hotline.settings.effective_recording_keys])
    assert rekey(hotline.sessions, rotated, dry_run=True) == 3
    assert rekey(hotline.sessions, rotated, dry_run=False) == 3
    assert rekey(hotline.sessions, rotated, dry_run=False) == 0  # nothing left to do

    only_new = rotated[:1]  # the old key dropped from the settings
    for i in ids:
        with hotline.sessions() as s:
            row = s.get(Recording, i)
            assert row is not None
            path = Path(row.path)
            assert row.key_id == "k2026" and row.size_bytes == path.stat().st_size
        assert read_pcm(path, only_new).data == before[i]  # the same audio, new key
    # No file of the old key is left behind.
    files = list(hotline.settings.effective_recording_dir.rglob("*"))
    assert sum(f.is_file() for f in files) == 3
    # The old key alone no longer reads them: they are the new key's now.
    with pytest.raises(DomainError) as refused:
        read_pcm(Path(row_path(hotline, ids[0])), old)
    assert refused.value.error_id == "recording-key-unknown"


def row_path(hotline: Hotline, rec_id: int) -> str:
    with hotline.sessions() as s:
        row = s.get(Recording, rec_id)
        assert row is not None
        return row.path
