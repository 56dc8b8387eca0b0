"""A small in-process cache with a time-to-live, for read-mostly answers (product pages).

Each process keeps its own copy. After ``ttl`` seconds a copy is stale: the next request still gets it
at once while a single background load refreshes it (stale-while-revalidate), so under load no request
waits for the database and one read per key and ttl refreshes it; a copy older than ``max_stale`` is not
served at all. A change made in this process clears the cache at once. This uses the monotonic clock on
purpose: it is about the freshness of a copy, not a business rule, so the (sandbox) Clock is not involved.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
log = logging.getLogger("fanbase.cache")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, max_items: int = 4096, max_stale: float | None = None) -> None:
        self.ttl = ttl
        self.max_stale = max_stale if max_stale is not None else ttl * 10
        self.max_items = max_items
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()  # key -> (stored at, value)
        self._lock = threading.Lock()
        self._loading: dict[K, asyncio.Future[V]] = {}
        self._background: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def _entry(self, key: K, max_age: float) -> V | None:
        entry = self._items.get(key)
        if entry is None or time.monotonic() - entry[0] > max_age:
            return None
        return entry[1]

    def get(self, key: K) -> V | None:
        """A fresh value (younger than ttl), else None."""
        return self._entry(key, self.ttl)

    def put(self, key: K, value: V) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """A fresh copy; or a stale one while a background load refreshes it; or, with no usable copy,
        load it once however many requests ask at the same moment."""
        value = self.get(key)
        if value is not None:
            return value
        stale = self._entry(key, self.max_stale)
        if stale is not None:
            if key not in self._loading:
                task = asyncio.create_task(self._refresh(key, load))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            return stale
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._load(key, load)

    async def _refresh(self, key: K, load: Callable[[], Awaitable[V]]) -> None:
        try:
            await self._load(key, load)
        except Exception:  # the stale copy keeps being served until max_stale
            log.warning("refreshing cached %r failed", key, exc_info=True)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
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
