"""B2 telephony load: concurrent answered and recorded calls on one node, against SIPp alone.

What runs, all on loopback:

- a node as `hotline run --workers N` (gunicorn's master and worker: the web role and the
  pool's supervisor; Kamailio's dispatcher; N `hotline telephony` processes with 4 call
  slots each) in its own process tree, on PostgreSQL (a schema of its own, dropped at the
  end) or SQLite, and Redis (a key prefix of its own, cleared at the end); the scheduler
  role is left out (`--with-scheduler` keeps it): its QA analysis of the recordings made
  here would land in the measured window;
- its own queue (number 10086), disposition and `--agents` agents without a SIP phone
  (browser audio: a call takes one slot), each a Socket.IO client in this process
  (tests/integration/harness.py `AgentClient`) that is available, answers every offer,
  posts the wrap-up through the API when the call ends (which makes her available again).
  No page attaches to the audio socket: the call counts as answered at the answer, and the
  caller hears music meanwhile (the browser-audio grace is raised above the call's length
  so the call is not handed back to the queue);
- SIPp (bench/scenarios/b2_caller.xml) placing calls at `--cps`, at most `--calls` at
  once, each streaming espeak-ng speech (8 kHz A-law, rtp_stream) and hanging up
  `--hold` seconds after the 200, for `--duration` seconds, through Kamailio;
- then the same SIPp load against a SIPp UAS (bench/scenarios/b2_uas.xml) that answers
  and streams speech back, with no application: the baseline.

Figures, over the steady window (from `--warmup` after the first call to the end of the
duration):

- concurrent: answered calls up at once (answered, not yet ended, from the call records),
  sampled every 100 ms: the median (`concurrent`), the peak and the minimum;
- failed: SIPp's failed calls (refused, timed out, unexpected message) + calls the node
  took but no agent answered + answered calls that ended otherwise than by the caller's
  BYE (a worker's crash, say). A call both sides saw fail may count twice (a worker that
  died: its record says so, and the caller's BYE gets no answer): the target is 0 anyway;
- cps: new calls the node took (not refused) per second in the window;
- recordings_ok: answered calls whose three recordings (caller, agent, stereo) are
  complete and each, decrypted, within 0.1 s of the call's talk time (ended - answered,
  from the call record, as tests/integration/test_call_recordings.py checks it); also
  whether the caller's speech is on the caller channel;
- CPU % of one core per call: user+system time of the node's whole process tree over the
  window / window length / mean answered calls up in it (the idle cost of the workers is
  included: it is what a call costs at this load; `cpu_pct_marginal_per_call` leaves the
  idle cost, measured before the first call with the agents signed in, out);
- RSS and PSS MB per call: summed over the tree, sampled in the window (median), / mean
  answered calls up; PSS shares Kamailio's and the workers' common pages fairly;
- baseline: the SIPp UAS's CPU % and RSS per call up (mean of SIPp's CurrentCall in its
  window), and ratio = node CPU per call / baseline CPU per call.

SIPp never has more than `--calls` calls up, so that a caller beyond the pool's slots
(workers × 4) is not refused by design; each slot spends a moment between two calls and
each call a moment before its answer, so with `--calls` equal to the slots the answered
calls up stay a little under it, and calls/s a little under `--calls / (--hold + setup)`.
To show a sustained 100, give the pool headroom (e.g. `--workers 26 --calls 104`).

The run ends with one `RESULT B2 ...` line (BENCHMARKS.md, Output contract). It checks the
worker logs, the node's log and Kamailio's log for errors and prints what it found.

Run: `python -m bench.telephony_load` (5 minutes of load, then 5 of baseline); a short run:
`python -m bench.telephony_load --workers 4 --calls 12 --duration 30`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import math
import os
import queue
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, select, text

from bench.common import descendants, machine, proc_stats
from console.core.db import make_engine, make_session_factory, upgrade
from console.core.models import Call, Customer, CustomerPhone, Disposition, Queue, Recording
from console.core.settings import Settings
from console.recordings.store import RecordingKey, parse_keys, read_pcm
from console.users.services import create_user
from tests.helpers import free_media_port, free_port
from tests.integration.harness import AgentClient

SCENARIOS = Path(__file__).parent / "scenarios"
PG_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379/0")
SERVICE = "10086"  # the number the callers dial: the benchmark's queue answers it
SKILL = "b2"
DISPOSITION = "resolved"
MAX_CALLS_PER_WORKER = 4  # the pjsua2 wheel's compiled-in limit (README)
RECORDING_TOLERANCE_S = 0.1  # BENCHMARKS.md B2: every recording within 0.1 s of the call
CHANNELS = ("caller", "agent", "stereo")
REFUSALS = ("no-capacity", "refused")  # end reasons of callers a worker turned away
# Caller numbers: SIPp takes them in turn from an injection file; every other one belongs
# to a customer, so half the offers carry a customer record in their screen pop.
CALLER_NUMBERS = 2000
SPEECH_TEXT = (
    "Hello, I am calling about my gas bill for last month. The meter reading looks far too "
    "high to me, and I would like somebody to check it. My account number is four two "
    "seven, nine nine one, three zero. I was at home all week, so the reading cannot be "
    "right. Could you also tell me when the next inspection is planned? Thank you."
)


# -- speech ---------------------------------------------------------------------------------
def alaw_encode(pcm: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """16-bit linear PCM to G.711 A-law bytes (ITU-T G.711 segment coding, vectorised)."""
    x = pcm.astype(np.int32) >> 3  # A-law codes 13-bit magnitudes
    negative = x < 0
    mask = np.where(negative, 0x55, 0xD5)
    magnitude = np.where(negative, -x - 1, x)
    segment_ends = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    segment = np.searchsorted(segment_ends, magnitude)  # first end >= magnitude; 8: clipped
    shift = np.where(segment < 2, 1, segment)
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


def make_speech(workdir: Path) -> Path:
    """speech.al in workdir: espeak-ng's English at 8 kHz A-law, raw, what rtp_stream
    streams (SIPp loops it). espeak-ng speaks at 22,050 Hz: resampled here through the
    spectrum, which also cuts everything above 4 kHz (no sox on these machines)."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed for the callers' speech: apt-get install espeak-ng")
    wav = workdir / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SPEECH_TEXT],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with wave.open(str(wav)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        frames = w.readframes(w.getnframes())
    if width != 2 or channels != 1:
        raise SystemExit(
            f"espeak-ng wrote {channels} channels of {8 * width} bits; expected mono 16"
        )
    x = np.frombuffer(frames, dtype="<i2").astype(float)
    n = round(len(x) * 8000 / rate)
    y = np.fft.irfft(np.fft.rfft(x)[: n // 2 + 1], n=n) * (n / len(x))
    pcm = np.clip(np.round(y * 0.8), -32768, 32767).astype(np.int16)  # some headroom
    out = workdir / "speech.al"
    out.write_bytes(alaw_encode(pcm).tobytes())
    return out


# -- processes: CPU and memory from /proc -----------------------------------------------------


@dataclass
class Proc:
    pid: int
    ppid: int
    kind: str  # worker | kamailio | node | sipp
    cpu_s: float  # own user + system time
    children_cpu_s: float  # of its children that ended and were waited for
    rss_mb: float
    pss_mb: float
    started: int  # clock ticks after boot: with the pid, names the process for good


def _kind(pid: int) -> str:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    if "kamailio" in cmdline:
        return "kamailio"
    if "console.cli telephony" in cmdline:
        return "worker"
    if "sipp" in cmdline.split(" ", 1)[0]:
        return "sipp"
    return "node"


def _memory_mb(pid: int) -> tuple[float, float]:
    rss = pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


def process_tree(root: int, memory: bool = False) -> dict[int, Proc]:
    """root and every process under it, with their CPU times (and memory when asked)."""
    stats = proc_stats()
    out = {}
    for pid in descendants(root, stats):
        if pid not in stats:
            continue
        ppid, own, reaped, started = stats[pid]
        rss, pss = _memory_mb(pid) if memory else (0.0, 0.0)
        out[pid] = Proc(pid, ppid, _kind(pid), own, reaped, rss, pss, started)
    return out


def db_connections(pids: list[int], port: int = 5432) -> int:
    """Established TCP connections to `port` held by these processes: PostgreSQL's
    max_connections (100 by default) is shared by every worker's connection pool."""
    established: set[str] = set()  # socket inodes
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                if remote_port == port and cols[3] == "01":  # 01: ESTABLISHED
                    established.add(cols[9])
    held = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in established:
                        held.add(target)
    return len(held)


def tree_cpu_s(procs: dict[int, Proc]) -> float:
    """CPU time of the tree, children that ended (a worker restarted) included."""
    return sum(p.cpu_s + p.children_cpu_s for p in procs.values())


def cpu_by_kind(before: dict[int, Proc], after: dict[int, Proc]) -> dict[str, float]:
    """CPU seconds per kind of process between two snapshots (processes in both)."""
    used: dict[str, float] = {}
    for pid, p in after.items():
        if pid in before:
            used[p.kind] = used.get(p.kind, 0.0) + p.cpu_s - before[pid].cpu_s
    return used


# -- SIPp ----------------------------------------------------------------------------------
@dataclass
class SippRun:
    proc: subprocess.Popen[bytes]
    workdir: Path
    stats_file: Path

    def rows(self) -> list[dict[str, str]]:
        """SIPp's statistics rows (-trace_stat, one a second), as column -> value."""
        if not self.stats_file.exists():
            return []
        lines = self.stats_file.read_text(errors="replace").splitlines()
        if len(lines) < 2:
            return []
        head = lines[0].rstrip(";").split(";")
        return [dict(zip(head, line.rstrip(";").split(";"), strict=False)) for line in lines[1:]]

    def errors(self) -> str:
        logs = sorted(self.workdir.glob(f"*_{self.proc.pid}_errors.log"))
        return "".join(p.read_text(errors="replace") for p in logs)


def stat_time(row: dict[str, str]) -> float:
    """A row's CurrentTime as epoch seconds (SIPp writes date, time and epoch)."""
    return float(row.get("CurrentTime", "0").split()[-1])


def stat_int(row: dict[str, str], name: str) -> int:
    try:
        return int(row.get(name, "0") or 0)
    except ValueError:
        return 0


def start_sipp(workdir: Path, args: list[str], scenario: str, tag: str) -> tuple[SippRun, int]:
    """SIPp on a free port of its own (picked again if another process took it meanwhile:
    SIPp exits at once when it cannot bind). Returns the run and its SIP port."""
    for _ in range(5):
        port, media = free_port(), free_media_port()
        stats = workdir / f"{tag}-stats.csv"
        cmd = [
            "sipp", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port),
            "-mp", str(media), "-nostdin", "-aa", "-trace_err", "-trace_screen",
            "-trace_stat", "-stf", str(stats), "-fd", "1", *args,
        ]  # fmt: skip
        # Its stderr to a file, not a pipe: a pipe nobody reads would stop SIPp once full.
        err_log = workdir / f"{tag}-stderr.log"
        with err_log.open("wb") as err_file:
            proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=err_file)
        try:
            proc.wait(timeout=0.3)
        except subprocess.TimeoutExpired:
            return SippRun(proc, workdir, stats), port
        err = err_log.read_text(errors="replace")
        if "bind" not in err.lower():
            raise RuntimeError(f"sipp exited at once: {err[-2000:]}")
    raise RuntimeError("sipp could not bind a free port five times")


def caller_load(
    workdir: Path, target: str, args: argparse.Namespace, duration: float
) -> tuple[SippRun, int]:
    """The callers: at most --calls at once, --cps new ones a second, each --hold s long."""
    inf = workdir / "callers.csv"
    if not inf.exists():
        inf.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in caller_numbers()))
    return start_sipp(
        workdir,
        [
            "-inf", str(inf), "-s", SERVICE, "-l", str(args.calls), "-r", str(args.cps),
            "-d", str(round(args.hold * 1000)),
            # A safety net only: the benchmark stops it softly (SIGUSR1) at the end.
            "-timeout", f"{round(duration + args.hold + 300)}s", target,
        ],
        "b2_caller.xml",
        "uac",
    )  # fmt: skip


