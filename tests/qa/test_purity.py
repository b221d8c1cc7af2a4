from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"flask", "sqlalchemy", "pjsua2", "console", "telephony"}


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module a file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value.split(".")[0])
    return names


def test_qa_imports_no_web_framework_database_sip_stack_or_console() -> None:
    files = sorted((ROOT / "qa").rglob("*.py"))
    assert len(files) >= 7
    offenders = {
        p.relative_to(ROOT).as_posix(): sorted(imported_roots(p) & FORBIDDEN) for p in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_qa_needs_only_numpy_the_standard_library_and_its_optional_matchers() -> None:
    import sys

    allowed = {"qa", "numpy", "rapidfuzz", "pypinyin", "__future__"}
    for path in sorted((ROOT / "qa").rglob("*.py")):
        extra = imported_roots(path) - allowed - set(sys.stdlib_module_names)
        assert extra == set(), path


def test_the_checker_sees_imports_hidden_in_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from console.core import db\n    import importlib\n"
        "    importlib.import_module('flask.json')\n"
    )
    assert imported_roots(sample) >= {"console", "flask"}
