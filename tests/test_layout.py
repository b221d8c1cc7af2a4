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


WEB_ROLES = {"views.py", "sockets.py"}  # the only modules of a feature that speak HTTP


def test_only_views_sockets_and_the_web_package_import_flask() -> None:
    domain = [
        p
        for p in python_files("console")
        if "web" not in p.relative_to(ROOT).parts and p.name not in WEB_ROLES | {"cli.py"}
    ]
    assert any(p.name == "services.py" for p in domain)
    offenders = [
        p.relative_to(ROOT).as_posix()
        for p in domain
        if imports_of(p) & {"flask", "flask_socketio", "flask_login", "flask_wtf"}
    ]
    assert offenders == []


def test_console_reads_by_feature() -> None:
    """console/ holds core/, web/, one package per feature and the node's entry modules."""
    entry = {"__init__.py", "cli.py", "node.py", "jobs.py", "demo.py"}
    loose = sorted(p.name for p in (ROOT / "console").glob("*.py") if p.name not in entry)
    assert loose == []
    features = [
        p for p in (ROOT / "console").iterdir() if p.is_dir() and (p / "services.py").exists()
    ]
    assert len(features) >= 10
    for feature in features:
        # Files are named by their role; views and sockets only where the feature has pages.
        assert (feature / "__init__.py").exists(), feature.name


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
