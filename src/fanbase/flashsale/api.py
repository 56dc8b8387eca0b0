from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field, Strict
from starlette.concurrency import run_in_threadpool

from fanbase import idempotency
from fanbase.accounts.service import require_staff
from fanbase.broadcast import FLASH_SALE_CHANGED
from fanbase.context import Context
from fanbase.errors import DomainError
from fanbase.flashsale import service
from fanbase.flashsale.gate import SaleState
from fanbase.flashsale.models import LOTTERY, FlashSale
from fanbase.orders.api import order_out
from fanbase.web import Ctx, CurrentCaller, FastJSONResponse, InputModel, Staff, iso

router = APIRouter(tags=["flash sales"])
SaleId = Annotated[int, Path(ge=1, le=2**62)]
# ISO 8601 text with an offset (JSON has no datetime type, so strict mode is relaxed for these fields)
Timestamp = Annotated[AwareDatetime, Strict(False)]


class SaleIn(InputModel):
    sku: str = Field(min_length=1, max_length=64)
    units: int = Field(ge=1, le=service.MAX_UNITS)
    price_fen: int = Field(gt=0, le=10**10)
    reservations_open_at: Timestamp
    starts_at: Timestamp
    ends_at: Timestamp
    per_customer_limit: int = Field(default=1, ge=1, le=1000)
    payment_window_seconds: int = Field(default=15 * 60, ge=60, le=7 * 24 * 3600)
    mode: Literal["first_come", "lottery"] = "first_come"
    require_purchase_token: bool = False
    festival_id: int | None = Field(default=None, ge=1, le=2**62,
                                    description="a festival-only sale: it must start and end inside the festival")


class RoundOut(BaseModel):
    number: int
    opens_at: str
    closes_at: str
    free_units: int
    winners: int


class LotteryOut(BaseModel):
    """Published once the sale has started: the seed repeats the draw (``service.draw_order`` over the
    reserved customer ids); each round lets the next fans in draw order buy."""

    seed: str | None
    drawn_at: str | None
    rounds: list[RoundOut]


class DrawOut(BaseModel):
    sale_id: int
    customer_id: int
    drawn: bool
    position: int | None
    round: int | None
    opens_at: str | None
    closes_at: str | None


class SaleOut(BaseModel):
    id: int
    sku: str
    units: int
    price_fen: int
    remaining: int
    reservations: int
    status: str
    starts_at: str
    ends_at: str
    reservations_open_at: str
    per_customer_limit: int
    payment_window_seconds: int
    mode: str
    require_purchase_token: bool
    lottery: LotteryOut | None = None
    festival_id: int | None = None


class ReservationOut(BaseModel):
    sale_id: int
    customer_id: int


class TokenOut(BaseModel):
    purchase_token: str


class PurchaseIn(InputModel):
    quantity: int = Field(default=1, ge=1, le=1000)
    purchase_token: str | None = Field(default=None, max_length=128)


def _view(ctx: Context, sale: FlashSale, remaining: int, reservations: int,
          rounds: list[service.RoundSummary] | None = None) -> dict[str, Any]:
    lottery = None
    if sale.mode == LOTTERY:
        lottery = {"seed": sale.lottery_seed, "drawn_at": sale.drawn_at and iso(ctx, sale.drawn_at),
                   "rounds": [{"number": r.number, "opens_at": iso(ctx, r.opens_at), "closes_at": iso(ctx, r.closes_at),
                               "free_units": r.free_units, "winners": r.winners} for r in rounds or []]}
    return {"lottery": lottery, "id": sale.id, "sku": sale.sku, "units": sale.units, "price_fen": sale.price_fen,
            "remaining": remaining, "reservations": reservations,
            "status": service.status(sale, ctx.clock.now(), remaining),
            "starts_at": iso(ctx, sale.starts_at), "ends_at": iso(ctx, sale.ends_at),
            "reservations_open_at": iso(ctx, sale.reservations_open_at),
            "per_customer_limit": sale.per_customer_limit, "payment_window_seconds": sale.payment_window_seconds,
            "mode": sale.mode, "require_purchase_token": sale.require_purchase_token,
            "festival_id": sale.festival_id}


def _current_view(ctx: Context, session: Any, sale: FlashSale) -> dict[str, Any]:
    return _view(ctx, sale, service.remaining_units(session, ctx.flash_gate, sale),
                 service.reservation_count(session, sale.id),
                 service.lottery_rounds(session, sale.id) if sale.mode == LOTTERY else None)