def caller_numbers() -> list[str]:
    return [f"139{n:08d}" for n in range(1, CALLER_NUMBERS + 1)]


def stop_sipp(run: SippRun, grace: float) -> None:
    """Soft exit (SIGUSR1: no new calls, the calls up run to their end), then a kill."""
    if run.proc.poll() is None:
        run.proc.send_signal(signal.SIGUSR1)
        try:
            run.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            run.proc.kill()
            run.proc.wait(timeout=10)


def kill(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


# -- the node --------------------------------------------------------------------------------
@dataclass
class Database:
    url: str
    drop: str = ""  # a PostgreSQL schema to drop at the end

    @classmethod
    def create(cls, kind: str, data_dir: Path, pg_url: str) -> Database:
        if kind == "sqlite":
            url = f"sqlite:///{data_dir / 'b2.db'}"
            upgrade(url)
            return cls(url)
        # A schema of this run's own on the shared server, as tests/conftest.py pg_url does:
        # nothing else sees these rows, and dropping it removes them all.
        schema = "b2_" + secrets.token_hex(6)
        engine = create_engine(pg_url)
        try:
            with engine.begin() as c:
                c.execute(text(f"create schema {schema}"))
        finally:
            engine.dispose()
        db = cls(f"{pg_url}?options=-csearch_path%3D{schema}", schema)
        try:
            upgrade(db.url)
        except BaseException:
            db.close(pg_url)
            raise
        return db

    def max_connections(self) -> str:
        if not self.drop:
            return ""
        engine = create_engine(self.url)
        try:
            with engine.connect() as c:
                return str(c.execute(text("show max_connections")).scalar())
        finally:
            engine.dispose()

    def close(self, pg_url: str) -> None:
        if not self.drop:
            return
        engine = create_engine(pg_url)
        try:
            with engine.begin() as c:
                # A node left running would hold locks: fail rather than wait for ever.
                c.execute(text("set lock_timeout = '20s'"))
                c.execute(text(f"drop schema if exists {self.drop} cascade"))
        finally:
            engine.dispose()


def seed(url: str, agents: int) -> list[str]:
    """The benchmark's queue, disposition, customers and agents; returns the agents' names
    (each one's password is her name)."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    names = [f"b2agent{i:03d}" for i in range(1, agents + 1)]
    try:
        with sessions.begin() as s:
            s.add(Disposition(code=DISPOSITION, label_en="Resolved", label_zh="已解决"))
            s.add(Queue(name="b2", numbers=[SERVICE], skill=SKILL, is_default=True))
            for i, number in enumerate(caller_numbers()[::2]):
                customer = Customer(name=f"客户{i:04d}", grade="ABCD"[i % 4])
                customer.phones = [CustomerPhone(number=f"+86{number}")]
                s.add(customer)
            for name in names:
                create_user(s, name, name, "agent", name, language="en", skills=[SKILL])
    finally:
        engine.dispose()
    return names


@dataclass
class Node:
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    base_url: str
    sip: str  # Kamailio's address, where callers send their INVITEs


def start_node(
    args: argparse.Namespace, data_dir: Path, url: str, prefix: str, agents: int
) -> Node:
    web_port, sip_port = free_port(), free_port()
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": args.redis_url,
        "HOTLINE_REDIS_PREFIX": prefix,
        "HOTLINE_SECRET_KEY": "bench-b2",
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_WEB_PORT": str(web_port),
        "HOTLINE_WORKER_ID": "b2",
        "HOTLINE_TELEPHONY_WORKERS": str(args.workers),
        "HOTLINE_RUN_SCHEDULER": "true" if args.with_scheduler else "false",
        # Each agent's console holds a web thread for its WebSocket; the API needs more.
        "HOTLINE_WEB_THREADS": str(max(256, 2 * agents + 64)),
        # The guard passes at most this many new INVITEs a second (default 20).
        "HOTLINE_SIP_INVITE_RATE": str(max(20, math.ceil(2 * args.cps))),
        # No page attaches to the calls' audio: without this, a call longer than the grace
        # would go back to the queue as if the agent's browser had gone.
        "HOTLINE_BROWSER_AUDIO_GRACE_S": str(max(60, math.ceil(args.hold) + 60)),
    }
    log = data_dir / "node.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl+C here reaches the benchmark, which stops it
        )
    # Each worker imports Hotline and starts pjsua2: on 2 cores a pool takes a while.
    deadline = time.monotonic() + 120 + 4 * args.workers
    while b"web: http" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_node_proc(proc)
            raise RuntimeError(
                "the node did not start:\n" + log.read_text(errors="replace")[-4000:]
            )
        time.sleep(0.2)
    found = re.search(r"SIP: (\S+)", log.read_text(errors="replace"))
    sip = found[1] if found else f"127.0.0.1:{sip_port}"
    return Node(proc, data_dir, log, f"http://127.0.0.1:{web_port}", sip)


def stop_node_proc(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to `hotline run` (the calls are hung up, the records closed, the workers and
    Kamailio stopped), then any process of its tree still there is killed: the same
    process only (pid and start time), never another that took a freed pid since."""
    if proc.poll() is not None:
        return
    tree = process_tree(proc.pid)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        print("the node did not stop within 90 s: killing its processes", flush=True)
        tree |= process_tree(proc.pid)
    now = process_tree(1)  # every process, to check each one is still the one it was
    for pid, p in tree.items():
        if pid in now and now[pid].started == p.started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


# -- agents ----------------------------------------------------------------------------------
@dataclass
class AgentStats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def count(self, what: str, error: str = "") -> None:
        with self.lock:
            self.counts[what] += 1
            if error:
                self.errors[f"{what}: {error[:120]}"] += 1


class Agent:
    """A browser agent without a SIP phone, as the console drives it: answers every offer,
    and when her call ends posts the wrap-up (the API then makes her available again). Her
    Socket.IO events are handled on a thread of her own: a Socket.IO call made from the
    client's event handler would wait on the thread that has to read its answer."""

    def __init__(self, client: AgentClient, stats: AgentStats) -> None:
        self.client, self.stats = client, stats
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="b2-agent", daemon=True)

    def start(self) -> None:
        self.client.available()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                name, data, _ = self.client.events.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                if name == "call_offered":
                    self._answer(str(data["call_id"]))
                elif name == "call_ended" and data.get("agent_id") is not None:
                    self._wrap_up(str(data["call_id"]))
                elif name == "call_offer_withdrawn":
                    self.stats.count("offer withdrawn", str(data.get("reason", "")))
            except Exception as e:  # noted, and she goes on with the next event
                self.stats.count(f"{name} handling failed", repr(e))

    def _answer(self, call_id: str) -> None:
        self.stats.count("offered")
        result = self.client.call("answer", {"call_id": call_id})
        if result.get("ok"):
            self.stats.count("answered")
        else:
            self.stats.count("answer refused", str(result.get("error")))

    def _wrap_up(self, call_id: str) -> None:
        r = self.client.wrap_up(call_id, DISPOSITION)
        if r.status_code == 200:
            self.stats.count("wrapped up")
            return
        self.stats.count("wrap-up refused", f"{r.status_code} {r.text[:100]}")
        # Not lost for the rest of the run: she makes herself available again.
        with contextlib.suppress(Exception):
            self.client.available()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self.client.close()


