"""Reviews through the API (API.md "Word of mouth"): only from a customer who received the product, once per
order line; helpful votes once per person and never on one's own review; the product's rating."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.jobs import run_due_jobs
from fanbase.social.reviews.models import HelpfulVote, Review
from tests.helpers import ADDRESS, auth, customer_token, place_order, table_counts


def paid_order(client: TestClient, token: str, sku: str = "XM15-256", quantity: int = 1,
               points: int = 0) -> dict[str, Any]:
    reply = client.put(f"/api/v1/cart/items/{sku}", json={"quantity": quantity}, headers=auth(token))
    assert reply.status_code == 200, reply.text
    if points:
        reply = client.post("/api/v1/checkout", json={"payment_method": "gateway", "shipping_address": ADDRESS,
                                                      "points": points}, headers=auth(token))
        assert reply.status_code == 201, reply.text
        order: dict[str, Any] = reply.json()
    else:
        order = place_order(client, token, sku, quantity)
    if order["payment"] is not None:
        approved = client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
        assert approved.status_code == 200, approved.text
    return order


def delivered_order(client: TestClient, token: str, admin: str, sku: str = "XM15-256", quantity: int = 1,
                    points: int = 0) -> dict[str, Any]:
    order = paid_order(client, token, sku, quantity, points)
    for step in ("ship", "deliver"):
        reply = client.post(f"/api/v1/admin/orders/{order['id']}/{step}", headers=auth(admin))
        assert reply.status_code == 200, reply.text
    return order


def review(client: TestClient, token: str, order_id: int, sku: str = "XM15-256", rating: int = 5,
           text: str = "很好用", slug: str = "xiaomi-15") -> Any:
    return client.post(f"/api/v1/products/{slug}/reviews", json={"order_id": order_id, "sku": sku, "rating": rating,
                                                                  "text": text}, headers=auth(token))


def rating(client: TestClient, slug: str = "xiaomi-15") -> dict[str, Any]:
    reply = client.get(f"/api/v1/products/{slug}")
    assert reply.status_code == 200
    return reply.json()["rating"]  # type: ignore[no-any-return]


def test_a_customer_reviews_what_they_received_once(client: TestClient, ctx: Context, clock: FixedClock,
                                                    shop: None, admin: str) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock, name="小王")
    assert rating(client) == {"average": None, "count": 0}
    order = delivered_order(client, fan, admin)
    written = review(client, fan, order["id"], rating=4, text="  <b>好</b> 手机  ")
    assert written.status_code == 201, written.text
    body = written.json()
    assert body == {"id": body["id"], "rating": 4, "text": "<b>好</b> 手机", "author_name": "小王", "helpful": 0,
                    "created_at": "2026-11-25T10:00:00+08:00", "sku": "XM15-256"}
    again = review(client, fan, order["id"], rating=1)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert rating(client) == {"average": "4.0", "count": 1}  # the product's copy was dropped by the review

    _other_id, other = customer_token(ctx.db, ctx.secret_key, clock, name="小李")
    theirs = delivered_order(client, other, admin, sku="XM15-512")
    assert review(client, other, theirs["id"], sku="XM15-512", rating=5).status_code == 201
    assert rating(client) == {"average": "4.5", "count": 2}
    listed = client.get("/api/v1/products/xiaomi-15/reviews", params={"limit": 1})
    assert listed.status_code == 200
    first = listed.json()
    assert [r["author_name"] for r in first["items"]] == ["小王"] and first["next_cursor"]
    rest = client.get("/api/v1/products/xiaomi-15/reviews", params={"cursor": first["next_cursor"]}).json()
    assert [r["author_name"] for r in rest["items"]] == ["小李"] and rest["next_cursor"] is None
    assert client.get("/api/v1/products/mi-band-9/reviews").json() == {"items": [], "next_cursor": None}


def test_reviews_are_refused_without_a_received_order_line(client: TestClient, ctx: Context, clock: FixedClock,
                                                          shop: None, admin: str) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    _other_id, other = customer_token(ctx.db, ctx.secret_key, clock)
    unpaid = place_order(client, fan)
    paid = paid_order(client, fan, sku="XM15-512")
    theirs = delivered_order(client, other, admin)
    before = table_counts(ctx.db)
    for order_id, sku in ((unpaid["id"], "XM15-256"),  # not delivered
                          (paid["id"], "XM15-512"),  # paid, not delivered
                          (theirs["id"], "XM15-256"),  # someone else's
                          (10**9, "XM15-256")):  # no such order
        refused = review(client, fan, order_id, sku=sku)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", (order_id, refused.text)
    # a delivered order of theirs, but a line of a product they did not order
    band = review(client, other, theirs["id"], sku="BAND9", slug="mi-band-9")
    assert band.status_code == 403
    assert review(client, other, theirs["id"], sku="BAND9").status_code == 422  # not a version of xiaomi-15
    assert review(client, other, theirs["id"], slug="nope").status_code == 404
    assert table_counts(ctx.db) == before  # nothing written, growth included


def test_helpful_votes_once_per_person_never_ones_own(client: TestClient, ctx: Context, clock: FixedClock,
                                                      shop: None, admin: str) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    _other_id, other = customer_token(ctx.db, ctx.secret_key, clock)
    order = delivered_order(client, fan, admin)
    review_id = review(client, fan, order["id"]).json()["id"]
    own = client.post(f"/api/v1/reviews/{review_id}/helpful", headers=auth(fan))
    assert own.status_code == 403 and own.json()["code"] == "forbidden"
    voted = client.post(f"/api/v1/reviews/{review_id}/helpful", headers=auth(other))
    assert voted.status_code == 201 and voted.json()["helpful"] == 1
    twice = client.post(f"/api/v1/reviews/{review_id}/helpful", headers=auth(other))
    assert twice.status_code == 409 and twice.json()["code"] == "conflict"
    assert client.post(f"/api/v1/reviews/{review_id}/helpful", headers=auth(admin)).json()["helpful"] == 2
    assert client.post("/api/v1/reviews/999999/helpful", headers=auth(other)).status_code == 404
    assert client.post(f"/api/v1/reviews/{review_id}/helpful").status_code == 401
    with ctx.db.read() as s:
        assert s.query(HelpfulVote).count() == 2 and s.get(Review, review_id).helpful == 2  # type: ignore[union-attr]
    assert client.get("/api/v1/products/xiaomi-15/reviews").json()["items"][0]["helpful"] == 2


def test_a_completed_order_can_be_reviewed_and_text_is_bounded(client: TestClient, ctx: Context,
                                                               clock: FixedClock, shop: None, admin: str) -> None:
    _fan_id, fan = customer_token(ctx.db, ctx.secret_key, clock)
    order = delivered_order(client, fan, admin, sku="BAND9")
    clock.advance(8 * 86400)
    run_due_jobs(ctx)
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth(fan)).json()["status"] == "completed"
    too_long = review(client, fan, order["id"], sku="BAND9", slug="mi-band-9", text="长" * 2001)
    assert too_long.status_code == 422
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 4.5}, {"text": ""}):
        body = {"order_id": order["id"], "sku": "BAND9", "rating": 5, "text": "好"} | bad
        reply = client.post("/api/v1/products/mi-band-9/reviews", json=body, headers=auth(fan))
        assert reply.status_code == 422, bad
    ok = review(client, fan, order["id"], sku="BAND9", slug="mi-band-9", rating=3, text="长" * 2000)
    assert ok.status_code == 201
    assert rating(client, "mi-band-9") == {"average": "3.0", "count": 1}
