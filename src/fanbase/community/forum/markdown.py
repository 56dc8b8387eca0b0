"""Markdown to safe HTML (markdown-it-py, CommonMark), done once when a post is written.

Raw HTML is never passed through: ``html=False`` makes markdown-it escape it, so ``<script>`` shows as
text. Images, headings and tables are off (a post is conversation, and an image would load a stranger's
address in every reader's browser). Links are kept only for ``http``/``https`` addresses (anything else,
``javascript:`` included, stays as the text the member typed) and carry ``rel="nofollow ugc noopener"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

REL = "nofollow ugc noopener"
# a bare address is a link too for the rule "new members post no links", even though it is not made one
BARE_LINK = re.compile(r"(?i)\bhttps?://|\bwww\.")
# ``@name``: letters (any script), digits, ``_ . -``; not inside an e-mail address
MENTION = re.compile(r"(?<![\w@.])@([^\W_][\w.\-]{0,63})")


def _allowed(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


def _link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", REL)
    return str(renderer.renderToken(tokens, idx, options, env))


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.disable(["image", "heading", "lheading", "html_block", "html_inline"])
    md.validateLink = _allowed  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


_MD = _parser()


@dataclass(frozen=True)
class Rendered:
    html: str
    has_links: bool
    mentions: list[str]  # handles named with ``@``, in order, without repeats


def render(source: str) -> Rendered:
    tokens = _MD.parse(source)
    has_links = bool(BARE_LINK.search(source))
    mentions: list[str] = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                has_links = True
            elif child.type == "text":  # not code: ``@name`` in a code span names nobody
                for handle in MENTION.findall(child.content):
                    handle = handle.rstrip(".-")
                    if handle and handle not in mentions:
                        mentions.append(handle)
    return Rendered(html=_MD.renderer.render(tokens, _MD.options, {}), has_links=has_links, mentions=mentions)
