"""Builders shared by the tests (plain functions, no magic)."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fanbase import models
from fanbase.accounts import service as accounts
from fanbase.catalog import service as catalog
from fanbase.clock import Clock
from fanbase.db import Database
from fanbase.inventory import service as inventory
from fanbase.ledger import service as ledger

ADDRESS = {"name": "张三", "phone": "13800138000", "line1": "朝阳区建国路 1 号", "city": "北京", "postcode": "100000"}
_emails = itertools.count(1)


def seed_catalogue(db: Database, clock: Clock, *, stock: int = 100) -> None:
    """Two brands, three categories, warehouse `main` and a store, two products."""
    with db.uow() as s:
        catalog.create_brand(s, slug="xiaomi", name="小米", name_en="Xiaomi")
        catalog.create_brand(s, slug="redmi", name="红米", name_en="Redmi")
        for slug in ("phones", "smart-home", "lifestyle"):
            catalog.create_category(s, slug=slug, name=slug)
        inventory.create_location(s, code="main", name="主仓", priority=10)
        inventory.create_location(s, code="sh-store", name="上海店", kind="store", priority=20)
        catalog.create_product(s, clock, slug="xiaomi-15", name="小米 15", brand="xiaomi", category="phones",
                               description="旗舰手机", name_en="Xiaomi 15",
                               variants=[catalog.NewVariant("XM15-256", "12+256GB", 449900, 320000),
                                         catalog.NewVariant("XM15-512", "16+512GB", 499900, 350000)])
        catalog.create_product(s, clock, slug="mi-band-9", name="小米手环 9", brand="xiaomi", category="lifestyle",
                               description="手环", variants=[catalog.NewVariant("BAND9", "黑色", 24900, 15000)])
        for sku in ("XM15-256", "XM15-512", "BAND9"):
            inventory.set_on_hand(s, clock, sku=sku, location_code="main", on_hand=stock)


def customer_token(db: Database, ctx_secret: str, clock: Clock, name: str = "粉丝") -> tuple[int, str]:
    with db.uow() as s:
        user = accounts.register_customer(s, clock, email=f"fan{next(_emails)}@example.com", password="password-1",
                                          name=name)
        return user.id, accounts.issue_token(ctx_secret, user, clock.now(), 3600 * 24 * 365)


def staff_token(db: Database, ctx_secret: str, clock: Clock, role: str = "admin") -> tuple[int, str]:
    with db.uow() as s:
        user = accounts.create_staff(s, clock, email=f"staff{next(_emails)}@example.com", password="password-1",
                                     name="员工", role=role)
        return user.id, accounts.issue_token(ctx_secret, user, clock.now(), 3600 * 24 * 365)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def place_order(client: TestClient, token: str, sku: str = "XM15-256", quantity: int = 1,
                method: str = "gateway", key: str | None = None) -> dict:  # type: ignore[type-arg]
    reply = client.put(f"/api/v1/cart/items/{sku}", json={"quantity": quantity}, headers=auth(token))
    assert reply.status_code == 200, reply.text
    headers = auth(token) | ({"Idempotency-Key": key} if key else {})
    reply = client.post("/api/v1/checkout", json={"payment_method": method, "shipping_address": ADDRESS},
                        headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def assert_ledger_balanced(database: Database) -> None:
    with database.read() as session:
        assert ledger.trial_balance(session) == 0
        assert ledger.postings_total(session) == 0
        assert ledger.accounts_match_postings(session)


def table_counts(database: Database) -> dict[str, int]:
    """Rows per table: the same before and after a refused request means it inserted or deleted nothing."""
    with database.read() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in models.metadata.sorted_tables}


def table_rows(database: Database) -> dict[str, list[str]]:
    """Every row of every table (small test databases only): catches updates that counts cannot see."""
    with database.read() as session:
        return {table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
                for table in models.metadata.sorted_tables}