@router.post("/admin/flash-sales", status_code=201, response_model=SaleOut)
def create_sale(body: SaleIn, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        sale = service.create_sale(session, ctx.clock, service.SaleSpec(**body.model_dump()), caller.user_id)
        view = _view(ctx, sale, sale.units, 0)
    return FastJSONResponse(view, status_code=201)


@router.post("/admin/flash-sales/{sale_id}/end", response_model=SaleOut)
def end_sale(sale_id: SaleId, caller: Staff, ctx: Ctx) -> FastJSONResponse:
    """End the sale now (or call off one that has not started): orders already won stand, unsold units go
    back to stock with the next round of jobs."""
    require_staff(caller, "operator")
    with ctx.db.uow() as session:
        sale = service.end_sale(session, ctx.clock, ctx.flash_gate, sale_id, caller.user_id)
        view = _current_view(ctx, session, sale)
    ctx.broadcast.publish(FLASH_SALE_CHANGED, str(sale_id))  # after the commit: every process stops selling it
    return FastJSONResponse(view)


@router.get("/flash-sales/{sale_id}", response_model=SaleOut)
def get_sale(sale_id: SaleId, ctx: Ctx) -> FastJSONResponse:
    with ctx.db.read() as session:
        sale = service.get_sale(session, sale_id)
        return FastJSONResponse(_current_view(ctx, session, sale))


@router.get("/flash-sales/{sale_id}/draw", response_model=DrawOut)
def my_draw(sale_id: SaleId, caller: CurrentCaller, ctx: Ctx) -> FastJSONResponse:
    """For a lottery sale: whether the caller has been drawn, and when they may buy."""
    with ctx.db.read() as session:
        draw = service.customer_draw(session, sale_id, caller.user_id)
        return FastJSONResponse({"sale_id": sale_id, "customer_id": caller.user_id, "drawn": draw is not None,
                                 "position": draw and draw.position, "round": draw and draw.round,
                                 "opens_at": draw and iso(ctx, draw.opens_at),
                                 "closes_at": draw and iso(ctx, draw.closes_at)})


@router.get("/flash-sales/{sale_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def sale_events(sale_id: SaleId, request: Request, ctx: Ctx,
                      max_events: Annotated[int, Query(ge=1, le=100_000)] = 100_000) -> StreamingResponse:
    """Server-sent events: the sale's remaining units and status whenever they change (checked four
    times a second, a comment line every 15 s keeps proxies from closing the stream). Ends with the sale."""
    sale = await run_in_threadpool(_sale, ctx, sale_id)

    async def stream() -> AsyncIterator[bytes]:
        last: tuple[int, str] | None = None
        sent, quiet = 0, 0.0
        while sent < max_events and not await request.is_disconnected():
            remaining = await _live_remaining(ctx, sale)
            state = (remaining, service.status(sale, ctx.clock.now(), remaining))
            if state != last:
                last, quiet = state, 0.0
                sent += 1
                yield b"event: sale\ndata: " + orjson.dumps({"id": sale.id, "remaining": state[0],
                                                             "status": state[1]}) + b"\n\n"
                if state[1] == "ended":
                    return
            elif quiet >= 15:
                quiet = 0.0
                yield b": still here\n\n"
            await asyncio.sleep(SSE_POLL_SECONDS)
            quiet += SSE_POLL_SECONDS

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


SSE_POLL_SECONDS = 0.25


def _sale(ctx: Context, sale_id: int) -> FlashSale:
    with ctx.db.read() as session:
        sale = service.get_sale(session, sale_id)
        session.expunge(sale)  # kept (read-only) for the life of the stream
        return sale


async def _live_remaining(ctx: Context, sale: FlashSale) -> int:
    def now() -> int:  # a session only connects if the gate does not know the sale
        with ctx.db.read() as session:
            return service.remaining_units(session, ctx.flash_gate, sale)

    return await run_in_threadpool(now)  # with the Redis gate this is a network call


@router.post("/flash-sales/{sale_id}/reservations", status_code=201, response_model=ReservationOut)
def reserve(sale_id: SaleId, caller: CurrentCaller, ctx: Ctx) -> ReservationOut:
    with ctx.db.uow() as session:
        service.reserve(session, ctx.clock, sale_id, caller.user_id)
    ctx.flash_gate.add_reservation(sale_id, caller.user_id)  # after the commit
    return ReservationOut(sale_id=sale_id, customer_id=caller.user_id)


@router.post("/flash-sales/{sale_id}/purchase-tokens", status_code=201, response_model=TokenOut)
def purchase_token(sale_id: SaleId, caller: CurrentCaller, ctx: Ctx) -> TokenOut:
    with ctx.db.read() as session:
        token = service.issue_purchase_token(session, ctx.clock, ctx.secret_key, sale_id, caller.user_id)
    return TokenOut(purchase_token=token)


@router.post("/flash-sales/{sale_id}/purchase", status_code=201)
async def purchase(sale_id: SaleId, request: Request, caller: CurrentCaller, ctx: Ctx,
                   body: PurchaseIn | None = None) -> FastJSONResponse:
    """Decided in memory by the gate; a 201 means the order row is committed (group commit)."""
    # Served by ``fastpath.PurchaseFastPath`` (the same steps, without FastAPI's machinery); this declaration
    # documents the route and answers what the fast path leaves to FastAPI (e.g. a body it must refuse).
    return await serve_purchase(ctx, request, sale_id, caller.user_id, body or PurchaseIn())


async def serve_purchase(ctx: Context, request: Request, sale_id: int, customer_id: int,
                         body: PurchaseIn) -> FastJSONResponse:
    """A purchase by an authenticated fan with a valid body: rate limits, Idempotency-Key, ``_buy``."""
    _rate_limit(ctx, request, customer_id)
    key = request.headers.get("idempotency-key")
    if key is None:
        return FastJSONResponse(await _buy(ctx, sale_id, customer_id, body), status_code=201)
    # A replayed key returns the first order. The answer is stored after the group commit, so a twin
    # sent at the very same moment is held off in this process (and bounded by the per-fan limit).
    who, fingerprint = f"user:{customer_id}", idempotency.fingerprint("POST", request.url.path, await request.body())
    stored = await run_in_threadpool(lambda: idempotency.lookup(ctx.db, ctx.clock, caller=who, key=key,
                                                                request_fingerprint=fingerprint))
    if stored is not None:
        return FastJSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})
    if (who, key) in _KEYS_IN_FLIGHT:
        raise DomainError("A request with this Idempotency-Key is still being processed", code="conflict")
    _KEYS_IN_FLIGHT.add((who, key))
    try:
        answer = await _buy(ctx, sale_id, customer_id, body)
        await run_in_threadpool(lambda: idempotency.remember(ctx.db, ctx.clock, caller=who, key=key,
                                                             request_fingerprint=fingerprint, status_code=201,
                                                             body=answer))
    finally:
        _KEYS_IN_FLIGHT.discard((who, key))
    return FastJSONResponse(answer, status_code=201)


