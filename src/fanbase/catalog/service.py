"""Catalogue: brands, categories, products with variants, search."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog.models import Brand, Category, Product, Variant
from fanbase.clock import Clock
from fanbase.errors import Conflict, NotFound, ValidationFailed
from fanbase.i18n import N_
from fanbase.pagination import Page, PageRequest, make_page

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_PRICE_FEN = 10**10


@dataclass(frozen=True)
class NewVariant:
    sku: str
    name: str
    price_fen: int
    cost_fen: int
    name_en: str = ""


def create_brand(session: Session, *, slug: str, name: str, name_en: str = "") -> Brand:
    _check_slug(slug)
    brand = Brand(slug=slug, name=name, name_en=name_en)
    session.add(brand)
    session.flush()
    return brand


def create_category(session: Session, *, slug: str, name: str, name_en: str = "") -> Category:
    _check_slug(slug)
    category = Category(slug=slug, name=name, name_en=name_en)
    session.add(category)
    session.flush()
    return category


def create_product(session: Session, clock: Clock, *, slug: str, name: str, brand: str, category: str,
                   description: str, variants: Sequence[NewVariant], name_en: str = "",
                   description_en: str = "", actor_id: int | None = None) -> Product:
    _check_slug(slug)
    brand_row = session.scalar(select(Brand).where(Brand.slug == brand))
    if brand_row is None:
        raise ValidationFailed("Unknown brand {slug}", slug=brand)
    category_row = session.scalar(select(Category).where(Category.slug == category))
    if category_row is None:
        raise ValidationFailed("Unknown category {slug}", slug=category)
    if not variants:
        raise ValidationFailed("A product needs at least one variant")
    skus = [v.sku for v in variants]
    if len(set(skus)) != len(skus):
        raise ValidationFailed("Variant SKUs must be unique")
    for v in variants:
        if not SKU_RE.match(v.sku):
            raise ValidationFailed("SKU {sku} may hold letters, digits, '.', '_' and '-'", sku=v.sku)
        if v.price_fen <= 0 or v.cost_fen < 0:
            raise ValidationFailed("Prices must be positive and costs not negative")
    if session.scalar(select(Product.id).where(Product.slug == slug)) is not None:
        raise Conflict("A product with slug {slug} exists", slug=slug)
    if session.scalar(select(Variant.id).where(Variant.sku.in_(skus))) is not None:
        raise Conflict("One of these SKUs exists already")
    product = Product(slug=slug, name=name, name_en=name_en, brand=brand_row, category=category_row,
                      description=description, description_en=description_en, created_at=clock.now(),
                      variants=[Variant(sku=v.sku, name=v.name, name_en=v.name_en, price_fen=v.price_fen,
                                        cost_fen=v.cost_fen) for v in variants])
    session.add(product)
    _flush_unless_taken(session, N_("A product with this slug or SKU exists"))
    if actor_id is not None:
        record_audit(session, clock, actor_id=actor_id, action="product.create", target=f"product:{slug}",
                     detail={"skus": skus})
    return product


def update_product(session: Session, clock: Clock, *, slug: str, name: str, description: str, actor_id: int,
                   name_en: str | None = None, description_en: str | None = None) -> Product:
    """Staff edit a product's texts (its slug, brand and category stay: links and reports use them)."""
    product = get_product(session, slug)
    if not name.strip() or len(name) > 200:
        raise ValidationFailed("A product needs a name of at most 200 characters")
    product.name, product.description = name.strip(), description
    if name_en is not None:
        product.name_en = name_en.strip()[:200]
    if description_en is not None:
        product.description_en = description_en
    record_audit(session, clock, actor_id=actor_id, action="product.update", target=f"product:{slug}",
                 detail={"name": product.name})
    return product


def update_variant(session: Session, clock: Clock, *, sku: str, name: str, price_fen: int, cost_fen: int,
                   actor_id: int) -> Variant:
    """Staff change a variant's name, price or cost; orders keep the price they were placed at."""
    variant = get_variant(session, sku)
    _check_variant(NewVariant(sku=sku, name=name, price_fen=price_fen, cost_fen=cost_fen))
    before = {"price_fen": variant.price_fen, "cost_fen": variant.cost_fen}
    variant.name, variant.price_fen, variant.cost_fen = name.strip(), price_fen, cost_fen
    record_audit(session, clock, actor_id=actor_id, action="variant.update", target=f"sku:{sku}",
                 detail={"before": before, "price_fen": price_fen, "cost_fen": cost_fen})
    return variant


