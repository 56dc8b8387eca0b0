"""The sandbox gateway's own pay page: what the payer's bank shows (approve or decline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from fanbase.errors import DomainError
from fanbase.i18n import gettext as _
from fanbase.pages import ctx_of, form, message, redirect, render
from fanbase.payments.api import PaymentId, decide_and_notify
from fanbase.wallet.service import TOP_UP

router = APIRouter()
Decision = Annotated[str, Path(pattern="^(approve|decline)$")]


@router.get("/sandbox-gateway/pay/{payment_id}")
def pay_page(request: Request, payment_id: PaymentId) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read() as session:
        payment = ctx.gateway.get(session, payment_id)
        return render(request, "payments/pay.html", title=_("Sandbox bank: confirm the payment"), payment=payment,
                      back=_merchant_page(payment.merchant_reference))


@router.post("/sandbox-gateway/pay/{payment_id}/{decision}")
async def decide(request: Request, payment_id: PaymentId, decision: Decision) -> Response:
    await form(request)
    ctx = ctx_of(request)
    try:
        out = await decide_and_notify(request, ctx, payment_id, approve=decision == "approve")
    except DomainError as exc:
        return redirect(request, f"/sandbox-gateway/pay/{payment_id}", error=message(exc))
    text = _("Payment approved") if decision == "approve" else _("Payment declined")
    return redirect(request, _merchant_page(out.reference), notice=text)


def _merchant_page(reference: str) -> str:
    """Where the bank sends the payer back: the store's page of what was paid for (the reference is
    ``<purpose>:<id>``: an order's page, the wallet for a top-up)."""
    purpose, _sep, ident = reference.partition(":")
    if purpose == "order" and ident.isdigit():
        return f"/orders/{ident}"
    return "/wallet" if purpose == TOP_UP else "/"
