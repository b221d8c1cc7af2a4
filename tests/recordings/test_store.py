"""The encrypted recording store: round trips, crashes, tampering, keys, full disks."""

from __future__ import annotations

import errno
import hashlib
import io
import math
import signal
import struct
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from console.core.errors import DomainError
from console.core.i18n import translate
from console.core.settings import Settings
from console.recordings.store import (
    SEGMENT_BYTES,
    TAG_BYTES,
    Channel,
    RecordingWriter,
    WavFile,
    generate_key,
    open_wav,
    parse_keys,
    read_pcm,
)

KEYS = parse_keys([generate_key("k1")])


def tone(rate: int, seconds: float, channels: int = 1) -> bytes:
    """A 440 Hz sine (and 660 Hz on the right channel), 16-bit little-endian PCM."""
    out = bytearray()
    for i in range(int(rate * seconds)):
        for c in range(channels):
            hz = 440 + 220 * c
            out += struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate)))
    return bytes(out)


def record(path: Path, pcm: bytes, rate: int, channel: Channel = Channel.CALLER) -> RecordingWriter:
    """A writer fed pcm in pjsua2's 20 ms frames (not closed)."""
    writer = RecordingWriter.open(path, channel, rate, KEYS)
    frame = rate // 50 * 2 * channel.channels
    for i in range(0, len(pcm), frame):
        writer.write(pcm[i : i + frame])
    return writer


def header_size(path: Path) -> int:
    data = path.read_bytes()
    return 25 + data[7]  # fixed part (magic … nonce prefix) + key id


def error_of(excinfo: pytest.ExceptionInfo[DomainError]) -> str:
    return excinfo.value.error_id


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("channel", [Channel.CALLER, Channel.STEREO])
def test_round_trip_gives_the_same_samples_as_a_wav(
    tmp_path: Path, rate: int, channel: Channel
) -> None:
    pcm = tone(rate, 2.5, channel.channels)
    path = tmp_path / "a" / "call.hlrec"
    info = record(path, pcm, rate, channel).close()
    assert info.duration_s == 2.5
    assert info.size_bytes == path.stat().st_size
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.key_id == "k1" and info.sample_rate == rate
    # Encrypted at rest: no stretch of the audio appears in the file.
    assert pcm[10_000:10_064] not in path.read_bytes()
    with wave.open(io.BytesIO(open_wav(path, KEYS)), "rb") as w:
        assert w.getframerate() == rate
        assert w.getnchannels() == channel.channels
        assert w.getsampwidth() == 2
        assert w.getnframes() == int(rate * 2.5)
        assert w.readframes(w.getnframes()) == pcm
    assert read_pcm(path, KEYS).complete


def test_an_empty_recording_is_a_valid_empty_wav(tmp_path: Path) -> None:
    path = tmp_path / "empty.hlrec"
    info = RecordingWriter.open(path, "agent", 8000, KEYS).close()
    assert info.duration_s == 0
    with wave.open(io.BytesIO(open_wav(path, KEYS)), "rb") as w:
        assert w.getnframes() == 0


def test_a_writer_killed_mid_file_reads_back_every_sealed_segment(tmp_path: Path) -> None:
    pcm = tone(8000, 3.0)  # 48000 bytes: 11 full segments and a tail
    path = tmp_path / "crash.hlrec"
    record(path, pcm, 8000).abandon()  # no close: the last segment is never sealed
    with pytest.raises(DomainError) as e:
        read_pcm(path, KEYS)
    assert error_of(e) == "recording-corrupt"
    got = read_pcm(path, KEYS, partial=True)
    sealed = len(pcm) // SEGMENT_BYTES * SEGMENT_BYTES
    assert not got.complete
    assert got.data == pcm[:sealed] and sealed == 11 * SEGMENT_BYTES
    with wave.open(io.BytesIO(open_wav(path, KEYS, partial=True)), "rb") as w:
        assert w.readframes(w.getnframes()) == pcm[:sealed]


@pytest.mark.parametrize(("segments", "extra"), [(3, 100), (3, 0), (0, 50)])
def test_a_file_cut_short_reads_back_every_complete_segment(
    tmp_path: Path, segments: int, extra: int
) -> None:
    pcm = tone(16000, 1.0)
    path = tmp_path / "cut.hlrec"
    record(path, pcm, 16000).close()
    cut = header_size(path) + segments * (SEGMENT_BYTES + TAG_BYTES) + extra
    with path.open("r+b") as f:
        f.truncate(cut)
    with pytest.raises(DomainError) as e:
        read_pcm(path, KEYS)
    assert error_of(e) == "recording-corrupt"
    got = read_pcm(path, KEYS, partial=True)
    assert got.data == pcm[: segments * SEGMENT_BYTES]
    assert not got.complete


