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
        if "web" not in p.relative_to(ROOT).parts
        and p.name not in WEB_ROLES | {"cli.py", "node.py"}
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
    entry = {"__init__.py", "cli.py", "node.py", "scheduler.py", "demo.py"}
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


QUERY_METHODS = {"get", "get_one", "scalar", "scalars", "execute", "add", "delete", "query"}


def _session_queries(path: Path) -> list[str]:
    """Calls like s.get(...), session.scalars(...) in a module: the ORM used directly."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"s", "db"}
        ):
            found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    return found


def test_views_and_sockets_run_no_orm_queries_of_their_own() -> None:
    """Views parse the request, call a service with a session and shape the answer; the
    queries live in the services."""
    web = [
        p
        for p in python_files("console")
        if p.name in WEB_ROLES or "web" in p.relative_to(ROOT).parts
    ]
    assert len(web) >= 10
    offenders = [q for p in web for q in _session_queries(p)]
    # Catching sqlalchemy.exc errors is fine; building queries (select, update…) is not.
    offenders += [
        p.relative_to(ROOT).as_posix()
        for p in web
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module in {"sqlalchemy", "sqlalchemy.orm"}
    ]
    assert offenders == []


def test_domain_errors_know_no_http_status() -> None:
    """Services raise an id; only the web layer's table (console/web/errors.py) maps it to HTTP."""
    files = [ROOT / "console/core/errors.py", *sorted((ROOT / "console").rglob("services.py"))]
    assert len(files) >= 11
    offenders = []
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name.endswith("Error") and any(k.arg == "status" for k in node.keywords):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
                params = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                if "status" in params:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("console.web"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports the web layer")
    assert offenders == []


# Services that still shape the wire, by feature ("feature/services.py": {function names}):
# remaining work, listed so it is seen. Empty: every feature's shaping is in its schemas.py.
SHAPING_LEFT_IN_SERVICES: dict[str, set[str]] = {}
# CSV read in, not written out: these parse an upload and store rows (queries and rules), which
# is a service's job; they shape nothing for the wire.
CSV_READERS = {
    "customers/services.py": {"decode_csv", "import_csv"},
    "forecasts/services.py": {"import_csv"},
}


def _shapes_the_wire(name: str) -> bool:
    return name.endswith(("_dict", "_dicts", "_csv")) or name.startswith("export")


def test_services_return_rows_and_schemas_shape_the_wire() -> None:
    """A feature's services.py returns rows, dataclasses or small typed results; turning them
    into JSON dicts and CSV is its schemas.py's job, and schemas.py knows nothing of Flask."""
    services = sorted((ROOT / "console").glob("*/services.py"))
    assert len(services) >= 10
    found: dict[str, set[str]] = {}
    for path in services:
        key = path.relative_to(ROOT / "console").as_posix()
        allowed = SHAPING_LEFT_IN_SERVICES.get(key, set()) | CSV_READERS.get(key, set())
        names = {
            node.name
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and _shapes_the_wire(node.name)
        }
        if names - allowed:
            found[key] = names - allowed
    assert found == {}
    schemas = sorted((ROOT / "console").glob("*/schemas.py"))
    assert len(schemas) >= 8
    offenders = [
        p.relative_to(ROOT).as_posix()
        for p in schemas
        if imports_of(p) & {"flask", "flask_socketio", "flask_login", "flask_wtf"}
    ]
    assert offenders == []