_KEYS_IN_FLIGHT: set[tuple[str, str]] = set()


async def _buy(ctx: Context, sale_id: int, customer_id: int, body: PurchaseIn) -> dict[str, Any]:
    state = ctx.flash_gate.state(sale_id)
    if state is None:  # the first attempt in this process loads the sale from committed data
        state = await run_in_threadpool(_load, ctx, sale_id)
    if service.round_due(state, ctx.clock.now()):  # a lottery's next round: read once per round
        await run_in_threadpool(service.load_round, ctx.db, ctx.clock, ctx.flash_gate, state)
    future = service.attempt(ctx.flash_gate, ctx.flash_writer.submit, ctx.clock, ctx.secret_key, state,
                             customer_id, body.quantity, body.purchase_token)
    order = await asyncio.wrap_future(future)
    return order_out(ctx, order, None)


def _rate_limit(ctx: Context, request: Request, customer_id: int) -> None:
    """Per fan and per address, before anything else (DESIGN.md anti-abuse); 429 with Retry-After."""
    address = request.client.host if request.client else "unknown"
    for key, limit in ((f"purchase:customer:{customer_id}", ctx.settings.purchase_rate_per_customer),
                       (f"purchase:ip:{address}", ctx.settings.purchase_rate_per_ip)):
        wait = ctx.rate_limiter.hit(key, limit, 1.0)
        if wait is not None:
            raise DomainError("Too many attempts; please wait a moment", code="rate_limited",
                              headers={"Retry-After": str(max(1, math.ceil(wait)))})


def _load(ctx: Context, sale_id: int) -> SaleState:
    with ctx.db.uow() as session:
        return service.ensure_loaded(session, ctx.flash_gate, sale_id)
