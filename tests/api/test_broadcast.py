"""Several server processes share news through Redis: a revoked token is refused everywhere at once, and
a stock change drops every process's cached product pages."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from fanbase.accounts.service import TokenRevocations
from fanbase.app import create_app
from fanbase.broadcast import RedisBroadcast
from fanbase.cache import TTLCache
from fanbase.context import build_context
from tests.helpers import auth


def _wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.redis
def test_news_reaches_the_other_process(settings, db, clock, redis_url, shop, fan, admin):  # type: ignore[no-untyped-def]
    channel = f"fanbase:test:{uuid.uuid4().hex}"
    servers = []
    for _ in range(2):
        ctx = build_context(settings, db=db, clock=clock)
        ctx.broadcast = RedisBroadcast(redis_url, channel=channel)
        ctx.__post_init__()  # subscribe the context to its new broadcast
        ctx.revocations = TokenRevocations(refresh_seconds=3600)  # prove Redis carried it, not the database
        ctx.product_pages = TTLCache(ttl=3600)
        servers.append((ctx, TestClient(create_app(ctx=ctx, run_scheduler=False))))
    (ctx_a, a), (ctx_b, b) = servers
    with a, b:
        assert b.get("/api/v1/me", headers=auth(fan)).status_code == 200
        assert b.get("/api/v1/products/mi-band-9").json()["variants"][0]["available"] == 100

        assert a.post("/api/v1/auth/logout", headers=auth(fan)).status_code == 204
        assert _wait_for(lambda: b.get("/api/v1/me", headers=auth(fan)).status_code == 401)

        reply = a.put("/api/v1/admin/stock/BAND9", json={"location": "main", "on_hand": 7}, headers=auth(admin))
        assert reply.status_code == 200
        assert _wait_for(lambda: b.get("/api/v1/products/mi-band-9").json()["variants"][0]["available"] == 7)


def test_broadcast_survives_redis_being_unreachable(settings, db, clock) -> None:  # type: ignore[no-untyped-def]
    ctx = build_context(settings, db=db, clock=clock)
    ctx.broadcast = RedisBroadcast("redis://127.0.0.1:1/0", channel="nowhere")
    ctx.__post_init__()
    ctx.broadcast.publish("token_revoked", "abc")  # logged, not raised; handled locally all the same
    assert "abc" in ctx.revocations
