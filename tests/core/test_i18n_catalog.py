"""Every text the pages ask for exists in both languages (a missing key shows as the key)."""

from __future__ import annotations

import re
from pathlib import Path

from console.core.i18n import LANGUAGES, MESSAGES

ROOT = Path(__file__).resolve().parents[2]


def _used_keys() -> dict[str, str]:
    used: dict[str, str] = {}
    for path in sorted((ROOT / "static").rglob("*.js")):
        if "vendor" in path.parts:
            continue
        for m in re.finditer(r'\bt\(\s*"([^"]+)"', path.read_text(encoding="utf-8")):
            used.setdefault(m.group(1), str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "console" / "web" / "templates").rglob("*.html")):
        for m in re.finditer(r"""\b_\(\s*["']([^"']+)["']""", path.read_text(encoding="utf-8")):
            used.setdefault(m.group(1), str(path.relative_to(ROOT)))
    return used


def test_every_key_the_pages_use_is_in_the_catalog() -> None:
    used = _used_keys()
    assert len(used) > 200  # the scan found the pages

    # A key ending in "." is a prefix completed at run time (t("rule." + name)): some key has it.
    def known(key: str) -> bool:
        return any(k.startswith(key) for k in MESSAGES) if key.endswith(".") else key in MESSAGES

    missing = {key: where for key, where in used.items() if not known(key)}
    assert missing == {}


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        marks = {lang: sorted(re.findall(r"\{(\w+)\}", text)) for lang, text in texts.items()}
        assert marks["en"] == marks["zh-CN"], key
