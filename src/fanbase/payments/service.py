"""Payments: gateway payments for any purpose, webhooks, refunds, and paying from a balance.

Which domain a payment serves is its ``purpose``; that domain registers what happens when the gateway
says the money arrived (``register_purpose``), so payments never imports orders or the wallet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent, set_loaded
from fanbase.errors import Conflict, NotFound
from fanbase.ledger import service as ledger
from fanbase.payments.gateway import PAYMENT_DECLINED, PAYMENT_SUCCEEDED, PaymentGateway
from fanbase.payments.models import (
    CANCELLED,
    FAILED,
    PENDING,
    REFUNDED,
    SUCCEEDED,
    Payment,
    ProcessedWebhook,
)


@dataclass(frozen=True)
class PurposeHandler:
    """``on_captured`` applies a captured payment (posting the ledger transaction that credits the right
    account) and returns False when the thing paid for can no longer take the money."""

    on_captured: Callable[[Session, Clock, Payment], bool]
    on_declined: Callable[[Session, Clock, Payment], None] = lambda session, clock, payment: None
    # Locks the thing paid for. A webhook calls it before it touches the payment, so that it takes the rows
    # in the same order as that domain's own changes (the thing, then its payments): no deadlock between them.
    lock: Callable[[Session, Payment], None] = lambda session, payment: None


_HANDLERS: dict[str, PurposeHandler] = {}


def register_purpose(purpose: str, handler: PurposeHandler) -> None:
    _HANDLERS[purpose] = handler


def start_gateway_payment(session: Session, clock: Clock, gateway: PaymentGateway, *, purpose: str,
                          reference_id: int, customer_id: int, amount_fen: int,
                          replaces_pending: bool = True) -> Payment:
    """Open a new gateway payment, cancelling earlier pending ones for the same thing (there are none
    for something just created: ``replaces_pending=False`` skips the look)."""
    if replaces_pending:
        for older in pending_payments(session, purpose, reference_id):
            cancel_payment(session, clock, gateway, older)
    created = gateway.create_payment(session, clock, amount_fen=amount_fen, reference=f"{purpose}:{reference_id}")
    payment = Payment(id=created.id, gateway=gateway.name, purpose=purpose, reference_id=reference_id,
                      customer_id=customer_id, amount_fen=amount_fen, status=PENDING, pay_url=created.pay_url,
                      created_at=clock.now(), updated_at=clock.now())
    session.add(payment)
    session.flush()
    return payment


def pending_payments(session: Session, purpose: str, reference_id: int) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.purpose == purpose,
                                                      Payment.reference_id == reference_id,
                                                      Payment.status == PENDING)))


def latest_payment(session: Session, purpose: str, reference_id: int) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.purpose == purpose, Payment.reference_id == reference_id)
                          .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(1))


def latest_payments(session: Session, purpose: str, reference_ids: list[int]) -> dict[int, Payment]:
    found: dict[int, Payment] = {}
    if not reference_ids:
        return found
    rows = session.scalars(select(Payment).where(Payment.purpose == purpose, Payment.reference_id.in_(reference_ids))
                           .order_by(Payment.created_at, Payment.id))
    for payment in rows:
        found[payment.reference_id] = payment  # later rows win
    return found


def cancel_payment(session: Session, clock: Clock, gateway: PaymentGateway, payment: Payment) -> None:
    if _move(session, clock, payment, PENDING, CANCELLED):
        gateway.cancel_payment(session, payment.id)


def _move(session: Session, clock: Clock, payment: Payment, old: str, new: str) -> bool:
    """Atomic status change; False when someone else changed it first."""
    now = clock.now()
    moved = affected(session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == old)
                                     .values(status=new, updated_at=now)))
    if moved:
        set_loaded(payment, status=new, updated_at=now)
    else:
        session.refresh(payment)
    return bool(moved)


def handle_webhook(session: Session, clock: Clock, gateway: PaymentGateway, body: bytes,
                   headers: dict[str, str]) -> None:
    """Apply a gateway webhook once. Bad signature: BadSignature (400), nothing written."""
    event = gateway.parse_webhook(body, headers)
    if not insert_if_absent(session, ProcessedWebhook, event_id=event.id, processed_at=clock.now()):
        return  # delivered before (or right now, by a twin that holds the row)
    payment = session.get(Payment, event.payment_id)
    if payment is None:
        raise NotFound("Unknown payment")
    _HANDLERS[payment.purpose].lock(session, payment)
    if event.type == PAYMENT_SUCCEEDED:
        _captured(session, clock, gateway, payment)
    elif event.type == PAYMENT_DECLINED and _move(session, clock, payment, PENDING, FAILED):
        _HANDLERS[payment.purpose].on_declined(session, clock, payment)


def _captured(session: Session, clock: Clock, gateway: PaymentGateway, payment: Payment) -> None:
    if payment.status == SUCCEEDED:
        return
    previous = payment.status
    while not _move(session, clock, payment, previous, SUCCEEDED):
        # changed since we read it (e.g. the expiry job cancelled it meanwhile): the bank has the money all
        # the same, so capture it from the status it has now
        previous = payment.status
        if previous == SUCCEEDED:
            return
    if previous == PENDING and _HANDLERS[payment.purpose].on_captured(session, clock, payment):
        return
    # The money arrived for something no longer payable (expired, cancelled, paid another way):
    # hold it as unapplied, then send it straight back.
    ledger.post(session, clock, key=f"payment:{payment.id}:capture", kind="payment_unapplied",
                memo=f"{payment.purpose}:{payment.reference_id}", reference=payment.id,
                postings=[(ledger.GATEWAY_CLEARING, payment.amount_fen),
                          (ledger.UNAPPLIED_PAYMENTS, -payment.amount_fen)])
    gateway.refund(session, payment.id, payment.amount_fen)
    ledger.post(session, clock, key=f"payment:{payment.id}:refund", kind="payment_returned",
                memo=f"{payment.purpose}:{payment.reference_id}", reference=payment.id,
                postings=[(ledger.UNAPPLIED_PAYMENTS, payment.amount_fen),
                          (ledger.GATEWAY_CLEARING, -payment.amount_fen)])
    _move(session, clock, payment, SUCCEEDED, REFUNDED)


def capture_postings(payment: Payment, credit: ledger.SystemAccount) -> list[tuple[ledger.SystemAccount, int]]:
    """The ledger lines of a captured gateway payment: the gateway owes us, ``credit`` is credited."""
    return [(ledger.GATEWAY_CLEARING, payment.amount_fen), (credit, -payment.amount_fen)]


def refund_gateway_payment(session: Session, clock: Clock, gateway: PaymentGateway, payment: Payment,
                           debit: ledger.SystemAccount) -> None:
    """Send a captured payment back through the gateway; ``debit`` carries the cost (e.g. refunds)."""
    if payment.status != SUCCEEDED:
        raise Conflict("Only a captured payment can be refunded")
    if not _move(session, clock, payment, SUCCEEDED, REFUNDED):
        return
    gateway.refund(session, payment.id, payment.amount_fen)
    session.execute(update(Payment).where(Payment.id == payment.id).values(refunded_fen=payment.amount_fen))
    ledger.post(session, clock, key=f"payment:{payment.id}:refund", kind="refund", memo="gateway refund",
                reference=payment.id,
                postings=[(debit, payment.amount_fen), (ledger.GATEWAY_CLEARING, -payment.amount_fen)])


def expected_ledger_keys(session: Session) -> list[str]:
    """The transactions the money that moved through the gateway must have: a capture for every payment
    that succeeded, and a refund as well for every one sent back."""
    keys: list[str] = []
    for payment_id, status in session.execute(select(Payment.id, Payment.status)
                                              .where(Payment.status.in_((SUCCEEDED, REFUNDED))).order_by(Payment.id)):
        keys.append(f"payment:{payment_id}:capture")
        if status == REFUNDED:
            keys.append(f"payment:{payment_id}:refund")
    return keys


def captured_payment(session: Session, purpose: str, reference_id: int) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.purpose == purpose, Payment.reference_id == reference_id,
                                                Payment.status == SUCCEEDED))
