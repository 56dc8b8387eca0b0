"""Wallet routes (API.md "Wallet and money-market balance"): the balance with its fund holding, top-ups,
withdrawals, the statement, and the operator's tier setting."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fanbase.accounts.service import require_staff
from fanbase.context import Context
from fanbase.fund import service as fund
from fanbase.pagination import page_request
from fanbase.wallet import service
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, IdempotencyKey, InputModel, Staff, idempotent_post, iso

router = APIRouter(tags=["wallet"])

CustomerId = Annotated[int, Path(ge=1, le=2**62)]
Amount = Annotated[int, Field(gt=0, le=10_000_000_000)]


class AmountIn(InputModel):
    amount_fen: Amount


class TierIn(InputModel):
    tier: Literal[1, 2, 3]


class FundHoldingOut(BaseModel):
    balance_fen: int
    pending_fen: int
    redeeming_fen: int
    yesterday_income_fen: int
    total_income_fen: int
    seven_day_yield: str | None = Field(description="percent, compound form, 3 decimals; null before 7 days")
    instant_left_fen: int


class WalletOut(BaseModel):
    balance_fen: int
    tier: int
    fund: FundHoldingOut


class PaymentOut(BaseModel):
    id: str
    status: str
    pay_url: str


class TopUpOut(BaseModel):
    id: int
    amount_fen: int
    status: str
    payment: PaymentOut


class WithdrawalOut(BaseModel):
    id: int
    amount_fen: int
    payout_id: str
    created_at: str


class StatementLineOut(BaseModel):
    id: int
    kind: str
    amount_fen: int
    balance_after_fen: int
    created_at: str
    memo: str


class StatementOut(BaseModel):
    items: list[StatementLineOut]
    next_cursor: str | None


class TierOut(BaseModel):
    customer_id: int
    tier: int


def wallet_view(ctx: Context, session: Session, customer_id: int) -> dict[str, Any]:
    holding = fund.holding(session, ctx.clock, ctx.settings.zone, customer_id)
    return {"balance_fen": service.balance(session, customer_id), "tier": service.tier_of(session, customer_id),
            "fund": {"balance_fen": holding.balance_fen, "pending_fen": holding.pending_fen,
                     "redeeming_fen": holding.redeeming_fen, "yesterday_income_fen": holding.yesterday_income_fen,
                     "total_income_fen": holding.total_income_fen, "seven_day_yield": holding.seven_day_yield,
                     "instant_left_fen": fund.instant_left(session, ctx.clock, ctx.settings.zone, customer_id)}}


@router.get("/wallet", response_model=WalletOut)
def get_wallet(caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        return FastJSONResponse(wallet_view(ctx, session, caller.user_id))


@router.post("/wallet/top-ups", status_code=201, response_model=TopUpOut)
async def top_up(body: AmountIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                 idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        top, payment = service.start_top_up(session, ctx.clock, ctx.gateway, customer_id=caller.user_id,
                                            amount_fen=body.amount_fen)
        return 201, {"id": top.id, "amount_fen": top.amount_fen, "status": top.status,
                     "payment": {"id": payment.id, "status": payment.status, "pay_url": payment.pay_url}}

    return await idempotent_post(request, caller, idempotency_key, work)


@router.post("/wallet/withdrawals", status_code=201, response_model=WithdrawalOut)
async def withdraw(body: AmountIn, request: Request, caller: CurrentCaller, ctx: Ctx,
                   idempotency_key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        done = service.withdraw(session, ctx.clock, ctx.gateway, ctx.settings.zone, customer_id=caller.user_id,
                                amount_fen=body.amount_fen)
        return 201, {"id": done.id, "amount_fen": done.amount_fen, "payout_id": done.payout_id,
                     "created_at": iso(ctx, done.created_at)}

    return await idempotent_post(request, caller, idempotency_key, work)


@router.get("/wallet/transactions", response_model=StatementOut)
def transactions(caller: CurrentCaller, ctx: Ctx, limit: Annotated[int | None, Query(ge=1, le=100)] = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> FastJSONResponse:
    with ctx.db.read() as session:
        page = service.statement(session, caller.user_id, page_request(limit, cursor))
        return FastJSONResponse({"items": [{"id": line.id, "kind": line.kind, "amount_fen": line.amount_fen,
                                            "balance_after_fen": line.balance_after_fen,
                                            "created_at": iso(ctx, line.created_at), "memo": line.memo}
                                           for line in page.items], "next_cursor": page.next_cursor})


@router.put("/admin/customers/{customer_id}/wallet-tier", response_model=TierOut)
def set_tier(customer_id: CustomerId, body: TierIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        wallet = service.set_tier(session, ctx.clock, customer_id=customer_id, tier=body.tier,
                                  actor_id=caller.user_id)
        return FastJSONResponse({"customer_id": wallet.customer_id, "tier": wallet.tier})
