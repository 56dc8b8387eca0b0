from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanbase.accounts.service import require_staff
from fanbase.context import Context
from fanbase.membership.service import POINT_FEN
from fanbase.orders import service
from fanbase.orders.models import Order
from fanbase.pagination import page_request
from fanbase.payments.models import Payment
from fanbase.web import (
    Ctx,
    CurrentCaller,
    FastJSONResponse,
    IdempotencyKey,
    InputModel,
    Staff,
    idempotent_post,
    iso,
)

router = APIRouter(tags=["orders"])

OrderId = Annotated[int, Path(ge=1, le=2**62)]
PaymentMethod = Literal["gateway", "wallet", "fund"]


class AddressIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9 -]{3,18}$")
    line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postcode: str = Field(min_length=3, max_length=12, pattern=r"^[A-Za-z0-9 -]+$")


class CheckoutIn(InputModel):
    payment_method: PaymentMethod
    shipping_address: AddressIn
    points: int = Field(default=0, ge=0, le=10**10,
                        description="membership points to spend: 100 points = 1 CNY off, at most the order total")


class PayIn(InputModel):
    payment_method: PaymentMethod


class OrderLineOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_fen: int


class PaymentOut(BaseModel):
    id: str
    status: str
    pay_url: str


class OrderEventOut(BaseModel):
    kind: str
    status: str
    at: str


class OrderOut(BaseModel):
    id: int
    number: str
    status: str
    lines: list[OrderLineOut]
    total_fen: int
    payment_method: str
    payment_due_at: str
    created_at: str
    payment: PaymentOut | None = None
    shipping_address: dict[str, str]
    events: list[OrderEventOut]
    points_redeemed: int = Field(default=0, description="membership points spent on the order")
    discount_fen: int = Field(default=0, description="taken off the lines' prices by the points")


class OrderList(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


def order_out(ctx: Context, order: Order | service.PlacedOrder, payment: Payment | None) -> dict[str, Any]:
    return {
        "id": order.id, "number": order.number, "status": order.status,
        "lines": [{"sku": x.sku, "name": x.name, "quantity": x.quantity, "unit_price_fen": x.unit_price_fen}
                  for x in order.lines],
        "total_fen": order.total_fen, "payment_method": order.payment_method,
        "payment_due_at": iso(ctx, order.payment_due_at), "created_at": iso(ctx, order.created_at),
        "payment": None if payment is None or payment.gateway is None else
        {"id": payment.id, "status": payment.status, "pay_url": payment.pay_url},
        "shipping_address": order.shipping_address,
        "events": [{"kind": e.kind, "status": e.status, "at": iso(ctx, e.at)} for e in order.events],
        "points_redeemed": getattr(order, "points_discount_fen", 0) // POINT_FEN,
        "discount_fen": getattr(order, "points_discount_fen", 0),
    }


def _one(ctx: Context, session: Session, order: Order) -> dict[str, Any]:
    session.flush()
    return order_out(ctx, order, service.current_payment(session, order))


@router.post("/checkout", status_code=201, response_model=OrderOut)
async def checkout(body: CheckoutIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                   idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        order = service.checkout(session, ctx.clock, ctx.gateway, ctx.order_policy, customer_id=caller.user_id,
                                 payment_method=body.payment_method,
                                 shipping_address=body.shipping_address.model_dump(), points=body.points)
        return 201, _one(ctx, session, order)

    return await idempotent_post(request, caller, idempotency_key, work)


@router.get("/orders", response_model=OrderList)
def list_orders(caller: CurrentCaller, ctx: Ctx, limit: Annotated[int | None, Query(ge=1, le=100)] = None,
                cursor: Annotated[str | None, Query(max_length=200)] = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.list_orders(session, page_request(limit, cursor), customer_id=caller.user_id)
        pays = service.current_payments(session, page.items)
        return FastJSONResponse({"items": [order_out(ctx, o, pays.get(o.id)) for o in page.items],
                                 "next_cursor": page.next_cursor})


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: OrderId, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        order = service.get_order(session, order_id, customer_id=caller.user_id)
        return FastJSONResponse(order_out(ctx, order, service.current_payment(session, order)))


@router.post("/orders/{order_id}/pay", response_model=OrderOut)
async def pay_order(order_id: OrderId, body: PayIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                    idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        order = service.pay(session, ctx.clock, ctx.gateway, ctx.order_policy, order_id=order_id,
                            customer_id=caller.user_id, payment_method=body.payment_method)
        return 200, _one(ctx, session, order)

    return await idempotent_post(request, caller, idempotency_key, work)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(order_id: OrderId, request: Request, caller: CurrentCaller, ctx: Ctx,
                       idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        order = service.cancel(session, ctx.clock, ctx.gateway, order_id=order_id, customer_id=caller.user_id)
        return 200, _one(ctx, session, order)

    return await idempotent_post(request, caller, idempotency_key, work)


# --- staff -----------------------------------------------------------------------------------------


@router.get("/admin/orders", response_model=OrderList)
def admin_list_orders(caller: Staff, ctx: Ctx, status: Annotated[str | None, Query(max_length=20)] = None,
                      limit: Annotated[int | None, Query(ge=1, le=100)] = None,
                      cursor: Annotated[str | None, Query(max_length=200)] = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.list_orders(session, page_request(limit, cursor), status=status)
        pays = service.current_payments(session, page.items)
        return FastJSONResponse({"items": [order_out(ctx, o, pays.get(o.id)) for o in page.items],
                                 "next_cursor": page.next_cursor})


@router.post("/admin/orders/{order_id}/ship", response_model=OrderOut)
def ship(order_id: OrderId, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        order = service.ship(session, ctx.clock, order_id=order_id, actor_id=caller.user_id)
        return FastJSONResponse(_one(ctx, session, order))


@router.post("/admin/orders/{order_id}/deliver", response_model=OrderOut)
def deliver(order_id: OrderId, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        order = service.deliver(session, ctx.clock, order_id=order_id, actor_id=caller.user_id)
        return FastJSONResponse(_one(ctx, session, order))


@router.post("/admin/orders/{order_id}/refund", response_model=OrderOut)
async def refund(order_id: OrderId, request: Request, caller: Staff, ctx: Ctx,
                 idempotency_key: IdempotencyKey = None) -> Response:
    require_staff(caller, "operator")

    def work(session: Session) -> tuple[int, Any]:
        order = service.refund(session, ctx.clock, ctx.gateway, order_id=order_id, actor_id=caller.user_id)
        return 200, _one(ctx, session, order)

    return await idempotent_post(request, caller, idempotency_key, work)
