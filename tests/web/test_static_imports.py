"""Every module a page loads exists: no 404 from a moved file in static/.

There is no build step, so a stale relative import or `url_for('static', filename=…)` only
shows up in the browser. This scans the ES modules under static/ (vendored libraries aside)
and the page templates of every feature package, and checks each target file is there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"

# `import x from "…"`, `import { a, b as c } from "…"`, `import * as m from "…"`, `import "…"`.
STATIC_IMPORT = re.compile(r"""^\s*import\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+)["']""", re.M)
# `export { a } from "…"`, `export * from "…"`.
RE_EXPORT = re.compile(r"""^\s*export\s*[\w$*{}\s,]+?\s*from\s*["']([^"']+)["']""", re.M)
# `import("…")` with a literal specifier.
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["'`]([^"'`$]+)["'`]\s*\)""")
# `new URL("…", import.meta.url)`: a module loaded by other means (an AudioWorklet).
META_URL = re.compile(r"""\bnew URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)""")
# `url_for('static', filename='…')` in a template.
TEMPLATE_FILENAME = re.compile(
    r"""url_for\(\s*["']static["']\s*,\s*filename\s*=\s*["']([^"']+)["']"""
)


def _modules() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*.js") if "vendor" not in p.relative_to(STATIC).parts)


def _templates() -> list[Path]:
    return sorted((ROOT / "console").glob("**/templates/**/*.html"))


def _specifiers(text: str) -> list[str]:
    found = (rx.finditer(text) for rx in (STATIC_IMPORT, RE_EXPORT, DYNAMIC_IMPORT, META_URL))
    return [m.group(1) for matches in found for m in matches]


def _resolve(module: Path, spec: str) -> Path | None:
    """The file a browser would fetch for `spec` imported from `module` (None: not a path)."""
    if spec.startswith("/static/"):
        return STATIC / spec.removeprefix("/static/")
    if spec.startswith(("./", "../")):
        return (module.parent / spec).resolve()
    return None


def test_the_scan_finds_the_pages() -> None:
    assert len(_modules()) > 20
    assert len(_templates()) > 8
    assert sum(len(_specifiers(p.read_text(encoding="utf-8"))) for p in _modules()) > 100


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(STATIC)))
def test_every_import_of_a_module_exists(module: Path) -> None:
    problems = []
    for spec in _specifiers(module.read_text(encoding="utf-8")):
        target = _resolve(module, spec)
        if target is None:
            problems.append(f"{spec}: bare specifier (no import map, no build step)")
        elif not target.is_relative_to(STATIC.resolve()):
            problems.append(f"{spec}: outside static/")
        elif not target.is_file():
            problems.append(f"{spec}: no such file {target.relative_to(ROOT)}")
    assert problems == []


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_static_file_a_template_names_exists(template: Path) -> None:
    names = TEMPLATE_FILENAME.findall(template.read_text(encoding="utf-8"))
    missing = [name for name in names if not (STATIC / name).is_file()]
    assert missing == []


def test_every_page_module_and_component_is_loaded_by_something() -> None:
    """No orphan left behind by a move: each module is named by a template or imported."""
    reached: set[Path] = set()
    for template in _templates():
        for name in TEMPLATE_FILENAME.findall(template.read_text(encoding="utf-8")):
            reached.add((STATIC / name).resolve())
    for module in _modules():
        for spec in _specifiers(module.read_text(encoding="utf-8")):
            target = _resolve(module, spec)
            if target is not None:
                reached.add(target.resolve())
    orphans = [str(p.relative_to(STATIC)) for p in _modules() if p.resolve() not in reached]
    assert orphans == []
