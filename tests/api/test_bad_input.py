"""Bad input on every /api/v1 route gets the right 4xx problem+json, never a 500, and writes nothing.

Each case is one request in the table below: the status, the stable ``code``, the problem+json media
type and body, and a snapshot of every table taken before and after (row counts and the rows
themselves) are asserted for all of them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from fanbase.accounts import service as accounts
from fanbase.app import create_app
from fanbase.clock import FixedClock
from fanbase.config import Settings
from fanbase.context import Context, build_context
from fanbase.db import Database
from fanbase.payments.gateway import sign
from tests.helpers import (
    ADDRESS,
    auth,
    customer_token,
    place_order,
    seed_catalogue,
    staff_token,
    table_counts,
    table_rows,
)

LONG = "x" * 10_000
ABSENT: Any = object()  # no JSON body at all
JSON = {"Content-Type": "application/json"}
WEBHOOK = "/api/v1/payments/webhooks/sandbox"
PUBLIC_ROUTES = {
    ("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/products"), ("GET", "/api/v1/products/{slug}"), ("GET", "/api/v1/flash-sales/{sale_id}"),
    ("GET", "/api/v1/flash-sales/{sale_id}/events"),
    ("POST", "/api/v1/payments/webhooks/sandbox"),
    ("GET", "/api/v1/sandbox-gateway/payments/{payment_id}"),
    ("POST", "/api/v1/sandbox-gateway/payments/{payment_id}/approve"),
    ("POST", "/api/v1/sandbox-gateway/payments/{payment_id}/decline"),
    ("GET", "/api/v1/fund/yields"),
    ("GET", "/api/v1/boards"), ("GET", "/api/v1/boards/{slug}/threads"), ("GET", "/api/v1/threads/{thread_id}"),
    ("GET", "/api/v1/products/{slug}/reviews"),
    ("GET", "/api/v1/ideas"), ("GET", "/api/v1/ideas/{idea_id}"), ("GET", "/api/v1/ideas/{idea_id}/comments"),
    ("GET", "/api/v1/releases"), ("GET", "/api/v1/releases/{release_id}"), ("GET", "/api/v1/digests/latest"),
    ("GET", "/api/v1/festivals/current"),
}
REGISTER = {"email": "new@example.com", "password": "password-1", "name": "粉丝"}
VARIANT = {"sku": "TVS-65", "name": "65 英寸", "price_fen": 399900, "cost_fen": 300000}
PRODUCT = {"slug": "mi-tv-s", "name": "小米电视 S", "brand": "xiaomi", "category": "smart-home",
           "description": "电视", "variants": [VARIANT]}
STOCK = {"location": "main", "on_hand": 5}
CHECKOUT = {"payment_method": "gateway", "shipping_address": ADDRESS}
REVIEW = {"order_id": 1, "sku": "XM15-256", "rating": 5, "text": "好"}
IDEA = {"title": "更长续航", "body": "", "product_slug": "xiaomi-15"}
RELEASE = {"product_slug": "xiaomi-15", "version": "1.1", "released_on": "2026-11-25", "notes": "", "idea_ids": []}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def product(**changes: Any) -> dict[str, Any]:
    return PRODUCT | changes


def variant(**changes: Any) -> dict[str, Any]:
    return PRODUCT | {"variants": [VARIANT | changes]}


def address(**changes: Any) -> dict[str, Any]:
    return CHECKOUT | {"shipping_address": ADDRESS | changes}


@dataclass
class World:
    """A shop with 5 of each SKU; ``fan`` has an unpaid order and 6 x BAND9 in the cart (more than there
    is), ``other`` has an order of their own, ``admin`` is staff, taken@example.com is registered."""

    client: TestClient
    ctx: Context
    clock: FixedClock
    fan: str
    fan_id: int
    other: str
    admin: str
    own_order: int
    other_order: int


@pytest.fixture(scope="module")
def world(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Built once for the module: every case asserts that it changed nothing, so they can share it."""
    clock = FixedClock()
    settings = Settings(data_dir=tmp_path_factory.mktemp("bad-input"), sandbox=True,
                        secret_key="test-secret-key", run_jobs_in_process=False)
    ctx = build_context(settings, db=module_db, clock=clock)
    seed_catalogue(module_db, clock, stock=5)
    fan_id, fan = customer_token(module_db, ctx.secret_key, clock)
    _, other = customer_token(module_db, ctx.secret_key, clock)
    _, admin = staff_token(module_db, ctx.secret_key, clock)
    with TestClient(create_app(ctx=ctx, run_scheduler=False), raise_server_exceptions=False) as client:
        own = place_order(client, fan, sku="XM15-256")
        theirs = place_order(client, other, sku="XM15-512")
        reply = client.put("/api/v1/cart/items/BAND9", json={"quantity": 6}, headers=auth(fan))
        assert reply.status_code == 200, reply.text
        reply = client.post("/api/v1/auth/register", json=REGISTER | {"email": "taken@example.com"})
        assert reply.status_code == 201, reply.text
        yield World(client=client, ctx=ctx, clock=clock, fan=fan, fan_id=fan_id, other=other, admin=admin,
                    own_order=own["id"], other_order=theirs["id"])


@pytest.fixture
def db(module_db: Database) -> Database:
    """The autouse ledger check of conftest.py runs on the shared database."""
    return module_db


@dataclass(frozen=True)
class Bad:
    """One refused request. ``path`` may name ``{own_order}`` / ``{other_order}``; ``who`` is the
    caller (``fan``, ``other``, ``admin`` or None for no token)."""

    method: str
    path: str
    status: int
    code: str
    json: Any = ABSENT
    content: bytes | None = None
    who: str | None = "fan"
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def case(name: str, method: str, path: str, status: int, code: str, **kwargs: Any) -> Any:
    return pytest.param(Bad(method, "/api/v1" + path, status, code, **kwargs), id=name)


def invalid(name: str, method: str, path: str, **kwargs: Any) -> Any:
    return case(name, method, path, 422, "validation_error", **kwargs)


def invalid_as_staff(name: str, method: str, path: str, **kwargs: Any) -> Any:
    return invalid(name, method, path, who="admin", **kwargs)


