"""The user-facing texts (zh-CN, en) shared by errors, pages and the browser.

They live in gettext catalogs, one per language, at
`console/core/locale/<locale>/LC_MESSAGES/messages.po`, kept in the form translators' tools
(Weblate, Poedit) read: monolingual, the stable key as msgid (what the code and the browser
look up), the text as msgstr, English the source language. Each catalog is read once and
compiled in memory; there is no build step and no .mo file.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("zh-CN", "en")
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
# Catalog folder per language (gettext names locales with an underscore).
LOCALES = {"zh-CN": "zh_CN", "en": "en"}
DOMAIN = "messages"


def catalog_path(language: str) -> Path:
    """The PO file of a supported language."""
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalog_keys(language: str) -> tuple[str, ...]:
    with catalog_path(language).open("rb") as f:
        catalog = read_po(f, locale=LOCALES[language], domain=DOMAIN)
    return tuple(str(m.id) for m in catalog if m.id)


@functools.cache
def _translations(language: str) -> Translations:
    """The compiled catalog of a supported language; other languages fall back to English."""
    with catalog_path(language).open("rb") as f:
        catalog = read_po(f, locale=LOCALES[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # empty texts are left out: they fall back
    compiled.seek(0)
    translations = Translations(compiled, domain=DOMAIN)
    if language != SOURCE_LANGUAGE:
        translations.add_fallback(_translations(SOURCE_LANGUAGE))
    return translations


@functools.cache
def keys() -> frozenset[str]:
    """Every message key of the catalog (the source language's)."""
    return frozenset(_catalog_keys(SOURCE_LANGUAGE))


def translate(key: str, language: str, **params: object) -> str:
    """The message for key in language (falling back to English, then the key)."""
    if key not in keys():
        return key
    lang = language if language in LANGUAGES else SOURCE_LANGUAGE
    text = _translations(lang).gettext(key)
    return text.format(**params) if params else text


def table(language: str) -> dict[str, str]:
    """The whole table in one language, for the browser."""
    return {key: translate(key, language) for key in _catalog_keys(SOURCE_LANGUAGE)}


def pick_language(requested: str | None, default: str = "zh-CN") -> str:
    """A supported language from a user preference or an Accept-Language value."""
    if requested:
        for part in requested.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh-CN"
            if tag.startswith("en"):
                return "en"
    return default
