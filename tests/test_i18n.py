"""Every text a person reads goes through Babel, zh-CN first: no message may lack a translation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from babel.messages.pofile import read_po

from fanbase.i18n import LOCALE_DIR, gettext, negotiate

ROOT = Path(__file__).resolve().parents[1]


def _extracted() -> set[str]:
    spec = importlib.util.spec_from_file_location("update_catalogues", ROOT / "scripts" / "update_catalogues.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.extracted())


def test_every_message_has_a_chinese_translation() -> None:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = _extracted() - translated
    assert not missing, f"run scripts/update_catalogues.py and translate: {sorted(missing)}"


def test_chinese_is_the_default_and_english_is_offered() -> None:
    assert negotiate(None) == "zh_CN"
    assert negotiate("fr-FR,fr;q=0.9") == "zh_CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("en;q=0.2, zh-CN;q=0.8") == "zh_CN"
    assert gettext("Out of stock", "zh_CN") == "库存不足"
    assert gettext("Not enough stock of {sku}", "en", sku="X1") == "Not enough stock of X1"
