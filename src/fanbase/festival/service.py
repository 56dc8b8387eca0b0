"""Fan festivals: a campaign with a time window, discounts by product or category, festival-only flash sales,
and the festival's dashboard.

Rules (chosen here; API.md is silent):
- A festival is live from ``starts_at`` (included) until ``ends_at`` (excluded).
- Festivals may not overlap: creating one whose window meets another's is refused with 409 ``conflict``,
  so at any moment at most one festival is live and a dashboard's window belongs to one festival only.
- A discount is ``percent_off`` (1-90) of a product (every variant) or of a category (every product in it);
  a product's own discount wins over its category's, whatever the percentages.
- The festival price is the list price x (100 - percent_off) / 100, rounded half up to the fen
  (``festival_price``). Every price the storefront shows and the cart and checkout charge comes from
  ``prices_for``. Flash-sale and group-buy orders keep their own prices: they never read these.
- A flash sale may belong to a festival (``check_flash_sale``): it must lie inside the festival's window.
- The dashboard (``dashboard.py``) counts orders placed inside the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog import service as catalog
from fanbase.catalog.models import Product
from fanbase.clock import Clock
from fanbase.errors import Conflict, NotFound, ValidationFailed
from fanbase.festival.models import Festival, FestivalDiscount

MAX_PERCENT_OFF = 90
MAX_DISCOUNTS = 200
MAX_NAME = 120
MAX_WINDOW = timedelta(days=62)
SCHEDULED, LIVE, ENDED = "scheduled", "live", "ended"
_OVERLAP_LOCK = 7_270_001  # PostgreSQL advisory lock key: one festival created at a time


@dataclass(frozen=True)
class DiscountSpec:
    percent_off: int
    product_slug: str | None = None
    category: str | None = None


def create_festival(session: Session, clock: Clock, *, name: str, starts_at: datetime, ends_at: datetime,
                    discounts: Sequence[DiscountSpec], actor_id: int) -> Festival:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise ValidationFailed("The name must be 1 to {max} characters", max=MAX_NAME)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed("Times must carry a time zone")
    if not starts_at < ends_at:
        raise ValidationFailed("A festival must end after it starts")
    if ends_at - starts_at > MAX_WINDOW:
        raise ValidationFailed("A festival lasts at most {days} days", days=MAX_WINDOW.days)
    if len(discounts) > MAX_DISCOUNTS:
        raise ValidationFailed("A festival has at most {max} discounts", max=MAX_DISCOUNTS)
    rows: list[FestivalDiscount] = []
    seen: set[tuple[str, int]] = set()
    for spec in discounts:
        if not 1 <= spec.percent_off <= MAX_PERCENT_OFF:
            raise ValidationFailed("percent_off must be between 1 and {max}", max=MAX_PERCENT_OFF)
        if (spec.product_slug is None) == (spec.category is None):
            raise ValidationFailed("A discount names either product_slug or category")
        try:
            if spec.product_slug is not None:
                product = catalog.get_product(session, spec.product_slug)
                key, row = ("product", product.id), FestivalDiscount(product_id=product.id, slug=product.slug,
                                                                     percent_off=spec.percent_off)
            else:
                category = catalog.get_category(session, spec.category or "")
                key, row = ("category", category.id), FestivalDiscount(category_id=category.id, slug=category.slug,
                                                                       percent_off=spec.percent_off)
        except NotFound as missing:  # a name in the body, not an address: bad input
            raise ValidationFailed(missing.detail, **missing.params) from None
        if key in seen:
            raise ValidationFailed("A product or category is discounted once per festival")
        seen.add(key)
        rows.append(row)
    _lock_festivals(session)
    clash = session.scalar(select(Festival.id).where(Festival.starts_at < ends_at, Festival.ends_at > starts_at)
                           .limit(1))
    if clash is not None:
        raise Conflict("This festival overlaps festival {id}", id=clash)
    festival = Festival(name=name, starts_at=starts_at, ends_at=ends_at, created_by=actor_id,
                        created_at=clock.now(), discounts=rows)
    session.add(festival)
    session.flush()
    record_audit(session, clock, actor_id=actor_id, action="festival.create", target=f"festival:{festival.id}",
                 detail={"name": name, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                         "discounts": [describe(d) for d in rows]})
    return festival


def _lock_festivals(session: Session) -> None:
    """The overlap check is a read then an insert: creations take turns. SQLite writers already do
    (``BEGIN IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock serialises them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OVERLAP_LOCK})


def describe(discount: FestivalDiscount) -> dict[str, object]:
    return {"product_slug": discount.slug if discount.product_id is not None else None,
            "category": discount.slug if discount.category_id is not None else None,
            "percent_off": discount.percent_off}


