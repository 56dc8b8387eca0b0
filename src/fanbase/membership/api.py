"""Membership route (API.md "Membership"): a fan's level, this year's growth, points and when they expire.
Points are spent at checkout (``CheckoutIn.points``, orders.api)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from fanbase.membership import service
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse

router = APIRouter(tags=["membership"])


class ExpiringOut(BaseModel):
    points: int
    expires_on: str


class MembershipOut(BaseModel):
    level: str = Field(description="bronze | silver | gold | diamond")
    growth: int = Field(description="growth earned this calendar year (store's zone)")
    points: int = Field(description="points that can be spent now; 100 points = 1 CNY")
    points_expiring: list[ExpiringOut]
    next_level: str | None
    growth_to_next: int
    badges: list[str]


@router.get("/me/membership", response_model=MembershipOut)
def my_membership(caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        found = service.membership(session, ctx.clock, ctx.settings.zone, caller.user_id)
        badges = [b.code for b in service.badges_of(session, caller.user_id)]
    return FastJSONResponse({
        "level": found.level, "growth": found.growth, "points": found.points,
        "points_expiring": [{"points": x.points, "expires_on": x.expires_on.isoformat()}
                            for x in found.points_expiring],
        "next_level": found.next_level, "growth_to_next": found.growth_to_next, "badges": badges})
