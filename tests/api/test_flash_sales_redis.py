"""Two server processes share one flash sale through the Redis gate, over HTTP (the real purchase route)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient

from fanbase.app import create_app
from fanbase.config import Settings
from fanbase.context import Context, build_context
from fanbase.db import Database
from fanbase.flashsale.redis_gate import RedisGate
from fanbase.flashsale.writer import GroupCommitWriter
from tests.helpers import auth, customer_token


def server(settings: Settings, db: Database, clock, redis_url: str, prefix: str) -> Context:  # type: ignore[no-untyped-def]
    ctx = build_context(settings, db=db, clock=clock)  # in-process everything else: only the gate is shared
    ctx.flash_gate = RedisGate(redis_url, db, prefix=prefix)
    ctx.flash_writer = GroupCommitWriter(db, ctx.clock, ctx.flash_gate, lambda: ctx.order_policy)
    return ctx


@contextmanager
def two_servers(contexts: list[Context]) -> Iterator[tuple[TestClient, TestClient]]:
    with TestClient(create_app(ctx=contexts[0], run_scheduler=False)) as one, \
            TestClient(create_app(ctx=contexts[1], run_scheduler=False)) as two:
        yield one, two


def create_sale(client: TestClient, admin: str, clock, *, units: int, ends_in: int, **fields: object) -> int:  # type: ignore[no-untyped-def]
    """A sale starting in a minute, one unit per fan."""
    now = clock.now()
    created = client.post("/api/v1/admin/flash-sales", headers=auth(admin), json={
        "sku": "XM15-256", "units": units, "price_fen": 399900, "reservations_open_at": now.isoformat(),
        "starts_at": (now + timedelta(seconds=60)).isoformat(),
        "ends_at": (now + timedelta(seconds=ends_in)).isoformat(), "per_customer_limit": 1, **fields})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"test:api:{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.unlink(*keys)
    client.close()


@pytest.mark.redis
def test_two_servers_sell_one_sale_without_overselling(settings, db, clock, shop, admin, redis_url,  # type: ignore[no-untyped-def]
                                                       prefix) -> None:
    contexts = [server(settings, db, clock, redis_url, prefix) for _ in range(2)]
    with two_servers(contexts) as (one, two):
        sale_id = create_sale(one, admin, clock, units=5, ends_in=600)
        fans = [customer_token(db, contexts[0].secret_key, clock)[1] for _ in range(12)]
        for index, fan in enumerate(fans):
            reply = (one, two)[index % 2].post(f"/api/v1/flash-sales/{sale_id}/reservations", headers=auth(fan))
            assert reply.status_code == 201
        clock.advance(60)

        def buy(index: int) -> tuple[int, str]:
            reply = (one, two)[index % 2].post(f"/api/v1/flash-sales/{sale_id}/purchase",
                                               headers=auth(fans[index // 2]))
            return reply.status_code, reply.json().get("code", "")

        with ThreadPoolExecutor(8) as pool:  # every fan tries twice, once through each server
            answers = list(pool.map(buy, range(24)))
        assert sum(status == 201 for status, _ in answers) == 5
        assert {code for status, code in answers if status != 201} <= {"sold_out", "limit_exceeded"}
        assert contexts[0].flash_gate.remaining(sale_id) == contexts[1].flash_gate.remaining(sale_id) == 0
        orders = [o for fan in fans for o in one.get("/api/v1/orders", headers=auth(fan)).json()["items"]]
        assert len(orders) == 5  # every 201 has its order


@pytest.mark.redis
def test_two_servers_let_the_same_drawn_fans_buy_a_lottery_sale(settings, db, clock, shop, admin, redis_url,  # type: ignore[no-untyped-def]
                                                                 prefix) -> None:
    contexts = [server(settings, db, clock, redis_url, prefix) for _ in range(2)]
    with two_servers(contexts) as (one, two):
        sale_id = create_sale(one, admin, clock, units=4, ends_in=6000, mode="lottery", payment_window_seconds=900)
        fans = [customer_token(db, contexts[0].secret_key, clock)[1] for _ in range(10)]
        for fan in fans:
            assert one.post(f"/api/v1/flash-sales/{sale_id}/reservations", headers=auth(fan)).status_code == 201
        clock.advance(60)  # no job runs here: the first attempts, on both servers at once, open the round

        def buy(index: int) -> tuple[int, int, str]:
            reply = (one, two)[index % 2].post(f"/api/v1/flash-sales/{sale_id}/purchase",
                                               headers=auth(fans[index // 2]))
            return index // 2, reply.status_code, reply.json().get("code", "")

        with ThreadPoolExecutor(8) as pool:  # every fan tries twice, once through each server
            answers = list(pool.map(buy, range(20)))
        winners = {fan for fan, status, _ in answers if status == 201}
        drawn = {i for i, fan in enumerate(fans)
                 if two.get(f"/api/v1/flash-sales/{sale_id}/draw", headers=auth(fan)).json()["drawn"]}
        assert len(winners) == 4 and winners == drawn
        assert {code for fan, status, code in answers if status != 201} <= {"not_drawn", "limit_exceeded", "sold_out"}
        assert [(r["number"], r["winners"]) for r in one.get(f"/api/v1/flash-sales/{sale_id}").json()["lottery"][
            "rounds"]] == [(0, 4)]