def sign_in(base_url: str, names: list[str], stats: AgentStats) -> list[Agent]:
    """Sign the agents in (a few at a time: each sign-in hashes a password on the node)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(lambda n: AgentClient(base_url, n), names))
    agents = [Agent(c, stats) for c in clients]
    for a in agents:
        a.start()
    return agents


# -- measuring -------------------------------------------------------------------------------
@dataclass
class Window:
    start: float  # epoch seconds
    end: float
    cpu_s: float = 0.0
    cpu_by_kind: dict[str, float] = field(default_factory=dict)
    rss_mb: list[float] = field(default_factory=list)
    pss_mb: list[float] = field(default_factory=list)
    pids_seen: dict[str, set[int]] = field(default_factory=dict)
    # The last memory sample by kind of process: (processes, RSS MB, PSS MB).
    memory_by_kind: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    db_connections: list[int] = field(default_factory=list)  # the tree's, to PostgreSQL

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def cpu_pct(self) -> float:
        return self.cpu_s / self.seconds * 100 if self.seconds > 0 else float("nan")


def measure(
    root: int,
    start: float,
    warmup: float,
    duration: float,
    alive: list[subprocess.Popen[bytes]],
) -> Window:
    """Wait out the warm-up, then take the tree's CPU time at both ends of the window and
    its memory every 5 s in it; returns at start + duration. Stops early (and says so) if
    one of `alive` ends."""
    win = Window(start + warmup, start + duration)

    def wait_until(t: float) -> bool:
        while time.time() < t:
            for p in alive:
                if p.poll() is not None:
                    print(f"process {p.args!r} ended early ({p.returncode})", flush=True)
                    return False
            time.sleep(min(0.5, max(0.0, t - time.time())))
        return True

    if not wait_until(win.start):
        win.end = time.time()
        return win
    before = process_tree(root)
    t0 = time.time()
    next_sample = t0 + 2.0
    ok = True
    while ok and time.time() < win.end:
        ok = wait_until(min(next_sample, win.end))
        if time.time() >= next_sample:
            snap = process_tree(root, memory=True)
            win.rss_mb.append(sum(p.rss_mb for p in snap.values()))
            win.pss_mb.append(sum(p.pss_mb for p in snap.values()))
            by_kind: dict[str, tuple[int, float, float]] = {}
            for p in snap.values():
                win.pids_seen.setdefault(p.kind, set()).add(p.pid)
                n, rss, pss = by_kind.get(p.kind, (0, 0.0, 0.0))
                by_kind[p.kind] = (n + 1, rss + p.rss_mb, pss + p.pss_mb)
            win.memory_by_kind = by_kind
            win.db_connections.append(db_connections(list(snap)))
            next_sample += 5.0
    after = process_tree(root)
    t1 = time.time()
    win.start, win.end = t0, t1
    win.cpu_s = tree_cpu_s(after) - tree_cpu_s(before)
    win.cpu_by_kind = cpu_by_kind(before, after)
    return win


def idle_cpu_pct(root: int, seconds: float) -> tuple[float, float, float]:
    """CPU % of the tree with nothing happening, and its RSS and PSS MB."""
    before, t0 = process_tree(root), time.time()
    time.sleep(seconds)
    after = process_tree(root, memory=True)
    pct = (tree_cpu_s(after) - tree_cpu_s(before)) / (time.time() - t0) * 100
    return pct, sum(p.rss_mb for p in after.values()), sum(p.pss_mb for p in after.values())


def epoch(t: dt.datetime | None) -> float:
    if t is None:
        return math.nan
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp()


@dataclass
class CallRow:
    id: str
    arrived: float
    answered: float
    ended: float
    end_reason: str
    wrapped: bool
    recordings: list[tuple[str, str, str, float | None]]  # channel, status, path, row duration


def load_calls(url: str) -> list[CallRow]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with sessions() as s:
            recs: dict[str, list[tuple[str, str, str, float | None]]] = {}
            for r in s.scalars(select(Recording).order_by(Recording.id)):
                recs.setdefault(r.call_id, []).append((r.channel, r.status, r.path, r.duration_s))
            return [
                CallRow(
                    c.id,
                    epoch(c.arrived_at),
                    epoch(c.answered_at),
                    epoch(c.ended_at),
                    c.end_reason or "",
                    c.wrapped_at is not None,
                    recs.get(c.id, []),
                )
                for c in s.scalars(select(Call))
            ]
    finally:
        engine.dispose()


def settle(url: str, timeout: float) -> list[CallRow]:
    """Wait until every call is closed, every recording finished and every answered call
    wrapped up (or the timeout); the calls as they are then."""
    deadline = time.monotonic() + timeout
    while True:
        calls = load_calls(url)
        busy = [
            c
            for c in calls
            if math.isnan(c.ended)
            or any(status == "recording" for _, status, _, _ in c.recordings)
            or (not math.isnan(c.answered) and not c.wrapped)
        ]
        if not busy or time.monotonic() > deadline:
            return calls
        time.sleep(1.0)


def concurrency(calls: list[CallRow], start: float, end: float) -> np.ndarray[Any, Any]:
    """Answered calls up at each 100 ms of [start, end)."""
    answered = [c for c in calls if not math.isnan(c.answered)]
    if not answered or end <= start:
        return np.zeros(0)
    grid = np.arange(start, end, 0.1)
    a = np.array([c.answered for c in answered])
    e = np.array([c.ended if not math.isnan(c.ended) else math.inf for c in answered])
    # Sorted starts and ends: up at t = started by t - ended by t.
    return np.searchsorted(np.sort(a), grid, side="right") - np.searchsorted(
        np.sort(e), grid, side="right"
    )


@dataclass
class RecordingCheck:
    ok: int = 0
    checked: int = 0
    worst_s: float = 0.0  # largest |recording - talk time| over every file read
    speech_ok: int = 0  # caller channels holding the caller's speech
    problems: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def bad(self, kind: str, example: str) -> None:
        self.problems[kind] += 1
        if len(self.examples) < 8:
            self.examples.append(example)


def check_recordings(calls: list[CallRow], keys: tuple[RecordingKey, ...]) -> RecordingCheck:
    """Every answered call: three complete recordings, each decrypted and as long as the
    talk time within 0.1 s (the row's duration agreeing with the file's), and the caller's
    speech on the caller channel."""
    out = RecordingCheck()
    for c in calls:
        if math.isnan(c.answered) or math.isnan(c.ended):
            continue
        out.checked += 1
        talk = c.ended - c.answered
        rows = {channel: (status, path, d) for channel, status, path, d in c.recordings}
        good = set(rows) == set(CHANNELS) and len(c.recordings) == 3
        if not good:
            out.bad("channels", f"call {c.id}: recordings {sorted(rows)} ({len(c.recordings)})")
        for channel, (status, path, row_duration) in rows.items():
            if status != "complete":
                out.bad(f"status {status}", f"call {c.id} {channel}: {status}")
                good = False
                continue
            try:
                pcm = read_pcm(Path(path), keys)
            except Exception as e:
                out.bad("unreadable", f"call {c.id} {channel}: {e!r}")
                good = False
                continue
            off = abs(pcm.duration_s - talk)
            out.worst_s = max(out.worst_s, off)
            if off > RECORDING_TOLERANCE_S:
                out.bad(
                    "duration",
                    f"call {c.id} {channel}: {pcm.duration_s:.3f} s recorded, talk {talk:.3f} s",
                )
                good = False
            if row_duration is None or abs(row_duration - pcm.duration_s) > 0.001:
                out.bad(
                    "row duration",
                    f"call {c.id} {channel}: row {row_duration}, file {pcm.duration_s}",
                )
                good = False
            if channel == "caller":
                samples = np.frombuffer(pcm.data, dtype="<i2").astype(float)
                # espeak's speech, looped: well above the 300 the call tests call speech.
                if len(samples) and float(np.sqrt(np.mean(samples**2))) > 300:
                    out.speech_ok += 1
        out.ok += good
    return out


LOG_PATTERN = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|\bWARNING\b|Exception|Assertion|died")


def scan_logs(data_dir: Path) -> tuple[int, list[str]]:
    """Lines in the node's, the workers' and Kamailio's logs that report a problem."""
    found: Counter[str] = Counter()
    for log in [
        data_dir / "node.log",
        *sorted((data_dir / "workers").glob("*.log")),
        data_dir / "kamailio" / "kamailio.log",
    ]:
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            if LOG_PATTERN.search(line):
                # Same message from several workers or calls: counted once per shape.
                shape = re.sub(r"\b[0-9a-f]{32}\b|\b\d+\b", "#", line.strip())[:200]
                found[f"{log.name}: {shape}"] += 1
    return sum(found.values()), [f"{n} × {line}" for line, n in found.most_common(15)]