def add_variant(session: Session, clock: Clock, *, slug: str, variant: NewVariant, actor_id: int) -> Variant:
    product = get_product(session, slug)
    _check_variant(variant)
    row = Variant(product_id=product.id, sku=variant.sku, name=variant.name.strip(), name_en=variant.name_en,
                  price_fen=variant.price_fen, cost_fen=variant.cost_fen)
    session.add(row)
    _flush_unless_taken(session, N_("One of these SKUs exists already"))
    record_audit(session, clock, actor_id=actor_id, action="variant.create", target=f"sku:{variant.sku}",
                 detail={"product": slug, "price_fen": variant.price_fen, "cost_fen": variant.cost_fen})
    return row


def _flush_unless_taken(session: Session, detail: str) -> None:
    """Write what was added; a twin written meanwhile by someone else (a unique key) is a 409, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(detail) from exc


def _check_variant(v: NewVariant) -> None:
    if not SKU_RE.match(v.sku):
        raise ValidationFailed("SKU {sku} may hold letters, digits, '.', '_' and '-'", sku=v.sku)
    if not v.name.strip() or len(v.name) > 200:
        raise ValidationFailed("A variant needs a name of at most 200 characters")
    if not 0 < v.price_fen <= MAX_PRICE_FEN or not 0 <= v.cost_fen <= MAX_PRICE_FEN:
        raise ValidationFailed("Prices must be positive and costs not negative")


def _check_slug(slug: str) -> None:
    if not SLUG_RE.match(slug) or len(slug) > 64:
        raise ValidationFailed("A slug is lowercase letters, digits and single hyphens")


def list_brands(session: Session) -> list[Brand]:
    return list(session.scalars(select(Brand).order_by(Brand.id)))


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.id)))


def get_category(session: Session, slug: str) -> Category:
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound("No category {slug}", slug=slug)
    return category


def list_products(session: Session, page: PageRequest, *, q: str | None = None, brand: str | None = None,
                  category: str | None = None) -> Page[Product]:
    query: Select[Product] = select(Product).order_by(Product.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(Product.id > page.after_id)
    if brand:
        query = query.join(Brand, Product.brand_id == Brand.id).where(Brand.slug == brand)
    if category:
        query = query.join(Category, Product.category_id == Category.id).where(Category.slug == category)
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(or_(
            func.lower(Product.name).contains(needle, autoescape=True),
            func.lower(Product.name_en).contains(needle, autoescape=True),
            func.lower(Product.description).contains(needle, autoescape=True),
            Product.id.in_(select(Variant.product_id)
                           .where(func.lower(Variant.sku).contains(needle, autoescape=True))),
        ))
    rows = session.scalars(query).unique().all()
    return make_page(rows, page)


def get_product(session: Session, slug: str) -> Product:
    product = session.scalar(select(Product).where(Product.slug == slug))
    if product is None:
        raise NotFound("No product {slug}", slug=slug)
    return product


def get_variant(session: Session, sku: str) -> Variant:
    variant = session.scalar(select(Variant).where(Variant.sku == sku))
    if variant is None:
        raise NotFound("No product with SKU {sku}", sku=sku)
    return variant


@dataclass(frozen=True)
class SkuInfo:
    price_fen: int
    title: str  # product name and variant name, as an order line shows it
    product_id: int = 0
    category_id: int = 0


def sku_info(session: Session, skus: Sequence[str]) -> dict[str, SkuInfo]:
    """Price and display title of each SKU, in one query."""
    if not skus:
        return {}
    rows = session.execute(select(Variant.sku, Variant.price_fen, Product.name, Variant.name, Product.id,
                                  Product.category_id)
                           .join(Product, Variant.product_id == Product.id).where(Variant.sku.in_(list(skus))))
    return {sku: SkuInfo(price_fen=price, title=f"{product} {variant}", product_id=product_id,
                         category_id=category_id)
            for sku, price, product, variant, product_id, category_id in rows}


def lowest_price(product: Product) -> int:
    return min(v.price_fen for v in product.variants)
