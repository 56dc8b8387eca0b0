"""The card/bank gateway adapter, and the built-in ``sandbox`` gateway that behaves like a real one.

A real gateway is another company: the store asks it to create a payment and gets a pay URL; the payer
approves or declines at their bank; the gateway then tells the store through a signed webhook. The
sandbox keeps its own tables (``sandbox_gateway_*``) standing in for the bank's database, signs its
webhooks with HMAC-SHA256 and retries undelivered ones.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent
from fanbase.errors import Conflict, DomainError, NotFound
from fanbase.payments.models import (
    DECLINED,
    REFUNDED,
    REQUIRES_ACTION,
    SUCCEEDED,
    SandboxGatewayEvent,
    SandboxGatewayPayment,
    SandboxGatewayPayout,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_DECLINED = "payment.declined"


MAX_PAYOUT_FEN = 5_000_000  # the sandbox bank's limit for one transfer to a card: 50,000 CNY


@dataclass(frozen=True)
class GatewayPayment:
    id: str
    pay_url: str


@dataclass(frozen=True)
class GatewayEvent:
    id: str
    type: str
    payment_id: str
    amount_fen: int


class BadSignature(DomainError):
    code = "bad_request"


class PaymentGateway(Protocol):
    name: str

    def create_payment(self, session: Session, clock: Clock, *, amount_fen: int, reference: str) -> GatewayPayment:
        ...

    def cancel_payment(self, session: Session, payment_id: str) -> None:
        ...

    def refund(self, session: Session, payment_id: str, amount_fen: int) -> None:
        """Refund synchronously or raise DomainError."""
        ...

    def payout(self, session: Session, clock: Clock, *, amount_fen: int, reference: str) -> str:
        """Send money to the customer's bank card (a withdrawal); its id, or raise DomainError."""
        ...

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> GatewayEvent:
        """Verify the signature and parse; raise BadSignature."""
        ...


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxGateway:
    name = "sandbox"

    def __init__(self, secret: str, public_url: str) -> None:
        self.secret = secret
        self.public_url = public_url.rstrip("/")

    # --- what the store calls -------------------------------------------------------------------

    def create_payment(self, session: Session, clock: Clock, *, amount_fen: int, reference: str) -> GatewayPayment:
        payment_id = "pay_" + secrets.token_hex(12)
        session.add(SandboxGatewayPayment(id=payment_id, merchant_reference=reference, amount_fen=amount_fen,
                                          status=REQUIRES_ACTION, created_at=clock.now()))
        return GatewayPayment(id=payment_id, pay_url=f"{self.public_url}/api/v1/sandbox-gateway/payments/{payment_id}")

    def cancel_payment(self, session: Session, payment_id: str) -> None:
        session.execute(update(SandboxGatewayPayment)
                        .where(SandboxGatewayPayment.id == payment_id,
                               SandboxGatewayPayment.status == REQUIRES_ACTION)
                        .values(status="cancelled"))

    def refund(self, session: Session, payment_id: str, amount_fen: int) -> None:
        done = affected(session.execute(update(SandboxGatewayPayment)
                               .where(SandboxGatewayPayment.id == payment_id,
                                      SandboxGatewayPayment.status == SUCCEEDED,
                                      SandboxGatewayPayment.amount_fen - SandboxGatewayPayment.refunded_fen
                                      >= amount_fen)
                               .values(refunded_fen=SandboxGatewayPayment.refunded_fen + amount_fen)))
        if not done:
            raise Conflict("The gateway refused the refund")

    def payout(self, session: Session, clock: Clock, *, amount_fen: int, reference: str) -> str:
        """The sandbox bank pays out at once (a real one may take a day; the money has left the wallet either
        way) but, like a bank, refuses a reference it has already paid."""
        if amount_fen <= 0 or amount_fen > MAX_PAYOUT_FEN:
            raise Conflict("The bank refused the transfer")
        payout_id = "po_" + secrets.token_hex(12)
        if not insert_if_absent(session, SandboxGatewayPayout, id=payout_id, merchant_reference=reference,
                                amount_fen=amount_fen, created_at=clock.now()):
            raise Conflict("The bank refused the transfer")
        return payout_id

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> GatewayEvent:
        given = headers.get(SIGNATURE_HEADER.lower(), "")
        if not given.isascii() or not hmac.compare_digest(given, sign(self.secret, body)):
            raise BadSignature("The webhook signature is not valid")
        try:
            data = orjson.loads(body)
            return GatewayEvent(id=str(data["id"]), type=str(data["type"]), payment_id=str(data["payment_id"]),
                                amount_fen=int(data["amount_fen"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadSignature("The webhook body is not valid") from exc

    # --- what the payer's bank does ---------------------------------------------------------------

    def get(self, session: Session, payment_id: str) -> SandboxGatewayPayment:
        payment = session.get(SandboxGatewayPayment, payment_id)
        if payment is None:
            raise NotFound("No such payment")
        return payment

    def decide(self, session: Session, clock: Clock, payment_id: str, *, approve: bool) -> SandboxGatewayEvent:
        """The payer approves or declines; the bank queues a webhook event for the store."""
        new_status = SUCCEEDED if approve else DECLINED
        decided = session.execute(update(SandboxGatewayPayment)
                                  .where(SandboxGatewayPayment.id == payment_id,
                                         SandboxGatewayPayment.status == REQUIRES_ACTION)
                                  .values(status=new_status)
                                  .returning(SandboxGatewayPayment.amount_fen,
                                             SandboxGatewayPayment.merchant_reference)).first()
        if decided is None:
            self.get(session, payment_id)  # 404 if there is no such payment
            raise Conflict("This payment was already decided")
        event_type = PAYMENT_SUCCEEDED if approve else PAYMENT_DECLINED
        event = SandboxGatewayEvent(id="evt_" + secrets.token_hex(12), payment_id=payment_id,
                                    payload={"type": event_type, "payment_id": payment_id,
                                             "amount_fen": int(decided[0]), "reference": decided[1]},
                                    created_at=clock.now())
        session.add(event)
        session.flush()
        return event

    def signed_delivery(self, event: SandboxGatewayEvent) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps({"id": event.id, **event.payload})
        return body, {SIGNATURE_HEADER: sign(self.secret, body), "Content-Type": "application/json"}

    def undelivered(self, session: Session, limit: int = 100) -> list[SandboxGatewayEvent]:
        return list(session.scalars(select(SandboxGatewayEvent).where(SandboxGatewayEvent.delivered_at.is_(None))
                                    .order_by(SandboxGatewayEvent.created_at).limit(limit)))

    def mark_delivered(self, session: Session, event_id: str, when: datetime, ok: bool) -> None:
        values: dict[str, Any] = {"attempts": SandboxGatewayEvent.attempts + 1}
        if ok:
            values["delivered_at"] = when
        session.execute(update(SandboxGatewayEvent).where(SandboxGatewayEvent.id == event_id).values(**values))


__all__ = ["REFUNDED", "BadSignature", "GatewayEvent", "GatewayPayment", "PaymentGateway", "SandboxGateway", "sign"]
