from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from console.cli import main
from console.core.models import Agent, Customer, User
from console.node import build
from tests.helpers import make_settings


def run_cli(tmp_path: Path, *args: str) -> int:
    return main(
        [*args, "--data-dir", str(tmp_path), "--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    )


def test_db_upgrade_user_add_and_customer_import(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert run_cli(tmp_path, "db", "upgrade") == 0
    assert (
        run_cli(
            tmp_path,
            "user",
            "add",
            "lin",
            "--password",
            "secret1",
            "--skills",
            "support,sales",
            "--sip-contact",
            "sip:8003@127.0.0.1:5090",
        )
        == 0
    )
    assert run_cli(tmp_path, "user", "add", "lin", "--password", "secret1") == 2
    assert "Username already exists" in capsys.readouterr().err
    csv_file = tmp_path / "c.csv"
    csv_file.write_text(
        "name,phones,grade,district\n周杰,13500001111,A,东城\nBad,12,Q,\n", encoding="utf-8"
    )
    assert run_cli(tmp_path, "customer", "import", str(csv_file)) == 2
    assert "line 3, Grade: Grade must be A, B, C or D." in capsys.readouterr().err
    csv_file.write_text("name,phones,grade,district\n周杰,13500001111,A,东城\n", encoding="utf-8")
    assert run_cli(tmp_path, "customer", "import", str(csv_file)) == 0
    hl = build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}"))
    with hl.sessions() as s:
        agent = s.scalar(select(Agent).join(User).where(User.username == "lin"))
        assert agent is not None and agent.skills == ["support", "sales"]
        assert [c.name for c in s.scalars(select(Customer))] == ["周杰"]
    hl.close()


def test_hotline_command_help_lists_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "console.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for cmd in ("run", "demo", "db", "user", "customer", "dial", "web", "telephony", "scheduler"):
        assert cmd in out
