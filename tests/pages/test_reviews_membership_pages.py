"""Reviews and membership pages through the ASGI app: "write a review" on a delivered order's page, the
product page's average, count, distribution and escaped reviews, helpful votes, the profile page ``/me``,
points at checkout; refusals (bad rating, no CSRF token) write nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.jobs import run_due_jobs
from tests.api.test_reviews import delivered_order
from tests.helpers import customer_token, staff_token, table_counts
from tests.pages.test_pages import post_form
from tests.pages.test_wallet_pages import shown

pytestmark = pytest.mark.usefixtures("shop")


def signed_in(client: TestClient, ctx: Context, db: Database, clock: FixedClock, name: str) -> tuple[TestClient, str]:
    browser = TestClient(client.app, raise_server_exceptions=False)
    _user_id, token = customer_token(db, ctx.secret_key, clock, name=name)
    browser.cookies.set("fb_session", token)
    return browser, token


def test_a_fan_reviews_a_delivered_order_and_others_find_it_helpful(client: TestClient, ctx: Context,
                                                                   db: Database, clock: FixedClock) -> None:
    _staff_id, admin = staff_token(db, ctx.secret_key, clock)
    fan, token = signed_in(client, ctx, db, clock, "小王")
    order = delivered_order(fan, token, admin)
    page = fan.get(f"/orders/{order['id']}")
    assert page.status_code == 200 and f'action="/orders/{order["id"]}/reviews"' in page.text

    before = table_counts(db)
    bad = post_form(fan, f"/orders/{order['id']}", f"/orders/{order['id']}/reviews",
                    {"sku": "XM15-256", "rating": "9", "text": "好"})
    assert bad.status_code == 303 and bad.headers["location"] == f"/orders/{order['id']}"
    no_token = fan.post(f"/orders/{order['id']}/reviews", data={"sku": "XM15-256", "rating": "5", "text": "好"})
    assert no_token.status_code == 403
    assert table_counts(db) == before

    written = post_form(fan, f"/orders/{order['id']}", f"/orders/{order['id']}/reviews",
                        {"sku": "XM15-256", "rating": "4", "text": "<script>alert(1)</script> 很好"})
    assert written.status_code == 303
    after = fan.get(f"/orders/{order['id']}")
    assert "/reviews\"" not in after.text.split("<main", 1)[1]  # no form for a reviewed line

    product = client.get("/products/xiaomi-15").text  # an anonymous visitor
    assert shown(product, "rating-average") == "4.0" and shown(product, "stars-4") == "1"
    assert shown(product, "stars-5") == "0"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 很好" in product and "<script>alert(1)" not in product
    review_id = re.search(r'/products/xiaomi-15/reviews/(\d+)/helpful', product)
    assert review_id
    action = f"/products/xiaomi-15/reviews/{review_id.group(1)}/helpful"

    other, _token = signed_in(client, ctx, db, clock, "小李")
    voted = post_form(other, "/products/xiaomi-15", action, {})
    assert voted.status_code == 303 and voted.headers["location"] == "/products/xiaomi-15#reviews"
    assert "(1)" in other.get("/products/xiaomi-15").text
    again = post_form(other, "/products/xiaomi-15", action, {})
    refused = other.get(again.headers["location"].split("#")[0])
    assert "你已认为这条评价有用" in refused.text
    own = post_form(fan, "/products/xiaomi-15", action, {})
    assert own.status_code == 303
    assert "(1)" in fan.get("/products/xiaomi-15").text


def test_the_profile_shows_level_points_badges_and_reviews_and_checkout_spends_points(
        client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    assert client.get("/me", follow_redirects=False).headers["location"].startswith("/login")
    _staff_id, admin = staff_token(db, ctx.secret_key, clock)
    fan, token = signed_in(client, ctx, db, clock, "小王")
    order = delivered_order(fan, token, admin)
    clock.advance(timedelta(days=8).total_seconds())
    run_due_jobs(ctx)
    post_form(fan, f"/orders/{order['id']}", f"/orders/{order['id']}/reviews",
              {"sku": "XM15-256", "rating": "5", "text": "<b>棒</b>"})
    profile = fan.get("/me")
    assert profile.status_code == 200
    assert shown(profile.text, "points") == "4499" and shown(profile.text, "growth") == str(4499 + 10)
    assert shown(profile.text, "level") in ("白银", "Silver")
    assert "&lt;b&gt;棒&lt;/b&gt;" in profile.text and 'data-testid="my-review"' in profile.text
    assert "2027-12-31" in profile.text

    added = post_form(fan, "/products/mi-band-9", "/cart/items", {"sku": "BAND9", "quantity": "1"})
    assert added.status_code == 303
    checkout = fan.get("/checkout")
    assert 'data-testid="points"' in checkout.text
    fields = {"name": "张三", "phone": "13800138000", "line1": "建国路 1 号", "city": "北京", "postcode": "100000",
              "payment_method": "gateway", "points": "1500", "key": "points-page-1"}
    placed = post_form(fan, "/checkout", "/checkout", fields)
    assert placed.status_code == 303 and placed.headers["location"].startswith("/sandbox-gateway/pay/")
    assert shown(fan.get("/me").text, "points") == "2999"