def test_a_wrong_key_or_a_changed_byte_is_corrupt(tmp_path: Path) -> None:
    pcm = tone(8000, 2.0)
    path = tmp_path / "t.hlrec"
    record(path, pcm, 8000).close()
    other = parse_keys([generate_key("k1")])  # same id, other key
    for partial in (False, True):
        with pytest.raises(DomainError) as e:
            read_pcm(path, other, partial=partial)
        assert error_of(e) == "recording-corrupt"
    original = path.read_bytes()
    # A middle segment, the sample rate in the header, the last segment's tag (this one only
    # strictly: read as a prefix, a bad tail looks like the cut of a crash).
    for offset, modes in (
        (header_size(path) + 2 * (SEGMENT_BYTES + TAG_BYTES) + 5, (False, True)),
        (10, (False, True)),
        (len(original) - 1, (False,)),
    ):
        tampered = bytearray(original)
        tampered[offset] ^= 0x01
        path.write_bytes(bytes(tampered))
        for partial in modes:
            with pytest.raises(DomainError) as e:
                read_pcm(path, KEYS, partial=partial)
            assert error_of(e) == "recording-corrupt", offset
    # Dropping a middle segment is noticed too (counters are in the nonces).
    h, seg = header_size(path), SEGMENT_BYTES + TAG_BYTES
    path.write_bytes(original[: h + seg] + original[h + 2 * seg :])
    with pytest.raises(DomainError) as e:
        read_pcm(path, KEYS, partial=True)
    assert error_of(e) == "recording-corrupt"


def test_rotation_reads_old_files_and_writes_with_the_new_key(tmp_path: Path) -> None:
    old_entry, new_entry = generate_key("2025a"), generate_key("2026a")
    old_keys = parse_keys([old_entry])
    pcm = tone(8000, 1.0)
    old_path = tmp_path / "old.hlrec"
    w = RecordingWriter.open(old_path, "caller", 8000, old_keys)
    w.write(pcm)
    w.close()
    rotated = Settings.from_env({"HOTLINE_RECORDING_KEYS": f"{new_entry},{old_entry}"})
    keys = parse_keys(rotated.effective_recording_keys)
    assert [k.id for k in keys] == ["2026a", "2025a"]
    assert read_pcm(old_path, keys).data == pcm
    new_path = tmp_path / "new.hlrec"
    w = RecordingWriter.open(new_path, "caller", 8000, keys)
    w.write(pcm)
    assert w.close().key_id == "2026a"
    with pytest.raises(DomainError) as e:
        read_pcm(new_path, old_keys)  # the new key dropped: named, not "corrupt"
    assert error_of(e) == "recording-key-unknown"
    assert e.value.params == {"key_id": "2026a"}


def test_without_configured_keys_one_is_generated_once_per_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = settings.effective_recording_keys
    assert first == Settings(data_dir=tmp_path).effective_recording_keys
    assert len(parse_keys(first)) == 1
    assert (tmp_path / "recording_keys").stat().st_mode & 0o077 == 0
    assert list(tmp_path.glob("*.tmp")) == []
    assert Settings(data_dir=tmp_path / "other").effective_recording_keys != first
    assert settings.effective_recording_dir == tmp_path / "recordings"


def test_malformed_keys_are_refused() -> None:
    for bad in (["nokey"], ["k:not-base64!"], ["k:" + "QUFB"], [], ["a b:" + "A" * 44]):
        with pytest.raises(ValueError):
            parse_keys(bad)


class FullDisk(io.FileIO):
    """A real file whose disk fills after `room` bytes."""

    room = 3 * (SEGMENT_BYTES + TAG_BYTES)

    def write(self, data: object) -> int:
        view = memoryview(data)  # type: ignore[arg-type]
        if self.tell() + len(view) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(view)


def test_a_full_disk_fails_the_writer_at_once_and_keeps_what_was_sealed(tmp_path: Path) -> None:
    pcm = tone(8000, 2.0)
    path = tmp_path / "full.hlrec"
    writer = RecordingWriter.open(path, "caller", 8000, KEYS, opener=lambda p: FullDisk(p, "xb"))
    with pytest.raises(DomainError) as e:
        for i in range(0, len(pcm), 320):
            writer.write(pcm[i : i + 320])
    assert error_of(e) == "recording-write-failed"
    assert e.value.params == {"reason": "ENOSPC"}
    # Failed for good: later frames and close fail at once, nothing more is written.
    size = path.stat().st_size
    for attempt in (lambda: writer.write(pcm[:320]), writer.close):
        with pytest.raises(DomainError) as e:
            attempt()
        assert error_of(e) == "recording-write-failed"
    assert path.stat().st_size == size
    assert read_pcm(path, KEYS, partial=True).data == pcm[: 2 * SEGMENT_BYTES]
    assert "ENOSPC" in translate("error.recording-write-failed", "en", **e.value.params)


