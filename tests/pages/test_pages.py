"""Storefront pages through the ASGI app (no browser): the buying flow, and the quality bar that can be
checked without one: CSRF, cookie flags, escaping, error pages, page weight, the API contract."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fanbase.accounts.models import User
from fanbase.catalog import service as catalog
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.inventory import service as inventory

ADDRESS = {"name": "张三", "phone": "13800138000", "line1": "朝阳区建国路 1 号", "city": "北京", "postcode": "100000"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **fields}, follow_redirects=False)


def register(client: TestClient, email: str = "fan@example.com") -> None:
    reply = post_form(client, "/register", "/register",
                      {"name": "粉丝", "email": email, "password": "password-1", "next": "/"})
    assert reply.status_code == 303, reply.text


@pytest.mark.usefixtures("shop")
def test_a_fan_registers_buys_and_pays_at_the_sandbox_bank(client: TestClient) -> None:
    register(client)
    product = client.get("/products/xiaomi-15")
    assert product.status_code == 200 and "¥4,499.00" in product.text and "¥4,999.00" in product.text
    added = post_form(client, "/products/xiaomi-15", "/cart/items", {"sku": "XM15-512", "quantity": "2"})
    assert added.headers["location"] == "/cart"
    cart = client.get("/cart")
    assert "¥9,998.00" in cart.text
    placed = post_form(client, "/checkout", "/checkout", {**ADDRESS, "payment_method": "gateway", "key": "k1"})
    assert placed.status_code == 303 and placed.headers["location"].startswith("/sandbox-gateway/pay/")
    bank_page = placed.headers["location"]
    assert "¥9,998.00" in client.get(bank_page).text
    approved = post_form(client, bank_page, bank_page + "/approve", {})
    assert approved.status_code == 303 and approved.headers["location"].startswith("/orders/")
    order = client.get(approved.headers["location"])
    assert "已付款" in order.text and "已下单" in order.text  # status and timeline, in Chinese by default
    assert "¥9,998.00" in client.get("/orders").text
    assert "购物车是空的" in client.get("/cart").text


@pytest.mark.usefixtures("shop")
def test_resubmitting_the_checkout_form_places_one_order(client: TestClient) -> None:
    register(client)
    post_form(client, "/products/mi-band-9", "/cart/items", {"sku": "BAND9", "quantity": "1"})
    form = {**ADDRESS, "payment_method": "gateway", "key": "same-key"}
    first = post_form(client, "/checkout", "/checkout", form)
    again = client.post("/checkout", data={"csrf": csrf_of(client.get("/orders").text), **form},
                        follow_redirects=False)
    assert first.headers["location"] == again.headers["location"]
    assert client.get("/orders").text.count('href="/orders/') == 1


@pytest.mark.usefixtures("shop")
def test_a_form_without_its_token_is_refused_and_writes_nothing(client: TestClient, db: Database) -> None:
    client.get("/register")
    refused = client.post("/register", data={"name": "x", "email": "x@example.com", "password": "password-1"},
                          follow_redirects=False)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "表单已过期" in refused.text
    register(client)
    wrong = client.post("/cart/items", data={"csrf": "0" * 64, "sku": "BAND9", "quantity": "1"},
                        follow_redirects=False)
    assert wrong.status_code == 403
    assert "购物车是空的" in client.get("/cart").text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email == "x@example.com")) == 0


@pytest.mark.usefixtures("shop")
def test_session_cookies_are_http_only_and_same_site(client: TestClient) -> None:
    visitor = client.get("/login").headers["set-cookie"]
    assert "fb_visitor=" in visitor and "HttpOnly" in visitor and "SameSite=lax" in visitor
    reply = post_form(client, "/register", "/register",
                      {"name": "粉丝", "email": "c@example.com", "password": "password-1", "next": "/"})
    session = [c for c in reply.headers.get_list("set-cookie") if c.startswith("fb_session=")]
    assert session and "HttpOnly" in session[0] and "SameSite=lax" in session[0] and "Path=/" in session[0]


def test_a_product_named_like_a_script_is_shown_as_text(client: TestClient, db: Database, clock: FixedClock,
                                                        shop: None) -> None:
    with db.uow() as s:
        catalog.create_product(s, clock, slug="evil", name="<script>alert(1)</script>", brand="xiaomi",
                               category="phones", description='"><img src=x onerror=alert(2)>',
                               variants=[catalog.NewVariant("EVIL-1", "<b>bold</b>", 100, 50)])
        inventory.set_on_hand(s, clock, sku="EVIL-1", location_code="main", on_hand=1)
    for url in ("/products/evil", "/products?q=script", "/"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/products/evil").text


@pytest.mark.usefixtures("shop")
def test_people_get_html_error_pages_and_the_api_keeps_problem_json(client: TestClient) -> None:
    for url in ("/no-such-page", "/products/no-such-product"):
        page = client.get(url)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), url
        assert "<title>" in page.text and "Traceback" not in page.text
    api = client.get("/api/v1/products/no-such-product")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    register(client)
    assert client.get("/orders/999999").status_code == 404
    assert client.get("/orders/not-a-number").headers["content-type"].startswith("text/html")


@pytest.mark.usefixtures("shop")
def test_an_unexpected_failure_is_a_friendly_500_page(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(session: object) -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalog, "list_brands", broken)
    page = client.get("/")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "secret internals" not in page.text and "Traceback" not in page.text


@pytest.mark.usefixtures("shop")
def test_pages_need_a_login_and_come_back_after_it(client: TestClient) -> None:
    assert client.get("/cart", follow_redirects=False).headers["location"] == "/login?next=/cart"
    register(client, "back@example.com")
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    reply = post_form(client, "/login?next=/cart", "/login",
                      {"email": "back@example.com", "password": "password-1", "next": "/cart"})
    assert reply.headers["location"] == "/cart"
    evil = post_form(client, "/login", "/login",
                     {"email": "back@example.com", "password": "password-1", "next": "//evil.example/"})
    assert evil.headers["location"] == "/"
    wrong = post_form(client, "/login", "/login", {"email": "back@example.com", "password": "nope", "next": "/"})
    assert wrong.status_code == 422 and "fb_session" not in wrong.headers.get("set-cookie", "")


@pytest.mark.usefixtures("shop")
def test_the_language_switch_is_remembered(client: TestClient) -> None:
    assert '<html lang="zh-CN">' in client.get("/products/xiaomi-15").text
    switched = post_form(client, "/products/xiaomi-15", "/language", {"locale": "en", "next": "/products/xiaomi-15"})
    assert switched.headers["location"] == "/products/xiaomi-15"
    page = client.get("/products/xiaomi-15").text
    assert '<html lang="en">' in page and "Add to cart" in page and "Xiaomi 15" in page


@pytest.mark.usefixtures("shop")
def test_each_page_has_a_title_and_open_graph_tags(client: TestClient) -> None:
    for url in ("/", "/products", "/products/xiaomi-15", "/login", "/register"):
        html = client.get(url).text
        assert re.search(r"<title>[^<]+ · Fanbase</title>", html), url
        for tag in ("og:title", "og:description", "og:url", "og:type"):
            assert f'property="{tag}"' in html, (url, tag)
    assert 'property="og:image"' in client.get("/products/xiaomi-15").text


@pytest.mark.usefixtures("shop")
def test_home_and_product_pages_weigh_under_100_kb_with_everything_they_load(client: TestClient) -> None:
    for url in ("/", "/products/xiaomi-15"):
        html = client.get(url).text
        assets = set(re.findall(r'(?:src|href)="(/(?:static|media)/[^"]+)"', html))
        total = len(html.encode()) + sum(len(client.get(urljoin(url, a)).content) for a in assets)
        assert total < 100_000, (url, total)


def test_pages_stay_out_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths and all(p.startswith("/api/v1/") for p in paths)
