from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from fanbase.payments import service
from fanbase.web import Ctx

router = APIRouter(tags=["payments"])
PaymentId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class SandboxPaymentOut(BaseModel):
    id: str
    status: str
    amount_fen: int
    reference: str


class WebhookAck(BaseModel):
    received: bool


@router.post("/payments/webhooks/sandbox", response_model=WebhookAck)
async def sandbox_webhook(request: Request, ctx: Ctx) -> WebhookAck:
    """The sandbox gateway's signed notification (HMAC-SHA256 in X-Sandbox-Signature)."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}

    def work() -> None:
        with ctx.db.uow() as session:
            service.handle_webhook(session, ctx.clock, ctx.gateway, body, headers)

    await run_in_threadpool(work)
    return WebhookAck(received=True)


# --- the sandbox gateway itself (what the payer's bank does) ---------------------------------------


@router.get("/sandbox-gateway/payments/{payment_id}", response_model=SandboxPaymentOut, tags=["sandbox-gateway"])
def sandbox_payment(payment_id: PaymentId, ctx: Ctx) -> SandboxPaymentOut:
    with ctx.db.read() as session:
        payment = ctx.gateway.get(session, payment_id)
        return SandboxPaymentOut(id=payment.id, status=payment.status, amount_fen=payment.amount_fen,
                                 reference=payment.merchant_reference)


@router.post("/sandbox-gateway/payments/{payment_id}/approve", response_model=SandboxPaymentOut,
             tags=["sandbox-gateway"])
async def sandbox_approve(payment_id: PaymentId, request: Request, ctx: Ctx) -> SandboxPaymentOut:
    return await decide_and_notify(request, ctx, payment_id, approve=True)


@router.post("/sandbox-gateway/payments/{payment_id}/decline", response_model=SandboxPaymentOut,
             tags=["sandbox-gateway"])
async def sandbox_decline(payment_id: PaymentId, request: Request, ctx: Ctx) -> SandboxPaymentOut:
    return await decide_and_notify(request, ctx, payment_id, approve=False)


async def decide_and_notify(request: Request, ctx: Ctx, payment_id: str, *, approve: bool) -> SandboxPaymentOut:
    """The payer's decision at the bank, then the bank's signed webhook to this store (also used by the pay page)."""
    def decide() -> tuple[SandboxPaymentOut, bytes, dict[str, str], str]:
        with ctx.db.uow() as session:
            event = ctx.gateway.decide(session, ctx.clock, payment_id, approve=approve)
            body, headers = ctx.gateway.signed_delivery(event)
            out = SandboxPaymentOut(id=payment_id, status="succeeded" if approve else "declined",
                                    amount_fen=event.payload["amount_fen"], reference=event.payload["reference"])
            return out, body, headers, event.id

    out, body, headers, event_id = await run_in_threadpool(decide)
    # Deliver the webhook as the bank would, over HTTP, to this store (in-process ASGI transport: no
    # network needed, and the store's route, signature check included, is what handles it).
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox-gateway.local") as client:
        reply = await client.post("/api/v1/payments/webhooks/sandbox", content=body, headers=headers)

    def record() -> None:
        with ctx.db.uow() as session:
            ctx.gateway.mark_delivered(session, event_id, ctx.clock.now(), reply.is_success)

    await run_in_threadpool(record)
    return out
