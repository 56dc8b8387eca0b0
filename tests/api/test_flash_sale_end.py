"""An operator ends a flash sale early: no purchase after it, orders already won stand, unsold units go
back to stock; other processes learn it by message or, if the message is lost, within seconds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from fanbase.flashsale import redis_gate, service
from fanbase.flashsale.redis_gate import RedisGate
from tests.helpers import auth, customer_token
from tests.services.test_flash_sale_engine import make_sale

START = 60


def test_ending_a_live_sale(client, db, ctx, clock, shop, admin, fan) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    sale = client.post("/api/v1/admin/flash-sales", headers=auth(admin), json={
        "sku": "XM15-256", "units": 5, "price_fen": 399900, "reservations_open_at": now.isoformat(),
        "starts_at": (now + timedelta(seconds=START)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat()}).json()
    buyers = [customer_token(db, ctx.secret_key, clock)[1] for _ in range(2)]
    for token in buyers:
        client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(token))
    clock.advance(START)
    won = client.post(f"/api/v1/flash-sales/{sale['id']}/purchase", headers=auth(buyers[0]))
    assert won.status_code == 201

    assert client.post(f"/api/v1/admin/flash-sales/{sale['id']}/end", headers=auth(fan)).status_code == 403
    ended = client.post(f"/api/v1/admin/flash-sales/{sale['id']}/end", headers=auth(admin))
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    late = client.post(f"/api/v1/flash-sales/{sale['id']}/purchase", headers=auth(buyers[1]))
    assert late.status_code == 409 and late.json()["code"] == "sale_ended"
    again = client.post(f"/api/v1/admin/flash-sales/{sale['id']}/end", headers=auth(admin))
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert client.post("/api/v1/admin/flash-sales/999/end", headers=auth(admin)).status_code == 404

    jobs = client.post("/api/v1/admin/clock/advance", json={"seconds": 1}, headers=auth(admin)).json()["jobs"]
    assert jobs["close_ended_flash_sales"] == 1
    stock = client.get("/api/v1/admin/stock/XM15-256", headers=auth(admin)).json()[0]
    assert stock["allocated"] == 1  # the won order keeps its unit; the other four went back to stock
    order = client.get(f"/api/v1/orders/{won.json()['id']}", headers=auth(buyers[0])).json()
    assert order["status"] == "pending_payment"


@pytest.mark.redis
def test_a_process_that_missed_the_message_rereads_the_times(db, clock, redis_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sale_id, _fans = make_sale(db, clock, units=3, limit=1, customers=1)
    prefix = f"test:end:{uuid.uuid4().hex[:12]}"  # nothing is written under it: only settings are read
    one, other = RedisGate(redis_url, db, prefix=prefix), RedisGate(redis_url, db, prefix=prefix)
    assert other.state(sale_id) is not None  # cached in the other process
    with db.uow() as session:
        service.end_sale(session, clock, one, sale_id, actor_id=1)
    monkeypatch.setattr(redis_gate, "WINDOW_RECHECK_SECONDS", 0.0)
    other._window_checked[sale_id] = 0.0  # its next look is due
    state = other.state(sale_id)
    assert state is not None and state.ends_at <= clock.now()