def worker_deaths(data_dir: Path) -> list[str]:
    """The pool's supervisor's notes of workers that died: 'worker (exit status)'."""
    log = data_dir / "node.log"
    content = log.read_text(errors="replace") if log.exists() else ""
    return [
        f"{m[1]} ({m[2]})"
        for m in re.finditer(r"telephony worker (\S+) died \(exit status (-?\d+)", content)
    ]


# -- the two runs --------------------------------------------------------------------------------
@dataclass
class NodeResult:
    window: Window
    idle_pct: float
    idle_rss: float
    idle_pss: float
    up: np.ndarray[Any, Any]
    calls: list[CallRow]
    cps: float
    sipp_rows: list[dict[str, str]]
    sipp_errors: str
    agents: AgentStats
    recordings: RecordingCheck
    log_lines: int
    log_samples: list[str]
    unsettled: int
    deaths: list[str]
    db_max: str  # PostgreSQL's max_connections ("" for SQLite)


def run_node(args: argparse.Namespace, tmp: Path, speech: Path) -> NodeResult:
    data_dir = tmp / "node"
    data_dir.mkdir()
    prefix = "b2" + secrets.token_hex(5)
    db = Database.create(args.database, data_dir, args.pg_url)
    node: Node | None = None
    agents: list[Agent] = []
    sipp: SippRun | None = None
    try:
        names = seed(db.url, args.agents)
        # The recording key, generated here into the data directory the node reads it from,
        # so the files can be decrypted afterwards.
        keys = parse_keys(Settings(data_dir=data_dir).effective_recording_keys)
        print(f"starting the node: {args.workers} workers, {args.database}", flush=True)
        started = time.monotonic()
        node = start_node(args, data_dir, db.url, prefix, args.agents)
        print(f"  up in {time.monotonic() - started:.0f} s; SIP {node.sip}", flush=True)
        stats = AgentStats()
        agents = sign_in(node.base_url, names, stats)
        print(f"  {len(agents)} agents signed in and available", flush=True)
        time.sleep(2.0)
        idle_pct, idle_rss, idle_pss = idle_cpu_pct(node.proc.pid, args.idle)
        print(f"  idle: {idle_pct:.1f} % of a core, RSS {idle_rss:.0f} MB", flush=True)

        sipp_dir = tmp / "sipp-node"
        sipp_dir.mkdir()
        shutil.copy(speech, sipp_dir / "speech.al")
        load_start = time.time()
        sipp, _ = caller_load(sipp_dir, node.sip, args, args.duration)
        print(f"  load: {args.duration:.0f} s of SIPp callers", flush=True)
        win = measure(node.proc.pid, load_start, args.warmup, args.duration, [node.proc, sipp.proc])
        stop_sipp(sipp, args.hold + 60)
        calls = settle(db.url, 60 + args.hold)
        unsettled = sum(
            1
            for c in calls
            if math.isnan(c.ended) or (not math.isnan(c.answered) and not c.wrapped)
        )
        up = concurrency(calls, win.start, win.end)
        # New calls the node took (a caller refused for capacity leaves a record too).
        new = sum(
            1 for c in calls if win.start <= c.arrived < win.end and c.end_reason not in REFUSALS
        )
        print(
            f"  checking {sum(1 for c in calls if not math.isnan(c.answered))} calls' recordings",
            flush=True,
        )
        recordings = check_recordings(calls, keys)
        log_lines, log_samples = scan_logs(data_dir)
        return NodeResult(
            win,
            idle_pct,
            idle_rss,
            idle_pss,
            up,
            calls,
            new / win.seconds if win.seconds > 0 else math.nan,
            sipp.rows(),
            sipp.errors(),
            stats,
            recordings,
            log_lines,
            log_samples,
            unsettled,
            worker_deaths(data_dir),
            db.max_connections(),
        )
    finally:
        if sipp is not None:
            kill(sipp.proc)
        for a in agents:
            a.close()
        if node is not None:
            stop_node_proc(node.proc)
        with contextlib.suppress(Exception):
            clear_redis(args.redis_url, prefix)
        if args.keep and db.drop:
            print(f"PostgreSQL schema kept: {db.drop} (drop schema {db.drop} cascade)")
        else:
            db.close(args.pg_url)


