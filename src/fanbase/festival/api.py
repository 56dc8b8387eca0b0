"""Fan festival routes: an operator creates a festival (name, window, discounts); anyone reads the live one;
staff read its dashboard. Rules in ``service.py`` (overlapping festivals are refused with 409)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, Field, Strict

from fanbase.accounts.service import require_staff
from fanbase.context import Context
from fanbase.festival import dashboard as dashboards
from fanbase.festival import service
from fanbase.festival.models import Festival
from fanbase.web import Ctx, FastJSONResponse, InputModel, Staff, iso

router = APIRouter(tags=["festivals"])
FestivalId = Annotated[int, Path(ge=1, le=2**62)]
Timestamp = Annotated[AwareDatetime, Strict(False)]


class DiscountIn(InputModel):
    """Either ``product_slug`` or ``category`` (a category's slug); a product's own discount wins over its
    category's."""

    product_slug: str | None = Field(default=None, min_length=1, max_length=100)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    percent_off: int = Field(ge=1, le=service.MAX_PERCENT_OFF)


class FestivalIn(InputModel):
    name: str = Field(min_length=1, max_length=service.MAX_NAME)
    starts_at: Timestamp
    ends_at: Timestamp = Field(description="after starts_at; the festival is live from starts_at (included) "
                                           "until ends_at (excluded); festivals may not overlap (409)")
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=service.MAX_DISCOUNTS)


class DiscountOut(BaseModel):
    product_slug: str | None
    category: str | None
    percent_off: int


class FestivalOut(BaseModel):
    id: int
    name: str
    starts_at: str
    ends_at: str
    status: str = Field(description="scheduled, live or ended")
    discounts: list[DiscountOut]


class FestivalListOut(BaseModel):
    items: list[FestivalOut]


class BucketOut(BaseModel):
    starts_at: str
    orders: int


class TopProductOut(BaseModel):
    sku: str
    name: str
    units: int
    sales_fen: int


class TopSharerOut(BaseModel):
    sharer_id: int
    name: str
    attributed_sales_fen: int
    orders: int
    commission_fen: int


class DashboardOut(BaseModel):
    """Orders placed inside the festival's window; ``orders``/``sales_fen`` count those paid and kept."""

    festival: FestivalOut
    placed_orders: int
    orders: int
    sales_fen: int
    average_order_fen: int = Field(description="sales_fen / orders, rounded half up to the fen")
    bucket_hours: int
    orders_per_bucket: list[BucketOut]
    top_products: list[TopProductOut] = Field(description="by units sold, per SKU")
    top_sharers: list[TopSharerOut] = Field(description="by the line totals attributed to their share links")


def festival_out(ctx: Context, festival: Festival) -> dict[str, Any]:
    return {"id": festival.id, "name": festival.name, "starts_at": iso(ctx, festival.starts_at),
            "ends_at": iso(ctx, festival.ends_at), "status": service.status(festival, ctx.clock.now()),
            "discounts": [service.describe(d) for d in festival.discounts]}


@router.post("/admin/festivals", status_code=201, response_model=FestivalOut)
def create_festival(body: FestivalIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        festival = service.create_festival(
            session, ctx.clock, name=body.name, starts_at=body.starts_at, ends_at=body.ends_at,
            discounts=[service.DiscountSpec(percent_off=d.percent_off, product_slug=d.product_slug,
                                            category=d.category) for d in body.discounts],
            actor_id=caller.user_id)
        return FastJSONResponse(festival_out(ctx, festival), status_code=201)


@router.get("/admin/festivals", response_model=FestivalListOut)
def list_festivals(caller: Staff, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse({"items": [festival_out(ctx, f) for f in service.list_festivals(session)]})


@router.get("/festivals/current", response_model=FestivalOut)
def current_festival(ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse(festival_out(ctx, service.current_festival(session, ctx.clock.now())))


@router.get("/admin/festivals/{festival_id}/dashboard", response_model=DashboardOut)
def festival_dashboard(festival_id: FestivalId, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        board = dashboards.dashboard(session, ctx.clock.now(), festival_id)
        return FastJSONResponse({
            "festival": festival_out(ctx, board.festival), "placed_orders": board.placed, "orders": board.orders,
            "sales_fen": board.sales_fen, "average_order_fen": board.average_order_fen,
            "bucket_hours": board.bucket_hours,
            "orders_per_bucket": [{"starts_at": iso(ctx, at), "orders": count}
                                  for at, count in zip(board.bucket_starts, board.per_bucket, strict=True)],
            "top_products": [vars(p) for p in board.top_products],
            "top_sharers": [vars(s) for s in board.top_sharers]})
