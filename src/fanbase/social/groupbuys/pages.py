"""Group-buy pages: start a group from an offer (``/group-buys/new?offer=``), the group's page
(``/group-buys/{id}``: members, countdown, share link, join form). The product page shows the offers
(``offers_panel``)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fanbase import idempotency
from fanbase.catalog.service import sku_info
from fanbase.errors import DomainError
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.orders import service as orders
from fanbase.orders.api import AddressIn
from fanbase.orders.models import PAYMENT_METHODS
from fanbase.orders.pages import ADDRESS_FIELDS, METHOD_LABELS, _available
from fanbase.pages import ctx_of, form, message, redirect, render, signed_in, visitor
from fanbase.social.groupbuys import service
from fanbase.social.groupbuys.models import GroupOffer

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**62)]
STATUS_LABELS = {"forming": N_("Forming"), "complete": N_("Complete"), "failed": N_("Failed: everyone refunded")}
ADDRESS_HINT = N_("Please fill in every field of the address; the phone is digits only")


def offers_panel(session: Session, skus: list[str]) -> list[dict[str, Any]]:
    """What the product page shows: each group offer of its SKUs with the variant's title."""
    offers = service.offers_for(session, skus)
    titles = sku_info(session, list({o.sku for o in offers}))
    return [{"offer": o, "title": titles[o.sku].title if o.sku in titles else o.sku} for o in offers]


@router.get("/group-buys/new")
def start_page(request: Request, offer: Annotated[int, Query(ge=1, le=2**62)]) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        found = service.get_offer(session, offer)
        return _start_form(request, session, customer.user_id, found, {}, None)


def _start_form(request: Request, session: Session, customer_id: int, offer: GroupOffer, values: dict[str, str],
                error: str | None, status: int = 200) -> Response:
    ctx = ctx_of(request)
    title = sku_info(session, [offer.sku]).get(offer.sku)
    return render(request, "groupbuys/start.html", title=_("Start a group"), status=status, offer=offer,
                  product_title=title.title if title else offer.sku, values=values, error=error,
                  methods=METHOD_LABELS, available=_available(ctx, session, customer_id),
                  key=secrets.token_urlsafe(16))


@router.post("/group-buys")
async def start(request: Request) -> Response:
    fields = await form(request)
    customer = signed_in(request)
    ctx = ctx_of(request)
    raw_offer = fields.get("offer_id", "")
    offer_id = int(raw_offer) if raw_offer.isdigit() and len(raw_offer) < 18 else 0
    address = _address(fields)
    if address is None:
        def again() -> Response:
            with ctx.db.read() as session:
                found = service.get_offer(session, offer_id)
                return _start_form(request, session, customer.user_id, found, fields, _(ADDRESS_HINT), 422)

        return await run_in_threadpool(again)

    def work(session: Session) -> tuple[int, Any]:
        joined = service.start(session, ctx.clock, ctx.gateway, ctx.order_policy, offer_id=offer_id,
                               customer_id=customer.user_id, payment_method=_method(fields),
                               shipping_address=address.model_dump())
        return 201, _placed(session, joined)

    return await _place(request, customer.user_id, fields, f"/group-buys/new?offer={offer_id}", work)


@router.get("/group-buys/{group_id}")
def group_page(request: Request, group_id: Id) -> Response:
    ctx = ctx_of(request)
    who = visitor(request).principal
    with ctx.db.read() as session:
        group = service.get_group(session, group_id)
        status = service.status_of(group, ctx.clock.now())
        order_id = service.member_order_id(session, group_id, who.user_id) if who else None
        holding = service.holds_place(session, group_id, who.user_id) if who else False
        info = sku_info(session, [group.sku]).get(group.sku)
        available = _available(ctx, session, who.user_id) if who else {}
        return render(request, "groupbuys/group.html", title=_("Group buy {id}", id=group.id), group=group,
                      group_status=status, statuses=STATUS_LABELS, product_title=info.title if info else group.sku,
                      order_id=order_id, holding=holding, signed_in=who is not None,
                      places_left=group.group_size - group.seats_taken if status == "forming" else 0,
                      share_url=f"{ctx.settings.public_url.rstrip('/')}/group-buys/{group.id}",
                      values={}, methods=METHOD_LABELS, available=available, key=secrets.token_urlsafe(16))


@router.post("/group-buys/{group_id}/join")
async def join(request: Request, group_id: Id) -> Response:
    fields = await form(request)
    customer = signed_in(request)
    ctx = ctx_of(request)
    back = f"/group-buys/{group_id}"
    address = _address(fields)
    if address is None:
        return redirect(request, back, error=_(ADDRESS_HINT))

    def work(session: Session) -> tuple[int, Any]:
        joined = service.join(session, ctx.clock, ctx.gateway, ctx.order_policy, group_id=group_id,
                              customer_id=customer.user_id, payment_method=_method(fields),
                              shipping_address=address.model_dump())
        return 201, _placed(session, joined)

    return await _place(request, customer.user_id, fields, back, work)


def _address(fields: dict[str, str]) -> AddressIn | None:
    try:
        return AddressIn(**{name: fields.get(name, "").strip() for name in ADDRESS_FIELDS})
    except ValidationError:
        return None


def _method(fields: dict[str, str]) -> str:
    method = fields.get("payment_method", "gateway")
    return method if method in PAYMENT_METHODS else ""


def _placed(session: Session, joined: service.Joined) -> dict[str, Any]:
    session.flush()
    payment = orders.current_payment(session, joined.order)
    return {"group_id": joined.group.id, "order_id": joined.order.id,
            "payment_id": payment.id if payment and payment.gateway else None}


async def _place(request: Request, customer_id: int, fields: dict[str, str], back: str, work: Any) -> Response:
    """As checkout's form: its own key, so a double click places one order; then to the bank or the group."""
    ctx = ctx_of(request)
    key = fields.get("key", "")[:64] or None
    fingerprint = idempotency.fingerprint("POST", request.url.path, repr(sorted(fields.items())).encode())
    try:
        stored = await run_in_threadpool(idempotency.run_once, ctx.db, ctx.clock, caller=f"user:{customer_id}",
                                         key=key, request_fingerprint=fingerprint, action=work)
    except DomainError as exc:
        return redirect(request, back, error=message(exc))
    placed = stored.body
    if placed.get("payment_id"):
        return redirect(request, f"/sandbox-gateway/pay/{placed['payment_id']}")
    return redirect(request, f"/group-buys/{placed['group_id']}", notice=_("You are in the group."))
