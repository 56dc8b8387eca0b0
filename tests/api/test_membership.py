"""Membership through the API (API.md "Membership"): ``GET /me/membership``, points earned on completed
orders and spent at checkout (100 points = 1 CNY, at most the order total), given back on cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from fanbase.accounts import service as accounts
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.jobs import run_due_jobs
from fanbase.ledger import service as ledger
from fanbase.ledger.check import problems
from tests.api.test_reviews import delivered_order, review
from tests.helpers import ADDRESS, auth, customer_token


def me(client: TestClient, token: str) -> dict[str, Any]:
    reply = client.get("/api/v1/me/membership", headers=auth(token))
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def checkout(client: TestClient, token: str, sku: str, points: Any, key: str | None = None) -> Any:
    assert client.put(f"/api/v1/cart/items/{sku}", json={"quantity": 1}, headers=auth(token)).status_code == 200
    headers = auth(token) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/checkout", json={"payment_method": "gateway", "shipping_address": ADDRESS,
                                                 "points": points}, headers=headers)


def completed(client: TestClient, ctx: Context, clock: FixedClock, token: str, admin: str, sku: str) -> None:
    delivered_order(client, token, admin, sku=sku)
    clock.advance(timedelta(days=8).total_seconds())
    run_due_jobs(ctx)


def test_points_are_earned_shown_spent_and_given_back(client: TestClient, ctx: Context, clock: FixedClock,
                                                      shop: None, admin: str) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    assert me(client, fan) == {"level": "bronze", "growth": 0, "points": 0, "points_expiring": [],
                               "next_level": "silver", "growth_to_next": 2000, "badges": []}
    completed(client, ctx, clock, fan, admin, "XM15-256")  # 4,499 CNY
    assert me(client, fan) == {"level": "silver", "growth": 4499, "points": 4499,
                               "points_expiring": [{"points": 4499, "expires_on": "2027-12-31"}],
                               "next_level": "gold", "growth_to_next": 10_000 - 4499, "badges": []}

    order = checkout(client, fan, "BAND9", 1000, key="spend-1")
    assert order.status_code == 201, order.text
    body = order.json()
    assert (body["total_fen"], body["points_redeemed"], body["discount_fen"]) == (24_900 - 1000, 1000, 1000)
    assert body["lines"][0]["unit_price_fen"] == 24_900  # the line keeps its price
    replay = client.post("/api/v1/checkout", json={"payment_method": "gateway", "shipping_address": ADDRESS,
                                                   "points": 1000}, headers=auth(fan) | {"Idempotency-Key": "spend-1"})
    assert replay.json()["id"] == body["id"]
    assert me(client, fan)["points"] == 3499  # spent once
    paid = client.post(f"/api/v1/sandbox-gateway/payments/{body['payment']['id']}/approve")
    assert paid.status_code == 200
    assert client.get(f"/api/v1/orders/{body['id']}", headers=auth(fan)).json()["status"] == "paid"

    before = ledger_totals(ctx)
    short = checkout(client, fan, "BAND9", 999_999)  # capped at the total, 24,900, but only 3,499 held
    assert short.status_code == 409 and short.json()["code"] == "insufficient_funds", short.text
    assert "3499" in short.json()["detail"] and ledger_totals(ctx) == before

    sticker = {"slug": "sticker", "name": "贴纸", "brand": "xiaomi", "category": "lifestyle",
               "variants": [{"sku": "STICKER", "name": "一张", "price_fen": 2000, "cost_fen": 100}]}
    assert client.post("/api/v1/admin/products", json=sticker, headers=auth(admin)).status_code == 201
    assert client.put("/api/v1/admin/stock/STICKER", json={"location": "main", "on_hand": 5},
                      headers=auth(admin)).status_code == 200
    client.put("/api/v1/cart/items/BAND9", json={"quantity": 0}, headers=auth(fan))
    whole = checkout(client, fan, "STICKER", 999_999)  # capped at the total: the points pay it all
    assert whole.status_code == 201, whole.text
    got = whole.json()
    assert (got["total_fen"], got["points_redeemed"], got["discount_fen"], got["status"], got["payment"]) == (
        0, 2000, 2000, "paid", None)
    assert me(client, fan)["points"] == 1499
    cancelled = client.post(f"/api/v1/orders/{got['id']}/cancel", headers=auth(fan))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert me(client, fan)["points"] == 3499
    with ctx.db.read() as s:
        assert ledger.balance_of(s, ledger.POINTS_LIABILITY) == 3499
        assert problems(s) == []


def ledger_totals(ctx: Context) -> tuple[int, int]:
    with ctx.db.read() as s:
        return ledger.balance_of(s, ledger.POINTS_LIABILITY), ledger.balance_of(s, ledger.SALES_REVENUE)


def test_points_in_the_checkout_body_are_a_whole_number(client: TestClient, ctx: Context, clock: FixedClock,
                                                        shop: None) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    for bad in (-1, "100", 1.5, True, None, 10**11):
        reply = checkout(client, fan, "BAND9", bad)
        assert reply.status_code == 422 and reply.json()["code"] == "validation_error", bad
    assert checkout(client, fan, "BAND9", 1).status_code == 409  # no points at all
    assert checkout(client, fan, "BAND9", 0).status_code == 201
    assert client.get("/api/v1/me/membership").status_code == 401


def test_growth_from_reviews_and_the_early_reserver_badge(client: TestClient, ctx: Context, clock: FixedClock,
                                                         shop: None, admin: str) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    order = delivered_order(client, fan, admin, sku="BAND9")
    assert review(client, fan, order["id"], sku="BAND9", slug="mi-band-9").status_code == 201
    assert me(client, fan)["growth"] == 10
    now = clock.now()
    sale = client.post("/api/v1/admin/flash-sales", json={
        "sku": "XM15-256", "units": 2, "price_fen": 399900, "reservations_open_at": now.isoformat(),
        "starts_at": (now + timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat(),
        "per_customer_limit": 1, "payment_window_seconds": 600}, headers=auth(admin))
    assert sale.status_code == 201, sale.text
    assert client.post(f"/api/v1/flash-sales/{sale.json()['id']}/reservations", headers=auth(fan)).status_code == 201
    assert me(client, fan)["badges"] == ["early_reserver"]


def test_the_new_year_reviews_levels_and_expires_points_in_the_store_zone(client: TestClient, ctx: Context,
                                                                         clock: FixedClock, shop: None,
                                                                         admin: str) -> None:
    fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    completed(client, ctx, clock, fan, admin, "XM15-256")  # 2026: 4,499 growth and points
    clock.set(datetime.fromisoformat("2027-01-01T00:00:10+08:00"))
    run_due_jobs(ctx)
    assert me(client, fan) | {"points_expiring": None} == {
        "level": "silver", "growth": 0, "points": 4499, "points_expiring": None, "next_level": "gold",
        "growth_to_next": 10_000, "badges": []}
    clock.set(datetime.fromisoformat("2028-01-01T00:00:10+08:00"))
    run_due_jobs(ctx)
    with ctx.db.read() as s:  # a year on, the fan signs in again
        fan = accounts.issue_token(ctx.secret_key, accounts.get_user(s, fan_id), clock.now(), 3600)
    assert me(client, fan) == {"level": "bronze", "growth": 0, "points": 0, "points_expiring": [],
                               "next_level": "silver", "growth_to_next": 2000, "badges": []}
    with ctx.db.read() as s:
        assert ledger.balance_of(s, ledger.POINTS_LIABILITY) == 0


def test_an_accepted_idea_earns_growth_once_and_a_shipped_one_a_badge(client: TestClient, ctx: Context,
                                                                       clock: FixedClock, shop: None,
                                                                       admin: str) -> None:
    from tests.api.test_ideas import patch, post_idea

    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    posted = post_idea(client, fan)
    assert me(client, fan)["growth"] == 0
    patch(client, admin, posted["id"], "planned")
    patch(client, admin, posted["id"], "in_progress")
    patch(client, admin, posted["id"], "planned")  # planned a second time: no second grant
    assert me(client, fan)["growth"] == 100 and me(client, fan)["badges"] == []
    release = client.post("/api/v1/admin/releases", json={
        "product_slug": "xiaomi-15", "version": "1.1", "released_on": "2026-11-25", "notes": "续航更长",
        "idea_ids": [posted["id"]]}, headers=auth(admin))
    assert release.status_code == 201, release.text
    assert me(client, fan)["badges"] == ["idea_shipped"]
