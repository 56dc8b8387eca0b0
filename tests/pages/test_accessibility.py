"""Accessibility a machine can check: every form field has a label, every image a text alternative,
every button and link a name, one main landmark and a language on each page (storefront and console)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from fanbase.accounts import service as accounts
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.wallet import service as wallet
from tests.pages.test_console import sign_in_as
from tests.pages.test_pages import ADDRESS, post_form, register

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Audit(HTMLParser):
    """Collects what a screen reader or a keyboard user would miss."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.labelled: set[str] = set()
        self.fields: list[tuple[str, str]] = []  # (id, description) of fields that need a label
        self.open_label = 0
        self.mains = 0
        self.lang = ""
        self._named: list[tuple[str, str, list[str]]] = []  # open buttons/links: tag, description, text seen

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "main":
            self.mains += 1
        elif tag == "label":
            self.open_label += 1
            if a.get("for"):
                self.labelled.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and a.get("type", "text") in UNLABELLED_TYPES:
                if a.get("type") == "image" and not a.get("alt"):
                    self.problems.append(f"image button without alt: {a}")
                return
            if self.open_label or a.get("aria-label") or a.get("aria-labelledby"):
                return
            self.fields.append((a.get("id", ""), f"<{tag} name={a.get('name')!r}>"))
        elif tag == "img" and "alt" not in a:
            self.problems.append(f"image without alt: {a.get('src')}")
        elif tag in ("button", "a"):
            if tag == "a" and "href" not in a:
                self.problems.append(f"a link that goes nowhere: {a}")
            self._named.append((tag, str(a), [a.get("aria-label", ""), a.get("title", "")]))
        elif tag in ("svg", "img") and self._named:
            self._named[-1][2].append(a.get("aria-label", "") or a.get("alt", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_label = max(0, self.open_label - 1)
        elif tag in ("button", "a") and self._named and self._named[-1][0] == tag:
            _, description, texts = self._named.pop()
            if not "".join(texts).strip():
                self.problems.append(f"<{tag}> without a name: {description}")

    def handle_data(self, data: str) -> None:
        if self._named:
            self._named[-1][2].append(data)

    def report(self) -> list[str]:
        unlabelled = [d for field_id, d in self.fields if not field_id or field_id not in self.labelled]
        return self.problems + [f"field without a label: {d}" for d in unlabelled] + \
            ([] if self.mains == 1 else [f"{self.mains} <main> elements"]) + ([] if self.lang else ["no lang"])


def audit(client: TestClient, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    checker = Audit()
    checker.feed(page.text)
    return [f"{url}: {problem}" for problem in checker.report()]


@pytest.mark.usefixtures("shop")
def test_storefront_pages(client: TestClient) -> None:
    problems = []
    for url in ("/", "/products", "/products?q=小米", "/products/xiaomi-15", "/login", "/register", "/cart"):
        problems += audit(client, url)
    register(client)
    post_form(client, "/products/xiaomi-15", "/cart/items", {"sku": "XM15-256", "quantity": "1"})
    for url in ("/cart", "/checkout", "/orders", "/wallet", "/wallet/transactions"):
        problems += audit(client, url)
    placed = post_form(client, "/checkout", "/checkout", {**ADDRESS, "payment_method": "gateway"})
    if placed.status_code == 303:
        problems += audit(client, placed.headers["location"])
    assert problems == []


@pytest.mark.usefixtures("shop")
def test_console_pages(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    sign_in_as(client, ctx, db, clock, "operator")
    problems = []
    for url in ("/console", "/console/products", "/console/products/xiaomi-15", "/console/orders",
                "/console/flash-sales", "/console/fund", "/console/audit"):
        problems += audit(client, url)
    assert problems == []


@pytest.mark.usefixtures("shop")
def test_wallet_pages_of_a_fund_holder(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    """Tier III: the subscribe and redeem forms (radio buttons) are on the page too."""
    customer = sign_in_as(client, ctx, db, clock, None)
    with db.uow() as s:
        staff = accounts.create_staff(s, clock, email="kyc@example.com", password="password-1", name="审核",
                                      role="operator")
        wallet.set_tier(s, clock, customer_id=customer, tier=3, actor_id=staff.id)
    page = client.get("/wallet").text
    assert 'action="/wallet/subscribe"' in page and 'action="/wallet/redeem"' in page
    assert audit(client, "/wallet") + audit(client, "/wallet/transactions") == []
