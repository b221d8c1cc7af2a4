"""The gettext catalogs: both languages hold the same keys and placeholders, every key the
pages, templates and code ask for exists (a missing key shows as the key), and the engines and
services leave the wording to the catalog."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from console.core import i18n
from roster.rules import RULE_IDS
from roster.solver import REASONS

ROOT = Path(__file__).resolve().parents[2]
# A {name} placeholder, with or without a format spec ({hours:.1f}).
PLACEHOLDER = re.compile(r"\{(\w+)(?:[:!][^{}]*)?\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalog(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as f:
        return read_po(f, locale=i18n.LOCALES[language], domain=i18n.DOMAIN)


def _texts(language: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in _catalog(language) if m.id}


def _found(pattern: str, paths: list[Path], used: dict[str, str]) -> None:
    for path in paths:
        for m in re.finditer(pattern, path.read_text(encoding="utf-8")):
            used.setdefault(m.group(1), str(path.relative_to(ROOT)))


def _scripts() -> list[Path]:
    return [p for p in sorted((ROOT / "static").rglob("*.js")) if "vendor" not in p.parts]


def _used_keys() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Keys asked for by the browser (t("…")), the templates (t['…']) and Python
    (translate("…", …))."""
    pages: dict[str, str] = {}
    _found(r'\bt\(\s*"([^"]+)"', _scripts(), pages)
    templates: dict[str, str] = {}
    html = sorted((ROOT / "console").glob("*/templates/*.html"))
    _found(r"""\bt\[\s*["']([^"']+)["']\s*\]""", html, templates)
    code: dict[str, str] = {}
    python = [p for p in sorted((ROOT / "console").rglob("*.py")) if "migrations" not in p.parts]
    _found(r"""\btranslate\(\s*["']([^"']+)["']""", python, code)
    return pages, templates, code


def test_both_catalogs_parse_and_hold_the_same_keys() -> None:
    en, zh = _catalog("en"), _catalog("zh-CN")
    assert en.locale is not None and en.locale.language == "en"
    assert zh.locale is not None and (zh.locale.language, zh.locale.territory) == ("zh", "CN")
    assert '"Language: zh_CN\\n"' in i18n.catalog_path("zh-CN").read_text("utf-8")
    assert zh.plural_forms == "nplurals=1; plural=0;"
    assert set(_texts("en")) == set(_texts("zh-CN")) == i18n.keys()
    assert len(i18n.keys()) > 500


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    en, zh = _texts("en"), _texts("zh-CN")
    for key, text in en.items():
        assert text and zh[key], key
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(zh[key])), key


def test_every_key_the_pages_templates_and_code_use_is_in_the_catalog() -> None:
    pages, templates, code = _used_keys()
    assert len(pages) > 200 and len(templates) > 20 and len(code) > 5  # the scans found them
    keys = i18n.keys()

    # A key ending in "." is a prefix completed at run time (t("rule." + name)): some key has it.
    def known(key: str) -> bool:
        return any(k.startswith(key) for k in keys) if key.endswith(".") else key in keys

    for used in (pages, templates, code):
        missing = {key: where for key, where in used.items() if not known(key)}
        assert missing == {}


def test_every_engine_id_has_its_message() -> None:
    keys = i18n.keys()
    assert {f"rule.{r}" for r in RULE_IDS} | {"rule.agent-inactive"} <= keys
    assert {f"explain.{r}" for r in REASONS} | {"explain.line", "explain.detail"} <= keys
    kinds = {"late", "absence-late", "absence", "logouts", "excess-swap"}
    assert {f"ledger.{k}" for k in kinds} <= keys


def test_translate_falls_back_to_english_then_the_key() -> None:
    assert i18n.translate("login.failed", "zh-CN") == "用户名或密码错误。"
    assert i18n.translate("login.failed", "fr") == i18n.translate("login.failed", "en")
    assert i18n.translate("no.such.key", "en", n=1) == "no.such.key"
    assert i18n.translate("common.server_error", "en", status=502) == "Server error (502)."
    assert i18n.table("zh-CN")["app.title"] == "Hotline 呼叫中心"


def test_engines_and_services_carry_no_sentences() -> None:
    # Words are the catalog's: the engine and the services return ids and fields. Seed data
    # (console/demo.py, console/core/models.py, console/workforce/defaults.py) stays data.
    sources = sorted((ROOT / "roster").rglob("*.py")) + sorted(
        (ROOT / "console").glob("*/services.py")
    )
    assert len(sources) > 15
    with_cjk = [str(p.relative_to(ROOT)) for p in sources if CJK.search(p.read_text("utf-8"))]
    assert with_cjk == []
    # The server sends each message in the reader's language: no page picks one.
    picks = [str(p.relative_to(ROOT)) for p in _scripts() if 'lang() === "en"' in p.read_text()]
    assert picks == []
