"""Seed the demo store: brands, categories, locations, 40+ products with stock, and a staff login.

Idempotent: running it twice leaves one copy of everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.accounts.models import User
from fanbase.catalog import service as catalog
from fanbase.catalog.models import Brand, Category, Product
from fanbase.clock import Clock
from fanbase.demo.catalogue import BRANDS, CATEGORIES, LOCATIONS, PRODUCTS
from fanbase.inventory import service as inventory
from fanbase.inventory.models import Location

DEMO_STAFF_EMAIL = "admin@fanbase.demo"
DEMO_STAFF_PASSWORD = "fanbase-admin"


@dataclass(frozen=True)
class SeedResult:
    products_created: int
    staff_email: str
    staff_password: str


def seed_demo(session: Session, clock: Clock) -> SeedResult:
    for b in BRANDS:
        if session.scalar(select(Brand.id).where(Brand.slug == b.slug)) is None:
            catalog.create_brand(session, slug=b.slug, name=b.name, name_en=b.name_en)
    for c in CATEGORIES:
        if session.scalar(select(Category.id).where(Category.slug == c.slug)) is None:
            catalog.create_category(session, slug=c.slug, name=c.name, name_en=c.name_en)
    for loc in LOCATIONS:
        if session.scalar(select(Location.id).where(Location.code == loc.code)) is None:
            inventory.create_location(session, code=loc.code, name=loc.name, name_en=loc.name_en, kind=loc.kind,
                                      priority=loc.priority)
    created = 0
    existing = set(session.scalars(select(Product.slug)))
    for p in PRODUCTS:
        if p.slug in existing:
            continue
        catalog.create_product(session, clock, slug=p.slug, name=p.name, name_en=p.name_en, brand=p.brand,
                               category=p.category, description=p.description, description_en=p.description_en,
                               variants=[catalog.NewVariant(sku=v.sku, name=v.name, name_en=v.name_en,
                                                            price_fen=v.price_fen, cost_fen=v.cost_fen)
                                         for v in p.variants])
        for v in p.variants:
            for code, on_hand in v.stock.items():
                inventory.set_on_hand(session, clock, sku=v.sku, location_code=code, on_hand=on_hand)
        created += 1
    if session.scalar(select(User.id).where(User.email == DEMO_STAFF_EMAIL)) is None:
        accounts.create_staff(session, clock, email=DEMO_STAFF_EMAIL, password=DEMO_STAFF_PASSWORD,
                              name="演示管理员", role="admin")
    return SeedResult(products_created=created, staff_email=DEMO_STAFF_EMAIL, staff_password=DEMO_STAFF_PASSWORD)
