from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanbase.db import Base, BigId, UTCDateTime

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDED = "refunded"

# The whole lifecycle in one place: status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_PAYMENT: frozenset({PAID, CANCELLED}),
    PAID: frozenset({SHIPPED, REFUNDED, CANCELLED}),  # a paid order cancelled is refunded
    SHIPPED: frozenset({DELIVERED, REFUNDED}),
    DELIVERED: frozenset({COMPLETED, REFUNDED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
    REFUNDED: frozenset(),
}
PAYMENT_METHODS = ("gateway", "wallet", "fund")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_method: Mapped[str] = mapped_column(String(16))
    payment_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(32), default="cart")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    # membership points spent on this order (100 points = 1 CNY, 1 point = 1 fen): ``total_fen`` is what the
    # customer pays after them; the lines keep their prices
    points_discount_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    # loaded when used (lists ask for them with selectinload), so status changes read one row
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id")
    events: Mapped[list[OrderEvent]] = relationship(order_by="OrderEvent.id")


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)


class OrderEvent(Base):
    """The order's timeline: every status change and notable fact, never edited."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigId, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
