"""The SIP guard: Kamailio in front of a telephony worker, generated from Settings.

Why it exists: pjsua creates an incoming call's media transport (RTP + RTCP sockets)
before the application's ``onIncomingCall`` sees the INVITE, and pjlib's select ioqueue
(64 handles) frees a closed socket's slot only after a delay. An INVITE flood from an
address that is not a trunk therefore exhausts the ioqueue and aborts the process
(``pj_ioqueue_register_sock2`` assertion), whatever the worker answers. pjsua2 2.15 has no
hook before that allocation that the application controls (``onSelectAccount`` can only
pick another account, which allocates media all the same), so the refusal has to happen
before the INVITE reaches pjsua.

Kamailio listens on the public SIP address; INVITEs from trunks and agents' phones go to
the worker on a loopback port, everything else gets ``403`` statelessly, and ``pike``
silently drops an untrusted address that sends too fast. Kamailio stays in the dialog
(Record-Route); the worker places its own calls (agents' phones) through it as outbound
proxy, since its SIP socket is on loopback. Media does not pass through Kamailio.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import ipaddress
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.core.settings import Settings

if TYPE_CHECKING:
    from console.node import Hotline

log = logging.getLogger(__name__)

__all__ = [
    "GuardConfig",
    "GuardError",
    "SipGuard",
    "answers_options",
    "guard_binary",
    "plan_guard",
    "plan_pool",
    "render_config",
    "set_parent_death_signal",
]

# The loopback address the worker binds behind the guard: unreachable from other hosts,
# and Linux drops packets that claim a loopback source on any other interface.
WORKER_HOST = "127.0.0.1"


class GuardError(RuntimeError):
    """Kamailio could not be configured or started."""


@dataclass(frozen=True)
class GuardConfig:
    """What the generated kamailio.cfg needs; built from Settings by plan_guard()."""

    public_host: str
    public_port: int
    transports: tuple[str, ...]
    worker_ports: tuple[int, ...]  # the workers' UDP ports on WORKER_HOST, one per worker
    trusted: tuple[str, ...]  # CIDRs (trunks) and exact 'ip:port' (agents' phones)
    flood_requests: int  # requests per 2 s from one untrusted address before pike drops it
    invite_rate: int  # new INVITEs per second passed to the workers, from all sources together
    # A pool (several workers): inbound calls Kamailio sends each worker at most (its call
    # slots); further callers get 486 or go to overflow_uri. One worker refuses by itself.
    maxload: int = 0
    overflow_uri: str = ""  # where callers go when every worker is full (empty: 486)
    children: int = 2  # UDP receivers; two cores are plenty for signalling only

    @property
    def worker_port(self) -> int:
        """The first (in a single node the only) worker's port."""
        return self.worker_ports[0]

    @property
    def pool(self) -> bool:
        """Several workers: load-aware dispatching with failover and health probes."""
        return len(self.worker_ports) > 1

    def worker_uri(self, port: int) -> str:
        """The dispatcher destination of the worker listening on port."""
        return f"sip:{WORKER_HOST}:{port};transport=udp"

    def worker_attrs(self, n: int, generation: int = 0) -> str:
        """The dispatcher attributes of the n-th worker (from 1) in its generation-th run:
        its calls are counted under duid, up to maxload in a pool."""
        attrs = f"duid=worker{n}" + (f".{generation}" if generation else "")
        return attrs + (f";maxload={self.maxload}" if self.pool else "")

    @property
    def probe_host(self) -> str:
        """Address a local client reaches the public listener at."""
        return "127.0.0.1" if self.public_host in ("", "0.0.0.0") else self.public_host

    @property
    def relay_source(self) -> str:
        """'ip:port' the worker sees the guard's requests come from (its UDP socket)."""
        return f"{self.probe_host}:{self.public_port}"

    @property
    def proxy_uri(self) -> str:
        """SIP URI the worker uses as outbound proxy (loose routing through the guard)."""
        return f"sip:{self.probe_host}:{self.public_port};lr;transport=udp"


def guard_binary(settings: Settings) -> str | None:
    """Path of the kamailio binary when the guard should run, else None; 'on' without it raises."""
    mode = settings.sip_guard.strip().lower()
    if mode not in ("auto", "on", "off"):
        raise GuardError(f"HOTLINE_SIP_GUARD must be auto, on or off, not {settings.sip_guard!r}")
    if mode == "off":
        return None
    # /usr/sbin is not on every user's PATH, and that is where Debian installs kamailio.
    name = settings.sip_guard_binary
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if path is None and mode == "on":
        raise GuardError(f"HOTLINE_SIP_GUARD=on but {settings.sip_guard_binary!r} is not installed")
    return path