CASES = [
    # --- accounts ---------------------------------------------------------------------------------
    invalid("register-malformed-json", "POST", "/auth/register", content=b'{"email": ', headers=JSON),
    invalid("register-not-utf8", "POST", "/auth/register", content=b'{"email": "\xff\xfe"}', headers=JSON),
    invalid("register-array-body", "POST", "/auth/register", json=[]),
    invalid("register-no-body", "POST", "/auth/register"),
    invalid("register-wrong-types", "POST", "/auth/register",
            json={"email": 1, "password": 12345678, "name": True}),
    invalid("register-missing-name", "POST", "/auth/register",
            json={"email": "new@example.com", "password": "p" * 8}),
    invalid("register-not-an-email", "POST", "/auth/register", json=REGISTER | {"email": "not-an-email"}),
    invalid("register-short-password", "POST", "/auth/register", json=REGISTER | {"password": "short"}),
    invalid("register-long-name", "POST", "/auth/register", json=REGISTER | {"name": LONG}),
    invalid("register-long-password", "POST", "/auth/register", json=REGISTER | {"password": LONG}),
    invalid("register-long-email", "POST", "/auth/register",
            json=REGISTER | {"email": LONG + "@example.com"}),
    invalid("register-nul-in-name", "POST", "/auth/register", json=REGISTER | {"name": "a\x00b"}),
    invalid("register-text-plain", "POST", "/auth/register", content=orjson.dumps(REGISTER),
            headers={"Content-Type": "text/plain"}),
    case("register-email-taken", "POST", "/auth/register", 409, "conflict",
         json=REGISTER | {"email": "Taken@Example.com"}),
    invalid("login-malformed-json", "POST", "/auth/login", content=b"{email=x}", headers=JSON),
    invalid("login-wrong-types", "POST", "/auth/login", json={"email": ["a@example.com"], "password": None}),
    invalid("login-missing-password", "POST", "/auth/login", json={"email": "taken@example.com"}),
    invalid("login-long-email", "POST", "/auth/login", json={"email": LONG, "password": "password-1"}),
    invalid("login-long-password", "POST", "/auth/login",
            json={"email": "taken@example.com", "password": LONG}),
    case("login-wrong-password", "POST", "/auth/login", 401, "unauthorized",
         json={"email": "taken@example.com", "password": "password-2"}),
    case("login-unknown-email", "POST", "/auth/login", 401, "unauthorized",
         json={"email": "nobody@example.com", "password": "password-1"}),
    # --- catalogue --------------------------------------------------------------------------------
    invalid("products-limit-zero", "GET", "/products", params={"limit": 0}),
    invalid("products-limit-negative", "GET", "/products", params={"limit": -1}),
    invalid("products-limit-absurd", "GET", "/products", params={"limit": 10**12}),
    invalid("products-limit-not-a-number", "GET", "/products", params={"limit": "ten"}),
    invalid("products-cursor-garbage", "GET", "/products", params={"cursor": "!!not-a-cursor!!"}),
    invalid("products-cursor-wrong-kind", "GET", "/products", params={"cursor": _b64(b"page:2")}),
    invalid("products-cursor-negative", "GET", "/products", params={"cursor": _b64(b"id:-5")}),
    invalid("products-cursor-absurd", "GET", "/products", params={"cursor": _b64(b"id:" + b"9" * 30)}),
    invalid("products-cursor-long", "GET", "/products", params={"cursor": LONG}),
    invalid("products-long-query", "GET", "/products", params={"q": LONG}),
    invalid("products-nul-in-query", "GET", "/products", params={"q": "小米\x00"}),
    invalid("products-long-brand", "GET", "/products", params={"brand": LONG}),
    case("product-unknown-slug", "GET", "/products/no-such-phone", 404, "not_found"),
    invalid("product-long-slug", "GET", "/products/" + LONG),
    invalid("product-nul-in-slug", "GET", "/products/xiaomi-15%00"),
    invalid_as_staff("create-product-unknown-brand", "POST", "/admin/products", json=product(brand="apple")),
    invalid_as_staff("create-product-unknown-category", "POST", "/admin/products",
                     json=product(category="cars")),
    invalid_as_staff("create-product-bad-slug", "POST", "/admin/products", json=product(slug="Mi TV!")),
    invalid_as_staff("create-product-long-name", "POST", "/admin/products", json=product(name=LONG)),
    invalid_as_staff("create-product-long-description", "POST", "/admin/products",
                     json=product(description=LONG + "x")),
    invalid_as_staff("create-product-no-variants", "POST", "/admin/products", json=product(variants=[])),
    invalid_as_staff("create-product-variants-not-a-list", "POST", "/admin/products",
                     json=product(variants="TVS-65")),
    invalid_as_staff("create-product-duplicate-skus", "POST", "/admin/products",
                     json=product(variants=[VARIANT, VARIANT])),
    invalid_as_staff("create-product-bad-sku", "POST", "/admin/products", json=variant(sku="TV S/65")),
    invalid_as_staff("create-product-zero-price", "POST", "/admin/products", json=variant(price_fen=0)),
    invalid_as_staff("create-product-negative-price", "POST", "/admin/products", json=variant(price_fen=-1)),
    invalid_as_staff("create-product-absurd-price", "POST", "/admin/products",
                     json=variant(price_fen=10**12)),
    invalid_as_staff("create-product-price-as-float", "POST", "/admin/products",
                     json=variant(price_fen=3999.5)),
    invalid_as_staff("create-product-negative-cost", "POST", "/admin/products", json=variant(cost_fen=-1)),
    invalid_as_staff("create-product-malformed-json", "POST", "/admin/products", content=b"[{", headers=JSON),
    case("create-product-slug-taken", "POST", "/admin/products", 409, "conflict", who="admin",
         json=product(slug="xiaomi-15")),
    case("create-product-sku-taken", "POST", "/admin/products", 409, "conflict", who="admin",
         json=variant(sku="BAND9")),
    case("create-product-as-customer", "POST", "/admin/products", 403, "forbidden", json=PRODUCT),
    case("create-product-anonymous", "POST", "/admin/products", 401, "unauthorized", who=None, json=PRODUCT),
    case("set-stock-unknown-sku", "PUT", "/admin/stock/NO-SUCH-SKU", 404, "not_found", who="admin",
         json=STOCK),
    invalid_as_staff("set-stock-unknown-location", "PUT", "/admin/stock/BAND9",
                     json=STOCK | {"location": "mars"}),
    invalid_as_staff("set-stock-negative", "PUT", "/admin/stock/BAND9", json=STOCK | {"on_hand": -1}),
    invalid_as_staff("set-stock-absurd", "PUT", "/admin/stock/BAND9", json=STOCK | {"on_hand": 10**12}),
    invalid_as_staff("set-stock-as-string", "PUT", "/admin/stock/BAND9", json=STOCK | {"on_hand": "5"}),
    invalid_as_staff("set-stock-long-location", "PUT", "/admin/stock/BAND9", json=STOCK | {"location": LONG}),
    invalid_as_staff("set-stock-long-sku", "PUT", "/admin/stock/" + LONG, json=STOCK),
    case("set-stock-below-allocated", "PUT", "/admin/stock/XM15-256", 409, "conflict", who="admin",
         json=STOCK | {"on_hand": 0}),
    case("set-stock-as-customer", "PUT", "/admin/stock/BAND9", 403, "forbidden", json=STOCK),
    # --- cart, checkout, orders -------------------------------------------------------------------
    invalid("cart-quantity-negative", "PUT", "/cart/items/XM15-512", json={"quantity": -1}),
    invalid("cart-quantity-over-limit", "PUT", "/cart/items/XM15-512", json={"quantity": 100}),
    invalid("cart-quantity-absurd", "PUT", "/cart/items/XM15-512", json={"quantity": 10**12}),
    invalid("cart-quantity-beyond-int64", "PUT", "/cart/items/XM15-512", json={"quantity": 2**70}),
    invalid("cart-quantity-float", "PUT", "/cart/items/XM15-512", json={"quantity": 1.5}),
    invalid("cart-quantity-whole-float", "PUT", "/cart/items/XM15-512", json={"quantity": 2.0}),
    invalid("cart-quantity-string", "PUT", "/cart/items/XM15-512", json={"quantity": "2"}),
    invalid("cart-quantity-bool", "PUT", "/cart/items/XM15-512", json={"quantity": True}),
    invalid("cart-quantity-null", "PUT", "/cart/items/XM15-512", json={"quantity": None}),
    invalid("cart-quantity-missing", "PUT", "/cart/items/XM15-512", json={}),
    invalid("cart-malformed-json", "PUT", "/cart/items/XM15-512", content=b'{"quantity": 1', headers=JSON),
    invalid("cart-long-sku", "PUT", "/cart/items/" + LONG, json={"quantity": 1}),
    invalid("cart-nul-in-sku", "PUT", "/cart/items/BAND%009", json={"quantity": 1}),
    case("cart-unknown-sku", "PUT", "/cart/items/NO-SUCH-SKU", 404, "not_found", json={"quantity": 1}),
    case("cart-remove-unknown-sku", "PUT", "/cart/items/NO-SUCH-SKU", 404, "not_found", json={"quantity": 0}),
    case("cart-anonymous", "PUT", "/cart/items/XM15-512", 401, "unauthorized", who=None,
         json={"quantity": 1}),
    invalid("checkout-empty-cart", "POST", "/checkout", who="other", json=CHECKOUT),
    case("checkout-out-of-stock", "POST", "/checkout", 409, "out_of_stock", json=CHECKOUT),
    invalid("checkout-unknown-payment-method", "POST", "/checkout",
            json=CHECKOUT | {"payment_method": "cash"}),
    invalid("checkout-no-address", "POST", "/checkout", json={"payment_method": "gateway"}),
    invalid("checkout-address-not-an-object", "POST", "/checkout",
            json=CHECKOUT | {"shipping_address": "北京"}),
    invalid("checkout-long-address", "POST", "/checkout", json=address(line1=LONG)),
    invalid("checkout-bad-phone", "POST", "/checkout", json=address(phone="call me")),
    invalid("checkout-empty-name", "POST", "/checkout", json=address(name="")),
    invalid("checkout-malformed-json", "POST", "/checkout",
            content=b'{"payment_method": gateway}', headers=JSON),
    invalid("checkout-idempotency-key-too-long", "POST", "/checkout", json=CHECKOUT,
            headers={"Idempotency-Key": "k" * 201}),
    invalid("checkout-idempotency-key-empty", "POST", "/checkout", json=CHECKOUT,
            headers={"Idempotency-Key": ""}),
    invalid("checkout-idempotency-key-control-chars", "POST", "/checkout", json=CHECKOUT,
            headers={"Idempotency-Key": "key\tone"}),
    case("checkout-anonymous", "POST", "/checkout", 401, "unauthorized", who=None, json=CHECKOUT),
    invalid("orders-cursor-garbage", "GET", "/orders", params={"cursor": "%%%"}),
    invalid("orders-limit-zero", "GET", "/orders", params={"limit": 0}),
    invalid("orders-limit-too-big", "GET", "/orders", params={"limit": 101}),
    case("order-of-another-customer", "GET", "/orders/{other_order}", 404, "not_found"),
    case("order-unknown", "GET", "/orders/999999", 404, "not_found"),
    invalid("order-id-zero", "GET", "/orders/0"),
    invalid("order-id-negative", "GET", "/orders/-1"),
    invalid("order-id-absurd", "GET", "/orders/" + "9" * 30),
    invalid("order-id-not-a-number", "GET", "/orders/abc"),
    case("pay-order-of-another-customer", "POST", "/orders/{other_order}/pay", 404, "not_found",
         json={"payment_method": "gateway"}),
    invalid("pay-unknown-method", "POST", "/orders/{own_order}/pay", json={"payment_method": "cash"}),
    invalid("pay-method-wrong-type", "POST", "/orders/{own_order}/pay", json={"payment_method": 1}),
    invalid("pay-no-body", "POST", "/orders/{own_order}/pay"),
    invalid("pay-idempotency-key-too-long", "POST", "/orders/{own_order}/pay",
            json={"payment_method": "gateway"}, headers={"Idempotency-Key": "k" * 201}),
    case("cancel-order-of-another-customer", "POST", "/orders/{other_order}/cancel", 404, "not_found"),
    invalid("cancel-order-id-zero", "POST", "/orders/0/cancel"),
    case("ship-unpaid-order", "POST", "/admin/orders/{own_order}/ship", 409, "conflict", who="admin"),
    case("deliver-unshipped-order", "POST", "/admin/orders/{own_order}/deliver", 409, "conflict",
         who="admin"),
    case("refund-unpaid-order", "POST", "/admin/orders/{own_order}/refund", 409, "conflict", who="admin"),
    case("ship-unknown-order", "POST", "/admin/orders/999999/ship", 404, "not_found", who="admin"),
    invalid_as_staff("ship-order-id-negative", "POST", "/admin/orders/-5/ship"),
    case("ship-as-customer", "POST", "/admin/orders/{own_order}/ship", 403, "forbidden"),
    case("refund-as-customer", "POST", "/admin/orders/{own_order}/refund", 403, "forbidden"),
    invalid_as_staff("admin-orders-long-status", "GET", "/admin/orders", params={"status": LONG}),
    invalid_as_staff("admin-orders-cursor-garbage", "GET", "/admin/orders", params={"cursor": "@@"}),
    case("admin-orders-as-customer", "GET", "/admin/orders", 403, "forbidden"),
    # --- payment gateway (sandbox) ----------------------------------------------------------------
    case("gateway-payment-unknown", "GET", "/sandbox-gateway/payments/pay_nope", 404, "not_found", who=None),
    invalid("gateway-payment-bad-id", "GET", "/sandbox-gateway/payments/pay-bad!", who=None),
    invalid("gateway-payment-long-id", "GET", "/sandbox-gateway/payments/" + LONG, who=None),
    case("gateway-approve-unknown", "POST", "/sandbox-gateway/payments/pay_nope/approve", 404, "not_found",
         who=None),
    case("gateway-decline-unknown", "POST", "/sandbox-gateway/payments/pay_nope/decline", 404, "not_found",
         who=None),
    invalid("gateway-approve-bad-id", "POST", "/sandbox-gateway/payments/pay%20x/approve", who=None),
    case("webhook-unsigned", "POST", "/payments/webhooks/sandbox", 400, "bad_request", who=None,
         content=b'{"id": "evt_1", "type": "payment.succeeded", "payment_id": "pay_x", "amount_fen": 1}'),
    case("webhook-forged-signature", "POST", "/payments/webhooks/sandbox", 400, "bad_request", who=None,
         content=b'{"id": "evt_1"}', headers={"X-Sandbox-Signature": "sha256=" + "0" * 64}),
    case("webhook-malformed-json", "POST", "/payments/webhooks/sandbox", 400, "bad_request", who=None,
         content=b"{", headers={"X-Sandbox-Signature": "sha256=deadbeef"}),
    # --- sandbox clock ----------------------------------------------------------------------------
    invalid_as_staff("advance-zero", "POST", "/admin/clock/advance", json={"seconds": 0}),
    invalid_as_staff("advance-negative", "POST", "/admin/clock/advance", json={"seconds": -60}),
    invalid_as_staff("advance-absurd", "POST", "/admin/clock/advance", json={"seconds": 10**12}),
    invalid_as_staff("advance-string", "POST", "/admin/clock/advance", json={"seconds": "60"}),
    invalid_as_staff("advance-float", "POST", "/admin/clock/advance", json={"seconds": 1.5}),
    invalid_as_staff("advance-missing", "POST", "/admin/clock/advance", json={}),
    invalid_as_staff("advance-malformed-json", "POST", "/admin/clock/advance", content=b"seconds=60",
                     headers=JSON),
    case("advance-as-customer", "POST", "/admin/clock/advance", 403, "forbidden", json={"seconds": 60}),
    case("advance-anonymous", "POST", "/admin/clock/advance", 401, "unauthorized", who=None,
         json={"seconds": 60}),
    case("clock-as-customer", "GET", "/admin/clock", 403, "forbidden"),
    # --- wallet and fund ------------------------------------------------------------------------------
    invalid("top-up-zero", "POST", "/wallet/top-ups", json={"amount_fen": 0}),
    invalid("top-up-negative", "POST", "/wallet/top-ups", json={"amount_fen": -100}),
    invalid("top-up-string", "POST", "/wallet/top-ups", json={"amount_fen": "100"}),
    invalid("top-up-float", "POST", "/wallet/top-ups", json={"amount_fen": 1.5}),
    invalid("top-up-bool", "POST", "/wallet/top-ups", json={"amount_fen": True}),
    invalid("top-up-missing", "POST", "/wallet/top-ups", json={}),
    invalid("top-up-over-the-limit", "POST", "/wallet/top-ups", json={"amount_fen": 5_000_001}),
    invalid("withdraw-zero", "POST", "/wallet/withdrawals", json={"amount_fen": 0}),
    case("withdraw-without-money", "POST", "/wallet/withdrawals", 409, "insufficient_funds",
         json={"amount_fen": 100}),
    invalid("statement-bad-cursor", "GET", "/wallet/transactions", params={"cursor": "!!"}),
    invalid("statement-zero-limit", "GET", "/wallet/transactions", params={"limit": 0}),
    case("subscribe-below-tier-3", "POST", "/fund/subscriptions", 403, "forbidden", json={"amount_fen": 100}),
    invalid("subscribe-zero", "POST", "/fund/subscriptions", json={"amount_fen": 0}),
    invalid("subscribe-string", "POST", "/fund/subscriptions", json={"amount_fen": "1"}),
    invalid("redeem-unknown-mode", "POST", "/fund/redemptions", json={"amount_fen": 100, "mode": "fast"}),
    invalid("redeem-missing-mode", "POST", "/fund/redemptions", json={"amount_fen": 100}),
    invalid("redeem-too-much", "POST", "/fund/redemptions", json={"amount_fen": 10**11, "mode": "instant"}),
    case("redeem-instant-without-units", "POST", "/fund/redemptions", 409, "insufficient_funds",
         json={"amount_fen": 100, "mode": "instant"}),
    case("redeem-standard-without-units", "POST", "/fund/redemptions", 409, "insufficient_funds",
         json={"amount_fen": 100, "mode": "standard"}),
    invalid("yields-zero-days", "GET", "/fund/yields", params={"days": 0}),
    invalid_as_staff("income-bad-date", "POST", "/admin/fund/daily-income",
                     json={"date": "2026-13-01", "income_per_10k": "0.6"}),
    invalid_as_staff("income-date-format", "POST", "/admin/fund/daily-income",
                     json={"date": "2026-11-2", "income_per_10k": "0.6"}),
    invalid_as_staff("income-future-date", "POST", "/admin/fund/daily-income",
                     json={"date": "2030-01-01", "income_per_10k": "0.6"}),
    *(invalid_as_staff(f"income-rate-{name}", "POST", "/admin/fund/daily-income",
                       json={"date": "2026-11-20", "income_per_10k": rate})
      for name, rate in (("text", "abc"), ("five-decimals", "0.12345"), ("negative", "-1"), ("nan", "NaN"),
                         ("infinite", "Infinity"), ("huge", "100"), ("exponent", "1e-2"), ("empty", ""))),
    invalid_as_staff("income-rate-number", "POST", "/admin/fund/daily-income",
                     json={"date": "2026-11-20", "income_per_10k": 0.6}),
    invalid_as_staff("tier-four", "PUT", "/admin/customers/1/wallet-tier", json={"tier": 4}),
    invalid_as_staff("tier-string", "PUT", "/admin/customers/1/wallet-tier", json={"tier": "3"}),
    case("tier-unknown-customer", "PUT", "/admin/customers/999999/wallet-tier", 404, "not_found",
         who="admin", json={"tier": 2}),
    invalid_as_staff("tier-bad-id", "PUT", "/admin/customers/0/wallet-tier", json={"tier": 2}),
    invalid_as_staff("calendar-bad-day", "PUT", "/admin/fund/calendar/2026-02-30", json={"trading": False}),
    invalid_as_staff("calendar-not-a-day", "PUT", "/admin/fund/calendar/tomorrow", json={"trading": False}),
    invalid_as_staff("calendar-string-flag", "PUT", "/admin/fund/calendar/2026-12-01", json={"trading": "no"}),
    invalid_as_staff("calendar-long-note", "PUT", "/admin/fund/calendar/2026-12-01",
                     json={"trading": False, "note": "x" * 101}),
    # --- share links and commissions ---------------------------------------------------------------
    invalid("share-missing-slug", "POST", "/share-links", json={}),
    invalid("share-slug-number", "POST", "/share-links", json={"product_slug": 7}),
    invalid("share-slug-too-long", "POST", "/share-links", json={"product_slug": "x" * 101}),
    invalid("share-extra-field-type", "POST", "/share-links", json={"product_slug": ["xiaomi-15"]}),
    case("share-unknown-product", "POST", "/share-links", 404, "not_found", json={"product_slug": "nope"}),
    case("click-unknown-code", "POST", "/share-links/NOSUCHCODE/clicks", 404, "not_found"),
    case("click-odd-code", "POST", "/share-links/AB-CD/clicks", 404, "not_found"),
    invalid("click-code-too-long", "POST", "/share-links/" + "A" * 33 + "/clicks"),
    invalid("commissions-bad-cursor", "GET", "/me/commissions", params={"cursor": "!!"}),
    invalid("commissions-zero-limit", "GET", "/me/commissions", params={"limit": 0}),
    *(invalid_as_staff(f"commission-rate-{name}", "PUT", "/admin/commission-rates/phones", json={"rate": rate})
      for name, rate in (("text", "abc"), ("five-decimals", "0.00001"), ("negative", "-0.01"), ("nan", "NaN"),
                         ("infinite", "Infinity"), ("too-high", "0.51"), ("empty", ""), ("long", "0." + "0" * 20))),
    invalid_as_staff("commission-rate-number", "PUT", "/admin/commission-rates/phones", json={"rate": 0.05}),
    invalid_as_staff("commission-rate-missing", "PUT", "/admin/commission-rates/phones", json={}),
    case("commission-rate-unknown-category", "PUT", "/admin/commission-rates/nope", 404, "not_found", who="admin",
         json={"rate": "0.05"}),
    case("commission-rate-by-customer", "PUT", "/admin/commission-rates/phones", 403, "forbidden",
         json={"rate": "0.05"}),
    # --- festivals --------------------------------------------------------------------------------
    invalid_as_staff("festival-ends-before-start", "POST", "/admin/festivals",
                     json={"name": "米粉节", "starts_at": "2027-01-02T00:00:00+08:00",
                           "ends_at": "2027-01-01T00:00:00+08:00", "discounts": []}),
    invalid_as_staff("festival-percent-too-high", "POST", "/admin/festivals",
                     json={"name": "米粉节", "starts_at": "2027-01-01T00:00:00+08:00",
                           "ends_at": "2027-01-02T00:00:00+08:00",
                           "discounts": [{"category": "phones", "percent_off": 91}]}),
    invalid_as_staff("festival-two-targets", "POST", "/admin/festivals",
                     json={"name": "米粉节", "starts_at": "2027-01-01T00:00:00+08:00",
                           "ends_at": "2027-01-02T00:00:00+08:00",
                           "discounts": [{"category": "phones", "product_slug": "xiaomi-15", "percent_off": 5}]}),
    invalid_as_staff("festival-unknown-product", "POST", "/admin/festivals",
                     json={"name": "米粉节", "starts_at": "2027-01-01T00:00:00+08:00",
                           "ends_at": "2027-01-02T00:00:00+08:00",
                           "discounts": [{"product_slug": "nope", "percent_off": 5}]}),
    invalid_as_staff("festival-dashboard-id-zero", "GET", "/admin/festivals/0/dashboard"),
    case("festival-by-customer", "POST", "/admin/festivals", 403, "forbidden",
         json={"name": "米粉节", "starts_at": "2027-01-01T00:00:00+08:00", "ends_at": "2027-01-02T00:00:00+08:00"}),
    # --- group buys -------------------------------------------------------------------------------
    invalid_as_staff("group-offer-size-one", "POST", "/admin/group-offers",
                     json={"sku": "BAND9", "group_price_fen": 19900, "group_size": 1}),
    invalid_as_staff("group-offer-size-string", "POST", "/admin/group-offers",
                     json={"sku": "BAND9", "group_price_fen": 19900, "group_size": "3"}),
    invalid_as_staff("group-offer-not-below-price", "POST", "/admin/group-offers",
                     json={"sku": "BAND9", "group_price_fen": 24900, "group_size": 3}),
    invalid_as_staff("group-offer-short-limit", "POST", "/admin/group-offers",
                     json={"sku": "BAND9", "group_price_fen": 19900, "group_size": 3, "time_limit_seconds": 1}),
    case("group-offer-unknown-sku", "POST", "/admin/group-offers", 404, "not_found", who="admin",
         json={"sku": "NOPE", "group_price_fen": 100, "group_size": 3}),
    case("group-offer-by-customer", "POST", "/admin/group-offers", 403, "forbidden",
         json={"sku": "BAND9", "group_price_fen": 19900, "group_size": 3}),
    invalid("group-start-no-offer", "POST", "/group-buys", json=CHECKOUT),
    invalid("group-start-offer-string", "POST", "/group-buys", json=CHECKOUT | {"offer_id": "1"}),
    invalid("group-start-bad-method", "POST", "/group-buys",
            json=CHECKOUT | {"offer_id": 1, "payment_method": "cash"}),
    case("group-start-unknown-offer", "POST", "/group-buys", 404, "not_found", json=CHECKOUT | {"offer_id": 999}),
    case("group-join-unknown-group", "POST", "/group-buys/999/join", 404, "not_found", json=CHECKOUT),
    invalid("group-join-bad-address", "POST", "/group-buys/1/join", json=address(phone="abc")),
    invalid("group-join-bad-id", "POST", "/group-buys/0/join", json=CHECKOUT),
    invalid("group-get-bad-id", "GET", "/group-buys/abc"),
    # --- reviews and membership points -----------------------------------------------------------
    *(invalid(f"review-{name}", "POST", "/products/xiaomi-15/reviews", json=REVIEW | change)
      for name, change in (("rating-zero", {"rating": 0}), ("rating-six", {"rating": 6}),
                           ("rating-string", {"rating": "5"}), ("rating-float", {"rating": 4.5}),
                           ("text-empty", {"text": ""}), ("text-too-long", {"text": "好" * 2001}),
                           ("order-zero", {"order_id": 0}), ("order-string", {"order_id": "1"}),
                           ("sku-empty", {"sku": ""}), ("text-nul", {"text": "a\x00b"}))),
    invalid("review-missing-text", "POST", "/products/xiaomi-15/reviews",
            json={k: v for k, v in REVIEW.items() if k != "text"}),
    case("review-not-received", "POST", "/products/xiaomi-15/reviews", 403, "forbidden", json=REVIEW),
    case("review-unknown-product", "POST", "/products/nope/reviews", 404, "not_found", json=REVIEW),
    case("review-without-token", "POST", "/products/xiaomi-15/reviews", 401, "unauthorized", json=REVIEW, who=None),
    invalid("reviews-bad-cursor", "GET", "/products/xiaomi-15/reviews", params={"cursor": "!!"}, who=None),
    invalid("reviews-zero-limit", "GET", "/products/xiaomi-15/reviews", params={"limit": 0}, who=None),
    case("reviews-unknown-product", "GET", "/products/nope/reviews", 404, "not_found", who=None),
    case("helpful-unknown-review", "POST", "/reviews/999/helpful", 404, "not_found"),
    invalid("helpful-bad-id", "POST", "/reviews/0/helpful"),
    invalid("checkout-points-negative", "POST", "/checkout", json=CHECKOUT | {"points": -1}),
    invalid("checkout-points-string", "POST", "/checkout", json=CHECKOUT | {"points": "100"}),
    invalid("checkout-points-float", "POST", "/checkout", json=CHECKOUT | {"points": 1.5}),
    case("checkout-points-not-held", "POST", "/checkout", 409, "insufficient_funds", json=CHECKOUT | {"points": 100}),
    # --- forum ------------------------------------------------------------------------------------
    case("forum-threads-unknown-board", "GET", "/boards/nope/threads", 404, "not_found", who=None),
    invalid("forum-threads-bad-cursor", "GET", "/boards/nope/threads", params={"cursor": "!!"}, who=None),
    invalid("forum-threads-long-slug", "GET", "/boards/" + "x" * 65 + "/threads", who=None),
    case("forum-thread-unknown", "GET", "/threads/999999", 404, "not_found", who=None),
    invalid("forum-thread-bad-id", "GET", "/threads/0", who=None),
    invalid("forum-thread-bad-cursor", "GET", "/threads/1", params={"cursor": "!!"}, who=None),
    case("forum-start-unknown-board", "POST", "/boards/nope/threads", 404, "not_found",
         json={"title": "t", "body": "b"}),
    invalid("forum-start-blank-title", "POST", "/boards/nope/threads", json={"title": "  ", "body": "b"}),
    invalid("forum-start-long-title", "POST", "/boards/nope/threads", json={"title": "t" * 151, "body": "b"}),
    invalid("forum-start-body-number", "POST", "/boards/nope/threads", json={"title": "t", "body": 1}),
    invalid("forum-start-no-body", "POST", "/boards/nope/threads", json={"title": "t"}),
    invalid("forum-start-nul", "POST", "/boards/nope/threads", json={"title": "t", "body": "a\x00b"}),
    case("forum-reply-unknown-thread", "POST", "/threads/999999/posts", 404, "not_found", json={"body": "b"}),
    invalid("forum-reply-too-long", "POST", "/threads/1/posts", json={"body": "x" * 10_001}),
    case("forum-read-unknown-thread", "POST", "/threads/999999/reads", 404, "not_found"),
    case("forum-like-unknown-post", "POST", "/posts/999999/likes", 404, "not_found"),
    case("forum-unlike-not-liked", "DELETE", "/posts/999999/likes", 404, "not_found"),
    invalid("forum-report-no-reason", "POST", "/posts/1/reports", json={}),
    invalid("forum-report-long-reason", "POST", "/posts/1/reports", json={"reason": "x" * 501}),
    case("forum-mention-unknown", "POST", "/me/mentions/999999/read", 404, "not_found"),
    invalid_as_staff("forum-board-bad-slug", "POST", "/admin/forum/boards", json={"slug": "Not OK", "name": "x"}),
    invalid_as_staff("forum-board-no-name", "POST", "/admin/forum/boards", json={"slug": "ok"}),
    invalid_as_staff("forum-board-reserved", "POST", "/admin/forum/boards", json={"slug": "threads", "name": "x"}),
    invalid_as_staff("forum-suspend-no-offset", "PUT", "/admin/forum/members/1/suspension",
                     json={"until": "2027-01-01T00:00:00"}),
    invalid_as_staff("forum-suspend-past", "PUT", "/admin/forum/members/1/suspension",
                     json={"until": "2020-01-01T00:00:00+08:00"}),
    invalid_as_staff("forum-suspend-not-a-date", "PUT", "/admin/forum/members/1/suspension", json={"until": 5}),
    case("forum-suspend-unknown", "PUT", "/admin/forum/members/999999/suspension", 404, "not_found", who="admin",
         json={"until": "2027-01-01T00:00:00+08:00"}),
    case("forum-lift-unknown", "DELETE", "/admin/forum/members/999999/suspension", 404, "not_found", who="admin"),
    case("forum-lock-unknown", "POST", "/admin/forum/threads/999999/lock", 404, "not_found", who="admin"),
    case("forum-hide-unknown", "POST", "/admin/forum/posts/999999/hide", 404, "not_found", who="admin"),
    case("forum-confirm-unknown", "POST", "/admin/forum/reports/999999/confirm", 404, "not_found", who="admin"),
    invalid_as_staff("forum-reports-bad-status", "GET", "/admin/forum/reports", params={"status": "all"}),
    case("forum-lock-by-customer", "POST", "/admin/forum/threads/1/lock", 403, "forbidden"),
    # --- ideas and releases ------------------------------------------------------------------------
    *(invalid(f"idea-{name}", "POST", "/ideas", json=IDEA | change)
      for name, change in (("title-short", {"title": "ab"}), ("title-blank", {"title": "     "}),
                           ("title-long", {"title": "x" * 121}), ("title-number", {"title": 123}),
                           ("title-nul", {"title": "abc\x00"}), ("body-long", {"body": "x" * 5001}),
                           ("unknown-product", {"product_slug": "nope"}), ("product-list", {"product_slug": []}))),
    invalid("idea-no-product", "POST", "/ideas", json={"title": "更长续航"}),
    case("idea-by-staff", "POST", "/ideas", 403, "forbidden", who="admin", json=IDEA),
    case("idea-unknown", "GET", "/ideas/999999", 404, "not_found", who=None),
    invalid("idea-bad-id", "GET", "/ideas/0", who=None),
    invalid("ideas-bad-status", "GET", "/ideas", params={"status": "done"}, who=None),
    invalid("ideas-bad-sort", "GET", "/ideas", params={"sort": "random"}, who=None),
    invalid("ideas-bad-cursor", "GET", "/ideas", params={"cursor": "!!"}, who=None),
    invalid("ideas-zero-limit", "GET", "/ideas", params={"limit": 0}, who=None),
    case("vote-unknown-idea", "POST", "/ideas/999999/votes", 404, "not_found"),
    invalid("vote-bad-id", "POST", "/ideas/abc/votes"),
    case("unvote-unknown-idea", "DELETE", "/ideas/999999/votes", 404, "not_found"),
    invalid("comment-empty", "POST", "/ideas/1/comments", json={"body": ""}),
    invalid("comment-long", "POST", "/ideas/1/comments", json={"body": "x" * 2001}),
    case("comment-unknown-idea", "POST", "/ideas/999999/comments", 404, "not_found", json={"body": "嗯"}),
    invalid_as_staff("idea-status-unknown", "PATCH", "/admin/ideas/1", json={"status": "done"}),
    invalid_as_staff("idea-status-missing", "PATCH", "/admin/ideas/1", json={}),
    invalid_as_staff("idea-duplicate-of-string", "PATCH", "/admin/ideas/1",
                     json={"status": "duplicate", "duplicate_of": "2"}),
    case("idea-status-unknown-idea", "PATCH", "/admin/ideas/999999", 404, "not_found", who="admin",
         json={"status": "planned"}),
    case("idea-status-by-customer", "PATCH", "/admin/ideas/1", 403, "forbidden", json={"status": "planned"}),
    *(invalid_as_staff(f"release-{name}", "POST", "/admin/releases", json=RELEASE | change)
      for name, change in (("bad-date", {"released_on": "2026-02-30"}), ("date-format", {"released_on": "26-1-1"}),
                           ("date-number", {"released_on": 20261125}), ("ancient", {"released_on": "1999-12-31"}),
                           ("blank-version", {"version": "  "}), ("long-version", {"version": "v" * 41}),
                           ("ids-string", {"idea_ids": "1,2"}), ("ids-zero", {"idea_ids": [0]}),
                           ("ids-twice", {"idea_ids": [1, 1]}), ("ids-too-many", {"idea_ids": list(range(1, 202))}),
                           ("unknown-idea", {"idea_ids": [999999]}), ("unknown-product", {"product_slug": "nope"}),
                           ("long-notes", {"notes": "x" * 10_001}))),
    case("release-by-customer", "POST", "/admin/releases", 403, "forbidden", json=RELEASE),
    case("release-unknown", "GET", "/releases/999999", 404, "not_found", who=None),
    invalid("releases-bad-cursor", "GET", "/releases", params={"cursor": "!!"}, who=None),
    case("notification-unknown", "POST", "/me/notifications/999999/read", 404, "not_found"),
    invalid("notifications-bad-cursor", "GET", "/me/notifications", params={"cursor": "!!"}),
    case("digest-none-yet", "GET", "/digests/latest", 404, "not_found", who=None),
    # --- anything ---------------------------------------------------------------------------------
    case("body-too-large", "PUT", "/cart/items/XM15-512", 413, "payload_too_large",
         content=b'{"quantity": 1, "pad": "' + b"x" * 1_100_000 + b'"}', headers=JSON),
    invalid("deeply-nested-json", "PUT", "/cart/items/XM15-512", content=b"[" * 100_000 + b"]" * 100_000,
            headers=JSON),
    case("unknown-route", "GET", "/no-such-thing", 404, "not_found"),
    case("wrong-method", "DELETE", "/checkout", 405, "method_not_allowed"),
]


