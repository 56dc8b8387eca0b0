"""The launch page ``/flash-sales/{id}``: reserve before the start, buy at the start, the result.

The buy goes through the JSON API's own path (``api._rate_limit`` and ``api._buy``: gate, lottery round,
group commit), so a page purchase is decided and written exactly as an API one; a refusal is shown as
its translated message on the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fanbase.accounts.service import Principal
from fanbase.catalog import service as catalog
from fanbase.catalog.api import image_url
from fanbase.errors import DomainError
from fanbase.flashsale import api, service
from fanbase.flashsale.models import LOTTERY
from fanbase.flashsale.showcase import customer_order_id
from fanbase.i18n import gettext as _
from fanbase.orders import service as orders
from fanbase.orders.models import PENDING_PAYMENT
from fanbase.pages import ctx_of, form, message, named, redirect, render, signed_in, visitor, write

router = APIRouter()
SaleId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/flash-sales/{sale_id}")
def launch_page(request: Request, sale_id: SaleId) -> Response:
    ctx = ctx_of(request)
    fan = visitor(request).principal
    now = ctx.clock.now()
    with ctx.db.read() as session:
        sale = service.get_sale(session, sale_id)
        variant = catalog.get_variant(session, sale.sku)
        product = variant.product
        remaining = service.remaining_units(session, ctx.flash_gate, sale)
        mine: dict[str, Any] = {"reserved": False, "order": None, "draw": None}
        if fan is not None:
            mine["reserved"] = service.is_reserved(session, sale_id, fan.user_id)
            order_id = customer_order_id(session, sale_id, fan.user_id)
            if order_id is not None:
                mine["order"] = orders.get_order(session, order_id, customer_id=fan.user_id)
            if sale.mode == LOTTERY and mine["reserved"] and now >= sale.starts_at:
                mine["draw"] = service.customer_draw(session, sale_id, fan.user_id)
        return render(request, "flashsale/launch.html", title=_("Launch: {name}", name=named(product)),
                      description=named(product, "description")[:200], og_type="product",
                      image=str(request.base_url).rstrip("/") + image_url(product), sale=sale, product=product,
                      variant=variant, remaining=remaining, state=service.status(sale, now, remaining),
                      reservations=service.reservation_count(session, sale_id), lottery=sale.mode == LOTTERY,
                      now=now, pending=PENDING_PAYMENT, image_url=image_url, **mine)


@router.post("/flash-sales/{sale_id}/reserve")
async def reserve(request: Request, sale_id: SaleId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, fan: Principal, fields: dict[str, str]) -> None:
        service.reserve(session, ctx.clock, sale_id, fan.user_id)

    def tell_the_gate() -> None:  # after the commit, as the API does
        ctx.flash_gate.add_reservation(sale_id, signed_in(request).user_id)

    return await write(request, f"/flash-sales/{sale_id}", _("You have reserved: come back when the sale starts"),
                       work, after=tell_the_gate)


@router.post("/flash-sales/{sale_id}/buy")
async def buy(request: Request, sale_id: SaleId) -> Response:
    await form(request)
    fan = signed_in(request)
    ctx = ctx_of(request)
    back = f"/flash-sales/{sale_id}"
    try:
        api._rate_limit(ctx, request, fan.user_id)
        token = await run_in_threadpool(_purchase_token, sale_id, fan.user_id, request)
        await api._buy(ctx, sale_id, fan.user_id, api.PurchaseIn(quantity=1, purchase_token=token))
    except DomainError as exc:
        return redirect(request, back, error=message(exc))
    return redirect(request, back, notice=_("You got one! Pay before the deadline to keep it."))


def _purchase_token(sale_id: int, customer_id: int, request: Request) -> str | None:
    """The page is the fan's own client: it asks for the token (issued to reserved fans once the sale is
    live) only when the sale needs one."""
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        if not service.get_sale(session, sale_id).require_purchase_token:
            return None
        return service.issue_purchase_token(session, ctx.clock, ctx.secret_key, sale_id, customer_id)
