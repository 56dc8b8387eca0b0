"""Review forms of the storefront: "write a review" on the order page of a delivered order, "helpful" on
the product page. The product page itself (catalog.pages) shows the rating and the reviews."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fanbase.accounts.service import Principal
from fanbase.broadcast import CATALOG_CHANGED
from fanbase.errors import ValidationFailed
from fanbase.i18n import N_
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, write
from fanbase.social.reviews import service

router = APIRouter()
OrderId = Annotated[int, Path(ge=1, le=2**62)]
ReviewId = Annotated[int, Path(ge=1, le=2**62)]
Slug = Annotated[str, Path(max_length=100)]


def _rating(fields: dict[str, str]) -> int:
    raw = fields.get("rating", "").strip()
    if raw not in {"1", "2", "3", "4", "5"}:
        raise ValidationFailed(N_("Choose from 1 to 5 stars"))
    return int(raw)


@router.post("/orders/{order_id}/reviews")
async def write_review(request: Request, order_id: OrderId) -> Response:
    ctx = ctx_of(request)
    written: list[str] = []

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        sku = fields.get("sku", "")[:64]
        slug = service.slug_of_sku(session, sku)
        service.write_review(session, ctx.clock, customer_id=customer.user_id, slug=slug, order_id=order_id,
                             sku=sku, rating=_rating(fields), text=fields.get("text", ""))
        written.append(slug)

    return await write(request, f"/orders/{order_id}", _("Thank you for your review"), work,
                       after=lambda: ctx.broadcast.publish(CATALOG_CHANGED, written[0]))


@router.post("/products/{slug}/reviews/{review_id}/helpful")
async def helpful(request: Request, slug: Slug, review_id: ReviewId) -> Response:
    """The voter is signed in and sees the page fresh; anonymous visitors' shared copy catches up within
    ``product_cache_seconds``."""
    ctx = ctx_of(request)

    def work(session: Session, customer: Principal, fields: dict[str, str]) -> None:
        service.vote_helpful(session, ctx.clock, review_id=review_id, customer_id=customer.user_id)

    return await write(request, f"/products/{quote(slug)}#reviews", _("Thanks: you found this review helpful"),
                       work)
