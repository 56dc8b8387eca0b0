"""Share links and commissions (API.md "Word of mouth"): a fan's link for a product, the clicks the
storefront records for ``?ref=CODE``, the fan's commissions, and the operators' rate per category."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fanbase.accounts.service import require_staff
from fanbase.context import Context
from fanbase.pagination import page_request
from fanbase.social.referrals import service
from fanbase.social.referrals.models import ShareLink
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, InputModel, Staff, iso

router = APIRouter(tags=["referrals"])

Code = Annotated[str, Path(min_length=1, max_length=32)]
CategorySlug = Annotated[str, Path(min_length=1, max_length=64)]


class ShareIn(InputModel):
    product_slug: str = Field(min_length=1, max_length=100)


class ShareOut(BaseModel):
    code: str
    url: str
    product_slug: str


class CommissionOut(BaseModel):
    id: int
    order_id: int
    amount_fen: int
    status: str = Field(description="pending | paid | reversed")
    created_at: str
    paid_at: str | None


class CommissionsOut(BaseModel):
    items: list[CommissionOut]
    next_cursor: str | None


class RateIn(InputModel):
    rate: str = Field(min_length=1, max_length=12, description='decimal string, 0 to 0.5, e.g. "0.05"')


class RateOut(BaseModel):
    category: str
    rate: str


class RatesOut(BaseModel):
    items: list[RateOut]


def share_url(ctx: Context, link: ShareLink) -> str:
    """What the fan passes on: the product page carrying the code."""
    return f"{ctx.settings.public_url.rstrip('/')}/products/{link.product_slug}?ref={link.code}"


@router.post("/share-links", status_code=201, response_model=ShareOut)
def create_share_link(body: ShareIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    """The caller's link for the product; asking again gives the same code (201 each time)."""
    with ctx.db.uow() as session:
        link = service.share(session, ctx.clock, sharer_id=caller.user_id, product_slug=body.product_slug)
        return FastJSONResponse({"code": link.code, "url": share_url(ctx, link), "product_slug": link.product_slug},
                                status_code=201)


@router.post("/share-links/{code}/clicks", status_code=204, response_class=Response)
def record_click(code: Code, caller: CurrentCaller, ctx: Ctx) -> Response:
    """The signed-in customer opened the link (a click on one's own link is accepted and ignored)."""
    with ctx.db.uow() as session:
        service.record_click(session, ctx.clock, code=code, customer_id=caller.user_id)
    return Response(status_code=204)


@router.get("/me/commissions", response_model=CommissionsOut)
def my_commissions(caller: CurrentCaller, ctx: Ctx, limit: Annotated[int | None, Query(ge=1, le=100)] = None,
                   cursor: Annotated[str | None, Query(max_length=200)] = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.commissions(session, caller.user_id, page_request(limit, cursor))
        return FastJSONResponse({"items": [{"id": c.id, "order_id": c.order_id, "amount_fen": c.amount_fen,
                                            "status": c.status, "created_at": iso(ctx, c.created_at),
                                            "paid_at": iso(ctx, c.paid_at)} for c in page.items],
                                 "next_cursor": page.next_cursor})


@router.get("/admin/commission-rates", response_model=RatesOut)
def list_rates(caller: Staff, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse({"items": [{"category": category.slug, "rate": rate}
                                           for category, rate in service.rates(session)]})


@router.put("/admin/commission-rates/{category}", response_model=RateOut)
def set_rate(category: CategorySlug, body: RateIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        slug, rate = service.set_rate(session, ctx.clock, category=category, rate=body.rate,
                                      actor_id=caller.user_id)
        return FastJSONResponse({"category": slug, "rate": rate})
