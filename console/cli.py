"""The `hotline` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from console.core.errors import DomainError
from console.core.settings import Settings
from console.core.states import Role
from console.node import ALL_ROLES, Node, NodeRole


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in (
        "database_url",
        "redis_url",
        "web_host",
        "web_port",
        "sip_host",
        "sip_port",
        "worker_id",
        "telephony_workers",
    ):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings.from_env(**overrides)


def _prepare(settings: Settings) -> None:
    from console.core.db import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _prepare(settings)
    print("database is at the latest revision")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from console.node import build
    from console.users.services import create_user

    settings = _settings(args)
    _prepare(settings)
    hl = build(settings)
    try:
        with hl.sessions.begin() as s:
            create_user(
                s,
                args.username,
                args.password,
                args.role,
                args.name or args.username,
                args.language,
                [k for k in (args.skills or "").split(",") if k],
                args.sip_contact or "",
                args.extension or "",
            )
    finally:
        hl.close()
    print(f"user {args.username} ({args.role}) added")
    return 0


def _cli_language(settings: Settings) -> str:
    """The terminal's language (LC_ALL, LC_MESSAGES, LANG), else the centre's default."""
    import os

    from console.core.i18n import pick_language

    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return pick_language(value, settings.default_language)
    return settings.default_language


def cmd_customer_import(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from console.core.i18n import translate
    from console.customers.services import import_csv
    from console.node import build
    from console.web.errors import message

    settings = _settings(args)
    lang = _cli_language(settings)
    try:
        # Bytes: import_csv works out the encoding (UTF-8 or GB18030) itself.
        content = Path(args.file).read_bytes()
    except OSError as err:
        print(
            message(DomainError("file-unreadable", f"{args.file}: {err.strerror or err}"), lang),
            file=sys.stderr,
        )
        return 2
    try:
        _prepare(settings)
        hl = build(settings)
        try:
            with hl.sessions.begin() as s:
                n = import_csv(s, content, settings.country_code)
        finally:
            hl.close()
    except DomainError as err:
        print(message(err, lang), file=sys.stderr)
        return 2
    except SQLAlchemyError as err:
        detail = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:300]
        print(message(DomainError("import-database", detail), lang), file=sys.stderr)
        return 2
    print(translate("import.done", lang, n=n))
    return 0


def serve(settings: Settings, roles: Iterable[NodeRole] = ALL_ROLES, demo: bool = False) -> int:
    """Run the chosen roles of a node until SIGINT/SIGTERM (built by console/node.py)."""
    return Node.of(settings, roles, demo).run()


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    # HOTLINE_RUN_TELEPHONY / HOTLINE_RUN_SCHEDULER=false leave a role out of the single node
    # (e.g. a benchmark of the audio path without the scheduler's jobs).
    roles = [
        role
        for role in ALL_ROLES
        if not (role == NodeRole.TELEPHONY and not settings.run_telephony)
        and not (role == NodeRole.SCHEDULER and not settings.run_scheduler)
    ]
    return serve(settings, roles, demo=args.cmd == "demo")


def cmd_web(args: argparse.Namespace) -> int:
    return serve(_settings(args), [NodeRole.WEB])


def cmd_telephony(args: argparse.Namespace) -> int:
    return serve(_settings(args), [NodeRole.TELEPHONY])


def cmd_scheduler(args: argparse.Namespace) -> int:
    return serve(_settings(args), [NodeRole.SCHEDULER])


def cmd_dial(args: argparse.Namespace) -> int:
    from telephony.dial import place_test_call

    wav = Path(args.wav) if args.wav else None
    code = place_test_call(
        args.target, args.from_number, args.to, wav, args.duration, args.transport
    )
    print(f"call ended, final status {code}")
    return 0 if code in (200, 0) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hotline", description="Hotline contact-centre console")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data-dir")
        sp.add_argument("--database-url")
        sp.add_argument("--redis-url")

    def node(sp: argparse.ArgumentParser) -> None:
        common(sp)
        sp.add_argument("--web-host")
        sp.add_argument("--web-port", type=int)
        sp.add_argument("--sip-host")
        sp.add_argument("--sip-port", type=int)
        sp.add_argument("--worker-id")
        sp.add_argument(
            "--workers",
            dest="telephony_workers",
            type=int,
            help="telephony worker processes behind one Kamailio (more than 1 needs Redis)",
        )

    for name, fn, text in (
        ("run", cmd_run, "single node: web + telephony + scheduler"),
        ("demo", cmd_run, "run with demo data"),
        ("web", cmd_web, "web process only"),
        ("telephony", cmd_telephony, "telephony worker only"),
        ("scheduler", cmd_scheduler, "scheduler only"),
    ):
        sp = sub.add_parser(name, help=text)
        node(sp)
        sp.set_defaults(fn=fn)

    db = sub.add_parser("db", help="database")
    dbsub = db.add_subparsers(dest="dbcmd", required=True)
    up = dbsub.add_parser("upgrade")
    common(up)
    up.set_defaults(fn=cmd_db_upgrade)

    user = sub.add_parser("user", help="users")
    usub = user.add_subparsers(dest="usercmd", required=True)
    add = usub.add_parser("add")
    common(add)
    add.add_argument("username")
    add.add_argument("--password", required=True)
    add.add_argument("--role", default=Role.AGENT, choices=list(Role))
    add.add_argument("--name")
    add.add_argument("--language", default="zh-CN", choices=["zh-CN", "en"])
    add.add_argument("--skills", help="comma-separated queue skills")
    add.add_argument("--sip-contact", help="agent's SIP phone, e.g. sip:8001@192.0.2.10:5060")
    add.add_argument("--extension")
    add.set_defaults(fn=cmd_user_add)

    cust = sub.add_parser("customer", help="customers")
    csub = cust.add_subparsers(dest="custcmd", required=True)
    imp = csub.add_parser("import")
    common(imp)
    imp.add_argument("file")
    imp.set_defaults(fn=cmd_customer_import)

    dial = sub.add_parser("dial", help="place a test call into Hotline")
    dial.add_argument("from_number", help="caller number, e.g. 13800138000")
    dial.add_argument("--target", default="127.0.0.1:5060", help="Hotline SIP address host:port")
    dial.add_argument("--to", default="10086", help="dialled number (selects the queue)")
    dial.add_argument("--wav", help="WAV file to play once answered")
    dial.add_argument("--duration", type=float, default=30.0)
    dial.add_argument("--transport", default="udp", choices=["udp", "tcp"])
    dial.set_defaults(fn=cmd_dial)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hotline` console script."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except DomainError as err:
        from console.web.errors import message

        print(f"error: {message(err, 'en')} / {message(err, 'zh-CN')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
