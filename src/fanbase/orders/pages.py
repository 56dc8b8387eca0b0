"""Checkout, the order list and the order page with its timeline."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fanbase import idempotency
from fanbase.accounts.service import Principal
from fanbase.cart import service as cart_service
from fanbase.context import Context
from fanbase.errors import DomainError, ValidationFailed
from fanbase.fund import service as fund
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.membership import service as membership
from fanbase.orders import service
from fanbase.orders.api import AddressIn
from fanbase.orders.models import PAYMENT_METHODS, PENDING_PAYMENT
from fanbase.pages import ctx_of, form, message, redirect, render, signed_in, write
from fanbase.pagination import page_request
from fanbase.social.groupbuys import service as groupbuys
from fanbase.social.reviews import service as reviews
from fanbase.wallet import service as wallet

router = APIRouter()
OrderId = Annotated[int, Path(ge=1, le=2**62)]

STATUS_LABELS = {"pending_payment": N_("Waiting for payment"), "paid": N_("Paid"), "shipped": N_("Shipped"),
                 "delivered": N_("Delivered"), "completed": N_("Completed"), "cancelled": N_("Cancelled"),
                 "refunded": N_("Refunded")}
EVENT_LABELS = {"created": N_("Order placed"), "paid": N_("Paid"), "payment_declined": N_("Payment declined"),
                "expired": N_("Closed: not paid in time"), "cancelled": N_("Cancelled"), "shipped": N_("Shipped"),
                "delivered": N_("Delivered"), "completed": N_("Completed"), "refunded": N_("Refunded")}
METHOD_LABELS = {"gateway": N_("Bank card (sandbox gateway)"), "wallet": N_("Wallet balance"),
                 "fund": N_("Money-market balance")}
ADDRESS_FIELDS = ("name", "phone", "line1", "city", "postcode")


@router.get("/checkout")
def checkout_page(request: Request) -> Response:
    cart, available = _cart_and_balances(ctx_of(request), signed_in(request).user_id)
    if not cart.lines:
        return redirect(request, "/cart")
    return _checkout_form(request, cart, available, {}, None)


def _cart_and_balances(ctx: Context, customer_id: int) -> tuple[cart_service.Cart, dict[str, int]]:
    with ctx.db.read() as session:
        return cart_service.get_cart(session, ctx.clock, customer_id), _available(ctx, session, customer_id)


def _available(ctx: Context, session: Session, customer_id: int) -> dict[str, int]:
    """What each balance can pay now: the wallet's balance; the fund's confirmed units, up to what is left of
    today's instant allowance."""
    zone = ctx.settings.zone
    units = fund.holding(session, ctx.clock, zone, customer_id).balance_fen
    return {"wallet": wallet.balance(session, customer_id),
            "fund": min(units, fund.instant_left(session, ctx.clock, zone, customer_id)),
            "points": membership.points_of(session, ctx.clock, zone, customer_id)}


def _checkout_form(request: Request, cart: cart_service.Cart, available: dict[str, int], values: dict[str, str],
                   error: str | None, status: int = 200) -> Response:
    return render(request, "orders/checkout.html", title=_("Checkout"), status=status, cart=cart, values=values,
                  error=error, methods=METHOD_LABELS, available=available, key=secrets.token_urlsafe(16))


@router.post("/checkout")
async def place(request: Request) -> Response:
    fields = await form(request)
    customer = signed_in(request)
    ctx = ctx_of(request)
    method = fields.get("payment_method", "gateway")
    try:
        address = AddressIn(**{name: fields.get(name, "").strip() for name in ADDRESS_FIELDS})
    except ValidationError:
        return _checkout_form(request, *await run_in_threadpool(_cart_and_balances, ctx, customer.user_id), fields,
                              _("Please fill in every field of the address; the phone is digits only"), 422)

    def work(session: Session) -> tuple[int, Any]:
        order = service.checkout(session, ctx.clock, ctx.gateway, ctx.order_policy, customer_id=customer.user_id,
                                 payment_method=method if method in PAYMENT_METHODS else "",
                                 shipping_address=address.model_dump(), points=_points(fields))
        session.flush()
        payment = service.current_payment(session, order)
        return 201, {"id": order.id, "payment_id": payment.id if payment and payment.gateway else None}

    # the form's own key: a double click or a resubmitted form places one order
    key = fields.get("key", "")[:64] or None
    fingerprint = idempotency.fingerprint("POST", "/checkout", repr(sorted(fields.items())).encode())
    try:
        stored = await run_in_threadpool(idempotency.run_once, ctx.db, ctx.clock, caller=f"user:{customer.user_id}",
                                         key=key, request_fingerprint=fingerprint, action=work)
    except DomainError as exc:
        return redirect(request, "/checkout" if exc.code != "validation_error" else "/cart", error=message(exc))
    placed = stored.body
    if placed.get("payment_id"):
        return redirect(request, f"/sandbox-gateway/pay/{placed['payment_id']}")
    return redirect(request, f"/orders/{placed['id']}", notice=_("Thank you! Your order is placed."))


def _points(fields: dict[str, str]) -> int:
    raw = fields.get("points", "").strip() or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise ValidationFailed(N_("Enter the points to spend as a whole number"))
    return int(raw)


@router.get("/orders")
def order_list(request: Request, cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        page = service.list_orders(session, page_request(20, cursor), customer_id=customer.user_id)
        return render(request, "orders/list.html", title=_("My orders"), orders=page.items,
                      next_cursor=page.next_cursor, statuses=STATUS_LABELS)


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: OrderId) -> Response:
    customer = signed_in(request)
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        order = service.get_order(session, order_id, customer_id=customer.user_id)
        payment = service.current_payment(session, order)
        waiting = order.status == PENDING_PAYMENT and order.payment_due_at > ctx.clock.now()
        pay_at_bank = payment.id if waiting and payment and payment.gateway and payment.status == "pending" else None
        return render(request, "orders/order.html", title=_("Order {number}", number=order.number), order=order,
                      payment=payment, waiting=waiting, pay_at_bank=pay_at_bank, statuses=STATUS_LABELS,
                      events=EVENT_LABELS, methods=METHOD_LABELS,
                      cancellable=order.status in (PENDING_PAYMENT, "paid"),
                      reviewable=reviews.reviewable_lines(session, order),
                      group_id=groupbuys.group_of_order(session, order))


@router.post("/orders/{order_id}/pay")
async def pay(request: Request, order_id: OrderId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> str | None:
        order = service.pay(session, ctx.clock, ctx.gateway, ctx.order_policy, order_id=order_id,
                            customer_id=customer.user_id, payment_method="gateway")
        session.flush()
        payment = service.current_payment(session, order)
        return f"/sandbox-gateway/pay/{payment.id}" if payment else None

    return await write(request, f"/orders/{order_id}", None, work)


@router.post("/orders/{order_id}/cancel")
async def cancel(request: Request, order_id: OrderId) -> Response:
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        service.cancel(session, ctx.clock, ctx.gateway, order_id=order_id, customer_id=customer.user_id)

    return await write(request, f"/orders/{order_id}", _("The order is cancelled"), work)
