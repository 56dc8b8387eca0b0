from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
REFUNDED = "refunded"


class Payment(Base):
    """The store's record of one payment attempt. ``id`` is the gateway's payment id; ``purpose`` says
    which domain handles its outcome (``order``, later ``top_up``)."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    reference_id: Mapped[int] = mapped_column(BigId, index=True)
    customer_id: Mapped[int] = mapped_column(BigId, index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    pay_url: Mapped[str] = mapped_column(String(300))
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedWebhook(Base):
    """Webhook event ids already handled: a repeated delivery changes nothing."""

    __tablename__ = "processed_webhooks"

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- the sandbox bank's side (it would be another company's database) ---------------------------

REQUIRES_ACTION = "requires_action"
DECLINED = "declined"


class SandboxGatewayPayment(Base):
    __tablename__ = "sandbox_gateway_payments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(80))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default=REQUIRES_ACTION)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SandboxGatewayEvent(Base):
    """The bank's outbox of webhook events, retried until the store answers 2xx."""

    __tablename__ = "sandbox_gateway_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SandboxGatewayPayout(Base):
    """A transfer the sandbox bank made to a customer's card (a wallet withdrawal); one per reference."""

    __tablename__ = "sandbox_gateway_payouts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(80), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
