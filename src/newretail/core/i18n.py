"""Message catalogues (en, zh-CN) and locale negotiation."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

LOCALES = ("en", "zh-CN")
DEFAULT_LOCALE = "en"
_MISSING_LIMIT = 1000

Translate = Callable[..., str]
# keys asked for but absent from a locale's catalogue (English shown instead, or the key itself);
# the console's language walk (tests/console) fails on any
_missing: dict[str, set[str]] = {locale: set() for locale in LOCALES}


def untranslated(locale: str) -> set[str]:
    """Message keys this process looked up in `locale` and did not find there."""
    return set(_missing.get(locale, ()))


def note_missing(locale: str, key: str) -> None:
    """Remember a key a locale lacks (bounded: keys can be built from data)."""
    missing = _missing.setdefault(locale, set())
    if len(missing) < _MISSING_LIMIT:
        missing.add(key)


@cache
def catalogue(locale: str) -> dict[str, str]:
    """core/locales/<locale>.json merged with every domain's <domain>/locales/<locale>.json."""
    root = files("newretail")
    data: dict[str, str] = {}
    for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
        path = folder / "locales" / f"{locale}.json"
        if folder.is_dir() and path.is_file():
            data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def translator(locale: str) -> Translate:
    """A `t(key, **values)` function for one locale; unknown keys fall back to English."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    messages = catalogue(locale)
    fallback = catalogue(DEFAULT_LOCALE)

    def translate(key: str, **values: Any) -> str:
        if values.get("count") == 1 and f"{key}.one" in messages:
            key = f"{key}.one"  # languages with a singular form add `<key>.one`
        text = messages.get(key)
        if text is None:
            text = fallback.get(key) or key
            # English may use its own text as the key (the zh-CN catalogue has it)
            if locale != DEFAULT_LOCALE or key not in catalogue("zh-CN"):
                note_missing(locale, key)
        return text.format(**values) if values else text

    return translate


def negotiate(accept_language: str | None) -> str:
    """Pick a supported locale from an Accept-Language header (highest q first)."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE
