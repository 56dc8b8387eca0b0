"""Money-market fund routes (API.md "Wallet and money-market balance"), and around them the yield history,
the operator's fund totals and the trading-day calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanbase.accounts.service import require_staff
from fanbase.errors import ValidationFailed
from fanbase.fund import calendar, income, service
from fanbase.fund.models import CalendarDay
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, IdempotencyKey, InputModel, Staff, idempotent_post

router = APIRouter(tags=["fund"])

Amount = Annotated[int, Field(gt=0, le=service.MAX_ORDER_FEN)]
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DayText = Annotated[str, Path(pattern=DATE_PATTERN, max_length=10)]


class SubscriptionIn(InputModel):
    amount_fen: Amount


class RedemptionIn(InputModel):
    amount_fen: Amount
    mode: Literal["instant", "standard"]


class DailyIncomeIn(InputModel):
    date: str = Field(pattern=DATE_PATTERN, max_length=10, examples=["2026-11-25"])
    income_per_10k: str = Field(max_length=12, examples=["0.6012"],
                                description="yuan per 10,000 units, at most 4 decimals")


class CalendarDayIn(InputModel):
    trading: bool
    note: str = Field(default="", max_length=100)


class SubscriptionOut(BaseModel):
    id: int
    amount_fen: int
    confirms_on: str


class RedemptionOut(BaseModel):
    id: int
    amount_fen: int
    mode: str
    credits_on: str


class DailyIncomeOut(BaseModel):
    date: str
    income_per_10k: str
    holders: int
    units_fen: int
    day_total_fen: int
    distributed_fen: int


class YieldOut(BaseModel):
    date: str
    seven_day_yield: str


class CalendarDayOut(BaseModel):
    date: str
    trading: bool
    note: str


class FundTotalsOut(BaseModel):
    holders: int
    confirmed_fen: int
    pending_fen: int
    redeeming_fen: int
    pool_fen: int
    recent_incomes: list[DailyIncomeOut]


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed("The date is not a calendar date") from exc


def income_out(entry: Any) -> dict[str, Any]:
    return {"date": entry.day.isoformat(), "income_per_10k": service.format_rate(entry.rate_e4),
            "holders": entry.holders, "units_fen": entry.units_fen, "day_total_fen": entry.day_total_fen,
            "distributed_fen": entry.distributed_fen}


def day_out(entry: CalendarDay) -> dict[str, Any]:
    return {"date": entry.day.isoformat(), "trading": entry.trading, "note": entry.note}


@router.post("/fund/subscriptions", status_code=201, response_model=SubscriptionOut)
async def subscribe(body: SubscriptionIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                    idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        done = service.subscribe(session, ctx.clock, ctx.settings.zone, customer_id=caller.user_id,
                                 amount_fen=body.amount_fen)
        return 201, {"id": done.id, "amount_fen": done.amount_fen, "confirms_on": done.confirms_on.isoformat()}

    return await idempotent_post(request, caller, idempotency_key, work)


@router.post("/fund/redemptions", status_code=201, response_model=RedemptionOut)
async def redeem(body: RedemptionIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                 idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        done = service.redeem(session, ctx.clock, ctx.settings.zone, customer_id=caller.user_id,
                              amount_fen=body.amount_fen, mode=body.mode)
        return 201, {"id": done.id, "amount_fen": done.amount_fen, "mode": done.mode,
                     "credits_on": done.credits_on.isoformat()}

    return await idempotent_post(request, caller, idempotency_key, work)


@router.get("/fund/yields", response_model=list[YieldOut])
def yields(ctx: Ctx, days: Annotated[int, Query(ge=1, le=366)] = 30) -> FastJSONResponse:
    """The seven-day annualised yield of each of the last ``days`` days with income entered."""
    with ctx.db.read() as session:
        today = calendar.local_date(ctx.clock.now(), ctx.settings.zone)
        return FastJSONResponse([{"date": day.isoformat(), "seven_day_yield": value}
                                 for day, value in service.yields(session, today, days)])


@router.post("/admin/fund/daily-income", response_model=DailyIncomeOut)
def daily_income(body: DailyIncomeIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    day, rate = parse_day(body.date), service.parse_rate(body.income_per_10k)
    with ctx.db.uow() as session:
        entry = income.distribute(session, ctx.clock, ctx.settings.zone, day=day, rate_e4=rate,
                                  actor_id=caller.user_id)
        return FastJSONResponse(income_out(entry))


@router.get("/admin/fund", response_model=FundTotalsOut)
def fund_totals(caller: Staff, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        found = service.totals(session)
        return FastJSONResponse({"holders": found.holders, "confirmed_fen": found.confirmed_fen,
                                 "pending_fen": found.pending_fen, "redeeming_fen": found.redeeming_fen,
                                 "pool_fen": found.pool_fen,
                                 "recent_incomes": [income_out(e) for e in service.recent_incomes(session)]})


@router.get("/admin/fund/calendar", response_model=list[CalendarDayOut])
def list_calendar(caller: Staff, ctx: Ctx,
                  start: Annotated[str | None, Query(alias="from", pattern=DATE_PATTERN)] = None,
                  days: Annotated[int, Query(ge=1, le=800)] = 366) -> FastJSONResponse:
    """The operator's exceptions to Monday-to-Friday trading from ``from`` (default today) on."""
    first = parse_day(start) if start else calendar.local_date(ctx.clock.now(), ctx.settings.zone)
    with ctx.db.read() as session:
        return FastJSONResponse([day_out(e) for e in calendar.listed_days(session, first,
                                                                          first + timedelta(days=days))])


@router.put("/admin/fund/calendar/{day}", response_model=CalendarDayOut)
def set_calendar_day(day: DayText, body: CalendarDayIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        entry = calendar.set_day(session, ctx.clock, day=parse_day(day), trading=body.trading, note=body.note,
                                 actor_id=caller.user_id)
        return FastJSONResponse(day_out(entry))
