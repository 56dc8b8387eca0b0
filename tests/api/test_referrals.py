"""Share links and commissions through the API (API.md "Word of mouth"): links, clicks, the 7-day
last-click attribution, payment on completion, reversal on refund, and the abuse cases of issue 7."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.accounts.models import AuditEntry
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.jobs import run_due_jobs
from fanbase.ledger.check import problems
from fanbase.orders import service as orders
from tests.helpers import ADDRESS, auth, customer_token, place_order

XM15 = 449900  # XM15-256, category phones
BAND = 24900  # BAND9, category lifestyle


def set_rate(client: TestClient, admin: str, category: str, rate: str) -> dict[str, Any]:
    reply = client.put(f"/api/v1/admin/commission-rates/{category}", json={"rate": rate}, headers=auth(admin))
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def share(client: TestClient, token: str, slug: str = "xiaomi-15") -> str:
    reply = client.post("/api/v1/share-links", json={"product_slug": slug}, headers=auth(token))
    assert reply.status_code == 201, reply.text
    return reply.json()["code"]  # type: ignore[no-any-return]


def click(client: TestClient, token: str, code: str) -> None:
    reply = client.post(f"/api/v1/share-links/{code}/clicks", headers=auth(token))
    assert reply.status_code == 204, reply.text


def commissions(client: TestClient, token: str) -> list[dict[str, Any]]:
    reply = client.get("/api/v1/me/commissions", headers=auth(token))
    assert reply.status_code == 200, reply.text
    return [{k: item[k] for k in ("order_id", "amount_fen", "status")} for item in reply.json()["items"]]


def paid_order(client: TestClient, token: str, sku: str = "XM15-256", quantity: int = 1) -> dict[str, Any]:
    order = place_order(client, token, sku, quantity)
    approved = client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
    assert approved.status_code == 200, approved.text
    return order


def complete(client: TestClient, ctx: Context, clock: FixedClock, admin: str, order_id: int) -> None:
    for step in ("ship", "deliver"):
        reply = client.post(f"/api/v1/admin/orders/{order_id}/{step}", headers=auth(admin))
        assert reply.status_code == 200, reply.text
    clock.advance(timedelta(days=8).total_seconds())  # past the 7-day return window
    run_due_jobs(ctx)
    with ctx.db.read() as session:
        assert orders.get_order(session, order_id).status == "completed"


def balance(client: TestClient, token: str) -> int:
    return client.get("/api/v1/wallet", headers=auth(token)).json()["balance_fen"]  # type: ignore[no-any-return]


def test_a_shared_order_earns_a_commission_paid_once_completed(client: TestClient, ctx: Context, clock: FixedClock,
                                                                shop: None, admin: str) -> None:
    assert set_rate(client, admin, "phones", "0.0333") == {"category": "phones", "rate": "0.0333"}
    _sharer_id, sharer = customer_token(ctx.db, ctx.secret_key, clock)
    _buyer_id, buyer = customer_token(ctx.db, ctx.secret_key, clock)
    first = client.post("/api/v1/share-links", json={"product_slug": "xiaomi-15"}, headers=auth(sharer))
    assert first.status_code == 201
    code = first.json()["code"]
    assert first.json()["url"].endswith(f"/products/xiaomi-15?ref={code}")
    assert share(client, sharer) == code  # the same fan and product: the same code again
    assert share(client, buyer) != code

    click(client, buyer, code)
    clock.advance(3600)
    order = paid_order(client, buyer, quantity=2)
    # 2 x 4,499.00 x 0.0333 = 299.6334 CNY, truncated to the fen
    expected = 2 * XM15 * 333 // 10000
    assert expected == 29963
    assert commissions(client, sharer) == [{"order_id": order["id"], "amount_fen": expected, "status": "pending"}]
    assert commissions(client, buyer) == []
    assert balance(client, sharer) == 0

    complete(client, ctx, clock, admin, order["id"])
    assert commissions(client, sharer) == [{"order_id": order["id"], "amount_fen": expected, "status": "paid"}]
    assert balance(client, sharer) == expected
    statement = client.get("/api/v1/wallet/transactions", headers=auth(sharer)).json()["items"]
    assert [(line["kind"], line["amount_fen"]) for line in statement] == [("commission", expected)]
    run_due_jobs(ctx)  # nothing is paid twice
    assert balance(client, sharer) == expected
    with ctx.db.read() as session:
        assert problems(session) == []


def test_self_referral_never_counts(client: TestClient, ctx: Context, clock: FixedClock, shop: None,
                                    admin: str) -> None:
    set_rate(client, admin, "phones", "0.05")
    _id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    own = share(client, fan)
    click(client, fan, own)  # accepted, ignored
    order = paid_order(client, fan)
    complete(client, ctx, clock, admin, order["id"])
    assert commissions(client, fan) == [] and balance(client, fan) == 0

    # a fan who opened someone else's link and then their own: their own click does not take it over
    _id, other = customer_token(ctx.db, ctx.secret_key, clock)
    click(client, fan, share(client, other))
    click(client, fan, own)
    second = paid_order(client, fan)
    assert commissions(client, fan) == []
    assert commissions(client, other) == [{"order_id": second["id"], "amount_fen": XM15 * 5 // 100,
                                           "status": "pending"}]
    client.post(f"/api/v1/admin/orders/{second['id']}/refund", headers=auth(admin))


def test_clicks_older_than_seven_days_do_not_count(client: TestClient, ctx: Context, clock: FixedClock, shop: None,
                                                   admin: str) -> None:
    set_rate(client, admin, "phones", "0.05")
    _id, sharer = customer_token(ctx.db, ctx.secret_key, clock)
    _id, buyer = customer_token(ctx.db, ctx.secret_key, clock)
    code = share(client, sharer)
    click(client, buyer, code)
    clock.advance(timedelta(days=7).total_seconds())  # exactly 7 days: still within
    inside = place_order(client, buyer)
    click(client, buyer, code)
    clock.advance(timedelta(days=7, seconds=1).total_seconds())
    outside = place_order(client, buyer)
    assert commissions(client, sharer) == [{"order_id": inside["id"], "amount_fen": XM15 * 5 // 100,
                                            "status": "pending"}]
    assert outside["id"] != inside["id"]


def test_the_last_click_wins(client: TestClient, ctx: Context, clock: FixedClock, shop: None, admin: str) -> None:
    set_rate(client, admin, "phones", "0.05")
    set_rate(client, admin, "lifestyle", "0.1")
    _id, first = customer_token(ctx.db, ctx.secret_key, clock)
    _id, second = customer_token(ctx.db, ctx.secret_key, clock)
    _id, buyer = customer_token(ctx.db, ctx.secret_key, clock)
    click(client, buyer, share(client, first))
    clock.advance(60)
    click(client, buyer, share(client, second))
    clock.advance(60)
    click(client, buyer, share(client, first, "mi-band-9"))  # another product: its own last click
    client.put("/api/v1/cart/items/BAND9", json={"quantity": 3}, headers=auth(buyer))
    order = place_order(client, buyer)  # XM15-256 and 3 x BAND9
    assert commissions(client, second) == [{"order_id": order["id"], "amount_fen": XM15 * 5 // 100,
                                            "status": "pending"}]
    assert commissions(client, first) == [{"order_id": order["id"], "amount_fen": 3 * BAND // 10,
                                           "status": "pending"}]


def test_no_rate_no_commission(client: TestClient, ctx: Context, clock: FixedClock, shop: None, admin: str) -> None:
    set_rate(client, admin, "lifestyle", "0.1")
    _id, sharer = customer_token(ctx.db, ctx.secret_key, clock)
    _id, buyer = customer_token(ctx.db, ctx.secret_key, clock)
    click(client, buyer, share(client, sharer))
    place_order(client, buyer)  # phones: no rate
    set_rate(client, admin, "phones", "0")
    place_order(client, buyer)
    assert commissions(client, sharer) == []


def test_flash_sale_orders_earn_nothing(client: TestClient, ctx: Context, clock: FixedClock, shop: None,
                                        admin: str) -> None:
    set_rate(client, admin, "phones", "0.05")
    _id, sharer = customer_token(ctx.db, ctx.secret_key, clock)
    _id, buyer = customer_token(ctx.db, ctx.secret_key, clock)
    now = clock.now()
    sale = client.post("/api/v1/admin/flash-sales", headers=auth(admin), json={
        "sku": "XM15-256", "units": 3, "price_fen": 399900, "reservations_open_at": now.isoformat(),
        "starts_at": (now + timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()})
    assert sale.status_code == 201, sale.text
    sale_id = sale.json()["id"]
    assert client.post(f"/api/v1/flash-sales/{sale_id}/reservations", headers=auth(buyer)).status_code == 201
    clock.advance(3600)
    click(client, buyer, share(client, sharer))
    won = client.post(f"/api/v1/flash-sales/{sale_id}/purchase", headers=auth(buyer))
    assert won.status_code == 201, won.text
    paid = client.post(f"/api/v1/orders/{won.json()['id']}/pay", json={"payment_method": "gateway"},
                       headers=auth(buyer))
    assert paid.status_code == 200, paid.text
    client.post(f"/api/v1/sandbox-gateway/payments/{paid.json()['payment']['id']}/approve")
    complete(client, ctx, clock, admin, won.json()["id"])
    assert commissions(client, sharer) == [] and balance(client, sharer) == 0


def test_group_buy_orders_earn_nothing(client: TestClient, ctx: Context, clock: FixedClock, shop: None,
                                      admin: str) -> None:
    set_rate(client, admin, "phones", "0.05")
    _id, sharer = customer_token(ctx.db, ctx.secret_key, clock)
    buyers = [customer_token(ctx.db, ctx.secret_key, clock)[1] for _ in range(2)]
    offer = client.post("/api/v1/admin/group-offers", headers=auth(admin), json={
        "sku": "XM15-256", "group_price_fen": 399900, "group_size": 2, "time_limit_seconds": 3600})
    assert offer.status_code == 201, offer.text
    code = share(client, sharer)
    group_id = None
    for buyer in buyers:
        click(client, buyer, code)
        body = {"payment_method": "gateway", "shipping_address": ADDRESS}
        reply = (client.post("/api/v1/group-buys", json={**body, "offer_id": offer.json()["id"]}, headers=auth(buyer))
                 if group_id is None else
                 client.post(f"/api/v1/group-buys/{group_id}/join", json=body, headers=auth(buyer)))
        assert reply.status_code == 201, reply.text
        group_id = reply.json()["id"]
        client.post(f"/api/v1/sandbox-gateway/payments/{reply.json()['order']['payment']['id']}/approve")
    complete(client, ctx, clock, admin, reply.json()["order_id"])  # the group is full: its orders go ahead
    assert client.get(f"/api/v1/group-buys/{group_id}", headers=auth(buyers[0])).json()["status"] == "complete"
    assert commissions(client, sharer) == [] and balance(client, sharer) == 0


def test_a_refund_or_cancellation_reverses_the_commission(client: TestClient, ctx: Context, clock: FixedClock,
                                                          shop: None, admin: str) -> None:
    set_rate(client, admin, "phones", "0.05")
    _id, sharer = customer_token(ctx.db, ctx.secret_key, clock)
    _id, buyer = customer_token(ctx.db, ctx.secret_key, clock)
    click(client, buyer, share(client, sharer))
    refunded = paid_order(client, buyer)
    for step in ("ship", "deliver", "refund"):
        assert client.post(f"/api/v1/admin/orders/{refunded['id']}/{step}", headers=auth(admin)).status_code == 200
    cancelled = paid_order(client, buyer)
    assert client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=auth(buyer)).status_code == 200
    unpaid = place_order(client, buyer)
    assert client.post(f"/api/v1/orders/{unpaid['id']}/cancel", headers=auth(buyer)).status_code == 200
    expired = place_order(client, buyer)
    clock.advance(3600)  # past the payment window
    run_due_jobs(ctx)
    amount = XM15 * 5 // 100
    assert commissions(client, sharer) == [{"order_id": order["id"], "amount_fen": amount, "status": "reversed"}
                                           for order in (refunded, cancelled, unpaid, expired)]
    clock.advance(timedelta(days=30).total_seconds())
    run_due_jobs(ctx)
    assert balance(client, sharer) == 0


def test_share_links_and_clicks_refuse_what_they_cannot_do(client: TestClient, ctx: Context, clock: FixedClock,
                                                           shop: None, fan: str) -> None:
    unknown = client.post("/api/v1/share-links", json={"product_slug": "no-such-thing"}, headers=auth(fan))
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    for code in ("NOSUCHCODE", "x", "-+-"):
        reply = client.post(f"/api/v1/share-links/{code}/clicks", headers=auth(fan))
        assert reply.status_code == 404 and reply.json()["code"] == "not_found", code
    assert client.post("/api/v1/share-links/ABCDEFGH/clicks").status_code == 401
    assert client.get("/api/v1/me/commissions").status_code == 401
    bad = client.post("/api/v1/share-links", json={"product_slug": 7}, headers=auth(fan))
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_operators_set_rates_audited_and_checked(client: TestClient, ctx: Context, clock: FixedClock, shop: None,
                                                 admin: str, fan: str) -> None:
    assert set_rate(client, admin, "phones", "0.050") == {"category": "phones", "rate": "0.05"}
    with ctx.db.read() as session:
        action, target = session.execute(select(AuditEntry.action, AuditEntry.target)
                                         .order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (action, target) == ("commission.rate", "category:phones")
    listed = client.get("/api/v1/admin/commission-rates", headers=auth(admin)).json()["items"]
    assert {"category": "phones", "rate": "0.05"} in listed and {"category": "lifestyle", "rate": "0"} in listed
    for rate in ("0.51", "-0.01", "abc", "0.00001", "NaN", "Infinity", "1e-2x", ""):
        reply = client.put("/api/v1/admin/commission-rates/phones", json={"rate": rate}, headers=auth(admin))
        assert reply.status_code == 422 and reply.json()["code"] == "validation_error", rate
    wrong_type = client.put("/api/v1/admin/commission-rates/phones", json={"rate": 0.05}, headers=auth(admin))
    assert wrong_type.status_code == 422
    missing = client.put("/api/v1/admin/commission-rates/no-such", json={"rate": "0.05"}, headers=auth(admin))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    customer = client.put("/api/v1/admin/commission-rates/phones", json={"rate": "0.4"}, headers=auth(fan))
    assert customer.status_code == 403
    assert client.get("/api/v1/admin/commission-rates", headers=auth(fan)).status_code == 403
    assert set_rate(client, admin, "phones", "0.5")["rate"] == "0.5"