def clear_redis(url: str, prefix: str) -> None:
    """Every key of this run's prefix (live state, queue, throttles)."""
    import redis

    r = redis.Redis.from_url(url)
    try:
        keys = list(r.scan_iter(f"{prefix}:*"))
        if keys:
            r.delete(*keys)
    finally:
        r.close()


@dataclass
class BaselineResult:
    window: Window
    up_mean: float
    cps: float
    failed: int
    sipp_rows: list[dict[str, str]]


def run_baseline(args: argparse.Namespace, tmp: Path, speech: Path) -> BaselineResult:
    """The same callers against a SIPp UAS: what the calls cost with no application."""
    workdir = tmp / "sipp-baseline"
    workdir.mkdir()
    shutil.copy(speech, workdir / "speech.al")
    uas: SippRun | None = None
    uac: SippRun | None = None
    duration = args.baseline_duration
    try:
        uas, uas_port = start_sipp(workdir, [], "b2_uas.xml", "uas")
        print(f"baseline: {duration:.0f} s of the same callers against a SIPp UAS", flush=True)
        load_start = time.time()
        uac, _ = caller_load(workdir, f"127.0.0.1:{uas_port}", args, duration)
        win = measure(uas.proc.pid, load_start, args.warmup, duration, [uas.proc, uac.proc])
        stop_sipp(uac, args.hold + 60)
        rows = uac.rows()
        inside = [r for r in rows if win.start <= stat_time(r) <= win.end]
        up_mean = statistics.fmean(stat_int(r, "CurrentCall") for r in inside) if inside else 0.0
        sent = [stat_int(r, "OutgoingCall(C)") for r in inside]
        span = stat_time(inside[-1]) - stat_time(inside[0]) if len(inside) > 1 else 0.0
        cps = (sent[-1] - sent[0]) / span if span > 0 else math.nan
        failed = stat_int(rows[-1], "FailedCall(C)") if rows else -1
        return BaselineResult(win, up_mean, cps, failed, rows)
    finally:
        for run in (uac, uas):
            if run is not None:
                kill(run.proc)


