"""The product page may be served from a short-lived copy; staff changes in this process clear it."""

from __future__ import annotations

import asyncio

from fanbase.cache import TTLCache
from tests.helpers import auth, place_order


def test_cached_product_page_lags_checkout_but_not_staff_changes(client, ctx, shop, fan, admin):  # type: ignore[no-untyped-def]
    ctx.product_pages = TTLCache(ttl=3600)
    first = client.get("/api/v1/products/mi-band-9").json()
    assert first["variants"][0]["available"] == 100
    place_order(client, fan, sku="BAND9", quantity=2)
    assert client.get("/api/v1/products/mi-band-9").json() == first  # a copy, at most ttl old
    reply = client.put("/api/v1/admin/stock/BAND9", json={"location": "main", "on_hand": 150}, headers=auth(admin))
    assert reply.status_code == 200
    assert client.get("/api/v1/products/mi-band-9").json()["variants"][0]["available"] == 148
    english = client.get("/api/v1/products/xiaomi-15", headers={"Accept-Language": "en"}).json()
    assert english["name"] == "Xiaomi 15"  # each locale has its own copy
    assert client.get("/api/v1/products/xiaomi-15").json()["name"] == "小米 15"


def test_cache_expires() -> None:
    cache: TTLCache[str, bytes] = TTLCache(ttl=0.0)
    cache.put("a", b"1")
    assert cache.get("a") is None  # disabled
    cache = TTLCache(ttl=60, max_items=2)
    for key in ("a", "b", "c"):
        cache.put(key, key.encode())
    assert cache.get("a") is None and cache.get("c") == b"c"  # the oldest was evicted


def test_concurrent_misses_load_once() -> None:
    asyncio.run(_concurrent_misses_load_once())


async def _concurrent_misses_load_once() -> None:
    cache: TTLCache[str, bytes] = TTLCache(ttl=60)
    loads = 0

    async def load() -> bytes:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return b"page"

    results = await asyncio.gather(*(cache.get_or_load("p", load) for _ in range(20)))
    assert results == [b"page"] * 20 and loads == 1

    async def fail() -> bytes:
        raise ValueError("database down")

    for _ in range(2):  # a failure is not cached
        try:
            await cache.get_or_load("q", fail)
        except ValueError:
            pass
        else:
            raise AssertionError("expected the failure to propagate")


def test_stale_copy_is_served_while_one_load_refreshes_it() -> None:
    asyncio.run(_stale_while_revalidate())


async def _stale_while_revalidate() -> None:
    cache: TTLCache[str, bytes] = TTLCache(ttl=0.01, max_stale=60)
    versions = iter([b"v1", b"v2", b"v3"])
    loads = 0

    async def load() -> bytes:
        nonlocal loads
        loads += 1
        return next(versions)

    assert await cache.get_or_load("p", load) == b"v1"
    await asyncio.sleep(0.02)  # now stale
    assert await cache.get_or_load("p", load) == b"v1"  # served at once, refresh started
    await asyncio.sleep(0.005)
    assert await cache.get_or_load("p", load) == b"v2"
    assert loads == 2
