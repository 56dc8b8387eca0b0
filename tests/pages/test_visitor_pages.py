"""Home, listing and product pages are rendered once for every anonymous visitor (``pages.for_visitors``):
each visitor still gets a form token of their own and the current time, a signed-in person and a notice
bypass the copy, and staff changes clear it at once."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient

from fanbase.cache import TTLCache
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.pages import CSRF_MARK, NOW_MARK
from tests.helpers import auth, staff_token
from tests.pages.test_pages import csrf_of, register


@pytest.fixture
def cached(ctx: Context) -> Context:
    ctx.visitor_pages = TTLCache(ttl=3600)
    return ctx


def now_of(html: str) -> str:
    found = re.search(r'data-now="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.mark.usefixtures("shop")
def test_two_visitors_share_the_page_but_not_their_form_tokens(app, cached: Context, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as first, TestClient(app) as second:
        one = first.get("/products/xiaomi-15")
        clock.advance(seconds=30)
        two = second.get("/products/xiaomi-15")
        assert len(cached.visitor_pages._items) == 1  # one shared copy served both
        assert csrf_of(one.text) != csrf_of(two.text)
        assert CSRF_MARK not in two.text and NOW_MARK not in two.text
        assert now_of(two.text) > now_of(one.text)  # each answer carries its own time
        for client, page in ((first, one), (second, two)):
            switched = client.post("/language", data={"csrf": csrf_of(page.text), "locale": "en", "next": "/"},
                                   follow_redirects=False)
            assert switched.status_code == 303
        # a token is only good for its own visitor
        stolen = second.post("/language", data={"csrf": csrf_of(one.text), "locale": "en", "next": "/"},
                             follow_redirects=False)
        assert stolen.status_code == 403


@pytest.mark.usefixtures("shop")
def test_signed_in_people_and_notices_bypass_the_shared_copy(client: TestClient, cached: Context) -> None:
    anonymous = client.get("/").text
    register(client, "named@example.com")
    assert "我的订单" in client.get("/").text and "我的订单" not in anonymous  # the header of a signed-in fan
    client.cookies.delete("fb_session")
    notice = base64.urlsafe_b64encode(b'{"kind": "notice", "text": "Hello there"}').decode()
    client.cookies.set("fb_notice", notice, domain="testserver.local", path="/")
    assert "Hello there" in client.get("/").text
    assert "Hello there" not in client.get("/").text  # shown once, then the shared copy again


@pytest.mark.usefixtures("shop")
def test_staff_changes_clear_the_shared_copies(client: TestClient, cached: Context, db: Database,
                                               clock: FixedClock) -> None:
    admin = staff_token(db, cached.secret_key, clock)[1]
    assert "有货" in client.get("/products/mi-band-9").text
    reply = client.put("/api/v1/admin/stock/BAND9", json={"location": "main", "on_hand": 0}, headers=auth(admin))
    assert reply.status_code == 200, reply.text
    page = client.get("/products/mi-band-9").text
    assert "有货" not in page and "库存不足" in page
    english = client.get("/products/xiaomi-15", headers={"Accept-Language": "en"}, cookies={"fb_lang": "en"})
    assert "Xiaomi 15" in english.text  # each language has its own copy
