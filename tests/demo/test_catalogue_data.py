"""Sanity checks for the static demo catalogue data."""

import re
from collections import Counter

from fanbase.demo.catalogue import BRANDS, CATEGORIES, LOCATIONS, PRODUCTS

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SKU_RE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")

ALL_VARIANTS = [v for p in PRODUCTS for v in p.variants]


def test_enough_products() -> None:
    assert len(PRODUCTS) >= 30


def test_unique_product_slugs() -> None:
    dupes = [s for s, n in Counter(p.slug for p in PRODUCTS).items() if n > 1]
    assert not dupes


def test_unique_skus() -> None:
    dupes = [s for s, n in Counter(v.sku for v in ALL_VARIANTS).items() if n > 1]
    assert not dupes


def test_slug_and_sku_formats() -> None:
    for slug in [p.slug for p in PRODUCTS] + [b.slug for b in BRANDS] + [c.slug for c in CATEGORIES]:
        assert SLUG_RE.match(slug), slug
    for loc in LOCATIONS:
        assert SLUG_RE.match(loc.code), loc.code
    for v in ALL_VARIANTS:
        assert SKU_RE.match(v.sku), v.sku


def test_brands_are_xiaomi_and_redmi_only() -> None:
    assert {b.slug for b in BRANDS} == {"xiaomi", "redmi"}


def test_brand_and_category_references_exist() -> None:
    brands = {b.slug for b in BRANDS}
    categories = {c.slug for c in CATEGORIES}
    for p in PRODUCTS:
        assert p.brand in brands, p.slug
        assert p.category in categories, p.slug


def test_core_categories_have_ten_products() -> None:
    counts = Counter(p.category for p in PRODUCTS)
    for cat in ("phones", "smart-home", "lifestyle"):
        assert counts[cat] >= 10, (cat, counts[cat])


def test_variant_counts() -> None:
    for p in PRODUCTS:
        lo, hi = (2, 4) if p.category == "phones" else (1, 3)
        assert lo <= len(p.variants) <= hi, p.slug


def test_prices_and_costs() -> None:
    for v in ALL_VARIANTS:
        assert isinstance(v.price_fen, int) and not isinstance(v.price_fen, bool), v.sku
        assert isinstance(v.cost_fen, int) and not isinstance(v.cost_fen, bool), v.sku
        assert v.price_fen > 0, v.sku
        assert 0 < v.cost_fen < v.price_fen, v.sku
        assert 0.6 <= v.cost_fen / v.price_fen <= 0.85, v.sku


def test_locations() -> None:
    by_code = {loc.code: loc for loc in LOCATIONS}
    assert len(by_code) == len(LOCATIONS)
    assert by_code["main"].kind == "warehouse" and by_code["main"].priority == 10
    assert by_code["sh-store"].kind == "store" and by_code["sh-store"].priority == 20
    assert by_code["sz-store"].kind == "store" and by_code["sz-store"].priority == 30
    assert all(loc.kind in ("warehouse", "store") for loc in LOCATIONS)


def test_stock_locations_exist_and_quantities_valid() -> None:
    codes = {loc.code for loc in LOCATIONS}
    for v in ALL_VARIANTS:
        assert set(v.stock) <= codes, v.sku
        assert v.stock.get("main", 0) > 0, v.sku
        for qty in v.stock.values():
            assert isinstance(qty, int) and qty >= 0, v.sku


def test_some_low_stock_variants() -> None:
    low = [v.sku for v in ALL_VARIANTS if 1 <= sum(v.stock.values()) <= 5]
    assert len(low) >= 3


def test_names_and_descriptions_present() -> None:
    for p in PRODUCTS:
        assert p.name and p.name_en and p.description and p.description_en, p.slug
        for v in p.variants:
            assert v.name and v.name_en, v.sku
