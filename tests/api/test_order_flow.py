from __future__ import annotations

import orjson

from fanbase.payments.gateway import sign
from tests.helpers import ADDRESS, auth, place_order


def approve(client, order):  # type: ignore[no-untyped-def]
    reply = client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
    assert reply.status_code == 200, reply.text
    return client


def test_checkout_pay_ship_deliver_complete(client, shop, fan, admin, clock):  # type: ignore[no-untyped-def]
    order = place_order(client, fan, quantity=2)
    assert order["status"] == "pending_payment"
    assert order["total_fen"] == 2 * 449900
    assert order["payment"]["pay_url"].endswith(order["payment"]["id"])
    assert client.get("/api/v1/cart", headers=auth(fan)).json() == {"lines": [], "total_fen": 0}
    approve(client, order)
    got = client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()
    assert got["status"] == "paid" and got["payment"]["status"] == "succeeded"
    for step, status in (("ship", "shipped"), ("deliver", "delivered")):
        reply = client.post(f"/api/v1/admin/orders/{order['id']}/{step}", headers=auth(admin))
        assert reply.status_code == 200 and reply.json()["status"] == status, reply.text
    clock.advance(8 * 24 * 3600)
    assert client.post("/api/v1/admin/clock/advance", json={"seconds": 1}, headers=auth(admin)).status_code == 200
    got = client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()
    assert got["status"] == "completed"
    assert [e["kind"] for e in got["events"]] == ["created", "paid", "shipped", "delivered", "completed"]


def test_unpaid_order_expires_and_stock_returns(client, shop, fan, admin):  # type: ignore[no-untyped-def]
    order = place_order(client, fan, sku="BAND9", quantity=3)
    before = client.get("/api/v1/products/mi-band-9").json()["variants"][0]["available"]
    assert before == 97
    reply = client.post("/api/v1/admin/clock/advance", json={"seconds": 30 * 60}, headers=auth(admin))
    assert reply.status_code == 200, reply.text
    got = client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()
    assert got["status"] == "cancelled"
    assert client.get("/api/v1/products/mi-band-9").json()["variants"][0]["available"] == 100
    # paying afterwards is refused; the bank refuses the cancelled payment
    assert client.post(f"/api/v1/orders/{order['id']}/pay", json={"payment_method": "gateway"},
                       headers=auth(fan)).json()["code"] == "conflict"
    reply = client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
    assert reply.status_code == 409


def test_late_capture_for_expired_order_is_sent_back(client, shop, fan, admin, db, ctx):  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from fanbase.ledger import service as ledger
    from fanbase.payments.models import SandboxGatewayPayment

    order = place_order(client, fan, sku="BAND9")
    client.post("/api/v1/admin/clock/advance", json={"seconds": 31 * 60}, headers=auth(admin))
    # the bank had approved just before the cancel reached it: its webhook arrives late
    with db.uow() as s:
        s.execute(update(SandboxGatewayPayment).values(status="succeeded"))
    body = orjson.dumps({"id": "evt_late", "type": "payment.succeeded", "payment_id": order["payment"]["id"],
                         "amount_fen": 24900})
    reply = client.post("/api/v1/payments/webhooks/sandbox", content=body,
                        headers={"X-Sandbox-Signature": sign(ctx.settings.sandbox_webhook_secret, body)})
    assert reply.status_code == 200, reply.text
    got = client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()
    assert got["status"] == "cancelled" and got["payment"]["status"] == "refunded"
    with db.read() as s:
        assert ledger.balance_of(s, ledger.GATEWAY_CLEARING) == 0
        assert ledger.balance_of(s, ledger.SALES_REVENUE) == 0


def test_cancelled_paid_order_is_refunded(client, shop, fan, db):  # type: ignore[no-untyped-def]
    from fanbase.ledger import service as ledger

    order = place_order(client, fan)
    approve(client, order)
    reply = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth(fan))
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "cancelled"
    assert reply.json()["payment"]["status"] == "refunded"
    assert "refunded" in [e["kind"] for e in reply.json()["events"]]
    with db.read() as s:
        assert ledger.balance_of(s, ledger.GATEWAY_CLEARING) == 0
        assert ledger.balance_of(s, ledger.REFUNDS) == 449900
        assert ledger.balance_of(s, ledger.SALES_REVENUE) == 449900
    assert client.get("/api/v1/products/xiaomi-15").json()["variants"][0]["available"] == 100


def test_forged_webhook_is_refused_and_changes_nothing(client, shop, fan, ctx):  # type: ignore[no-untyped-def]
    order = place_order(client, fan)
    body = orjson.dumps({"id": "evt_forged", "type": "payment.succeeded", "payment_id": order["payment"]["id"],
                         "amount_fen": 449900})
    for signature in ("sha256=" + "0" * 64, sign("wrong-secret", body), ""):
        reply = client.post("/api/v1/payments/webhooks/sandbox", content=body,
                            headers={"X-Sandbox-Signature": signature, "Content-Type": "application/json"})
        assert reply.status_code == 400
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()["status"] == "pending_payment"
    # the genuine signature is accepted, and a repeat changes nothing
    good = sign(ctx.settings.sandbox_webhook_secret, body)
    for _ in range(2):
        reply = client.post("/api/v1/payments/webhooks/sandbox", content=body,
                            headers={"X-Sandbox-Signature": good, "Content-Type": "application/json"})
        assert reply.status_code == 200, reply.text
    got = client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()
    assert got["status"] == "paid"
    assert [e["kind"] for e in got["events"]].count("paid") == 1


def test_replayed_idempotency_key_returns_first_order(client, shop, fan):  # type: ignore[no-untyped-def]
    first = place_order(client, fan, key="checkout-1")
    client.put("/api/v1/cart/items/XM15-256", json={"quantity": 1}, headers=auth(fan))
    body = {"payment_method": "gateway", "shipping_address": ADDRESS}
    reply = client.post("/api/v1/checkout", json=body, headers=auth(fan) | {"Idempotency-Key": "checkout-1"})
    assert reply.status_code == 201
    assert reply.json() == first
    assert reply.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/api/v1/orders", headers=auth(fan)).json()["items"]) == 1
    # the same key with another body is a conflict, not a silent replay
    other = {"payment_method": "wallet", "shipping_address": ADDRESS}
    reply = client.post("/api/v1/checkout", json=other, headers=auth(fan) | {"Idempotency-Key": "checkout-1"})
    assert reply.status_code == 409


def test_wallet_payment_without_balance_is_insufficient_funds(client, shop, fan):  # type: ignore[no-untyped-def]
    client.put("/api/v1/cart/items/XM15-256", json={"quantity": 1}, headers=auth(fan))
    reply = client.post("/api/v1/checkout", json={"payment_method": "wallet", "shipping_address": ADDRESS},
                        headers=auth(fan))
    assert reply.status_code == 409 and reply.json()["code"] == "insufficient_funds"
    assert client.get("/api/v1/orders", headers=auth(fan)).json()["items"] == []
    assert client.get("/api/v1/products/xiaomi-15").json()["variants"][0]["available"] == 100
