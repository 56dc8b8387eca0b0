"""Festival pages: the struck list price and the festival price on the product page, the listing and the
cart, the home page's banner, and the console's festivals page, form and live dashboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.festival import service as festivals
from tests.helpers import staff_token
from tests.pages.test_console import audit, sign_in_as
from tests.pages.test_pages import post_form, register


def a_festival(db: Database, clock: FixedClock, starts_in: timedelta = timedelta(0)) -> int:
    operator_id, _ = staff_token(db, "secret", clock, "operator")
    with db.uow() as s:
        made = festivals.create_festival(
            s, clock, name="米粉节", starts_at=clock.now() + starts_in, ends_at=clock.now() + timedelta(days=1),
            discounts=[festivals.DiscountSpec(percent_off=10, product_slug="xiaomi-15"),
                       festivals.DiscountSpec(percent_off=15, category="lifestyle")], actor_id=operator_id)
        return made.id


def shown(html: str) -> str:
    return re.sub(r"\s+", " ", html)


@pytest.mark.usefixtures("shop")
def test_the_storefront_strikes_the_list_price_while_the_festival_is_live(client: TestClient, db: Database,
                                                                          clock: FixedClock) -> None:
    a_festival(db, clock, starts_in=timedelta(hours=1))
    page = client.get("/products/xiaomi-15").text
    assert "<del" not in page and "¥4,499.00" in page
    assert 'data-testid="festival-banner"' not in client.get("/").text
    clock.advance(3600 + 2)  # live (and past the home page's one-second copy)
    page = shown(client.get("/products/xiaomi-15").text)
    assert re.search(r'<del class="muted" data-list-price-shown data-testid="list-price">¥4,499.00</del> '
                     r'<span data-price-shown>¥4,049.10</span>', page), page
    assert 'data-price="¥4,049.10" data-list-price="¥4,499.00"' in page
    listing = shown(client.get("/products").text)
    assert '<del class="muted" data-testid="list-price">¥249.00</del>' in listing and "¥211.65" in listing
    home = client.get("/").text
    assert 'data-testid="festival-banner"' in home and "米粉节" in home
    register(client)
    assert post_form(client, "/products/mi-band-9", "/cart/items", {"sku": "BAND9", "quantity": "1"}
                     ).status_code == 303
    cart = shown(client.get("/cart").text)
    assert '<del class="muted">¥249.00</del> ¥211.65' in cart


@pytest.mark.usefixtures("shop")
def test_the_console_creates_a_festival_and_shows_its_dashboard(client: TestClient, ctx: Context, db: Database,
                                                                clock: FixedClock) -> None:
    sign_in_as(client, ctx, db, clock, "operator")
    page = client.get("/console/festivals")
    assert page.status_code == 200 and 'href="/console/festivals" aria-current="page"' in page.text
    refused = post_form(client, "/console/festivals", "/console/festivals",
                        {"name": "米粉节", "starts_at": "2026-11-26T00:00", "ends_at": "2026-11-25T00:00",
                         "discounts": ""})
    assert refused.status_code in (303, 422)
    assert audit(db, "festival.create") == []
    made = post_form(client, "/console/festivals", "/console/festivals",
                     {"name": "米粉节", "starts_at": "2026-11-25T10:00", "ends_at": "2026-11-26T10:00",
                      "discounts": "xiaomi-15 10\ncategory:lifestyle 15%\n"})
    assert made.status_code == 303, made.text
    assert re.fullmatch(r"/console/festivals/\d+", made.headers["location"])
    [entry] = audit(db, "festival.create")
    assert entry.detail["discounts"] == [{"product_slug": "xiaomi-15", "category": None, "percent_off": 10},
                                         {"product_slug": None, "category": "lifestyle", "percent_off": 15}]
    board = client.get(made.headers["location"])
    assert board.status_code == 200 and "<svg" in board.text and 'data-testid="festival-sales"' in board.text
    assert 'data-refresh="15"' in board.text  # live (the clock is inside the window): it keeps itself current
    assert "米粉节" in client.get("/console/festivals").text
    sign_in_as(client, ctx, db, clock, None)
    assert client.get("/console/festivals").status_code == 403
