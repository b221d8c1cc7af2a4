"""The encrypted recording store: raw PCM in, authenticated ciphertext on disk, WAV out.

Library and construction
    AES-256-GCM from `cryptography` (pyca, maintained, OpenSSL underneath) in the STREAM
    construction (Hoang, Reyhanitabar, Rogaway, Vizár: "Online authenticated-encryption and
    its nonce-reuse misuse-resistance", 2015). Google Tink's Streaming AEAD was tried first
    and dropped: its encrypting stream only writes whole segments and cannot flush a partial
    one, and its decrypting stream decrypts the last segment present as *the* last segment,
    so a file cut by a crash exactly at a segment boundary loses its last complete segment
    and the reader cannot tell "cut" from "tampered". Here every segment is sealed on its
    own, so the reader can recover the whole prefix and say whether the file was finished.

File layout (`.hlrec`)
    header (plaintext, authenticated as the associated data of every segment)::

        magic "HLREC\\0" | version u8 | key id length u8 | sample rate u32 | channels u8 |
        sample width u8 | segment size u32 | nonce prefix 7 bytes | key id (UTF-8)

    then segments: AES-GCM(key, nonce, plaintext, header) of `SEGMENT_BYTES` of PCM each
    (the last one shorter, possibly empty), 16-byte tag included. The 12-byte nonce is
    nonce prefix (random per file) || segment counter u32 || last-segment flag u8, so segments
    cannot be reordered, dropped in the middle, moved between files, or truncated at a
    boundary without the reader noticing. A key encrypts 2^56 files before prefixes are
    likely to repeat (birthday bound on 7 random bytes): far beyond any centre's volume;
    rotate keys yearly anyway.

    The PCM is little-endian signed 16-bit (width 2), mono for the caller and agent channels,
    interleaved stereo (caller left, agent right) for the playback file. The reader builds
    the WAV header from the decrypted length, so an encrypted stream is never rewritten.

Segments, flushing, durability
    `SEGMENT_BYTES` = 4 KiB of PCM: 128 ms at 16 kHz mono, 256 ms at 8 kHz (6.4 / 12.8 of
    pjsua2's 20 ms frames). Each full segment is sealed and handed to the kernel at once
    (unbuffered `write`), so a killed worker process loses at most the unsealed tail
    (< 1 segment); the page cache survives the process. `fsync` runs at most every
    `FSYNC_EVERY_S` seconds of audio and at `close()`, which also fsyncs the directory:
    a machine crash loses at most that much. A recording is *acknowledged* only when
    `close()` returns its `RecordingInfo` (the caller then marks the row complete); nothing
    acknowledged is lost. The row is written (and committed) before the file is created
    (`new_path` names it), so no file exists that no row points to and the purge finds.

Failure
    Any `OSError` opening or writing (ENOSPC, EACCES, EROFS, EIO…) marks the writer failed at
    once and raises `DomainError("recording-write-failed")`; every later `write` raises it
    again without touching the disk. The caller marks the row failed and the call goes on.
    What was sealed before the failure stays readable with `partial=True`.

Reading
    `read_pcm` / `open_wav` decrypt with the key the header names (`recording-key-unknown`
    if it is not among the configured keys). Any segment failing authentication is
    `recording-corrupt` (wrong key, tampered byte). A file without its last segment (the
    writer died, or the disk filled) is `recording-corrupt` too unless `partial=True`, which
    returns every complete segment before the cut: use it for rows in status recording or
    failed, never for complete ones. (A partial file whose only segment is cut short reads
    as empty whatever the key: there is no complete segment to authenticate; and a changed
    byte in the unfinished tail reads as the cut it looks like: everything before it is
    still authenticated.) A missing file
    is `recording-not-found`.

Keys
    `HOTLINE_RECORDING_KEYS="id2:base64key2,id1:base64key1"`: 32-byte keys, base64; ids are
    1..64 characters of [A-Za-z0-9._-]. The first key encrypts new files; all of them read.
    Rotation: generate a key (`python -m console.recordings.keys`), prepend it, restart the
    nodes; old files keep reading with their key, which may be dropped once the retention
    period has purged every file it wrote (`SELECT DISTINCT key_id FROM recordings WHERE
    status <> 'purged'`), or at once after `python -m console.recordings.rekey` has
    re-encrypted them under the new key (console/recordings/rekey.py). With no key
    configured, one is generated once into the data directory (single-node demo); back
    that file up with the recordings.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import enum
import errno
import hashlib
import io
import os
import re
import secrets
import struct
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from console.core.errors import DomainError

MAGIC = b"HLREC\0"
VERSION = 1
SAMPLE_WIDTH = 2  # 16-bit PCM
SEGMENT_BYTES = 4096
TAG_BYTES = 16
NONCE_PREFIX_BYTES = 7
FSYNC_EVERY_S = 1.0
SAMPLE_RATES = (8000, 16000, 32000, 48000)
SUFFIX = ".hlrec"
_FIXED = struct.Struct(">6sBBIBBI7s")
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Channel(enum.StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    STEREO = "stereo"  # caller left, agent right: the playback file

    @property
    def channels(self) -> int:
        return 2 if self is Channel.STEREO else 1


class RecordingStatus(enum.StrEnum):
    RECORDING = "recording"
    COMPLETE = "complete"
    FAILED = "failed"
    PURGED = "purged"


@dataclass(frozen=True)
class RecordingKey:
    id: str
    key: bytes


@dataclass(frozen=True)
class RecordingInfo:
    """What a closed recording puts on its row."""

    path: Path
    key_id: str
    sample_rate: int
    channels: int
    size_bytes: int  # of the ciphertext file
    duration_s: float
    sha256: str  # of the ciphertext file, hex


@dataclass(frozen=True)
class Pcm:
    """A decrypted recording: raw PCM and whether the file held its last segment."""

    data: bytes
    sample_rate: int
    channels: int
    sample_width: int
    key_id: str
    complete: bool

    @property
    def duration_s(self) -> float:
        return len(self.data) / (self.sample_rate * self.channels * self.sample_width)


def generate_key(key_id: str | None = None) -> str:
    """A new recording key entry, "id:base64key", for HOTLINE_RECORDING_KEYS."""
    key_id = key_id or f"{dt.datetime.now(dt.UTC):%Y%m%d}-{secrets.token_hex(2)}"
    if not _KEY_ID.match(key_id):
        raise ValueError(f"bad key id {key_id!r}")
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def parse_keys(entries: Iterable[str]) -> tuple[RecordingKey, ...]:
    """The configured "id:base64key" entries as keys, newest first; ValueError when malformed."""
    keys: list[RecordingKey] = []
    for entry in entries:
        key_id, sep, b64 = entry.strip().partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ValueError(f"recording key entry without a valid id: {key_id!r}")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error as e:
            raise ValueError(f"recording key {key_id}: not base64") from e
        if len(key) != 32:
            raise ValueError(f"recording key {key_id}: {len(key)} bytes, want 32")
        if any(k.id == key_id for k in keys):
            raise ValueError(f"recording key {key_id} given twice")
        keys.append(RecordingKey(key_id, key))
    if not keys:
        raise ValueError("no recording key")
    return tuple(keys)


def new_path(directory: Path, call_id: str, channel: Channel, now: dt.datetime) -> Path:
    """Where a new recording goes: <dir>/YYYY/MM/DD/<call>-<channel>-<random>.hlrec."""
    name = f"{call_id}-{channel.value}-{secrets.token_hex(4)}{SUFFIX}"
    return directory / f"{now:%Y}" / f"{now:%m}" / f"{now:%d}" / name


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _header(key_id: str, sample_rate: int, channels: int, prefix: bytes) -> bytes:
    kid = key_id.encode()
    fixed = _FIXED.pack(
        MAGIC, VERSION, len(kid), sample_rate, channels, SAMPLE_WIDTH, SEGMENT_BYTES, prefix
    )
    return fixed + kid


def _exclusive_open(path: Path) -> io.RawIOBase:
    return io.FileIO(path, "xb")


def _write_failed(e: OSError, path: Path) -> DomainError:
    reason = errno.errorcode.get(e.errno or 0, "EIO")
    return DomainError("recording-write-failed", detail=f"{reason} {path}", reason=reason)


class RecordingWriter:
    """Encrypts one channel of one call into its file; see the module docstring."""

    def __init__(
        self,
        path: Path,
        channel: Channel,
        sample_rate: int,
        key: RecordingKey,
        *,
        opener: Callable[[Path], io.RawIOBase] = _exclusive_open,
    ) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample rate {sample_rate}")
        self.path = path
        self.channel = channel
        self.sample_rate = sample_rate
        self.key_id = key.id
        self.failed: DomainError | None = None
        self._aead = AESGCM(key.key)
        self._prefix = secrets.token_bytes(NONCE_PREFIX_BYTES)
        self._header = _header(key.id, sample_rate, channel.channels, self._prefix)
        self._buffer = bytearray()
        self._counter = 0
        self._pcm_bytes = 0
        self._size = 0
        self._sha = hashlib.sha256()
        self._unsynced = 0
        self._sync_every = int(FSYNC_EVERY_S * sample_rate * channel.channels * SAMPLE_WIDTH)
        self._closed = False
        self._file: io.RawIOBase | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = opener(path)
            self._emit(self._header)
        except OSError as e:
            raise self._fail(e) from e

    @classmethod
    def open(
        cls,
        path: Path,
        channel: Channel | str,
        sample_rate: int,
        keys: tuple[RecordingKey, ...],
        *,
        opener: Callable[[Path], io.RawIOBase] = _exclusive_open,
    ) -> RecordingWriter:
        """A writer for a new file at `path` (see `new_path`), encrypting with the first key."""
        return cls(path, Channel(channel), sample_rate, keys[0], opener=opener)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample frame (all channels)."""
        return self.channel.channels * SAMPLE_WIDTH

    def write(self, pcm: bytes) -> None:
        """Append PCM (whole sample frames); seals and writes every full segment at once."""
        if self.failed is not None:
            raise self.failed
        if self._closed:
            raise ValueError("recording closed")
        if len(pcm) % self.frame_bytes:
            raise ValueError(f"{len(pcm)} bytes is not whole {self.frame_bytes}-byte frames")
        self._buffer += pcm
        self._pcm_bytes += len(pcm)
        try:
            while len(self._buffer) >= SEGMENT_BYTES:
                self._seal(bytes(self._buffer[:SEGMENT_BYTES]), last=False)
                del self._buffer[:SEGMENT_BYTES]
            if self._unsynced >= self._sync_every:
                self._sync()
        except OSError as e:
            raise self._fail(e) from e

    def close(self) -> RecordingInfo:
        """Seal the last segment, fsync file and directory; the recording is then acknowledged."""
        if self.failed is not None:
            raise self.failed
        if self._closed:
            raise ValueError("recording closed")
        try:
            # Whatever is buffered (less than a segment, possibly nothing) is the last segment.
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._sync()
            assert self._file is not None
            self._file.close()
            self._file = None
            _fsync_dir(self.path.parent)
        except OSError as e:
            raise self._fail(e) from e
        self._closed = True
        return RecordingInfo(
            path=self.path,
            key_id=self.key_id,
            sample_rate=self.sample_rate,
            channels=self.channel.channels,
            size_bytes=self._size,
            duration_s=self._pcm_bytes / (self.sample_rate * self.frame_bytes),
            sha256=self._sha.hexdigest(),
        )

    def abandon(self) -> None:
        """Close the file without sealing the last segment (what a crash leaves behind)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._closed = True

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        self._emit(self._aead.encrypt(nonce, plain, self._header))
        self._counter += 1
        self._unsynced += len(plain)

    def _emit(self, data: bytes) -> None:
        assert self._file is not None
        view = memoryview(data)
        while view:
            n = self._file.write(view)
            if n is None:  # non-blocking file with nothing written: treat as I/O error
                raise OSError(errno.EIO, "write returned None")
            view = view[n:]
        self._size += len(data)
        self._sha.update(data)

    def _sync(self) -> None:
        assert self._file is not None
        try:
            fd = self._file.fileno()
        except (OSError, io.UnsupportedOperation):
            fd = -1  # an in-memory file (tests): nothing to sync
        if fd >= 0:
            os.fsync(fd)
        self._unsynced = 0

    def _fail(self, e: OSError) -> DomainError:
        self.failed = _write_failed(e, self.path)
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        return self.failed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _corrupt(path: Path, why: str) -> DomainError:
    return DomainError("recording-corrupt", detail=f"{path.name}: {why}")


class RecordingReader:
    """Reads a recording incrementally: the header at once, then `segments()` one by one.

    `complete` is True once `segments()` has yielded the last segment of a finished file.
    """

    def __init__(self, path: Path, keys: tuple[RecordingKey, ...], *, partial: bool) -> None:
        self.path = path
        self.partial = partial
        self.complete = False
        with path.open("rb") as f:
            fixed = f.read(_FIXED.size)
            if len(fixed) < _FIXED.size:
                raise _corrupt(path, "short header")
            magic, version, kid_len, rate, channels, width, segment, prefix = _FIXED.unpack(fixed)
            if magic != MAGIC or version != VERSION or width != SAMPLE_WIDTH or segment < 1:
                raise _corrupt(path, "not a recording")
            kid_raw = f.read(kid_len)
        self._header = fixed + kid_raw
        self._prefix: bytes = prefix
        self._segment: int = segment
        self.sample_rate: int = rate
        self.channels: int = channels
        self.sample_width: int = width
        self.key_id = kid_raw.decode(errors="replace")
        key = next((k for k in keys if k.id == self.key_id), None)
        if key is None:
            raise DomainError("recording-key-unknown", detail=self.key_id, key_id=self.key_id)
        self._aead = AESGCM(key.key)

    def _open(self, counter: int, chunk: bytes, last: bool) -> bytes | None:
        try:
            return self._aead.decrypt(_nonce(self._prefix, counter, last), chunk, self._header)
        except InvalidTag:
            return None

    def segments(self) -> Iterator[bytes]:
        """Decrypted segments in order; `recording-corrupt` at the first that fails."""
        size = self._segment + TAG_BYTES
        path = self.path
        with path.open("rb") as f:
            f.seek(len(self._header))
            counter = 0
            chunk = f.read(size)
            while True:
                following = f.read(size) if len(chunk) == size else b""
                if following:
                    plain = self._open(counter, chunk, last=False)
                    if plain is None:
                        raise _corrupt(path, f"segment {counter}")
                    yield plain
                    chunk, counter = following, counter + 1
                    continue
                # The final chunk: the last segment of a finished file…
                plain = self._open(counter, chunk, last=True)
                if plain is not None:
                    self.complete = True
                    yield plain
                    return
                # …or a file cut by a crash or a full disk: exactly after a full segment
                # (which then opens as a middle segment), or inside one.
                if len(chunk) == size:
                    plain = self._open(counter, chunk, last=False)
                    if plain is None:
                        raise _corrupt(path, f"segment {counter}")
                    if not self.partial:
                        raise _corrupt(path, "no last segment (unfinished)")
                    yield plain
                    return
                if not self.partial:
                    raise _corrupt(path, f"segment {counter} cut short (unfinished)")
                return


def read_pcm(path: Path, keys: tuple[RecordingKey, ...], *, partial: bool = False) -> Pcm:
    """The decrypted PCM of a recording (see the module docstring for `partial`)."""
    try:
        reader = RecordingReader(path, keys, partial=partial)
        data = b"".join(reader.segments())
    except FileNotFoundError as e:
        raise DomainError("recording-not-found", detail=path.name) from e
    return Pcm(
        data=data,
        sample_rate=reader.sample_rate,
        channels=reader.channels,
        sample_width=reader.sample_width,
        key_id=reader.key_id,
        complete=reader.complete,
    )


WAV_HEADER_BYTES = 44


def wav_header(data_bytes: int, sample_rate: int, channels: int) -> bytes:
    """The canonical 44-byte RIFF/WAVE header of 16-bit PCM holding data_bytes."""
    block = channels * SAMPLE_WIDTH
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, channels, sample_rate,
        sample_rate * block, block, SAMPLE_WIDTH * 8, b"data", data_bytes,
    )  # fmt: skip


class WavFile:
    """A finished recording seen as a WAV file whose bytes are decrypted on demand: a range
    of it costs the segments it covers, so a player can seek in an hour-long call without
    the server decrypting (or holding) all of it.

    Opening authenticates the last segment (a truncated or tampered end is refused at once);
    each segment read is authenticated as it is decrypted. Finished files only: an
    unfinished one (a crash, a full disk) has no last segment to size it by; read it whole
    with `open_wav(partial=True)`.
    """

    def __init__(self, path: Path, keys: tuple[RecordingKey, ...]) -> None:
        try:
            self._reader = reader = RecordingReader(path, keys, partial=False)
            body = path.stat().st_size - len(reader._header)
        except FileNotFoundError as e:
            raise DomainError("recording-not-found", detail=path.name) from e
        self._chunk = reader._segment + TAG_BYTES
        # Every segment is full but the last, which holds 0..segment bytes (+ its tag).
        self._segments = max(1, -(-body // self._chunk))
        pcm = body - self._segments * TAG_BYTES
        if body <= 0 or pcm < 0 or pcm > self._segments * reader._segment:
            raise _corrupt(path, "length")
        last = self._read_segment(self._segments - 1)  # authenticates the end
        if len(last) != pcm - (self._segments - 1) * reader._segment:
            raise _corrupt(path, "length")
        self._last = last
        self.data_bytes = pcm
        self.header = wav_header(pcm, reader.sample_rate, reader.channels)
        self.size = len(self.header) + pcm

    def _read_segment(self, index: int) -> bytes:
        reader = self._reader
        with reader.path.open("rb") as f:
            f.seek(len(reader._header) + index * self._chunk)
            chunk = f.read(self._chunk)
        plain = reader._open(index, chunk, last=index == self._segments - 1)
        if plain is None:
            raise _corrupt(reader.path, f"segment {index}")
        return plain

    def read(self, start: int, stop: int) -> Iterator[bytes]:
        """The WAV file's bytes [start, stop), in pieces of at most one segment."""
        start, stop = max(0, start), min(stop, self.size)
        if start < len(self.header):
            yield self.header[start : min(stop, len(self.header))]
        first = max(0, start - len(self.header))
        end = stop - len(self.header)
        segment = self._reader._segment
        index = first // segment
        while index * segment < end:
            plain = self._last if index == self._segments - 1 else self._read_segment(index)
            lo = index * segment
            yield plain[max(0, first - lo) : end - lo]
            index += 1


def open_wav(path: Path, keys: tuple[RecordingKey, ...], *, partial: bool = False) -> bytes:
    """The recording as a WAV file (header computed from the decrypted length)."""
    pcm = read_pcm(path, keys, partial=partial)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(pcm.channels)
        w.setsampwidth(pcm.sample_width)
        w.setframerate(pcm.sample_rate)
        w.writeframes(pcm.data)
    return out.getvalue()
