"""Cursor pagination: ``?limit=&cursor=`` -> ``{"items": [...], "next_cursor": str | None}``.

The cursor is an opaque token for "after this id" (ids ascend), so pages stay stable while rows are
added behind them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from fanbase.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after_id: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id":
            raise ValueError(kind)
        after = int(value)
        if not 0 <= after < 2**63:
            raise ValueError(value)
        return after
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("The cursor is not valid") from exc


def page_request(limit: int | None, cursor: str | None) -> PageRequest:
    if limit is None:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("limit must be between 1 and {max}", max=MAX_LIMIT)
    return PageRequest(limit=limit, after_id=decode_cursor(cursor))


def make_page(rows: Sequence[T], request: PageRequest) -> Page[T]:
    """``rows`` were fetched with ``limit + 1``: the extra row only says there is a next page."""
    has_more = len(rows) > request.limit
    items = rows[: request.limit]
    next_cursor = encode_cursor(items[-1].id) if has_more and items else None  # type: ignore[attr-defined]
    return Page(items=items, next_cursor=next_cursor)
