from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(*parts: str) -> list[Path]:
    return sorted(p for part in parts for p in (ROOT / part).rglob("*.py"))


def test_only_the_telephony_engine_imports_pjsua2() -> None:
    users = [
        p.relative_to(ROOT).as_posix()
        for p in python_files("console", "telephony", "bench")
        if "pjsua2" in imports_of(p)
    ]
    assert users == ["telephony/engine.py"]


def test_console_domain_does_not_import_flask() -> None:
    domain = [
        p
        for p in python_files("console")
        if "web" not in p.relative_to(ROOT).parts and p.name != "cli.py"
    ]
    assert domain
    offenders = [
        p.name
        for p in domain
        if imports_of(p) & {"flask", "flask_socketio", "flask_login", "flask_wtf"}
    ]
    assert offenders == []


def test_telephony_does_not_import_the_web_layer() -> None:
    for p in python_files("telephony"):
        text = p.read_text()
        assert "console.web" not in text and "flask" not in imports_of(p), p


def test_pure_engines_import_nothing_of_ours_nor_web_db_or_sip() -> None:
    files = python_files("roster", "qa")
    assert any(p.parent.name == "roster" for p in files)
    forbidden = {"flask", "flask_socketio", "sqlalchemy", "pjsua2", "console", "telephony", "redis"}
    offenders = {p.relative_to(ROOT).as_posix(): sorted(imports_of(p) & forbidden) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
