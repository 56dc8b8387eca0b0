"""Storefront pages of the catalogue: home, listing and search, product page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from fanbase.catalog import service
from fanbase.catalog.api import image_url
from fanbase.festival import service as festival
from fanbase.flashsale import service as flashsale
from fanbase.flashsale.showcase import next_launch
from fanbase.i18n import gettext as _
from fanbase.inventory.service import available_by_sku
from fanbase.pages import ctx_of, for_visitors, named, render
from fanbase.pagination import PageRequest, page_request
from fanbase.social.groupbuys.pages import offers_panel
from fanbase.social.referrals import pages as referrals_pages
from fanbase.social.reviews import service as reviews

router = APIRouter()
FEATURED = 8
PER_PAGE = 24


@router.get("/")
async def home(request: Request) -> Response:
    return await for_visitors(request, lambda: _home(request))


def _home(request: Request) -> Response:
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.db.read() as session:
        launch = None
        sale = next_launch(session, now)
        if sale is not None:
            product = service.get_variant(session, sale.sku).product
            remaining = flashsale.remaining_units(session, ctx.flash_gate, sale)
            launch = {"sale": sale, "product": product, "remaining": remaining,
                      "status": flashsale.status(sale, now, remaining),
                      "reservations": flashsale.reservation_count(session, sale.id)}
        featured = service.list_products(session, PageRequest(limit=FEATURED)).items
        return render(request, "catalog/home.html", title=_("The brand's own store"), launch=launch,
                      brands=service.list_brands(session), categories=service.list_categories(session),
                      products=featured, prices=festival.lowest_prices(session, now, featured),
                      image_url=image_url, festival=festival.live_festival(session, now))


@router.get("/products")
async def listing(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
                  brand: Annotated[str | None, Query(max_length=64)] = None,
                  category: Annotated[str | None, Query(max_length=64)] = None,
                  cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    return await for_visitors(request, lambda: _listing(request, q, brand, category, cursor))


def _listing(request: Request, q: str | None, brand: str | None, category: str | None,
             cursor: str | None) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        page = service.list_products(session, page_request(PER_PAGE, cursor), q=q, brand=brand, category=category)
        brands, categories = service.list_brands(session), service.list_categories(session)
        chosen = [named(b) for b in brands if b.slug == brand] + [named(c) for c in categories if c.slug == category]
        title = _("Search: {q}", q=q) if q else (" · ".join(chosen) or _("All products"))
        return render(request, "catalog/listing.html", title=title, q=q or "", brand=brand or "",
                      category=category or "", brands=brands, categories=categories, products=page.items,
                      next_cursor=page.next_cursor, image_url=image_url,
                      prices=festival.lowest_prices(session, ctx.clock.now(), page.items))


@router.get("/products/{slug}")
async def product_page(request: Request, slug: Annotated[str, Path(max_length=100)],
                       sku: Annotated[str | None, Query(max_length=64)] = None,
                       ref: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    page = await for_visitors(request, lambda: _product_page(request, slug, sku))
    # a share link (``?ref=CODE``): a click for a signed-in customer, else kept until they sign in
    return await referrals_pages.note_ref(request, page, ref) if ref and page.status_code == 200 else page


def _product_page(request: Request, slug: str, sku: str | None) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        product = service.get_product(session, slug)
        available = available_by_sku(session, [v.sku for v in product.variants])
        in_stock = [v for v in product.variants if available.get(v.sku, 0) > 0]
        chosen = next((v for v in product.variants if v.sku == sku), None) or (in_stock or product.variants)[0]
        return render(request, "catalog/product.html", title=named(product),
                      description=named(product, "description")[:200], og_type="product",
                      image=str(request.base_url).rstrip("/") + image_url(product), product=product,
                      available=available, chosen=chosen, image_url=image_url,
                      prices=festival.variant_prices(session, ctx.clock.now(), [product]),
                      rating=reviews.rating_of(session, product.id),
                      reviews=reviews.recent_reviews(session, product.id),
                      group_offers=offers_panel(session, [v.sku for v in product.variants]))
