from __future__ import annotations

import hashlib
from typing import Annotated
from xml.sax.saxutils import escape

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fanbase.broadcast import CATALOG_CHANGED
from fanbase.catalog import service
from fanbase.catalog.models import Product
from fanbase.context import Context
from fanbase.festival import service as festival
from fanbase.i18n import current_locale
from fanbase.inventory.service import available_by_sku
from fanbase.pagination import page_request
from fanbase.social.reviews import service as reviews
from fanbase.web import Ctx, FastJSONResponse, InputModel, Staff

router = APIRouter(tags=["catalogue"])


class ProductSummary(BaseModel):
    id: int
    slug: str
    name: str
    name_en: str
    brand: str
    category: str
    price_fen: int
    image_url: str


class ProductList(BaseModel):
    items: list[ProductSummary]
    next_cursor: str | None


class VariantOut(BaseModel):
    sku: str
    name: str
    price_fen: int
    available: int
    festival_price_fen: int | None = Field(default=None, description="what checkout charges while a fan "
                                           "festival discounts this variant; null otherwise")


class RatingOut(BaseModel):
    average: str | None = Field(description="mean stars, one decimal (\"4.3\"); null without reviews")
    count: int


class ProductDetail(BaseModel):
    id: int
    slug: str
    name: str
    name_en: str
    description: str
    brand: str
    category: str
    image_url: str
    variants: list[VariantOut]
    rating: RatingOut


class VariantIn(InputModel):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    price_fen: int = Field(gt=0, le=10**10)
    cost_fen: int = Field(ge=0, le=10**10)
    name_en: str = Field(default="", max_length=200)


class ProductIn(InputModel):
    slug: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    brand: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=10_000)
    variants: list[VariantIn] = Field(min_length=1, max_length=50)
    name_en: str = Field(default="", max_length=200)
    description_en: str = Field(default="", max_length=10_000)


def _english() -> bool:
    return current_locale.get() == "en"


def _name(product: Product) -> str:
    return product.name_en if _english() and product.name_en else product.name


def image_url(product: Product) -> str:
    return f"/media/products/{product.slug}.svg"


def summary(product: Product) -> ProductSummary:
    return ProductSummary(id=product.id, slug=product.slug, name=_name(product), name_en=product.name_en,
                          brand=product.brand.slug, category=product.category.slug,
                          price_fen=service.lowest_price(product), image_url=image_url(product))


def detail(ctx: Context, product: Product, available: dict[str, int],
           rating: reviews.Rating | None = None, prices: dict[str, festival.Price] | None = None) -> dict[str, object]:
    english = _english()
    discounted = {sku: price.price_fen for sku, price in (prices or {}).items() if price.festival_id is not None}
    return {
        "id": product.id, "slug": product.slug, "name": _name(product), "name_en": product.name_en,
        "description": product.description_en if english and product.description_en else product.description,
        "brand": product.brand.slug, "category": product.category.slug, "image_url": image_url(product),
        "variants": [{"sku": v.sku, "name": v.name_en if english and v.name_en else v.name,
                      "price_fen": v.price_fen, "available": available.get(v.sku, 0),
                      "festival_price_fen": discounted.get(v.sku)} for v in product.variants],
        "rating": {"average": rating.average if rating else None, "count": rating.count if rating else 0},
    }


@router.get("/products", response_model=ProductList)
def list_products(ctx: Ctx, q: Annotated[str | None, Query(max_length=100)] = None,
                  brand: Annotated[str | None, Query(max_length=64)] = None,
                  category: Annotated[str | None, Query(max_length=64)] = None,
                  limit: Annotated[int | None, Query(ge=1, le=100)] = None,
                  cursor: Annotated[str | None, Query(max_length=200)] = None) -> ProductList:
    with ctx.db.read() as session:
        page = service.list_products(session, page_request(limit, cursor), q=q, brand=brand, category=category)
        return ProductList(items=[summary(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/products/{slug}", response_model=ProductDetail)
async def get_product(slug: Annotated[str, Path(max_length=100)], ctx: Ctx) -> Response:
    """The busiest read of the store: answered from a short-lived in-process copy when there is one
    (``FANBASE_PRODUCT_CACHE_SECONDS``), without a thread hop or a database read."""
    body = await ctx.product_pages.get_or_load((slug, current_locale.get()),
                                               lambda: run_in_threadpool(_product_page, ctx, slug))
    return Response(body, media_type="application/json")


def _product_page(ctx: Context, slug: str) -> bytes:
    with ctx.db.read() as session:
        product = service.get_product(session, slug)
        available = available_by_sku(session, [v.sku for v in product.variants])
        return orjson.dumps(detail(ctx, product, available, reviews.rating_of(session, product.id),
                                   festival.variant_prices(session, ctx.clock.now(), [product])))


@router.post("/admin/products", status_code=201, response_model=ProductDetail)
def create_product(body: ProductIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        product = service.create_product(
            session, ctx.clock, slug=body.slug, name=body.name, brand=body.brand, category=body.category,
            description=body.description, name_en=body.name_en, description_en=body.description_en,
            variants=[service.NewVariant(sku=v.sku, name=v.name, price_fen=v.price_fen, cost_fen=v.cost_fen,
                                         name_en=v.name_en) for v in body.variants],
            actor_id=caller.user_id)
        response = FastJSONResponse(detail(ctx, product, {}), status_code=201)
    ctx.broadcast.publish(CATALOG_CHANGED, body.slug)
    return response


media = APIRouter(tags=["media"])
PALETTE = ("#ff6900", "#2f6fed", "#10a37f", "#e8454b", "#8e44ad", "#f39c12", "#16a085", "#34495e")


@media.get("/media/products/{slug}.svg", include_in_schema=False)
def placeholder_image(slug: str, request: Request) -> Response:
    """A generated placeholder picture: the product's name on a colour derived from its slug."""
    ctx: Context = request.app.state.ctx
    with ctx.db.read() as session:
        product = service.get_product(session, slug[:100])
        label = escape(product.name[:18])
    colour = PALETTE[hashlib.sha256(slug.encode()).digest()[0] % len(PALETTE)]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600" viewBox="0 0 600 600">'
           f'<rect width="600" height="600" rx="48" fill="{colour}"/>'
           f'<circle cx="300" cy="250" r="120" fill="#ffffff" fill-opacity="0.18"/>'
           f'<text x="300" y="460" font-family="sans-serif" font-size="40" fill="#fff" text-anchor="middle">'
           f'{label}</text></svg>')
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
