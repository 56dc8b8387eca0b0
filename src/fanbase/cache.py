"""A small in-process cache with a time-to-live, for read-mostly answers (product pages).

Each process keeps its own; ``ttl`` bounds how stale an answer can be after a change made by another
process. A change made in this process clears the cache at once. Uses the monotonic clock on purpose:
this is about freshness of a copy, not a business rule, so the (sandbox) Clock is not involved.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, max_items: int = 4096) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[K, asyncio.Future[V]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: K) -> V | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._items.pop(key, None)
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or load it once however many requests ask at the same moment (when a copy
        expires under load, one database read refreshes it instead of one per waiting request)."""
        value = self.get(key)
        if value is not None:
            return value
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
            self.put(key, value)
            future.set_result(value)
            return value
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so an unawaited failure is not logged twice
            raise
        finally:
            del self._loading[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
