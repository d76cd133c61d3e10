"""Why something was refused, in the reader's language: Pydantic's errors and domain errors.

English keeps the original wording (Pydantic's, or the domain error's message; the API
documents them). Another locale reads:
- for a Pydantic error, `validation.<error type>` formatted with the error's context
  (`{min_length}`, `{ge}`, `{expected}`…): Pydantic's own types from
  `core/locales/refusals/<locale>.json`; a validator with a message of its own raises
  `PydanticCustomError("<type>", "<English template>", {...})` and its domain's catalogues
  (en and zh-CN) hold `validation.<type>`;
- for a domain error (`NewRetailError`): its own `translated(t)` where it has one (the
  members' errors name a catalogue key and values), else `errors.<code>` (core's codes in
  the refusals file, a domain's own codes in its catalogues).
A key a locale lacks is noted (`i18n.untranslated`) and the English text is shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any, Protocol, runtime_checkable

from newretail.core.errors import NewRetailError
from newretail.core.i18n import DEFAULT_LOCALE, Translate, catalogue, note_missing, translator

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _refusals(locale: str) -> dict[str, str]:
    """Pydantic's error types and core's error codes in a locale other than English."""
    path = files("newretail") / "core" / "locales" / "refusals" / f"{locale}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _text(key: str, locale: str) -> str | None:
    return catalogue(locale).get(key) or _refusals(locale).get(key)


def _choices(text: str, locale: str) -> str:
    """Pydantic lists choices as "'a', 'b' or 'c'"."""
    if locale == "zh-CN":
        return text.replace(", ", "、").replace(" or ", "、")
    return text


def _context(error: Mapping[str, Any], locale: str) -> dict[str, str]:
    context = error.get("ctx") or {}
    values = {name: str(value) for name, value in context.items()}
    if "expected" in values:
        values["expected"] = _choices(values["expected"], locale)
    values.setdefault("input", str(error.get("input", "")))
    return values


def reason(error: Mapping[str, Any], locale: str) -> str:
    """One Pydantic error's reason in `locale` (the field is named apart, by `field_path`)."""
    english = str(error.get("msg", ""))
    if locale == DEFAULT_LOCALE:
        return english
    key = f"validation.{error.get('type', '')}"
    template = _text(key, locale)
    if template is None:
        note_missing(locale, key)
        return english
    values = _context(error, locale)
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """`body.lines.0.quantity`: where the refused value sits."""
    return ".".join(str(part) for part in location)


@runtime_checkable
class Translatable(Protocol):
    """An error that knows its message's catalogue key (members.errors.MembersError)."""

    def translated(self, t: Translate) -> str: ...


def domain_error(exc: NewRetailError, locale: str) -> str:
    """A domain error's message in `locale`."""
    if isinstance(exc, Translatable):
        return exc.translated(translator(locale))
    if locale == DEFAULT_LOCALE:
        return exc.message
    params = getattr(exc, "params", None)
    if isinstance(params, dict):
        # commerce errors: `error.<code>` with the error's own placeholders (orders/errors.py)
        template = _text(f"error.{exc.code}", locale)
        if template is not None:
            values = {name: str(value) for name, value in params.items()}
            return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    key = f"errors.{exc.code}"
    text = _text(key, locale)
    if text is None:
        note_missing(locale, key)
        return exc.message
    return text


def api_message(exc: NewRetailError, locale: str) -> str:
    """A domain error's `message` in the API's answer, in `locale` (Accept-Language): its own
    translation; for core's general codes (`invalid_input`: 输入无效), that text with the
    error's own English reason kept after it, so nothing specific is lost."""
    if locale == DEFAULT_LOCALE:
        return exc.message
    text = domain_error(exc, locale)
    key = f"errors.{exc.code}"
    general = catalogue(locale).get(key) is None and text == _refusals(locale).get(key)
    return f"{text}（{exc.message}）" if general and text != exc.message else text
