from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from fanbase.cart import service
from fanbase.web import Ctx, CurrentCaller, InputModel

router = APIRouter(tags=["cart"])


class QuantityIn(InputModel):
    quantity: int = Field(ge=0, le=service.MAX_QUANTITY_PER_LINE)


class CartLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price_fen: int
    line_total_fen: int
    list_price_fen: int = Field(description="the catalogue price; unit_price_fen is lower while a festival "
                                            "discounts the line")
    festival_id: int | None = None


class CartOut(BaseModel):
    lines: list[CartLineOut]
    total_fen: int


def cart_out(cart: service.Cart) -> CartOut:
    return CartOut(lines=[CartLineOut(sku=x.sku, quantity=x.quantity, unit_price_fen=x.unit_price_fen,
                                      line_total_fen=x.line_total_fen, list_price_fen=x.list_price_fen,
                                      festival_id=x.festival_id) for x in cart.lines],
                   total_fen=cart.total_fen)


@router.get("/cart", response_model=CartOut)
def get_cart(caller: CurrentCaller, ctx: Ctx) -> CartOut:
    with ctx.db.read() as session:
        return cart_out(service.get_cart(session, ctx.clock, caller.user_id))


@router.put("/cart/items/{sku}", response_model=CartOut)
def put_item(sku: Annotated[str, Path(max_length=64)], body: QuantityIn, caller: CurrentCaller, ctx: Ctx) -> CartOut:
    with ctx.db.uow() as session:
        return cart_out(service.set_quantity(session, ctx.clock, caller.user_id, sku, body.quantity))
