"""One typed settings object: defaults in code, HOTLINE_* environment overrides."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDING_RETENTION_DAYS = 180


@dataclass(frozen=True)
class Settings:
    """Every knob of a Hotline process; tests construct it directly."""

    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file in data_dir
    # Connections each process keeps to a server database (twice that at a peak). A pool's
    # telephony workers keep 2 each (telephony/pool.py): 25 workers with 10 held all
    # of PostgreSQL's default 100 (benchmark B2).
    database_pool_size: int = 10
    redis_url: str = ""  # empty: bus and live state in process (single node)
    redis_prefix: str = "hl"  # keys, bus channel and Socket.IO channel share it
    secret_key: str = ""  # empty: generated once and kept in data_dir
    web_host: str = "127.0.0.1"
    web_port: int = 5000
    # Threads of the web server (gunicorn's gthread worker, console/node.py serve_web): each
    # open console holds one for as long as it is open (its Socket.IO WebSocket), each
    # browser-audio call one more; the rest serve pages and the API.
    web_threads: int = 256
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    sip_transports: tuple[str, ...] = ("udp", "tcp")
    trunk_sources: tuple[str, ...] = ("127.0.0.1/32",)
    # Kamailio in front of the worker (telephony/guard.py): "auto" starts it whenever the
    # binary is installed, "on" refuses to start without it, "off" never starts it.
    sip_guard: str = "auto"
    sip_guard_binary: str = "kamailio"
    sip_internal_port: int = 0  # the worker's loopback SIP port behind the guard; 0 = free
    # Requests per 2 s from one untrusted address before the guard drops it (pike).
    sip_flood_requests: int = 16
    # New INVITEs per second the guard passes to the worker, all sources together (more get
    # 503): the worker refuses ~40/s without running out of sockets (README, SIP guard).
    sip_invite_rate: int = 20
    sip_media_host: str = ""  # RTP address when it differs from sip_host (empty: sip_host)
    sip_outbound_proxy: str = ""  # SIP URI the worker's own calls go through (empty: direct)
    # Where outside numbers are called (blind and consult transfer, click-to-dial):
    # "host[:port]" of the carrier's SIP trunk or gateway; sip:<number>@<it>. Empty: calls
    # to outside numbers are refused with a clear error.
    outbound_trunk: str = ""
    max_calls: int = 4  # clamped to what the pjsua2 build supports
    worker_id: str = "worker-1"
    # Telephony worker processes of this node (telephony/pool.py). 1: the worker runs in the
    # node's own process, as in the single node. More: a pool of `hotline telephony`
    # processes behind one Kamailio dispatcher, each with max_calls slots; the workers share
    # the queue and live state through Redis, so HOTLINE_REDIS_URL is required.
    telephony_workers: int = 1
    # Where a pool sends callers when every worker is full: a SIP URI Kamailio relays the
    # INVITE to (e.g. "sip:4008001234@192.0.2.20"); empty: they get 486 Busy Here.
    sip_overflow_uri: str = ""
    country_code: str = "86"
    timezone: str = "Asia/Shanghai"
    # The supervisor's figures count by shift day (docs/supervision.md): local day D runs from
    # D at this hour to D+1 at this hour, so a 16:00-01:00 late shift stays on the day it
    # starts (docs/rules.md §0.3). It must fall between the end of the latest shift and the
    # start of the earliest one (default templates: 01:00 and 08:00).
    shift_day_start_hour: int = 6
    # The wallboard's "current interval": 15 or 30 minutes (60 also works), in local time.
    wallboard_interval_min: int = 30
    default_language: str = "zh-CN"
    moh_wav: Path | None = None  # None: generated into data_dir
    session_cookie_secure: bool = False
    # An agent whose last console connection drops is set offline after this grace time
    # (a page reload reconnects well within it), so calls are not offered to nobody.
    agent_disconnect_grace_s: float = 10.0
    # Failed sign-ins (console/services/logins.py): after login_max_failures wrong passwords
    # on one account, or login_address_max_failures from one address, within login_window_s,
    # sign-in there is refused for login_lock_s, doubling per further lock up to
    # login_lock_max_s. 0 failures turns that half off (e.g. behind a proxy without ProxyFix,
    # where every request comes from the proxy's address).
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_window_s: int = 900
    login_lock_s: int = 300
    login_lock_max_s: int = 3600
    # Call recordings (console/recordings/store.py): encrypted at rest with AES-256-GCM.
    # recording_keys holds "id:base64key" entries; the first encrypts new files, the others
    # only read old ones, so rotating is prepending a new key (python -m
    # console.recordings.keys prints one). Empty: one key generated once into data_dir.
    recording_keys: tuple[str, ...] = ()
    recording_dir: Path | None = None  # None: data_dir / "recordings"
    # docs/rules.md names no retention for recordings (§6.1 only asks that they exist).
    recording_retention_days: int = DEFAULT_RECORDING_RETENTION_DAYS
    # Browser audio (console/softphone): 16-bit PCM at this rate between the agent's page
    # and the bridge; 16000 keeps wideband speech, 8000 halves the bandwidth (256 kbit/s
    # each way at 16 kHz, 128 at 8 kHz).
    browser_audio_rate: int = 16000
    # A browser-audio call whose page is gone (reload, closed tab, network) waits this long
    # for the page to come back, the caller hearing music; then it goes back to the front
    # of its queue and the agent is set not ready.
    browser_audio_grace_s: int = 60
    # In the scaled shape a telephony process serves browser audio to the web tier here
    # (a private address; 0 picks a free port, registered with the worker's heartbeat).
    audio_host: str = "127.0.0.1"
    audio_port: int = 0
    run_telephony: bool = True
    run_scheduler: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hotline.db').resolve()}"

    @property
    def effective_secret_key(self) -> str:
        """The configured secret, or one generated once per data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def effective_recording_keys(self) -> tuple[str, ...]:
        """The configured recording keys ("id:base64key", newest first), or one generated
        once per data directory (kept in data_dir/recording_keys, one entry a line)."""
        if self.recording_keys:
            return self.recording_keys
        path = self.data_dir / "recording_keys"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_id = f"{dt.datetime.now(dt.UTC):%Y%m%d}-{secrets.token_hex(2)}"
            key = base64.b64encode(secrets.token_bytes(32)).decode()
            tmp = path.with_name(f"recording_keys.{secrets.token_hex(4)}.tmp")
            tmp.write_text(f"{key_id}:{key}\n")
            tmp.chmod(0o600)
            try:
                # Create-if-absent in one step: of two processes starting at once, one key
                # wins and both use it (a replace could drop a key already in use).
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())

    @property
    def effective_recording_dir(self) -> Path:
        """Where recordings are written."""
        return self.recording_dir or (self.data_dir / "recordings")

    @property
    def moh_path(self) -> Path:
        """Where the music-on-hold WAV lives."""
        return self.moh_wav or (self.data_dir / "moh.wav")

    def to_env(self) -> dict[str, str]:
        """These settings as HOTLINE_* variables (what from_env reads back), for a child
        process of the node; `extra` and unset optional paths are left out."""
        env: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            if isinstance(value, tuple):
                text = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            env[f"HOTLINE_{f.name.upper()}"] = text
        return env

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults overridden by HOTLINE_<FIELD> variables, then by keyword arguments."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"HOTLINE_{f.name.upper()}")
            if raw is None or f.name == "extra":
                continue
            values[f.name] = _parse(f.type, raw)
        values.update(overrides)
        return cls(**values)


def _parse(kind: Any, raw: str) -> Any:
    text = str(kind)
    if "tuple" in text:
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if "bool" in text:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "float" in text:
        return float(raw)
    if "int" in text:
        return int(raw)
    if "Path" in text:
        return Path(raw)
    return raw
