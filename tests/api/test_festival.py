"""Fan festivals through the API: discounts only inside the window, product over category, the cart and
checkout charging the festival price, flash-sale orders at their own price, festival flash sales inside the
window, the dashboard against numbers computed by hand, refusals and the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.accounts.models import AuditEntry
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.festival.service import festival_price
from fanbase.orders.models import OrderEvent
from fanbase.social.referrals import service as referrals
from tests.helpers import auth, customer_token, place_order

HOUR = timedelta(hours=1)


def festival_body(clock: FixedClock, **changes: Any) -> dict[str, Any]:
    now = clock.now()
    return {"name": "米粉节", "starts_at": (now + HOUR).isoformat(), "ends_at": (now + 25 * HOUR).isoformat(),
            "discounts": [{"product_slug": "xiaomi-15", "percent_off": 10},
                          {"category": "phones", "percent_off": 30},
                          {"category": "lifestyle", "percent_off": 15}]} | changes


def create(client: TestClient, admin: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = client.post("/api/v1/admin/festivals", json=body, headers=auth(admin))
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def cart_line(client: TestClient, token: str, sku: str) -> dict[str, Any]:
    reply = client.put(f"/api/v1/cart/items/{sku}", json={"quantity": 1}, headers=auth(token))
    assert reply.status_code == 200, reply.text
    return next(x for x in reply.json()["lines"] if x["sku"] == sku)  # type: ignore[no-any-return]


def approve(client: TestClient, order: dict[str, Any]) -> None:
    reply = client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
    assert reply.status_code == 200, reply.text


def test_the_price_is_rounded_half_up_to_the_fen() -> None:
    assert festival_price(449_900, 10) == 404_910
    assert festival_price(1_990, 25) == 1_493  # 1,492.5 -> 1,493
    assert festival_price(1_999, 15) == 1_699  # 1,699.15 -> 1,699
    assert festival_price(1, 50) == 1  # 0.5 -> 1
    assert festival_price(3, 90) == 0  # 0.3 -> 0


def test_discounts_apply_only_inside_the_window_and_the_product_beats_its_category(
        client: TestClient, clock: FixedClock, shop: None, admin: str, fan: str) -> None:
    made = create(client, admin, festival_body(clock))
    assert made["status"] == "scheduled" and made["discounts"][0] == {"product_slug": "xiaomi-15", "category": None,
                                                                      "percent_off": 10}
    start = clock.now() + HOUR
    assert client.get("/api/v1/festivals/current").status_code == 404
    assert cart_line(client, fan, "XM15-256")["unit_price_fen"] == 449_900  # before the start
    clock.set(start - timedelta(microseconds=1))
    assert cart_line(client, fan, "XM15-256")["unit_price_fen"] == 449_900
    clock.set(start)  # at the start: live
    line = cart_line(client, fan, "XM15-256")
    # xiaomi-15 is a phone: its own 10% wins over the phones' 30%
    assert line == {"sku": "XM15-256", "quantity": 1, "unit_price_fen": 404_910, "line_total_fen": 404_910,
                    "list_price_fen": 449_900, "festival_id": made["id"]}
    assert cart_line(client, fan, "BAND9")["unit_price_fen"] == 21_165  # lifestyle: 15% off 24,900
    variants = client.get("/api/v1/products/xiaomi-15").json()["variants"]
    assert [(v["price_fen"], v["festival_price_fen"]) for v in variants if v["sku"] == "XM15-256"] == [
        (449_900, 404_910)]  # the product's JSON says what checkout will charge
    current = client.get("/api/v1/festivals/current")
    assert current.status_code == 200 and current.json()["id"] == made["id"] and current.json()["status"] == "live"
    clock.set(start + 24 * HOUR)  # at the end: over
    line = cart_line(client, fan, "XM15-256")
    assert (line["unit_price_fen"], line["festival_id"]) == (449_900, None)
    assert client.get("/api/v1/festivals/current").status_code == 404


def test_checkout_charges_the_festival_price_and_the_lines_record_it(
        client: TestClient, db: Database, clock: FixedClock, shop: None, admin: str, fan: str) -> None:
    made = create(client, admin, festival_body(clock))
    clock.advance(3600)
    order = place_order(client, fan, "XM15-256", quantity=2)
    assert order["total_fen"] == 2 * 404_910
    assert [(x["sku"], x["unit_price_fen"]) for x in order["lines"]] == [("XM15-256", 404_910)]
    with db.read() as s:
        detail = s.scalar(select(OrderEvent.detail).where(OrderEvent.order_id == order["id"],
                                                          OrderEvent.kind == "created"))
    assert detail["festival_id"] == made["id"]
    approve(client, order)
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()["status"] == "paid"


def test_flash_sale_orders_keep_their_price_and_festival_sales_lie_inside_the_window(
        client: TestClient, db: Database, ctx: Context, clock: FixedClock, shop: None, admin: str) -> None:
    made = create(client, admin, festival_body(clock))
    now = clock.now()
    sale = {"sku": "XM15-512", "units": 3, "price_fen": 399_900, "reservations_open_at": now.isoformat(),
            "starts_at": (now + 2 * HOUR).isoformat(), "ends_at": (now + 3 * HOUR).isoformat(),
            "festival_id": made["id"]}
    outside = sale | {"ends_at": (now + 26 * HOUR).isoformat()}
    for body in (outside, sale | {"starts_at": now.isoformat(), "reservations_open_at": now.isoformat()},
                 sale | {"festival_id": 999}, sale | {"festival_id": 0}, sale | {"festival_id": "1"}):
        reply = client.post("/api/v1/admin/flash-sales", json=body, headers=auth(admin))
        assert reply.status_code == 422 and reply.json()["code"] == "validation_error", (body, reply.text)
    reply = client.post("/api/v1/admin/flash-sales", json=sale, headers=auth(admin))
    assert reply.status_code == 201 and reply.json()["festival_id"] == made["id"], reply.text
    plain = client.post("/api/v1/admin/flash-sales", json=sale | {"festival_id": None, "units": 1},
                        headers=auth(admin))
    assert plain.status_code == 201 and plain.json()["festival_id"] is None
    sale_id = reply.json()["id"]
    _, token = customer_token(db, ctx.secret_key, clock)
    assert client.post(f"/api/v1/flash-sales/{sale_id}/reservations", headers=auth(token)).status_code in (200, 201)
    clock.advance(2 * 3600)
    bought = client.post(f"/api/v1/flash-sales/{sale_id}/purchase", headers=auth(token))
    assert bought.status_code == 201, bought.text
    order = bought.json()["order"] if "order" in bought.json() else bought.json()
    assert order["total_fen"] == 399_900  # the sale's price, no festival discount on top (phones: 30% off)
    assert [x["unit_price_fen"] for x in order["lines"]] == [399_900]


def test_the_dashboard_counts_what_was_sold_during_the_festival(
        client: TestClient, db: Database, ctx: Context, clock: FixedClock, shop: None, admin: str) -> None:
    made = create(client, admin, festival_body(clock))
    a, b, c, d, e = (customer_token(db, ctx.secret_key, clock) for _ in range(5))
    sharer_id, _ = customer_token(db, ctx.secret_key, clock, name="分享达人")
    approve(client, place_order(client, e[1], "BAND9"))  # before the festival: not counted
    with db.uow() as s:
        referrals.set_rate(s, clock, category="phones", rate="0.05", actor_id=1)
        link = referrals.share(s, clock, sharer_id=sharer_id, product_slug="xiaomi-15")
        code = link.code
    clock.advance(3600 + 60)  # the festival's first hour
    with db.uow() as s:
        referrals.record_click(s, clock, code=code, customer_id=d[0])
    approve(client, place_order(client, a[1], "XM15-256", quantity=2))  # 2 x 404,910
    approve(client, place_order(client, b[1], "BAND9"))  # 21,165
    place_order(client, c[1], "BAND9", quantity=3)  # placed, never paid
    clock.advance(3600)  # the second hour
    approve(client, place_order(client, d[1], "XM15-512"))  # 449,910, attributed to the sharer
    reply = client.get(f"/api/v1/admin/festivals/{made['id']}/dashboard", headers=auth(admin))
    assert reply.status_code == 200, reply.text
    board = reply.json()
    sales = 2 * 404_910 + 21_165 + 449_910
    assert (board["placed_orders"], board["orders"], board["sales_fen"]) == (4, 3, sales)
    assert board["average_order_fen"] == 426_965 == (sales * 2 + 3) // 6
    assert board["bucket_hours"] == 1
    assert [x["orders"] for x in board["orders_per_bucket"]] == [3, 1]
    assert [(x["sku"], x["units"], x["sales_fen"]) for x in board["top_products"]] == [
        ("XM15-256", 2, 809_820), ("BAND9", 1, 21_165), ("XM15-512", 1, 449_910)]
    assert board["top_sharers"] == [{"sharer_id": sharer_id, "name": "分享达人", "attributed_sales_fen": 449_910,
                                     "orders": 1, "commission_fen": 449_910 * 500 // 10_000}]
    listed = client.get("/api/v1/admin/festivals", headers=auth(admin)).json()["items"]
    assert [x["id"] for x in listed] == [made["id"]]


def test_bad_festivals_are_refused_and_customers_may_not_create_or_read_the_dashboard(
        client: TestClient, db: Database, clock: FixedClock, shop: None, admin: str, fan: str) -> None:
    body = festival_body(clock)
    now = clock.now()
    bad = [
        body | {"ends_at": body["starts_at"]},
        body | {"ends_at": now.isoformat()},
        body | {"starts_at": "2026-11-25T10:00:00"},  # no offset
        body | {"discounts": [{"product_slug": "xiaomi-15", "percent_off": 0}]},
        body | {"discounts": [{"product_slug": "xiaomi-15", "percent_off": 91}]},
        body | {"discounts": [{"product_slug": "xiaomi-15", "percent_off": "10"}]},
        body | {"discounts": [{"product_slug": "xiaomi-15", "category": "phones", "percent_off": 10}]},
        body | {"discounts": [{"percent_off": 10}]},
        body | {"discounts": [{"product_slug": "no-such-thing", "percent_off": 10}]},
        body | {"discounts": [{"category": "no-such-thing", "percent_off": 10}]},
        body | {"discounts": [{"category": "phones", "percent_off": 10}, {"category": "phones", "percent_off": 20}]},
        body | {"name": ""},
        body | {"name": "x" * 121},
        body | {"ends_at": (now + 100 * 24 * HOUR).isoformat()},
    ]
    for case in bad:
        reply = client.post("/api/v1/admin/festivals", json=case, headers=auth(admin))
        assert reply.status_code == 422 and reply.json()["code"] == "validation_error", (bad.index(case), reply.text)
    assert client.post("/api/v1/admin/festivals", json=body, headers=auth(fan)).status_code == 403
    assert client.post("/api/v1/admin/festivals", json=body).status_code == 401
    made = create(client, admin, body)
    overlapping = body | {"starts_at": (now + 24 * HOUR).isoformat(), "ends_at": (now + 48 * HOUR).isoformat()}
    reply = client.post("/api/v1/admin/festivals", json=overlapping, headers=auth(admin))
    assert reply.status_code == 409 and reply.json()["code"] == "conflict"
    after = body | {"starts_at": body["ends_at"], "ends_at": (now + 48 * HOUR).isoformat()}  # touching is fine
    create(client, admin, after)
    dashboard = f"/api/v1/admin/festivals/{made['id']}/dashboard"
    assert client.get(dashboard, headers=auth(fan)).status_code == 403
    assert client.get("/api/v1/admin/festivals/999/dashboard", headers=auth(admin)).status_code == 404
    with db.read() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "festival.create")
                         .order_by(AuditEntry.id)).all()
        assert [r.target for r in rows] == [f"festival:{made['id']}", f"festival:{made['id'] + 1}"]
        assert rows[0].detail["discounts"][1] == {"product_slug": None, "category": "phones", "percent_off": 30}
