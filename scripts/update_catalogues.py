"""Extract every translatable message from src/fanbase (Python and page templates) into the .po catalogues.

    python scripts/update_catalogues.py

New messages appear with an empty zh_CN translation; tests/test_i18n.py fails until they are filled.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from fanbase.i18n import EXTRACT_KEYWORDS, LOCALE_DIR, LOCALES

SOURCE = Path(__file__).resolve().parents[1] / "src" / "fanbase"


def extracted() -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(SOURCE), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")],
            keywords=EXTRACT_KEYWORDS):
        text = message if isinstance(message, str) else message[0]
        if text and text != "detail":
            found.setdefault(text, []).append((f"fanbase/{filename}", lineno))
    return found


def main() -> None:
    messages = extracted()
    for locale in LOCALES:
        path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        old: Catalog | None = None
        if path.exists():
            with path.open("rb") as f:
                old = read_po(f, locale=locale)
        catalog = Catalog(locale=locale, project="fanbase", charset="utf-8")
        for text, locations in sorted(messages.items()):
            previous = old.get(text) if old else None
            translation = previous.string if previous is not None else ("" if locale != "en" else text)
            catalog.add(text, translation, locations=locations)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=120, omit_header=False)
        print(f"{locale}: {len(messages)} messages -> {path}")


if __name__ == "__main__":
    main()
