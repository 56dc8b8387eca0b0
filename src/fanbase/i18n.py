"""Babel message catalogues (zh_CN first, en). Text a person reads goes through ``_``.

Catalogues are kept as .po files in ``fanbase/locale`` and compiled in memory on first use, so there is
no build step and no binary in the repository. The request's locale lives in a context variable set by
the middleware from ``Accept-Language`` (default zh_CN).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str, locale: str | None = None, **params: object) -> str:
    text = translations(locale or current_locale.get()).gettext(message)
    return text.format(**params) if params else text


_ = gettext


def negotiate(accept_language: str | None) -> str:
    """Pick zh_CN or en from an Accept-Language header; zh_CN when nothing matches."""
    if not accept_language:
        return DEFAULT_LOCALE
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(",")[:20]:
        lang, _sep, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        weighted.append((weight, lang.strip().lower()))
    for _weight, lang in sorted(weighted, key=lambda item: -item[0]):
        if lang.startswith("zh"):
            return "zh_CN"
        if lang.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def N_(message: str) -> str:  # noqa: N802  (the conventional name)
    """Mark a string for extraction without translating it now (it is translated when shown)."""
    return message


# Keywords that take a translatable English message as first argument; `pybabel extract` and the
# catalogue test use the same list, so a new error message cannot go untranslated.
EXTRACT_KEYWORDS = {name: None for name in (
    "_", "gettext", "N_", "DomainError", "ValidationFailed", "Unauthorized", "Forbidden", "NotFound", "Conflict",
    "OutOfStock", "InsufficientFunds", "PaymentExpired", "ServiceUnavailable", "BadSignature")}
