from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from fanbase.accounts.service import require_staff
from fanbase.broadcast import CATALOG_CHANGED
from fanbase.inventory import service
from fanbase.web import Ctx, InputModel, Staff

router = APIRouter(tags=["inventory"])


class StockIn(InputModel):
    location: str = Field(min_length=1, max_length=32)
    on_hand: int = Field(ge=0, le=service.MAX_ON_HAND)


class StockOut(BaseModel):
    sku: str
    location: str
    on_hand: int
    allocated: int
    available: int


def _out(view: service.StockView) -> StockOut:
    return StockOut(sku=view.sku, location=view.location, on_hand=view.on_hand, allocated=view.allocated,
                    available=view.available)


@router.put("/admin/stock/{sku}", response_model=StockOut)
def set_stock(sku: Annotated[str, Path(max_length=64)], body: StockIn, caller: Staff, ctx: Ctx) -> StockOut:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        view = service.set_on_hand(session, ctx.clock, sku=sku, location_code=body.location, on_hand=body.on_hand,
                                   actor_id=caller.user_id)
    ctx.broadcast.publish(CATALOG_CHANGED, sku)  # every process drops its product pages
    return _out(view)


@router.get("/admin/stock/{sku}", response_model=list[StockOut])
def get_stock(sku: Annotated[str, Path(max_length=64)], caller: Staff, ctx: Ctx) -> list[StockOut]:
    with ctx.db.read() as session:
        return [_out(view) for view in service.stock_of(session, sku)]