# -- report ----------------------------------------------------------------------------------
def fmt(x: float, digits: int = 2) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def pct(ordered: list[float], p: float) -> float:
    """The p-th percentile of sorted values (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def sipp_refusals(errors: str) -> Counter[str]:
    """What SIPp's failed calls received instead of what the scenario expected, by request
    ('INVITE → 486 Busy Here'), from its error log. In b2_caller.xml the INVITE's replies
    are steps 1-4 and the BYE's step 9."""
    found = re.finditer(
        r"while expecting '[^']*' \(index (\d+)\), received 'SIP/2\.0 ([^\r\n']*)", errors
    )
    return Counter(f"{'INVITE' if int(m[1]) <= 4 else 'BYE'} → {m[2].strip()}" for m in found)


def sipp_failures(rows: list[dict[str, str]]) -> dict[str, int]:
    if not rows:
        return {}
    last = rows[-1]
    return {
        k: stat_int(last, k)
        for k in last
        if k.startswith("Failed") and k.endswith("(C)") and stat_int(last, k)
    }


def report(args: argparse.Namespace, node: NodeResult | None, base: BaselineResult | None) -> None:
    print()
    print(f"B2 telephony load — {machine()}")
    print(
        f"load: at most {args.calls} calls at once, {args.cps:g} new/s, {args.hold:g} s each "
        f"after the 200, {args.duration:g} s; {args.workers} workers × {MAX_CALLS_PER_WORKER} "
        f"slots, {args.agents} browser agents, {args.database}"
    )
    pairs: dict[str, str] = {}
    extra: dict[str, str] = {}
    if node is not None:
        w = node.window
        answered = [c for c in node.calls if not math.isnan(c.answered)]
        refused = [c for c in node.calls if c.end_reason in REFUSALS]
        unanswered = [
            c for c in node.calls if math.isnan(c.answered) and c.end_reason not in REFUSALS
        ]
        bad_end = [c for c in answered if c.end_reason != "caller-hangup"]
        failed_sip = stat_int(node.sipp_rows[-1], "FailedCall(C)") if node.sipp_rows else -1
        # A refused caller is one of SIPp's failed calls already (it got 486).
        failed = max(0, failed_sip) + len(unanswered) + len(bad_end)
        up = node.up
        mean_up = float(up.mean()) if len(up) else math.nan
        median_up = int(np.median(up)) if len(up) else 0
        per_call = w.cpu_pct / mean_up if mean_up > 0 else math.nan
        marginal = (w.cpu_pct - node.idle_pct) / mean_up if mean_up > 0 else math.nan
        rss = statistics.median(w.rss_mb) if w.rss_mb else math.nan
        pss = statistics.median(w.pss_mb) if w.pss_mb else math.nan
        rec = node.recordings
        print(
            f"window: {w.seconds:.0f} s (after {args.warmup:g} s of warm-up); answered calls up: "
            f"median {median_up}, mean {mean_up:.1f}, min {int(up.min()) if len(up) else 0}, "
            f"peak {int(up.max()) if len(up) else 0}"
        )
        print(
            f"call records: {len(node.calls)}; {len(refused)} callers refused by a worker "
            f"({dict(Counter(c.end_reason for c in refused))}); {len(answered)} answered; "
            f"{len(unanswered)} taken but never answered "
            f"({dict(Counter(c.end_reason for c in unanswered))}); {len(bad_end)} answered "
            f"and ended otherwise than by the caller's BYE "
            f"({dict(Counter(c.end_reason or 'still open' for c in bad_end))}); "
            f"{node.unsettled} not closed or not wrapped up after the run"
        )
        print(f"SIPp: failed {failed_sip} {sipp_failures(node.sipp_rows)}")
        refusals = sipp_refusals(node.sipp_errors)
        for what, n in refusals.most_common():
            print(f"  {n} × {what}")
        if node.sipp_errors.strip() and not refusals:
            print("SIPp errors (first lines):")
            for line in node.sipp_errors.strip().splitlines()[:10]:
                print(f"  {line}")
        print(f"agents: {dict(node.agents.counts)}")
        for e, n in node.agents.errors.most_common(10):
            print(f"  {n} × {e}")
        print(
            f"recordings: {rec.ok}/{rec.checked} calls ok, worst |recording - talk| "
            f"{rec.worst_s * 1000:.0f} ms, caller speech on {rec.speech_ok} caller channels, "
            f"problems {dict(rec.problems)}"
        )
        for e in rec.examples:
            print(f"  {e}")
        kinds = ", ".join(
            f"{k} {v / w.seconds * 100:.1f} %" for k, v in sorted(w.cpu_by_kind.items())
        )
        workers_seen = len(w.pids_seen.get("worker", set()))
        print(
            f"CPU: {w.cpu_pct:.1f} % of a core under load ({kinds}); idle {node.idle_pct:.1f} %; "
            f"per call {per_call:.2f} %, marginal {marginal:.2f} %"
        )
        print(
            f"memory: RSS {rss:.0f} MB (idle {node.idle_rss:.0f}), PSS {pss:.0f} MB (idle "
            f"{node.idle_pss:.0f}); worker processes seen {workers_seen} (of {args.workers})"
        )
        for kind, (n, k_rss, k_pss) in sorted(w.memory_by_kind.items()):
            print(f"  {kind}: {n} processes, RSS {k_rss:.0f} MB, PSS {k_pss:.0f} MB")
        waits = sorted(c.answered - c.arrived for c in answered)
        if waits:
            print(
                "INVITE at the worker → answered by the agent: "
                f"p50 {pct(waits, 50) * 1000:.0f} ms, p95 {pct(waits, 95) * 1000:.0f} ms, "
                f"max {waits[-1] * 1000:.0f} ms"
            )
        if w.db_connections:
            print(
                f"database connections held by the node: peak {max(w.db_connections)}"
                + (f" (server's max_connections {node.db_max})" if node.db_max else "")
            )
        print(f"worker deaths (exit status): {len(node.deaths)} {node.deaths}")
        print(f"logs: {node.log_lines} lines reporting a problem")
        for line in node.log_samples:
            print(f"  {line}")
        pairs |= {
            "concurrent": str(median_up),
            "failed": str(failed),
            "cps": fmt(node.cps),
            "cpu_pct_per_call": fmt(per_call),
            "rss_mb_per_call": fmt(rss / mean_up if mean_up > 0 else math.nan),
            "workers": str(args.workers),
            "recordings_ok": f"{rec.ok}/{rec.checked}",
        }
        extra = {
            "concurrent_mean": fmt(mean_up, 1),
            "concurrent_peak": str(int(up.max()) if len(up) else 0),
            "concurrent_min": str(int(up.min()) if len(up) else 0),
            "calls": str(len(node.calls)),
            "answered": str(len(answered)),
            "failed_sip": str(failed_sip),
            "refused": str(len(refused)),
            "unanswered": str(len(unanswered)),
            "bad_end": str(len(bad_end)),
            "rec_worst_ms": fmt(rec.worst_s * 1000, 0),
            "answer_p95_ms": fmt(pct(waits, 95) * 1000 if waits else math.nan, 0),
            "cpu_pct_total": fmt(w.cpu_pct, 1),
            "cpu_pct_idle": fmt(node.idle_pct, 1),
            "cpu_pct_marginal_per_call": fmt(marginal),
            "pss_mb_per_call": fmt(pss / mean_up if mean_up > 0 else math.nan),
            "worker_deaths": str(len(node.deaths)),
            "db_conns_peak": str(max(w.db_connections, default=0)),
            "log_problems": str(node.log_lines),
        }
    if base is not None:
        bw = base.window
        base_per_call = bw.cpu_pct / base.up_mean if base.up_mean > 0 else math.nan
        base_rss = statistics.median(bw.rss_mb) if bw.rss_mb else math.nan
        print(
            f"baseline (SIPp UAS): {base.up_mean:.1f} calls up on average, {base.cps:.2f} new/s,"
            f" failed {base.failed}; CPU {bw.cpu_pct:.1f} % ({base_per_call:.3f} % per call), "
            f"RSS {base_rss:.0f} MB"
        )
        if node is None:
            pairs |= {
                "concurrent": fmt(base.up_mean, 1),
                "failed": str(base.failed),
                "cps": fmt(base.cps),
                "cpu_pct_per_call": fmt(base_per_call, 3),
                "rss_mb_per_call": fmt(base_rss / base.up_mean if base.up_mean else math.nan, 3),
                "workers": "0",
                "recordings_ok": "0/0",
            }
        pairs["baseline_cpu_pct_per_call"] = fmt(base_per_call, 3)
        pairs["ratio"] = fmt(float(pairs["cpu_pct_per_call"]) / base_per_call, 1)
        extra["baseline_rss_mb_per_call"] = fmt(
            base_rss / base.up_mean if base.up_mean else math.nan, 3
        )
        extra["baseline_failed"] = str(base.failed)
    else:
        pairs["baseline_cpu_pct_per_call"] = "nan"
        pairs["ratio"] = "nan"
    extra |= {"hold_s": f"{args.hold:g}", "duration_s": f"{args.duration:g}", "db": args.database}
    print("RESULT B2 " + " ".join(f"{k}={v}" for k, v in {**pairs, **extra}.items()))


