"""Group buys (拼团) through the API: an operator's offer, a group started and filled at the group price, a
group that fails and refunds every member to where they paid from, every refusal, and joiners racing for
the last places (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.errors import DomainError
from fanbase.jobs import run_due_jobs
from fanbase.ledger.check import problems
from fanbase.orders.models import Order
from fanbase.social.groupbuys import service as groupbuys
from fanbase.social.groupbuys.models import GroupBuy, GroupMember
from fanbase.wallet import service as wallet
from tests.api.test_wallet_fund import top_up
from tests.helpers import ADDRESS, auth, customer_token, table_counts

PRICE = 19_900  # BAND9 is 24,900 fen


def offer(client: TestClient, admin: str, **changes: Any) -> dict[str, Any]:
    body = {"sku": "BAND9", "group_price_fen": PRICE, "group_size": 3} | changes
    reply = client.post("/api/v1/admin/group-offers", json=body, headers=auth(admin))
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def start(client: TestClient, token: str, offer_id: int, method: str = "gateway", key: str | None = None
          ) -> Any:
    headers = auth(token) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/group-buys", json={"offer_id": offer_id, "payment_method": method,
                                                   "shipping_address": ADDRESS}, headers=headers)


def join(client: TestClient, token: str, group_id: int, method: str = "gateway", key: str | None = None) -> Any:
    headers = auth(token) | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/group-buys/{group_id}/join",
                       json={"payment_method": method, "shipping_address": ADDRESS}, headers=headers)


def approve(client: TestClient, reply: Any) -> None:
    payment = reply.json()["order"]["payment"]
    assert client.post(f"/api/v1/sandbox-gateway/payments/{payment['id']}/approve").status_code == 200


def group(client: TestClient, token: str, group_id: int) -> dict[str, Any]:
    reply = client.get(f"/api/v1/group-buys/{group_id}", headers=auth(token))
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def order(client: TestClient, token: str, order_id: int) -> dict[str, Any]:
    return client.get(f"/api/v1/orders/{order_id}", headers=auth(token)).json()  # type: ignore[no-any-return]


def fans(ctx: Context, clock: FixedClock, count: int) -> list[tuple[int, str]]:
    return [customer_token(ctx.db, ctx.secret_key, clock) for _ in range(count)]


def refused(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status and reply.json()["code"] == code, reply.text


def test_a_group_is_started_and_filled_at_the_group_price(client: TestClient, ctx: Context, clock: FixedClock,
                                                           shop: None, admin: str) -> None:
    made = offer(client, admin)
    assert made | {"id": 0, "created_at": ""} == {"id": 0, "sku": "BAND9", "group_price_fen": PRICE,
                                                  "group_size": 3, "time_limit_seconds": 86_400, "created_at": ""}
    (_, starter), (_, second), (_, third) = fans(ctx, clock, 3)
    started = start(client, starter, made["id"], key="start-1")
    assert started.status_code == 201, started.text
    body = started.json()
    assert {k: body[k] for k in ("status", "members", "group_size", "places_left")} == {
        "status": "forming", "members": 0, "group_size": 3, "places_left": 2}
    assert body["expires_at"] == (clock.now() + timedelta(days=1)).astimezone(ctx.settings.zone).isoformat()
    assert body["order"]["status"] == "pending_payment" and body["order"]["total_fen"] == PRICE
    assert body["share_url"].endswith(f"/group-buys/{body['id']}")
    assert start(client, starter, made["id"], key="start-1").json() == body  # replayed, one group
    group_id = body["id"]
    approve(client, started)
    assert group(client, starter, group_id)["members"] == 1

    top_up(client, second, 50_000)
    by_wallet = join(client, second, group_id, method="wallet")
    assert by_wallet.status_code == 201 and by_wallet.json()["order"]["status"] == "paid", by_wallet.text
    assert by_wallet.json()["members"] == 2 and by_wallet.json()["status"] == "forming"

    last = join(client, third, group_id)
    assert last.status_code == 201 and last.json()["places_left"] == 0
    approve(client, last)
    done = group(client, third, group_id)
    assert (done["status"], done["members"], done["order_id"]) == ("complete", 3, last.json()["order_id"])
    for token, order_id in ((starter, body["order_id"]), (second, by_wallet.json()["order_id"]),
                            (third, last.json()["order_id"])):
        placed = order(client, token, order_id)
        assert placed["status"] == "paid" and placed["lines"][0]["unit_price_fen"] == PRICE
    with ctx.db.read() as s:
        assert {o.source for o in s.scalars(select(Order))} == {"group_buy"}
    # a complete group's orders go ahead
    shipped = client.post(f"/api/v1/admin/orders/{body['order_id']}/ship", headers=auth(admin))
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"


def test_a_group_not_full_in_time_fails_and_refunds_everyone(client: TestClient, ctx: Context, clock: FixedClock,
                                                              shop: None, admin: str) -> None:
    made = offer(client, admin, group_size=4, time_limit_seconds=3600)
    (_, starter), (second_id, second), (_, third), (_, late) = fans(ctx, clock, 4)
    started = start(client, starter, made["id"])
    approve(client, started)
    group_id = started.json()["id"]
    top_up(client, second, 50_000)
    by_wallet = join(client, second, group_id, method="wallet")
    assert by_wallet.status_code == 201
    unpaid = join(client, third, group_id)
    assert unpaid.status_code == 201
    with ctx.db.read() as s:
        assert wallet.balance(s, second_id) == 50_000 - PRICE

    clock.advance(3600)
    assert group(client, starter, group_id)["status"] == "failed"  # even before the job has run
    refused(join(client, late, group_id), 409, "conflict")
    run_due_jobs(ctx)
    assert group(client, starter, group_id)["status"] == "failed"
    gateway_order = order(client, starter, started.json()["order_id"])
    assert gateway_order["status"] == "refunded" and gateway_order["payment"]["status"] == "refunded"
    assert order(client, second, by_wallet.json()["order_id"])["status"] == "refunded"
    assert order(client, third, unpaid.json()["order_id"])["status"] == "cancelled"
    with ctx.db.read() as s:
        assert wallet.balance(s, second_id) == 50_000  # back to where it was paid from
        assert problems(s) == []
        assert {m.status for m in s.scalars(select(GroupMember))} == {"refunded", "left"}
    counts = table_counts(ctx.db)
    run_due_jobs(ctx)  # nothing twice
    assert table_counts(ctx.db) == counts


def test_a_failed_group_cancels_orders_still_waiting_for_payment(client: TestClient, ctx: Context,
                                                                 clock: FixedClock, shop: None, admin: str) -> None:
    made = offer(client, admin, group_size=2, time_limit_seconds=3600)
    (_, starter), = fans(ctx, clock, 1)
    started = start(client, starter, made["id"])
    clock.advance(3600)
    with ctx.db.uow() as s:  # the group's job alone: the order's own payment window has not been looked at
        assert groupbuys.fail_expired(s, ctx.clock, ctx.gateway) == 1
    with ctx.db.uow() as s:
        assert groupbuys.fail_expired(s, ctx.clock, ctx.gateway) == 1
    with ctx.db.uow() as s:
        assert groupbuys.fail_expired(s, ctx.clock, ctx.gateway) == 0
    placed = order(client, starter, started.json()["order_id"])
    assert placed["status"] == "cancelled" and placed["payment"]["status"] == "cancelled"
    with ctx.db.read() as s:
        assert s.scalars(select(GroupMember.status)).all() == ["cancelled"]


def test_every_refusal(client: TestClient, ctx: Context, clock: FixedClock, shop: None, admin: str,
                       fan: str) -> None:
    for bad, status, code in (({"group_size": 1}, 422, "validation_error"),
                              ({"group_size": 101}, 422, "validation_error"),
                              ({"group_price_fen": 0}, 422, "validation_error"),
                              ({"group_price_fen": 24_900}, 422, "validation_error"),  # not below the price
                              ({"time_limit_seconds": 10}, 422, "validation_error"),
                              ({"group_size": "3"}, 422, "validation_error"),
                              ({"sku": "NOPE"}, 404, "not_found")):
        body = {"sku": "BAND9", "group_price_fen": PRICE, "group_size": 3} | bad
        refused(client.post("/api/v1/admin/group-offers", json=body, headers=auth(admin)), status, code)
    refused(client.post("/api/v1/admin/group-offers", json={"sku": "BAND9", "group_price_fen": PRICE,
                                                            "group_size": 3}, headers=auth(fan)), 403, "forbidden")
    made = offer(client, admin, group_size=2)
    refused(start(client, fan, 999_999), 404, "not_found")
    refused(join(client, fan, 999_999), 404, "not_found")
    refused(client.get("/api/v1/group-buys/999999", headers=auth(fan)), 404, "not_found")
    refused(client.get("/api/v1/group-buys/1"), 401, "unauthorized")

    (_, starter), (_, other), (_, third) = fans(ctx, clock, 3)
    refused(start(client, starter, made["id"], method="wallet"), 409, "insufficient_funds")
    started = start(client, starter, made["id"])
    group_id = started.json()["id"]
    refused(join(client, starter, group_id), 409, "conflict")  # one place per fan
    assert group(client, fan, group_id)["order_id"] is None
    joined = join(client, other, group_id)
    assert joined.status_code == 201
    refused(join(client, third, group_id), 409, "conflict")  # full: two places, both waiting for payment
    approve(client, started)
    approve(client, joined)
    assert group(client, fan, group_id)["status"] == "complete"
    refused(join(client, third, group_id), 409, "conflict")  # complete

    # a paid member's order waits for the group: it does not ship while the group is forming
    forming = start(client, fan, made["id"])
    approve(client, forming)
    refused(client.post(f"/api/v1/admin/orders/{forming.json()['order_id']}/ship", headers=auth(admin)),
            409, "conflict")
    # out of stock: nothing is held, no place taken
    scarce = offer(client, admin, sku="XM15-512", group_price_fen=400_000, group_size=2)
    client.put("/api/v1/admin/stock/XM15-512", json={"location": "main", "on_hand": 0}, headers=auth(admin))
    refused(start(client, third, scarce["id"]), 409, "out_of_stock")
    with ctx.db.read() as s:
        assert s.scalar(select(GroupBuy).where(GroupBuy.offer_id == scarce["id"])) is None


def test_an_unpaid_place_frees_up_when_its_payment_window_closes(client: TestClient, ctx: Context,
                                                                  clock: FixedClock, shop: None, admin: str) -> None:
    made = offer(client, admin, group_size=2)
    (_, starter), (_, slow), (_, quick) = fans(ctx, clock, 3)
    started = start(client, starter, made["id"])
    group_id = started.json()["id"]
    slow_join = join(client, slow, group_id)
    assert slow_join.status_code == 201
    refused(join(client, quick, group_id), 409, "conflict")
    clock.advance(ctx.settings.payment_window_seconds)
    run_due_jobs(ctx)  # both orders closed unpaid: their places are free, the group still forms
    shown = group(client, quick, group_id)
    assert (shown["status"], shown["places_left"], shown["members"]) == ("forming", 2, 0)
    again = join(client, slow, group_id)  # a place given up may be taken again
    assert again.status_code == 201
    assert join(client, quick, group_id).status_code == 201
    approve(client, again)
    assert group(client, quick, group_id)["members"] == 1


def test_concurrent_joiners_never_overfill_a_group(client: TestClient, ctx: Context, clock: FixedClock,
                                                   shop: None, admin: str) -> None:
    made = offer(client, admin, group_size=4)
    (_, starter), = fans(ctx, clock, 1)
    group_id = start(client, starter, made["id"]).json()["id"]
    racers = [customer_id for customer_id, _ in fans(ctx, clock, 12)]
    barrier = threading.Barrier(len(racers))

    def attempt(customer_id: int) -> str:
        barrier.wait()
        try:
            with ctx.db.uow() as s:
                groupbuys.join(s, ctx.clock, ctx.gateway, ctx.order_policy, group_id=group_id,
                               customer_id=customer_id, payment_method="gateway", shipping_address=ADDRESS)
            return "joined"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=len(racers)) as pool:
        outcomes = Counter(pool.map(attempt, racers))
    assert outcomes == Counter({"joined": 3, "conflict": 9})
    with ctx.db.read() as s:
        found = s.get(GroupBuy, group_id)
        assert found is not None and found.seats_taken == 4
        assert len(s.scalars(select(GroupMember).where(GroupMember.group_id == group_id)).all()) == 4
