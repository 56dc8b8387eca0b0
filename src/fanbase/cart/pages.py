"""The cart page: add from a product page, change quantities, go to checkout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.accounts.service import Principal
from fanbase.cart import service
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, render, signed_in, write

router = APIRouter()


@router.get("/cart")
def cart_page(request: Request) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        cart = service.get_cart(session, ctx.clock, customer.user_id)
    return render(request, "cart/cart.html", title=_("Your cart"), cart=cart)


@router.post("/cart/items")
async def add(request: Request) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> str:
        service.add_item(session, ctx.clock, customer.user_id, fields.get("sku", "")[:64], _quantity(fields))
        return "/cart"

    back = _same_site(request, request.headers.get("referer", "/cart"))
    return await write(request, back, _("Added to your cart"), work)


@router.post("/cart/items/{sku}")
async def change(request: Request, sku: Annotated[str, Path(max_length=64)]) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        service.set_quantity(session, ctx.clock, customer.user_id, sku, _quantity(fields, removing=True))

    return await write(request, "/cart", _("Your cart is updated"), work)


def _quantity(fields: dict[str, str], removing: bool = False) -> int:
    raw = fields.get("quantity", "").strip()
    if not raw.isdigit() or len(raw) > 4 or (int(raw) == 0 and not removing):
        return -1  # the service refuses it with its own message
    return int(raw)


def _same_site(request: Request, url: str) -> str:
    base = str(request.base_url)
    return "/" + url[len(base):] if url.startswith(base) else "/cart"
