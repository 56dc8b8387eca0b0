"""Cart: one per customer; prices are read live from the catalogue, through the festival's pricing
(``festival.service.prices_for``: a live festival's discount, else the list price)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fanbase.cart.models import CartItem
from fanbase.catalog.service import get_variant, sku_info
from fanbase.clock import Clock
from fanbase.errors import ValidationFailed
from fanbase.festival import service as festival

MAX_QUANTITY_PER_LINE = 99
MAX_LINES = 50


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int
    unit_price_fen: int  # what the fan pays now: the festival price while one discounts it
    title: str = ""
    list_price_fen: int = 0
    festival_id: int | None = None

    @property
    def line_total_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]

    @property
    def total_fen(self) -> int:
        return sum(line.line_total_fen for line in self.lines)


def get_cart(session: Session, clock: Clock, customer_id: int) -> Cart:
    items = session.execute(select(CartItem.sku, CartItem.quantity).where(CartItem.customer_id == customer_id)
                            .order_by(CartItem.id)).all()
    info = sku_info(session, [sku for sku, _ in items])
    known = [(sku, quantity) for sku, quantity in items if sku in info]
    prices = festival.prices_for(session, clock.now(), [
        festival.Priced(info[sku].price_fen, info[sku].product_id, info[sku].category_id) for sku, _ in known])
    return Cart(lines=[CartLine(sku=sku, quantity=quantity, unit_price_fen=price.price_fen, title=info[sku].title,
                                list_price_fen=price.list_price_fen, festival_id=price.festival_id)
                       for (sku, quantity), price in zip(known, prices, strict=True)])


def set_quantity(session: Session, clock: Clock, customer_id: int, sku: str, quantity: int) -> Cart:
    """Set a line's quantity; 0 removes it. Unknown SKUs are 404 (a wrong address, not bad data)."""
    if not 0 <= quantity <= MAX_QUANTITY_PER_LINE:
        raise ValidationFailed("quantity must be between 0 and {max}", max=MAX_QUANTITY_PER_LINE)
    get_variant(session, sku)
    item = session.scalar(select(CartItem).where(CartItem.customer_id == customer_id, CartItem.sku == sku))
    if quantity == 0:
        if item is not None:
            session.delete(item)
    elif item is not None:
        item.quantity = quantity
        item.updated_at = clock.now()
    else:
        count = len(session.scalars(select(CartItem.id).where(CartItem.customer_id == customer_id)).all())
        if count >= MAX_LINES:
            raise ValidationFailed("A cart holds at most {max} lines", max=MAX_LINES)
        session.add(CartItem(customer_id=customer_id, sku=sku, quantity=quantity, updated_at=clock.now()))
    session.flush()
    return get_cart(session, clock, customer_id)


def add_item(session: Session, clock: Clock, customer_id: int, sku: str, quantity: int) -> Cart:
    """Add ``quantity`` to what the cart holds of ``sku`` (the "add to cart" button)."""
    if quantity < 1:
        raise ValidationFailed("quantity must be between 0 and {max}", max=MAX_QUANTITY_PER_LINE)
    held = session.scalar(select(CartItem.quantity).where(CartItem.customer_id == customer_id, CartItem.sku == sku))
    return set_quantity(session, clock, customer_id, sku, (held or 0) + quantity)


def remove_ordered(session: Session, customer_id: int, skus: Sequence[str]) -> None:
    """Checkout empties the cart of what it ordered (and leaves anything else)."""
    session.execute(delete(CartItem).where(CartItem.customer_id == customer_id, CartItem.sku.in_(list(skus))))
