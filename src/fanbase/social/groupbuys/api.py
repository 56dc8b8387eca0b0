"""Group-buy routes (API.md "Word of mouth, group buys, ideas, membership"): the operator's offers, starting,
joining and reading a group. The rules are in ``service``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanbase.accounts.service import require_staff
from fanbase.broadcast import CATALOG_CHANGED
from fanbase.context import Context
from fanbase.orders import service as orders
from fanbase.orders.api import AddressIn, OrderOut, PaymentMethod, order_out
from fanbase.social.groupbuys import service
from fanbase.social.groupbuys.models import GroupBuy, GroupOffer
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, IdempotencyKey, InputModel, Staff, idempotent_post, iso

router = APIRouter(tags=["group buys"])

GroupId = Annotated[int, Path(ge=1, le=2**62)]
Id = Annotated[int, Field(ge=1, le=2**62)]


class OfferIn(InputModel):
    sku: str = Field(min_length=1, max_length=64)
    group_price_fen: int = Field(gt=0, le=10_000_000_000)
    group_size: int = Field(ge=service.MIN_SIZE, le=service.MAX_SIZE)
    time_limit_seconds: int = Field(default=service.DEFAULT_TIME_LIMIT, ge=service.MIN_TIME_LIMIT,
                                    le=service.MAX_TIME_LIMIT)


class OfferOut(BaseModel):
    id: int
    sku: str
    group_price_fen: int
    group_size: int
    time_limit_seconds: int
    created_at: str


class JoinIn(InputModel):
    payment_method: PaymentMethod
    shipping_address: AddressIn


class StartIn(JoinIn):
    offer_id: Id


class GroupOut(BaseModel):
    id: int
    status: str = Field(description="forming | complete | failed")
    members: int = Field(description="members who have paid")
    group_size: int
    expires_at: str
    order_id: int | None = Field(description="the caller's order in this group, if any")
    offer_id: int
    sku: str
    group_price_fen: int
    places_left: int = Field(description="places neither paid for nor waiting for payment")
    share_url: str
    order: OrderOut | None = Field(default=None, description="the order just placed (POST answers)")


def offer_out(ctx: Context, offer: GroupOffer) -> dict[str, Any]:
    return {"id": offer.id, "sku": offer.sku, "group_price_fen": offer.group_price_fen,
            "group_size": offer.group_size, "time_limit_seconds": offer.time_limit_seconds,
            "created_at": iso(ctx, offer.created_at)}


def group_out(ctx: Context, group: GroupBuy, order_id: int | None, order: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    status = service.status_of(group, ctx.clock.now())
    return {"id": group.id, "status": status, "members": group.paid_count, "group_size": group.group_size,
            "expires_at": iso(ctx, group.expires_at), "order_id": order_id, "offer_id": group.offer_id,
            "sku": group.sku, "group_price_fen": group.price_fen,
            "places_left": group.group_size - group.seats_taken if status == "forming" else 0,
            "share_url": f"{ctx.settings.public_url.rstrip('/')}/group-buys/{group.id}", "order": order}


def _joined(ctx: Context, session: Session, joined: service.Joined) -> dict[str, Any]:
    session.flush()
    order = order_out(ctx, joined.order, orders.current_payment(session, joined.order))
    return group_out(ctx, joined.group, joined.order.id, order)


@router.post("/admin/group-offers", status_code=201, response_model=OfferOut)
def create_offer(body: OfferIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        offer = service.create_offer(session, ctx.clock, sku=body.sku, group_price_fen=body.group_price_fen,
                                     group_size=body.group_size, time_limit_seconds=body.time_limit_seconds,
                                     actor_id=caller.user_id)
        response = FastJSONResponse(offer_out(ctx, offer), status_code=201)
    ctx.broadcast.publish(CATALOG_CHANGED, body.sku)  # product pages show the offer
    return response


@router.post("/group-buys", status_code=201, response_model=GroupOut)
async def start_group(body: StartIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                      idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        joined = service.start(session, ctx.clock, ctx.gateway, ctx.order_policy, offer_id=body.offer_id,
                               customer_id=caller.user_id, payment_method=body.payment_method,
                               shipping_address=body.shipping_address.model_dump())
        return 201, _joined(ctx, session, joined)

    return await idempotent_post(request, caller, idempotency_key, work)


@router.post("/group-buys/{group_id}/join", status_code=201, response_model=GroupOut)
async def join_group(group_id: GroupId, body: JoinIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                     idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        joined = service.join(session, ctx.clock, ctx.gateway, ctx.order_policy, group_id=group_id,
                              customer_id=caller.user_id, payment_method=body.payment_method,
                              shipping_address=body.shipping_address.model_dump())
        return 201, _joined(ctx, session, joined)

    return await idempotent_post(request, caller, idempotency_key, work)


@router.get("/group-buys/{group_id}", response_model=GroupOut)
def get_group(group_id: GroupId, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        group = service.get_group(session, group_id)
        return FastJSONResponse(group_out(ctx, group, service.member_order_id(session, group_id, caller.user_id)))