def _free_udp_tcp_port(host: str) -> int:
    """A port free for both UDP and TCP on host (Kamailio cannot listen on port 0)."""
    bind_host = "0.0.0.0" if host in ("", "0.0.0.0") else host
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((bind_host, 0))
            port = int(udp.getsockname()[1])
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                    tcp.bind((bind_host, port))
            except OSError:
                continue
            return port
    raise GuardError(f"no free SIP port on {host}")


def _trusted_sources(sources: Iterable[str]) -> tuple[str, ...]:
    """Trunk CIDRs and phone addresses normalised: 'a.b.c.d/n' or exact 'a.b.c.d:port'."""
    out: list[str] = []
    for raw in sources:
        entry = raw.strip()
        if not entry:
            continue
        host, port = entry, ""
        if "/" not in entry and entry.count(":") == 1:
            # An agent phone's contact 'ip:port': trusted at that port only, as the worker
            # does without the guard (another program on the phone's host is not trusted).
            host, port = entry.split(":", 1)
        try:
            net = ipaddress.ip_network(host, strict=False)
        except ValueError:
            log.warning("SIP guard: %r is not an IPv4 address or network; not trusted", entry)
            continue
        if net.version != 4 or (port and not port.isdigit()):
            log.warning("SIP guard: %r is not an IPv4 address or network; not trusted", entry)
            continue
        item = f"{net.network_address}:{int(port)}" if port else str(net)
        if item not in out:
            out.append(item)
    return tuple(out)


def plan_guard(
    settings: Settings, phone_sources: Sequence[str] = ()
) -> tuple[Settings, GuardConfig]:
    """Settings for a worker behind the guard, and the guard's own configuration."""
    port = settings.sip_internal_port or _free_udp_tcp_port(WORKER_HOST)
    workers, config = _plan(settings, phone_sources, (port,), maxload=0)
    return workers[0], config


def plan_pool(
    settings: Settings, phone_sources: Sequence[str], count: int, maxload: int
) -> tuple[tuple[Settings, ...], GuardConfig]:
    """Settings for `count` workers behind one Kamailio dispatcher (ids `<worker_id>.<n>`,
    each on its own loopback port, kept across its restarts), and Kamailio's configuration."""
    ports: list[int] = []
    while len(ports) < count:
        port = _free_udp_tcp_port(WORKER_HOST)
        if port not in ports:
            ports.append(port)
    workers, config = _plan(
        settings, phone_sources, tuple(ports), maxload, settings.sip_overflow_uri.strip()
    )
    named = tuple(
        dataclasses.replace(w, worker_id=f"{settings.worker_id}.{n}")
        for n, w in enumerate(workers, start=1)
    )
    return named, config


def _plan(
    settings: Settings,
    phone_sources: Sequence[str],
    worker_ports: tuple[int, ...],
    maxload: int,
    overflow_uri: str = "",
) -> tuple[tuple[Settings, ...], GuardConfig]:
    public_host = settings.sip_host
    try:
        ipaddress.ip_address(public_host or "0.0.0.0")
    except ValueError:
        # A name: the worker's allow-list needs the address the guard's packets come from.
        public_host = socket.gethostbyname(public_host)
    public_port = settings.sip_port or _free_udp_tcp_port(public_host)
    transports = tuple(t.lower() for t in settings.sip_transports if t.lower() in ("udp", "tcp"))
    config = GuardConfig(
        public_host=public_host,
        public_port=public_port,
        transports=transports or ("udp",),
        worker_ports=worker_ports,
        trusted=_trusted_sources([*settings.trunk_sources, *phone_sources]),
        flood_requests=max(1, settings.sip_flood_requests),
        invite_rate=max(1, settings.sip_invite_rate),
        maxload=maxload,
        overflow_uri=overflow_uri,
    )
    workers = tuple(
        dataclasses.replace(
            settings,
            sip_host=WORKER_HOST,
            sip_port=port,
            # The guard relays over UDP; TCP callers end at the guard.
            sip_transports=("udp",),
            # Only the guard reaches the loopback port: it is the worker's one trunk.
            trunk_sources=(config.relay_source,),
            # RTP still flows straight between caller and worker, on the public address.
            sip_media_host=settings.sip_media_host or settings.sip_host,
            sip_outbound_proxy=settings.sip_outbound_proxy or config.proxy_uri,
        )
        for port in worker_ports
    )
    return workers, config