def test_an_unwritable_store_fails_at_open(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(DomainError) as e:
        RecordingWriter.open(blocker / "2026" / "x.hlrec", "caller", 8000, KEYS)
    assert error_of(e) == "recording-write-failed"

    def denied(path: Path) -> io.RawIOBase:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    with pytest.raises(DomainError) as e:
        RecordingWriter.open(tmp_path / "y.hlrec", "caller", 8000, KEYS, opener=denied)
    assert e.value.params == {"reason": "EACCES"}


def test_every_recording_error_has_its_message_in_both_languages() -> None:
    for error_id in ("write-failed", "key-unknown", "corrupt", "not-found"):
        key = f"error.recording-{error_id}"
        for language in ("en", "zh-CN"):
            assert translate(key, language, reason="EIO", key_id="k") != key
    assert translate("error.recording-corrupt", "zh-CN") != translate(
        "error.recording-corrupt", "en"
    )


CRASHING_WRITER = """
import sys, time
from pathlib import Path
from console.recordings.store import RecordingWriter, parse_keys
keys = parse_keys([sys.argv[2]])
pcm = Path(sys.argv[3]).read_bytes()
writer = RecordingWriter.open(Path(sys.argv[1]), "caller", 8000, keys)
for i in range(0, len(pcm), 320):
    writer.write(pcm[i : i + 320])
print("written", flush=True)
time.sleep(60)
"""


def test_a_worker_killed_mid_call_leaves_a_readable_prefix(tmp_path: Path) -> None:
    entry = generate_key("crash")
    pcm = tone(8000, 2.0)  # 32000 bytes: 7 sealed segments, 3328 bytes never sealed
    source = tmp_path / "pcm.raw"
    source.write_bytes(pcm)
    path = tmp_path / "killed.hlrec"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(path), entry, str(source)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"written\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    got = read_pcm(path, parse_keys([entry]), partial=True)
    assert not got.complete
    assert got.data == pcm[: 7 * SEGMENT_BYTES]


def test_the_writer_takes_whole_frames_only(tmp_path: Path) -> None:
    writer = RecordingWriter.open(tmp_path / "s.hlrec", "stereo", 16000, KEYS)
    with pytest.raises(ValueError):
        writer.write(b"\0\0")  # half a stereo frame
    writer.write(b"\0\0\0\0")
    assert writer.close().duration_s == 1 / 16000


@pytest.mark.parametrize("seconds", [0.0, 0.256, 2.0])  # empty, exactly one segment, several
def test_a_wav_file_read_by_ranges_equals_the_whole_wav(tmp_path: Path, seconds: float) -> None:
    path = tmp_path / "r.hlrec"
    record(path, tone(8000, seconds), 8000).close()
    whole = open_wav(path, KEYS)
    wav = WavFile(path, KEYS)
    assert wav.size == len(whole) and wav.header == whole[:44]
    assert b"".join(wav.read(0, wav.size)) == whole
    for start in range(0, wav.size, 1531):
        assert b"".join(wav.read(start, start + 5000)) == whole[start : start + 5000]


def test_a_wav_file_refuses_a_cut_or_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "t.hlrec"
    record(path, tone(8000, 2.0), 8000).close()
    original = path.read_bytes()
    path.write_bytes(original[:-5])  # cut: the last segment does not authenticate
    with pytest.raises(DomainError) as e:
        WavFile(path, KEYS)
    assert error_of(e) == "recording-corrupt"
    tampered = bytearray(original)
    tampered[header_size(path) + 2 * (SEGMENT_BYTES + TAG_BYTES) + 5] ^= 0x01
    path.write_bytes(bytes(tampered))
    wav = WavFile(path, KEYS)  # the end is intact: opens; the changed segment does not read
    assert b"".join(wav.read(0, 100))[:4] == b"RIFF"
    with pytest.raises(DomainError) as e:
        b"".join(wav.read(0, wav.size))
    assert error_of(e) == "recording-corrupt"
    with pytest.raises(DomainError) as e:
        WavFile(tmp_path / "missing.hlrec", KEYS)
    assert error_of(e) == "recording-not-found"