def main() -> int:
    ap = argparse.ArgumentParser(
        description="B2: concurrent answered and recorded calls on one node, and SIPp alone.",
    )
    ap.add_argument("--workers", type=int, default=25, help="telephony worker processes")
    ap.add_argument("--calls", type=int, default=100, help="calls up at once (SIPp's limit)")
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    ap.add_argument("--cps", type=float, default=10.0, help="new calls a second")
    ap.add_argument(
        "--hold", type=float, help="seconds a caller stays after the 200 (default calls / cps)"
    )
    ap.add_argument("--agents", type=int, help="browser agents (default calls × 1.2)")
    ap.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server (a schema is made in it)")
    ap.add_argument("--redis-url", default=REDIS_URL)
    ap.add_argument("--warmup", type=float, help="seconds before the window (default hold + 5)")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    ap.add_argument("--baseline-duration", type=float, help="default: --duration")
    ap.add_argument("--with-scheduler", action="store_true", help="run the scheduler role too")
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep the data directory (logs, recordings) and the PostgreSQL schema",
    )
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--baseline-only", action="store_true")
    which.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    if args.hold is None:
        args.hold = args.calls / args.cps
    if args.agents is None:
        args.agents = math.ceil(args.calls * 1.2)
    if args.warmup is None:
        args.warmup = args.hold + 5
    args.warmup = min(args.warmup, args.duration / 2)
    if args.baseline_duration is None:
        args.baseline_duration = args.duration
    if args.calls > args.workers * MAX_CALLS_PER_WORKER and not args.baseline_only:
        print(
            f"warning: {args.calls} calls at once exceed the pool's "
            f"{args.workers * MAX_CALLS_PER_WORKER} slots: expect callers refused with 486",
            flush=True,
        )
    if args.workers > 1 and not args.redis_url:
        raise SystemExit("a pool of workers needs Redis (--redis-url)")

    tmp = Path(tempfile.mkdtemp(prefix="hotline-b2-"))
    node = base = None
    try:
        speech = make_speech(tmp)
        if not args.baseline_only:
            node = run_node(args, tmp, speech)
        if not args.no_baseline:
            base = run_baseline(args, tmp, speech)
        report(args, node, base)
    finally:
        if args.keep:
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