def _trusted_test(trusted: Sequence[str]) -> str:
    """Kamailio condition true when the source ($si, $sp) is trusted."""
    tests = []
    for item in trusted:
        if "/" in item:
            tests.append(f'is_in_subnet("$si", "{item}")')
        else:
            ip, port = item.split(":")
            tests.append(f'($si == "{ip}" && $sp == {port})')
    return " || ".join(tests) or "0"  # no trunk configured: nobody may call in


def _pool_parts(cfg: GuardConfig) -> dict[str, str]:
    """The pieces of kamailio.cfg that differ between one worker and a pool."""
    if not cfg.pool:
        return {
            "modparams": (
                "# One destination: this node's worker, which refuses with 486 by itself when"
                " full.\n"
                'modparam("dispatcher", "ds_ping_interval", 0)\n'
            ),
            "select": '"4"',
            "on_select": "",
            "load_update": "",
            "no_worker": 'sl_send_reply("503", "Service Unavailable");',
            "routes": "",
        }
    if cfg.overflow_uri:
        no_worker = (
            "# Every worker is full or down: the overflow destination takes the caller.\n"
            f'\t\t$du = "{cfg.overflow_uri}";\n'
            "\t\troute(RELAY);"
        )
    else:
        no_worker = 'sl_send_reply("486", "Busy Here");'
    # Tried every worker: the overflow destination, when there is one, takes the caller.
    overflow = (
        f'\t\t$du = "{cfg.overflow_uri}";\n\t\tt_relay();\n\t\texit;\n' if cfg.overflow_uri else ""
    )
    return {
        "modparams": f"""# A pool of {len(cfg.worker_ports)} workers: each new call goes to the
# worker with the fewest calls (algorithm 10, Kamailio counts the calls by Call-ID),
# at most {cfg.maxload} each (maxload). A worker that answers 486, 408 or 5xx, or not at
# all, is skipped for the next one and taken out of rotation until it answers OPTIONS
# again (probed every second).
modparam("dispatcher", "ds_hash_size", 9)
modparam("dispatcher", "ds_hash_initexpire", 120)
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
# The node removes a dead worker and adds it back at once (kamcmd), not every 5 s.
modparam("dispatcher", "reload_delta", 0)
modparam("dispatcher", "ds_ping_from", "sip:hotline-dispatcher@{cfg.probe_host}")
""",
        "select": f'"10", "{len(cfg.worker_ports)}"',
        "on_select": """	# A dead worker must not hold the caller long: loopback answers fast.
	t_set_fr(0, 2000);
	t_on_failure("WORKER_FAILED");
	t_on_reply("WORKER_REPLY");
""",
        # A call's end frees its worker's count: BYE from either side, CANCEL.
        "load_update": "\t\tds_load_update();\n",
        "no_worker": no_worker,
        "routes": f"""
failure_route[WORKER_FAILED] {{
	if (t_is_canceled()) {{
		exit;
	}}
	ds_load_unset();
	if (t_branch_timeout() || t_check_status("408|486|5[0-9][0-9]")) {{
		ds_mark_dst("ip");
		if (ds_next_dst()) {{
			$sht(dialogs=>$ci) = $du;
			t_set_fr(0, 2000);
			t_on_failure("WORKER_FAILED");
			t_on_reply("WORKER_REPLY");
			t_relay();
			exit;
		}}
{overflow}	}}
}}

onreply_route[WORKER_REPLY] {{
	if (status =~ "2[0-9][0-9]") {{
		ds_load_update();
	}}
}}
""",
    }