def status(festival: Festival, now: datetime) -> str:
    return SCHEDULED if now < festival.starts_at else LIVE if now < festival.ends_at else ENDED


def get_festival(session: Session, festival_id: int) -> Festival:
    festival = session.get(Festival, festival_id)
    if festival is None:
        raise NotFound("No such festival")
    return festival


def live_festival(session: Session, now: datetime) -> Festival | None:
    return session.scalar(select(Festival).where(Festival.starts_at <= now, Festival.ends_at > now).limit(1))


def current_festival(session: Session, now: datetime) -> Festival:
    festival = live_festival(session, now)
    if festival is None:
        raise NotFound("No festival is on now")
    return festival


def list_festivals(session: Session, limit: int = 100) -> list[Festival]:
    return list(session.scalars(select(Festival).order_by(Festival.starts_at.desc(), Festival.id.desc())
                                .limit(limit)))


def check_flash_sale(session: Session, festival_id: int, starts_at: datetime, ends_at: datetime) -> None:
    """A festival-only flash sale lies inside its festival's window (422 otherwise, or for no such festival)."""
    festival = session.get(Festival, festival_id)
    if festival is None:
        raise ValidationFailed("No festival {id}", id=festival_id)
    if not (festival.starts_at <= starts_at and ends_at <= festival.ends_at):
        raise ValidationFailed("A festival flash sale must start and end inside the festival")


# --- prices --------------------------------------------------------------------------------------------


def festival_price(list_price_fen: int, percent_off: int) -> int:
    """List price x (100 - percent_off) / 100, rounded half up to the fen (in integers: +50 before // 100)."""
    return (list_price_fen * (100 - percent_off) + 50) // 100


@dataclass(frozen=True)
class Priced:
    """What a price depends on: the variant's list price, its product and the product's category."""

    list_price_fen: int
    product_id: int
    category_id: int


@dataclass(frozen=True)
class Price:
    price_fen: int  # what the fan pays
    list_price_fen: int
    festival_id: int | None = None  # set when a festival discount made the price
    percent_off: int = 0

    @property
    def discounted(self) -> bool:
        return self.festival_id is not None


@dataclass(frozen=True)
class _Discounts:
    festival_id: int
    by_product: dict[int, int]
    by_category: dict[int, int]


def _live_discounts(session: Session, now: datetime) -> _Discounts | None:
    rows = session.execute(select(Festival.id, FestivalDiscount.product_id, FestivalDiscount.category_id,
                                  FestivalDiscount.percent_off)
                           .join(FestivalDiscount, FestivalDiscount.festival_id == Festival.id)
                           .where(Festival.starts_at <= now, Festival.ends_at > now)).tuples().all()
    if not rows:
        return None
    found = _Discounts(festival_id=rows[0][0], by_product={}, by_category={})
    for _festival, product_id, category_id, percent in rows:
        if product_id is not None:
            found.by_product[product_id] = percent
        elif category_id is not None:
            found.by_category[category_id] = percent
    return found


def prices_for(session: Session, now: datetime, items: Sequence[Priced]) -> list[Price]:
    """The price of each item at ``now``: the live festival's product discount, else its category discount,
    else the list price. The one place a festival changes a price (one query for all the items)."""
    discounts = _live_discounts(session, now) if items else None
    if discounts is None:
        return [Price(price_fen=x.list_price_fen, list_price_fen=x.list_price_fen) for x in items]
    prices = []
    for item in items:
        percent = discounts.by_product.get(item.product_id) or discounts.by_category.get(item.category_id)
        if percent:
            prices.append(Price(price_fen=festival_price(item.list_price_fen, percent),
                                list_price_fen=item.list_price_fen, festival_id=discounts.festival_id,
                                percent_off=percent))
        else:
            prices.append(Price(price_fen=item.list_price_fen, list_price_fen=item.list_price_fen))
    return prices


def variant_prices(session: Session, now: datetime, products: Sequence[Product]) -> dict[str, Price]:
    """Every variant of these products, by SKU (product pages and cards)."""
    variants = [(v, p) for p in products for v in p.variants]
    prices = prices_for(session, now, [Priced(v.price_fen, p.id, p.category_id) for v, p in variants])
    return {v.sku: price for (v, _p), price in zip(variants, prices, strict=True)}


def lowest_prices(session: Session, now: datetime, products: Sequence[Product]) -> dict[int, Price]:
    """Each product's cheapest variant at ``now`` (the cards' "from" price), by product id."""
    by_sku = variant_prices(session, now, products)
    return {p.id: min((by_sku[v.sku] for v in p.variants), key=lambda x: (x.price_fen, x.list_price_fen))
            for p in products if p.variants}
