"""Rate limits: at most N hits per key in each window of W seconds (fixed windows).

In-process counters for one process; Redis (INCR + EXPIRE in one round trip) when FANBASE_REDIS_URL is
set, so that every process counts the same fan and the same address together. A limit of 0 is off.
If Redis cannot be reached the limiter lets the request through (the gate and the per-customer limit
still protect the sale) rather than failing every purchase.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Protocol

log = logging.getLogger("fanbase.ratelimit")


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Count a hit; None if allowed, else the seconds to wait (for Retry-After)."""
        ...


def _window(window_seconds: float) -> tuple[int, float]:
    now = time.time()
    index = int(now // window_seconds)
    return index, (index + 1) * window_seconds - now


class InProcessRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._current = -1

    def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        if limit <= 0:
            return None
        index, left = _window(window_seconds)
        with self._lock:
            if index != self._current:  # a new window: forget the old ones
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= index}
                self._current = index
            count = self._counts.get((key, index), 0) + 1
            self._counts[(key, index)] = count
        return None if count <= limit else left


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "fanbase:rl") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        if limit <= 0:
            return None
        index, left = _window(window_seconds)
        redis_key = f"{self.prefix}:{key}:{index}"
        try:
            pipe: Any = self._redis.pipeline(transaction=False)
            pipe.incr(redis_key)
            pipe.expire(redis_key, math.ceil(window_seconds) + 1)
            count = int(pipe.execute()[0])
        except Exception:
            log.warning("rate limiter unavailable; allowing the request", exc_info=True)
            return None
        return None if count <= limit else left


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else InProcessRateLimiter()