def render_config(cfg: GuardConfig, dispatcher_list: Path, control_socket: Path) -> str:
    """The kamailio.cfg text for cfg (Kamailio 5.6)."""
    listens = "\n".join(
        f"listen={proto}:{cfg.public_host or '0.0.0.0'}:{cfg.public_port}"
        for proto in cfg.transports
    )
    tcp = "yes" if "tcp" not in cfg.transports else "no"
    parts = _pool_parts(cfg)
    workers = ", ".join(f"{WORKER_HOST}:{port}" for port in cfg.worker_ports)
    return f"""#!KAMAILIO
#
# Generated by Hotline (telephony/guard.py) at every start of the node; do not edit.
# Trusted sources (trunks, agents' phones) reach the workers at {workers};
# others get 403 without a transaction, and pike drops an untrusted address sending more
# than {cfg.flood_requests} requests per 2 s; at most {cfg.invite_rate} new INVITEs a second
# reach the workers, from whatever source (more get 503).

# Critical messages only: Kamailio logs every unparsable datagram as an error, so a flood
# of garbage would fill the disk (~250 bytes a message). The flood alert below is L_CRIT;
# start-up errors (a port in use) are printed whatever the level.
debug=-2
log_stderror=yes
fork=yes
children={cfg.children}
tcp_children={cfg.children}
disable_tcp={tcp}
{listens}
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
# Answering an untrusted request costs the guard nothing it has to remember.
tcp_connection_lifetime=60
tcp_max_connections=512

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ipops.so"
loadmodule "pike.so"
loadmodule "pipelimit.so"
loadmodule "htable.so"
loadmodule "ctl.so"
loadmodule "dispatcher.so"

# The node drives Kamailio through this socket (kamcmd): a worker that died is taken out
# of rotation at once, before the next probe would notice.
modparam("ctl", "binrpc", "unix:{control_socket}")
modparam("ctl", "mode", 0600)
# Ringing callers wait in the worker's queue: a long INVITE timer once it answered 1xx.
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 600000)
modparam("rr", "enable_full_lr", 1)
modparam("rr", "enable_double_rr", 1)
# Per untrusted source address: at most {cfg.flood_requests} requests per 2 s, then dropped
# until it calms down.
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", {cfg.flood_requests})
modparam("pike", "remove_latency", 4)
# Trusted sources too: a trunk's burst (or spoofed trunk traffic) never reaches the workers
# faster than they can refuse calls without exhausting their sockets.
modparam("pipelimit", "timer_interval", 1)
# Which worker holds each call (by Call-ID), for in-dialog requests of a peer that ignores
# Record-Route; forgotten at BYE, or after four hours.
modparam("htable", "htable", "dialogs=>size=12;autoexpire=14400;")
modparam("dispatcher", "list_file", "{dispatcher_list}")
modparam("dispatcher", "flags", 2)
{parts["modparams"]}
request_route {{
	if (ds_is_from_list("1", "2")) {{
		route(FROM_WORKER);
		exit;
	}}
	if (!({_trusted_test(cfg.trusted)})) {{
		route(UNTRUSTED);
		exit;
	}}
	if (!mf_process_maxfwd_header("10")) {{
		sl_send_reply("483", "Too Many Hops");
		exit;
	}}
	if (!sanity_check("17895", "7")) {{
		exit;
	}}
	if (is_method("CANCEL")) {{
		if (t_check_trans()) {{
			route(CALL_OVER);
			t_relay();
		}}
		exit;
	}}
	if (!is_method("ACK")) {{
		if (t_precheck_trans()) {{
			t_check_trans();
			exit;
		}}
		t_check_trans();
	}}
	if (has_totag()) {{
		route(IN_DIALOG);
		exit;
	}}
	remove_hf("Route");
	if (is_method("OPTIONS") && uri == myself && $rU == $null) {{
		sl_send_reply("200", "Keepalive");
		exit;
	}}
	if (!is_method("INVITE")) {{
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}}
	if (!pl_check("worker", "TAILDROP", {cfg.invite_rate})) {{
		append_to_reply("Retry-After: 1\\r\\n");
		sl_send_reply("503", "Service Unavailable");
		exit;
	}}
	record_route();
	if (!ds_select_dst("1", {parts["select"]})) {{
		{parts["no_worker"]}
		exit;
	}}
	$sht(dialogs=>$ci) = $du;
{parts["on_select"]}	route(RELAY);
}}

# An untrusted address: never a transaction, never a worker.
route[UNTRUSTED] {{
	pike_check_req();
	$var(pike) = $rc;
	if ($var(pike) == -2) {{
		xlog("L_CRIT", "SIP flood from $si: dropping its requests\\n");
	}}
	if ($var(pike) < 0) {{
		exit;
	}}
	if (is_method("ACK")) {{
		exit;
	}}
	sl_send_reply("403", "Forbidden");
	exit;
}}

# Requests a worker sends: its calls to agents' phones and in-dialog requests.
route[FROM_WORKER] {{
	if (is_method("CANCEL")) {{
		if (t_check_trans()) {{
			t_relay();
		}}
		exit;
	}}
	if (!is_method("ACK")) {{
		if (t_precheck_trans()) {{
			t_check_trans();
			exit;
		}}
		t_check_trans();
	}}
	if (has_totag()) {{
		route(CALL_OVER);
		if (!loose_route() && is_method("ACK") && !t_check_trans()) {{
			exit;
		}}
		route(RELAY);
		exit;
	}}
	remove_hf("Route");
	if (is_method("INVITE")) {{
		record_route();
	}}
	route(RELAY);
}}

route[IN_DIALOG] {{
	if (loose_route()) {{
		route(CALL_OVER);
		route(RELAY);
		exit;
	}}
	if (is_method("ACK") && t_check_trans()) {{
		# ACK of a negative reply, hop by hop.
		route(RELAY);
		exit;
	}}
	# A trusted peer that ignored our Record-Route (some test tools and old trunks): the
	# other side of every dialog here is the worker that took the call.
	$du = $sht(dialogs=>$ci);
	if ($du == $null) {{
		$du = "{cfg.worker_uri(cfg.worker_port)}";
	}}
	route(CALL_OVER);
	route(RELAY);
}}

# A call ends (BYE from either side, CANCEL): its worker need not be remembered.
route[CALL_OVER] {{
	if (is_method("BYE|CANCEL")) {{
{parts["load_update"]}		$sht(dialogs=>$ci) = $null;
	}}
}}

route[RELAY] {{
	if (!t_relay()) {{
		sl_reply_error();
	}}
	exit;
}}
{parts["routes"]}
# A reply that belongs to no transaction of ours is dropped, not forwarded statelessly.
reply_route {{
	if (!t_check_trans()) {{
		drop;
	}}
}}
"""