def assert_problem(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text[:500]
    assert reply.headers["content-type"].split(";")[0] == "application/problem+json"
    body: dict[str, Any] = reply.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys(), body
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith("/" + code) and body["title"] and body["detail"], body
    return body


def assert_refused_without_writes(client: TestClient, db: Database, status: int, code: str, method: str,
                                  path: str, **kwargs: Any) -> dict[str, Any]:
    counts, rows = table_counts(db), table_rows(db)
    body = assert_problem(client.request(method, path, **kwargs), status, code)
    assert table_counts(db) == counts
    assert table_rows(db) == rows
    return body


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_refused_and_writes_nothing(world: World, db: Database, bad: Bad) -> None:
    tokens = {"fan": world.fan, "other": world.other, "admin": world.admin}
    headers = (auth(tokens[bad.who]) if bad.who else {}) | bad.headers
    kwargs: dict[str, Any] = {"headers": headers, "params": bad.params}
    if bad.json is not ABSENT:
        kwargs["json"] = bad.json
    if bad.content is not None:
        kwargs["content"] = bad.content
    path = bad.path.replace("{own_order}", str(world.own_order))
    path = path.replace("{other_order}", str(world.other_order))
    assert_refused_without_writes(world.client, db, bad.status, bad.code, bad.method, path, **kwargs)


def test_body_too_large_without_content_length_is_refused(world: World, db: Database) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"quantity": 1, "pad": "'
        for _ in range(120):
            yield b"x" * 10_000
        yield b'"}'

    path = "/api/v1/cart/items/XM15-512"
    assert_refused_without_writes(world.client, db, 413, "payload_too_large", "PUT", path, content=chunks(),
                                  headers=auth(world.fan) | JSON)


# --- tokens -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_tokens(world: World) -> dict[str, bytes | None]:
    """Authorization headers that must all get 401 (the revoked one is revoked here, once)."""
    ctx, now = world.ctx, world.clock.now()
    with ctx.db.read() as s:
        user = accounts.get_user(s, world.fan_id)
        forged = accounts.issue_token("not-the-secret", user, now, 3600)
        expired = accounts.issue_token(ctx.secret_key, user, now - timedelta(hours=2), 3600)
        revoked = accounts.issue_token(ctx.secret_key, user, now, 3600)
    assert world.client.post("/api/v1/auth/logout", headers=auth(revoked)).status_code == 204
    prefix, _claims, signature = world.fan.split(".")
    as_staff = _b64(orjson.dumps({"sub": world.fan_id, "k": "staff", "r": "admin", "jti": "0" * 32,
                                  "exp": 2**40}))
    return {
        "missing": None,
        "empty": b"",
        "basic-scheme": b"Basic ZmFuOnBhc3N3b3JkLTE=",
        "bearer-without-token": b"Bearer ",
        "not-a-token": b"Bearer hello",
        "wrong-prefix": b"Bearer fb0." + world.fan.split(".", 1)[1].encode(),
        "two-parts": f"Bearer {prefix}.{signature}".encode(),
        "claims-swapped-under-the-signature": f"Bearer {prefix}.{as_staff}.{signature}".encode(),
        "forged-signature": f"Bearer {forged}".encode(),
        "non-ascii": "Bearer fb1.é.ü".encode("latin-1"),
        "too-long": b"Bearer fb1." + b"a" * 2000 + b".b",
        "expired": f"Bearer {expired}".encode(),
        "revoked": f"Bearer {revoked}".encode(),
    }


TOKEN_CASES = ["missing", "empty", "basic-scheme", "bearer-without-token", "not-a-token", "wrong-prefix",
               "two-parts", "claims-swapped-under-the-signature", "forged-signature", "non-ascii", "too-long",
               "expired", "revoked"]
TOKEN_ROUTES = {"me": ("GET", "/api/v1/me", None),
                "cart": ("PUT", "/api/v1/cart/items/XM15-512", {"quantity": 1}),
                "admin-clock": ("POST", "/api/v1/admin/clock/advance", {"seconds": 60})}


@pytest.mark.parametrize("route", TOKEN_ROUTES)
@pytest.mark.parametrize("token", TOKEN_CASES)
def test_missing_malformed_forged_expired_or_revoked_token_is_unauthorized(
        world: World, db: Database, bad_tokens: dict[str, bytes | None], token: str, route: str) -> None:
    method, path, body = TOKEN_ROUTES[route]
    value = bad_tokens[token]
    headers = {} if value is None else {"Authorization": value}
    assert_refused_without_writes(world.client, db, 401, "unauthorized", method, path, headers=headers,
                                  **({} if body is None else {"json": body}))


# --- the webhook ----------------------------------------------------------------------------------------


def test_webhook_with_a_non_ascii_signature_is_a_bad_request(world: World, db: Database) -> None:
    assert_refused_without_writes(world.client, db, 400, "bad_request", "POST", WEBHOOK,
                                  content=b'{"id": "evt_1"}',
                                  headers={"X-Sandbox-Signature": "sha256=é".encode("latin-1")})


@pytest.mark.parametrize("body", [b"{", b"[]", b"null", b'{"id": "evt_1"}',
                                  b'{"id": "e", "type": "t", "payment_id": "p", "amount_fen": "x"}'])
def test_signed_webhook_that_is_not_an_event_is_a_bad_request(world: World, db: Database,
                                                              body: bytes) -> None:
    signature = sign(world.ctx.settings.sandbox_webhook_secret, body)
    assert_refused_without_writes(world.client, db, 400, "bad_request", "POST", WEBHOOK, content=body,
                                  headers={"X-Sandbox-Signature": signature})


# --- every route -------------------------------------------------------------------------------------


def _operations(world: World) -> list[tuple[str, str]]:
    """Every documented (method, path) under /api/v1, as integrators see them."""
    paths = world.client.get("/openapi.json").json()["paths"]
    return [(method.upper(), path) for path, item in paths.items() if path.startswith("/api/v1/")
            for method in item]


def _concrete(path: str, world: World) -> str:
    return (path.replace("{order_id}", str(world.own_order)).replace("{sku}", "BAND9")
            .replace("{slug}", "xiaomi-15").replace("{payment_id}", "pay_nope")
            .replace("{sale_id}", "1").replace("{customer_id}", str(world.fan_id)).replace("{day}", "2026-12-01")
            .replace("{group_id}", "1").replace("{code}", "NOSUCHCODE").replace("{category}", "phones")
            .replace("{review_id}", "1").replace("{thread_id}", "1").replace("{post_id}", "1")
            .replace("{report_id}", "1").replace("{mention_id}", "1").replace("{idea_id}", "1")
            .replace("{release_id}", "1").replace("{notification_id}", "1").replace("{user_id}", str(world.fan_id))
            .replace("{festival_id}", "1"))


def test_every_private_route_needs_a_token(world: World, db: Database) -> None:
    private = [op for op in _operations(world) if op not in PUBLIC_ROUTES]
    assert len(private) >= 15
    for method, path in private:
        try:
            assert_refused_without_writes(world.client, db, 401, "unauthorized", method,
                                          _concrete(path, world))
        except AssertionError as exc:
            raise AssertionError(f"{method} {path}: {exc}") from exc


def test_every_admin_route_is_forbidden_to_customers(world: World, db: Database) -> None:
    admin = [(method, path) for method, path in _operations(world) if path.startswith("/api/v1/admin/")]
    assert len(admin) >= 9
    for method, path in admin:
        try:
            assert_refused_without_writes(world.client, db, 403, "forbidden", method, _concrete(path, world),
                                          headers=auth(world.fan))
        except AssertionError as exc:
            raise AssertionError(f"{method} {path}: {exc}") from exc


def test_advancing_the_clock_outside_sandbox_mode_is_not_found(world: World, db: Database,
                                                               tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sandbox=False, secret_key="test-secret-key",
                        run_jobs_in_process=False)
    live = create_app(ctx=build_context(settings, db=db, clock=world.clock), run_scheduler=False)
    with TestClient(live, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/admin/clock", headers=auth(world.admin)).json()["sandbox"] is False
        assert_refused_without_writes(client, db, 404, "not_found", "POST", "/api/v1/admin/clock/advance",
                                      json={"seconds": 60}, headers=auth(world.admin))
