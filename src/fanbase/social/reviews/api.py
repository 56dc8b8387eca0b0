"""Review routes (API.md "Word of mouth"): write a review of a received product, list a product's reviews,
vote one helpful. A new review drops every process's copies of the product's JSON and pages
(``CATALOG_CHANGED``), so the product's rating is current at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from fanbase.broadcast import CATALOG_CHANGED
from fanbase.context import Context
from fanbase.pagination import page_request
from fanbase.social.reviews import service
from fanbase.social.reviews.models import MAX_TEXT, Review
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, InputModel, iso

router = APIRouter(tags=["reviews"])

Slug = Annotated[str, Path(max_length=100)]
ReviewId = Annotated[int, Path(ge=1, le=2**62)]


class ReviewIn(InputModel):
    order_id: int = Field(ge=1, le=2**62)
    sku: str = Field(min_length=1, max_length=64)
    rating: int = Field(ge=1, le=5)
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="plain text")


class ReviewOut(BaseModel):
    id: int
    rating: int
    text: str
    author_name: str
    helpful: int
    created_at: str
    sku: str


class ReviewList(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None


def review_out(ctx: Context, review: Review) -> dict[str, Any]:
    return {"id": review.id, "rating": review.rating, "text": review.text, "author_name": review.author_name,
            "helpful": review.helpful, "created_at": iso(ctx, review.created_at), "sku": review.sku}


@router.post("/products/{slug}/reviews", status_code=201, response_model=ReviewOut)
def write_review(slug: Slug, body: ReviewIn, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        review = service.write_review(session, ctx.clock, customer_id=caller.user_id, slug=slug,
                                      order_id=body.order_id, sku=body.sku, rating=body.rating, text=body.text)
        response = FastJSONResponse(review_out(ctx, review), status_code=201)
    ctx.broadcast.publish(CATALOG_CHANGED, slug)  # the product's rating changed
    return response


@router.get("/products/{slug}/reviews", response_model=ReviewList)
def list_reviews(slug: Slug, ctx: Ctx, limit: Annotated[int | None, Query(ge=1, le=100)] = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.list_reviews(session, slug, page_request(limit, cursor))
        return FastJSONResponse({"items": [review_out(ctx, r) for r in page.items],
                                 "next_cursor": page.next_cursor})


@router.post("/reviews/{review_id}/helpful", status_code=201, response_model=ReviewOut)
def helpful(review_id: ReviewId, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.uow() as session:
        review = service.vote_helpful(session, ctx.clock, review_id=review_id, customer_id=caller.user_id)
        return FastJSONResponse(review_out(ctx, review), status_code=201)