def answers_options(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when a SIP UDP listener at host:port answers an OPTIONS (any status)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        s.settimeout(timeout)
        lport = s.getsockname()[1]
        branch = "z9hG4bK" + uuid.uuid4().hex
        msg = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{lport};branch={branch}\r\n"
            f"From: <sip:probe@{host}:{lport}>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}@hotline-guard\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        try:
            s.sendto(msg.encode(), (host, port))
            data = s.recv(4096)
        except OSError:
            return False
        return data.startswith(b"SIP/2.0 ")


def set_parent_death_signal() -> None:
    """In the child before exec: SIGTERM kamailio when the node dies, even by SIGKILL."""
    # The signal follows the *thread* that forked: start the guard from a thread that lives
    # as long as the node (the node's main thread does).
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class SipGuard:
    """One Kamailio process for a node: generated config, start, readiness, stop."""

    def __init__(self, config: GuardConfig, binary: str, workdir: Path) -> None:
        self.config = config
        self.binary = binary
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self._control: Path | None = None

    @property
    def cfg_path(self) -> Path:
        """The generated Kamailio config."""
        return self.workdir / "kamailio.cfg"

    @property
    def pid_path(self) -> Path:
        """Kamailio's pid file (a leftover is stopped at the next start)."""
        return self.workdir / "kamailio.pid"

    @property
    def log_path(self) -> Path:
        """Kamailio's stderr: start-up errors and flood alerts."""
        return self.workdir / "kamailio.log"

    @property
    def address(self) -> str:
        """'host:port' callers and trunks send SIP to."""
        return f"{self.config.public_host}:{self.config.public_port}"

    @property
    def control_socket(self) -> Path:
        """Kamailio's control socket (kamcmd), private to this user. A Unix socket's path
        is limited to 107 bytes: a deep data directory gets one under /tmp instead."""
        if self._control is None:
            path = (self.workdir / "ctl").resolve()
            if len(str(path)) > 100:
                path = Path(tempfile.mkdtemp(prefix="hotline-kamailio-")) / "ctl"
            self._control = path
        return self._control

    def write_config(self) -> Path:
        """Write kamailio.cfg and the dispatcher list into workdir; return the cfg path."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ds = self.workdir / "dispatcher.list"
        lines = ["# setid destination flags priority attributes (generated by Hotline)"]
        for n, port in enumerate(self.config.worker_ports, start=1):
            lines.append(f"1 {self.config.worker_uri(port)} 0 0 {self.config.worker_attrs(n)}")
        ds.write_text("\n".join(lines) + "\n")
        self.cfg_path.write_text(render_config(self.config, ds.resolve(), self.control_socket))
        return self.cfg_path

    def rpc(self, *command: str) -> str:
        """Run one Kamailio RPC command through its control socket; its output."""
        kamcmd = shutil.which("kamcmd", path=f"{Path(self.binary).parent}:/usr/sbin:/usr/bin")
        if kamcmd is None:
            raise GuardError("kamcmd (Debian package kamailio) is not installed")
        res = subprocess.run(
            [kamcmd, "-s", f"unix:{self.control_socket}", *command],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if res.returncode != 0:
            raise GuardError(f"kamcmd {' '.join(command)}: {(res.stdout + res.stderr).strip()}")
        return res.stdout

    def take_out(self, port: int) -> None:
        """Take the worker on port out of rotation now (it died), with the count of its calls:
        their BYEs will never come. The other workers' counts are kept."""
        self.rpc("dispatcher.remove", "1", self.config.worker_uri(port))

    def put_back(self, port: int, generation: int) -> None:
        """Add the worker on port to the rotation again (it was restarted and answers SIP),
        its calls counted afresh under a new id: a dead run's calls, forgotten by Kamailio
        hours later, must not lower the new run's count."""
        n = self.config.worker_ports.index(port) + 1
        self.rpc(
            "dispatcher.add",
            "1",
            self.config.worker_uri(port),
            "0",
            "0",
            self.config.worker_attrs(n, generation),
        )

    def destinations(self) -> dict[int, str]:
        """Each worker port's dispatcher state flags as Kamailio reports them ('AP' active
        and probed, 'IP' inactive and probed, ...)."""
        out = self.rpc("dispatcher.list")
        states: dict[int, str] = {}
        uri: str | None = None
        for line in out.splitlines():
            key, _, value = line.strip().partition(":")
            value = value.strip()
            if key == "URI":
                uri = value
            elif key == "FLAGS" and uri is not None:
                for port in self.config.worker_ports:
                    if uri == self.config.worker_uri(port):
                        states[port] = value
                uri = None
        return states

    def check(self) -> None:
        """Run `kamailio -c` on the written config; raise GuardError with its output."""
        res = subprocess.run(
            [self.binary, "-c", "-f", str(self.cfg_path)],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode != 0:
            raise GuardError(f"kamailio rejected its config:\n{(res.stdout + res.stderr)[-3000:]}")

    def start(self, timeout: float = 15.0) -> None:
        """Start Kamailio in the foreground (-DD) and wait until it answers SIP."""
        self._kill_stale()
        self.write_config()
        run_dir = self.workdir / "run"
        run_dir.mkdir(exist_ok=True)
        # -DD: foreground, children still forked; -E: log to stderr (our log file);
        # pid file, runtime dir and working dir in the node's data dir, never /run.
        argv = [self.binary, "-DD", "-E", "-f", str(self.cfg_path.resolve())]
        argv += ["-P", str(self.pid_path.resolve()), "-Y", str(run_dir.resolve())]
        argv += ["-w", str(self.workdir.resolve()), "-m", "64", "-M", "8"]
        out = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                cwd=self.workdir,
                start_new_session=True,  # its own process group: stop() ends it and its children
                preexec_fn=set_parent_death_signal,
            )
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._answers_options():
                log.info(
                    "SIP guard (kamailio) on %s, workers behind it on %s port %s",
                    self.address,
                    WORKER_HOST,
                    ", ".join(str(port) for port in self.config.worker_ports),
                )
                return
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise GuardError(f"kamailio did not start on {self.address}:\n{tail}")

    def _answers_options(self) -> bool:
        """True when the public UDP listener answers an OPTIONS (any status)."""
        return answers_options(self.config.probe_host, self.config.public_port)

    def _kill_stale(self) -> None:
        """End a kamailio this data dir started before (node killed with -9) if still alive."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return
        if (
            not any(part.endswith(b"kamailio") for part in cmdline[:1])
            or str(self.cfg_path.resolve()).encode() not in cmdline
        ):
            return  # the pid was reused by someone else's process
        log.warning("SIP guard: stopping kamailio %d left by a previous run", pid)
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop Kamailio and its children; idempotent."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("kamailio did not stop on SIGTERM; killing its process group")
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.pid_path.unlink()


def phone_sources(hotline: Hotline) -> list[str]:
    """Addresses of the agents' SIP phones (they may send INVITEs too)."""
    from sqlalchemy import select

    from console.core.models import Agent
    from telephony.worker import sip_source

    with hotline.sessions() as s:
        contacts = [a.sip_contact for a in s.scalars(select(Agent)) if a.sip_contact]
    return [p for p in (sip_source(c) for c in contacts) if p]
