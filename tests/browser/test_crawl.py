"""No page answers 500 for any link reachable from the home page, for a visitor and for a signed-in fan
with an order, nor for any console page reachable from the console for a signed-in operator (links
followed over HTTP against the served demo store)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import httpx

from tests.browser.conftest import STAFF

LINK = re.compile(r'<a [^>]*href="([^"#]+)"')
MAX_PAGES = 400


def crawl(client: httpx.Client, start: str = "/", within: str = "/") -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        reply = client.get(url)
        seen[url] = reply.status_code
        if not reply.headers.get("content-type", "").startswith("text/html"):
            continue
        for href in LINK.findall(reply.text):
            target = urlsplit(urljoin(url, unescape(href)))
            if target.netloc and target.netloc != client.base_url.netloc.decode():
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path.startswith(within) and not path.startswith(("/docs", "/redoc", "/api/")) and path not in seen:
                queue.append(path)
    return seen


def csrf(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert found
    return found.group(1)


def sign_up_and_order(client: httpx.Client, email: str = "crawler@example.com") -> None:
    client.post("/register", data={"csrf": csrf(client, "/register"), "name": "爬虫", "email": email,
                                   "password": "password-1", "next": "/"})
    client.post("/cart/items", data={"csrf": csrf(client, "/"), "sku": "RMBUDS6-BLK", "quantity": "1"})
    client.post("/checkout", data={"csrf": csrf(client, "/checkout"), "name": "张三", "phone": "13800138000",
                                   "line1": "建国路 1 号", "city": "北京", "postcode": "100000",
                                   "payment_method": "gateway", "key": "crawl"})
    client.post("/cart/items", data={"csrf": csrf(client, "/"), "sku": "RMBUDS6-BLK", "quantity": "1"})


def test_no_link_reachable_from_home_answers_500(server: str) -> None:
    with httpx.Client(base_url=server, follow_redirects=True, timeout=10) as visitor:
        anonymous = crawl(visitor)
    with httpx.Client(base_url=server, follow_redirects=True, timeout=10) as fan:
        sign_up_and_order(fan)
        signed_in = crawl(fan)
    assert len(anonymous) > 20 and any(u.startswith("/orders/") for u in signed_in), (anonymous, signed_in)
    broken = {u: s for u, s in {**anonymous, **signed_in}.items() if s >= 500}
    assert not broken, broken


def test_no_console_page_answers_500_for_an_operator(server: str) -> None:
    with httpx.Client(base_url=server, follow_redirects=True, timeout=10) as fan:
        sign_up_and_order(fan, "crawler-2@example.com")  # an order to open in the console
    with httpx.Client(base_url=server, follow_redirects=True, timeout=10) as operator:
        operator.post("/login", data={"csrf": csrf(operator, "/login"), "next": "/console", **STAFF})
        pages = crawl(operator, "/console", within="/console")
    assert {"/console", "/console/products", "/console/orders", "/console/flash-sales", "/console/audit"} <= set(pages)
    assert any(re.match(r"/console/flash-sales/\d+$", u) for u in pages), pages  # the launch of the fixture
    assert any(re.match(r"/console/orders/\d+$", u) for u in pages), pages
    broken = {u: s for u, s in pages.items() if s != 200}
    assert not broken, broken
