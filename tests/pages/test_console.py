"""The operator console through the ASGI app: role checks (customer 403, clerk reads, operator writes),
CSRF on its forms, audit of every write, escaping, and the numbers it shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.accounts.models import AuditEntry
from fanbase.catalog import service as catalog
from fanbase.catalog.models import Variant
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.flashsale.models import FlashSale
from fanbase.inventory import service as inventory
from fanbase.orders.models import Order
from tests.helpers import customer_token, staff_token
from tests.pages.test_pages import ADDRESS, csrf_of, post_form

CONSOLE_PAGES = ("/console", "/console/products", "/console/products/xiaomi-15", "/console/orders",
                 "/console/flash-sales", "/console/fund", "/console/audit")
NEW_PRODUCT = {"slug": "mi-fan", "name": "米家风扇", "brand": "xiaomi", "category": "smart-home",
               "description": "安静", "sku": "FAN-1", "variant_name": "白色", "price": "299.00", "cost": "180"}


def sign_in_as(client: TestClient, ctx: Context, db: Database, clock: FixedClock, role: str | None) -> int:
    """Role ``None`` is a customer."""
    if role is None:
        user_id, token = customer_token(db, ctx.secret_key, clock)
    else:
        user_id, token = staff_token(db, ctx.secret_key, clock, role)
    client.cookies.set("fb_session", token)
    return user_id


def audit(db: Database, action: str) -> list[AuditEntry]:
    with db.read() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        s.expunge_all()
        return rows


@pytest.mark.usefixtures("shop")
def test_a_customer_gets_a_friendly_403_page_and_can_write_nothing(client: TestClient, ctx: Context, db: Database,
                                                                    clock: FixedClock) -> None:
    sign_in_as(client, ctx, db, clock, None)
    for url in CONSOLE_PAGES:
        page = client.get(url)
        assert page.status_code == 403 and page.headers["content-type"].startswith("text/html"), url
        assert "管理后台仅供商城员工使用" in page.text and "Traceback" not in page.text
    token = csrf_of(client.get("/").text)
    refused = client.post("/console/products", data={"csrf": token, **NEW_PRODUCT}, follow_redirects=False)
    assert refused.status_code == 403
    assert 'href="/console"' not in client.get("/").text  # no console link for a fan
    with db.read() as s:
        assert s.scalar(select(Variant).where(Variant.sku == "FAN-1")) is None


@pytest.mark.usefixtures("shop")
def test_a_visitor_is_sent_to_log_in(client: TestClient) -> None:
    assert client.get("/console/orders", follow_redirects=False).headers["location"] == "/login?next=/console/orders"


@pytest.mark.usefixtures("shop")
def test_a_clerk_reads_the_console_but_only_an_operator_writes(client: TestClient, ctx: Context, db: Database,
                                                                clock: FixedClock) -> None:
    sign_in_as(client, ctx, db, clock, "clerk")
    for url in CONSOLE_PAGES:
        assert client.get(url).status_code == 200, url
    products = client.get("/console/products").text
    assert "创建商品" not in products  # no form a clerk could not use
    refused = post_form(client, "/console", "/console/products", NEW_PRODUCT)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    stock = post_form(client, "/console", "/console/stock/XM15-256", {"location": "main", "on_hand": "1"})
    assert stock.status_code == 403

    operator = sign_in_as(client, ctx, db, clock, "operator")
    created = post_form(client, "/console/products", "/console/products", NEW_PRODUCT)
    assert created.status_code == 303 and created.headers["location"] == "/console/products/mi-fan"
    page = client.get("/console/products/mi-fan")
    assert "商品已创建" in page.text and "299.00" in page.text
    assert [e.actor_id for e in audit(db, "product.create")] == [operator]


@pytest.mark.usefixtures("shop")
def test_an_operator_edits_prices_costs_and_stock_and_every_write_is_audited(client: TestClient, ctx: Context,
                                                                              db: Database, clock: FixedClock) -> None:
    operator = sign_in_as(client, ctx, db, clock, "operator")
    page = "/console/products/xiaomi-15"
    saved = post_form(client, page, "/console/variants/XM15-256", {"name": "12GB+256GB", "price": "3,899.50",
                                                                   "cost": "3000"})
    assert saved.status_code == 303 and saved.headers["location"] == page
    with db.read() as s:
        variant = s.scalar(select(Variant).where(Variant.sku == "XM15-256"))
        assert variant is not None and (variant.price_fen, variant.cost_fen) == (389950, 300000)
    assert "¥3,899.50" in client.get("/products/xiaomi-15").text  # the store shows the new price
    bad = post_form(client, page, "/console/variants/XM15-256", {"name": "x", "price": "12.345", "cost": "1"})
    assert bad.status_code == 303 and "以元为单位" in client.get(bad.headers["location"]).text
    stocked = post_form(client, page, "/console/stock/XM15-256", {"location": "main", "on_hand": "7"})
    assert stocked.status_code == 303
    with db.read() as s:
        assert [v.on_hand for v in inventory.stock_of(s, "XM15-256") if v.location == "main"] == [7]
    added = post_form(client, page, "/console/products/xiaomi-15/variants",
                      {"sku": "XM15-1T", "name": "1TB", "price": "5999", "cost": "4500"})
    assert added.status_code == 303
    renamed = post_form(client, page, page, {"name": "小米 15（新）", "description": "新描述"})
    assert renamed.status_code == 303
    for action in ("variant.update", "stock.set", "variant.create", "product.update"):
        assert [e.actor_id for e in audit(db, action)] == [operator], action
    log = client.get("/console/audit").text
    assert "variant.update" in log and "stock.set" in log


@pytest.mark.usefixtures("shop")
def test_console_forms_need_their_token(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    sign_in_as(client, ctx, db, clock, "admin")
    for action, fields in (("/console/products", NEW_PRODUCT), ("/console/stock/XM15-256", {"location": "main",
                                                                                             "on_hand": "1"}),
                           ("/console/flash-sales", {"sku": "XM15-256", "units": "1"})):
        refused = client.post(action, data=fields, follow_redirects=False)
        assert refused.status_code == 403 and "表单已过期" in refused.text, action
        wrong = client.post(action, data={"csrf": "0" * 64, **fields}, follow_redirects=False)
        assert wrong.status_code == 403, action
    assert audit(db, "product.create") == [] and audit(db, "stock.set") == []


def test_names_written_by_anyone_are_shown_as_text_in_the_console(client: TestClient, ctx: Context, db: Database,
                                                                  clock: FixedClock, shop: None) -> None:
    admin = sign_in_as(client, ctx, db, clock, "admin")
    with db.uow() as s:
        catalog.create_product(s, clock, slug="evil", name="<script>alert(1)</script>", brand="xiaomi",
                               category="phones", description='"><img src=x onerror=alert(2)>',
                               variants=[catalog.NewVariant("EVIL-1", "<b>bold</b>", 100, 50)], actor_id=admin)
    for url in ("/console/products", "/console/products/evil", "/console/audit", "/console/products?q=%3Cscript"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/console/products/evil").text


@pytest.mark.usefixtures("shop")
def test_an_operator_ships_delivers_and_refunds_orders(client: TestClient, ctx: Context, db: Database,
                                                       clock: FixedClock) -> None:
    fan = TestClient(client.app, raise_server_exceptions=False)
    fan.cookies.set("fb_session", customer_token(db, ctx.secret_key, clock)[1])
    for _ in range(2):
        post_form(fan, "/products/xiaomi-15", "/cart/items", {"sku": "XM15-256", "quantity": "1"})
        placed = post_form(fan, "/checkout", "/checkout", {**ADDRESS, "payment_method": "gateway", "key": f"k{_}"})
        bank = placed.headers["location"]
        post_form(fan, bank, bank + "/approve", {})
    with db.read() as s:
        first, second = s.scalars(select(Order.id).order_by(Order.id))

    operator = sign_in_as(client, ctx, db, clock, "operator")
    assert "已付款" in client.get("/console/orders?status=paid").text
    page = f"/console/orders/{first}"
    for action, status in (("ship", "已发货"), ("deliver", "已送达")):
        done = post_form(client, page, f"{page}/{action}", {})
        assert done.status_code == 303 and status in client.get(page).text
    again = post_form(client, page, f"{page}/ship", {})  # no longer paid: a message, not a 500
    assert again.status_code == 303 and 'class="notice error"' in client.get(page).text
    refunded = post_form(client, f"/console/orders/{second}", f"/console/orders/{second}/refund", {})
    assert refunded.status_code == 303 and "已退款" in client.get(f"/console/orders/{second}").text
    for action in ("order.ship", "order.deliver", "order.refund"):
        assert [e.actor_id for e in audit(db, action)] == [operator], action
    dashboard = client.get("/console").text
    assert re.search(r'data-testid="orders-today">2<', dashboard) and "<svg" in dashboard


@pytest.mark.usefixtures("shop")
def test_an_operator_creates_a_lottery_sale_and_watches_it(client: TestClient, ctx: Context, db: Database,
                                                           clock: FixedClock) -> None:
    operator = sign_in_as(client, ctx, db, clock, "operator")
    local = clock.now().astimezone(ctx.settings.zone)
    fmt = "%Y-%m-%dT%H:%M"
    fields = {"sku": "XM15-256", "units": "5", "price": "3999", "per_customer_limit": "1",
              "reservations_open_at": local.strftime(fmt), "starts_at": (local + timedelta(hours=1)).strftime(fmt),
              "ends_at": (local + timedelta(hours=2)).strftime(fmt), "payment_window_minutes": "15",
              "mode": "lottery"}
    wrong = post_form(client, "/console/flash-sales", "/console/flash-sales",
                      {**fields, "ends_at": fields["starts_at"]})
    assert wrong.status_code == 303 and wrong.headers["location"] == "/console/flash-sales"
    created = post_form(client, "/console/flash-sales", "/console/flash-sales", fields)
    assert created.status_code == 303
    with db.read() as s:
        sale = s.scalar(select(FlashSale))
        assert sale is not None and (sale.mode, sale.price_fen, sale.units) == ("lottery", 399900, 5)
        assert sale.starts_at == (local + timedelta(hours=1)).replace(second=0, microsecond=0)
    watch = client.get(created.headers["location"]).text
    assert 'data-events="/api/v1/flash-sales/' in watch and 'data-units="5"' in watch
    assert [e.actor_id for e in audit(db, "flash_sale.create")] == [operator]
    assert "在已预约米粉中抽签" in client.get("/console/flash-sales").text
    # ending it from the console: audited, and the sale takes no purchase any more
    page = created.headers["location"]
    ended = post_form(client, page, f"{page}/end", {})
    assert ended.status_code == 303 and ended.headers["location"] == page
    with db.read() as s:
        sale = s.scalar(select(FlashSale))
        assert sale is not None and sale.ends_at <= clock.now()
    assert [e.actor_id for e in audit(db, "flash_sale.end")] == [operator]
    assert "立即结束抢购" not in client.get(page).text  # the button is gone
