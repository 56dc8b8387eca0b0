from __future__ import annotations

import uuid

import pytest

from fanbase.ratelimit import InProcessRateLimiter, RedisRateLimiter


def _exercise(limiter) -> None:  # type: ignore[no-untyped-def]
    key = uuid.uuid4().hex
    results = [limiter.hit(key, 3, 60.0) for _ in range(5)]
    assert results[:3] == [None, None, None]
    assert all(wait is not None and 0 < wait <= 60 for wait in results[3:])
    assert limiter.hit(uuid.uuid4().hex, 3, 60.0) is None  # other keys are counted apart
    assert all(limiter.hit(key, 0, 60.0) is None for _ in range(5))  # 0 means no limit


def test_in_process_limiter() -> None:
    _exercise(InProcessRateLimiter())


@pytest.mark.redis
def test_redis_limiter_counts_across_processes(redis_url: str) -> None:
    first, second = RedisRateLimiter(redis_url), RedisRateLimiter(redis_url)
    _exercise(first)
    key = uuid.uuid4().hex
    assert [first.hit(key, 2, 60.0), second.hit(key, 2, 60.0)] == [None, None]
    assert second.hit(key, 2, 60.0) is not None


def test_unreachable_redis_lets_requests_through() -> None:
    assert RedisRateLimiter("redis://127.0.0.1:1/0").hit("k", 1, 1.0) is None
