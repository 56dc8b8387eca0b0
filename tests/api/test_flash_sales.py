"""Flash sales through the API: every route and error code of API.md's flash-sale section."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import auth, customer_token

START = 3600  # the sale starts an hour after the test clock's "now"


@pytest.fixture
def sale_body(clock):  # type: ignore[no-untyped-def]
    now = clock.now()
    return {"sku": "XM15-256", "units": 3, "price_fen": 399900,
            "reservations_open_at": now.isoformat(), "starts_at": (now + timedelta(seconds=START)).isoformat(),
            "ends_at": (now + timedelta(seconds=START + 600)).isoformat(), "per_customer_limit": 1,
            "payment_window_seconds": 900}


def create(client, admin, body):  # type: ignore[no-untyped-def]
    reply = client.post("/api/v1/admin/flash-sales", json=body, headers=auth(admin))
    assert reply.status_code == 201, reply.text
    return reply.json()


def fans(db, ctx, clock, n):  # type: ignore[no-untyped-def]
    return [customer_token(db, ctx.secret_key, clock)[1] for _ in range(n)]


def live_sale(client, db, ctx, clock, admin, body, n):  # type: ignore[no-untyped-def]
    """A sale that has started, with ``n`` fans who reserved it."""
    sale = create(client, admin, body)
    tokens = fans(db, ctx, clock, n)
    for fan in tokens:
        client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(fan))
    clock.advance(START)
    return sale, tokens


def buy(client, sale, token, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/flash-sales/{sale['id']}/purchase", json=body or None, headers=auth(token))


def test_a_whole_sale(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    sale = create(client, admin, sale_body)
    assert sale["status"] == "reserving" and sale["remaining"] == 3
    # the units are set aside from ordinary stock at once
    assert client.get("/api/v1/products/xiaomi-15").json()["variants"][0]["available"] == 97
    a, b, c, d, late = fans(db, ctx, clock, 5)
    for fan in (a, b, c, d):
        assert client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(fan)).status_code == 201
    again = client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(a))
    assert again.status_code == 409 and again.json()["code"] == "already_reserved"
    assert buy(client, sale, a).json()["code"] == "sale_not_started"

    clock.advance(START)
    assert client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(late)).status_code == 409
    assert buy(client, sale, late).json()["code"] == "not_reserved"
    won = buy(client, sale, a)
    assert won.status_code == 201, won.text
    order = won.json()
    assert order["status"] == "pending_payment" and order["total_fen"] == 399900
    assert order["lines"][0]["unit_price_fen"] == 399900
    assert buy(client, sale, a).json()["code"] == "limit_exceeded"
    assert buy(client, sale, b).status_code == 201 and buy(client, sale, c).status_code == 201
    view = client.get(f"/api/v1/flash-sales/{sale['id']}").json()
    assert view["status"] == "sold_out" and view["remaining"] == 0 and view["reservations"] == 4
    assert buy(client, sale, d).json()["code"] == "sold_out"

    # a won order is an ordinary order: paid through the gateway, shipped from the units set aside
    paid = client.post(f"/api/v1/orders/{order['id']}/pay", json={"payment_method": "gateway"}, headers=auth(a))
    assert paid.status_code == 200, paid.text
    client.post(f"/api/v1/sandbox-gateway/payments/{paid.json()['payment']['id']}/approve")
    shipped = client.post(f"/api/v1/admin/orders/{order['id']}/ship", headers=auth(admin))
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    stock = client.get("/api/v1/admin/stock/XM15-256", headers=auth(admin)).json()[0]
    assert stock["on_hand"] == 99 and stock["allocated"] == 2

    clock.advance(600)
    assert buy(client, sale, d).json()["code"] == "sale_ended"
    assert client.get(f"/api/v1/flash-sales/{sale['id']}").json()["status"] == "ended"


def test_unpaid_orders_expire_and_their_units_go_back(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    sale, (first, second) = live_sale(client, db, ctx, clock, admin,
                                      sale_body | {"units": 1, "payment_window_seconds": 300}, 2)
    order = buy(client, sale, first).json()
    assert buy(client, sale, second).json()["code"] == "sold_out"
    reply = client.post("/api/v1/admin/clock/advance", json={"seconds": 300}, headers=auth(admin))
    assert reply.status_code == 200 and reply.json()["jobs"]["return_flash_sale_units"] == 1
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth(first)).json()["status"] == "cancelled"
    assert client.get(f"/api/v1/flash-sales/{sale['id']}").json()["remaining"] == 1
    assert buy(client, sale, second).status_code == 201
    # the first fan's limit counts live orders only: their expired order no longer counts
    assert buy(client, sale, first).json()["code"] == "sold_out"


def test_purchase_tokens(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    sale = create(client, admin, sale_body | {"require_purchase_token": True})
    fan, stranger = fans(db, ctx, clock, 2)
    client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(fan))
    early = client.post(f"/api/v1/flash-sales/{sale['id']}/purchase-tokens", headers=auth(fan))
    assert early.status_code == 409 and early.json()["code"] == "sale_not_started"
    clock.advance(START)
    refused = client.post(f"/api/v1/flash-sales/{sale['id']}/purchase-tokens", headers=auth(stranger))
    assert refused.status_code == 403 and refused.json()["code"] == "not_reserved"
    reply = client.post(f"/api/v1/flash-sales/{sale['id']}/purchase-tokens", headers=auth(fan))
    assert reply.status_code == 201
    token = reply.json()["purchase_token"]
    assert buy(client, sale, fan).json()["code"] == "forbidden"
    assert buy(client, sale, fan, purchase_token="0" * 64).json()["code"] == "forbidden"
    assert buy(client, sale, fan, purchase_token=token).status_code == 201


def test_bad_sales_are_refused(client, shop, admin, fan, sale_body):  # type: ignore[no-untyped-def]
    cases = [
        (sale_body | {"ends_at": sale_body["starts_at"]}, 422),
        (sale_body | {"starts_at": "2026-11-25T10:00:00"}, 422),  # no offset: ambiguous
        (sale_body | {"units": 0}, 422),
        (sale_body | {"units": 1000}, 409),  # more than in stock
        (sale_body | {"sku": "NOPE"}, 404),
        (sale_body | {"mode": "raffle"}, 422),
        (sale_body | {"per_customer_limit": 5}, 422),  # more than units
    ]
    for body, status in cases:
        reply = client.post("/api/v1/admin/flash-sales", json=body, headers=auth(admin))
        assert reply.status_code == status, (body, reply.text)
    assert client.post("/api/v1/admin/flash-sales", json=sale_body, headers=auth(fan)).status_code == 403
    assert client.get("/api/v1/flash-sales/999").json()["code"] == "not_found"
    assert client.post("/api/v1/flash-sales/999/reservations", headers=auth(fan)).status_code == 404


def test_purchase_attempts_are_rate_limited(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    ctx.settings.purchase_rate_per_customer = 2
    sale, (fan,) = live_sale(client, db, ctx, clock, admin, sale_body | {"units": 5, "per_customer_limit": 5},
                             1)
    replies = [buy(client, sale, fan) for _ in range(5)]
    limited = [r for r in replies if r.status_code == 429]
    # 5 attempts in well under two one-second windows: one window saw at least 3
    assert limited, [r.status_code for r in replies]
    assert limited[0].json()["code"] == "rate_limited" and int(limited[0].headers["Retry-After"]) >= 1


def test_live_remaining_units_as_server_sent_events(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    import orjson

    sale, (fan,) = live_sale(client, db, ctx, clock, admin, sale_body, 1)
    assert buy(client, sale, fan).status_code == 201
    with client.stream("GET", f"/api/v1/flash-sales/{sale['id']}/events?max_events=1") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = b"".join(stream.iter_bytes()).decode()
    event, data = text.strip().split("\n")
    assert event == "event: sale"
    assert orjson.loads(data.removeprefix("data: ")) == {"id": sale["id"], "remaining": 2, "status": "live"}


def test_database_outage_answers_503_and_sells_nothing(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    sale, (fan,) = live_sale(client, db, ctx, clock, admin, sale_body | {"units": 1}, 1)

    def outage(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO orders"):
            raise OperationalError(statement, parameters, Exception("connection refused"))

    event.listen(db.engine, "before_cursor_execute", outage)
    try:
        reply = buy(client, sale, fan)
    finally:
        event.remove(db.engine, "before_cursor_execute", outage)
    assert reply.status_code == 503 and reply.json()["code"] == "service_unavailable"
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/orders", headers=auth(fan)).json()["items"] == []
    assert client.get(f"/api/v1/flash-sales/{sale['id']}").json()["remaining"] == 1  # the unit went back
    assert buy(client, sale, fan).status_code == 201


def test_a_replayed_idempotency_key_returns_the_first_order(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    sale, (fan,) = live_sale(client, db, ctx, clock, admin, sale_body | {"per_customer_limit": 2}, 1)
    url = f"/api/v1/flash-sales/{sale['id']}/purchase"
    first = client.post(url, headers=auth(fan) | {"Idempotency-Key": "buy-1"})
    again = client.post(url, headers=auth(fan) | {"Idempotency-Key": "buy-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/api/v1/orders", headers=auth(fan)).json()["items"]) == 1
    assert client.get(f"/api/v1/flash-sales/{sale['id']}").json()["remaining"] == 2
    other = client.post(url, json={"quantity": 1}, headers=auth(fan) | {"Idempotency-Key": "buy-1"})
    assert other.status_code == 409  # the same key for a different request


def test_an_ended_sale_gives_unsold_units_back_to_stock(client, db, ctx, clock, shop, admin, sale_body):  # type: ignore[no-untyped-def]
    sale, (buyer, payer) = live_sale(client, db, ctx, clock, admin,
                                     sale_body | {"units": 5, "payment_window_seconds": 900}, 2)
    unpaid = buy(client, sale, buyer).json()
    paid = buy(client, sale, payer).json()
    pay = client.post(f"/api/v1/orders/{paid['id']}/pay", json={"payment_method": "gateway"}, headers=auth(payer))
    client.post(f"/api/v1/sandbox-gateway/payments/{pay.json()['payment']['id']}/approve")
    assert client.get("/api/v1/products/xiaomi-15").json()["variants"][0]["available"] == 95

    reply = client.post("/api/v1/admin/clock/advance", json={"seconds": 600}, headers=auth(admin))  # the end
    assert reply.json()["jobs"]["close_ended_flash_sales"] == 1
    # 3 unsold units are ordinary stock again; 2 stay held for the two open orders
    assert client.get("/api/v1/products/xiaomi-15").json()["variants"][0]["available"] == 98
    client.post("/api/v1/admin/clock/advance", json={"seconds": 300}, headers=auth(admin))  # unpaid expires
    assert client.get(f"/api/v1/orders/{unpaid['id']}", headers=auth(buyer)).json()["status"] == "cancelled"
    assert client.get("/api/v1/products/xiaomi-15").json()["variants"][0]["available"] == 99
    shipped = client.post(f"/api/v1/admin/orders/{paid['id']}/ship", headers=auth(admin))
    assert shipped.status_code == 200
    stock = client.get("/api/v1/admin/stock/XM15-256", headers=auth(admin)).json()[0]
    assert stock == {"sku": "XM15-256", "location": "main", "on_hand": 99, "allocated": 0, "available": 99}
