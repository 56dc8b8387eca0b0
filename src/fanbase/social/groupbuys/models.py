"""Group buys (拼团): an operator's offer of a group price for groups of N, the groups fans start, and their
members, each with the order that pays for their place."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

FORMING = "forming"
COMPLETE = "complete"
FAILED = "failed"

# a member's place: waiting for its order's payment, paid; or gone: the order closed unpaid or was cancelled
# by the member (left), or the group failed (cancelled when unpaid, refunded when paid)
PENDING = "pending"
PAID = "paid"
LEFT = "left"
CANCELLED = "cancelled"
REFUNDED = "refunded"
HOLDING = (PENDING, PAID)  # members that hold a place


class GroupOffer(Base):
    """One SKU at ``group_price_fen`` for groups of ``group_size`` formed within ``time_limit_seconds``."""

    __tablename__ = "group_offers"
    __table_args__ = (CheckConstraint("group_size >= 2 AND group_size <= 100", name="size"),
                      CheckConstraint("group_price_fen > 0", name="price"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"), index=True)
    group_price_fen: Mapped[int] = mapped_column(BigInteger)
    group_size: Mapped[int] = mapped_column(Integer)
    time_limit_seconds: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupBuy(Base):
    """A group a fan started. ``seats_taken`` counts members holding a place (paid or waiting for payment),
    ``paid_count`` the paid ones; both change only by conditional UPDATEs of this row, and the CHECK below
    is the last defence against a group with more members than its size."""

    __tablename__ = "group_buys"
    __table_args__ = (CheckConstraint("paid_count >= 0 AND paid_count <= seats_taken AND seats_taken <= group_size",
                                      name="seats"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("group_offers.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    price_fen: Mapped[int] = mapped_column(BigInteger)  # the offer's group price when the group started
    group_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=FORMING, index=True)
    starter_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class GroupMember(Base):
    """A fan's place in a group and the order paying for it. A fan holds at most one place per group (the
    partial unique index); a place given up (order closed unpaid, or cancelled) lets the fan join again."""

    __tablename__ = "group_buy_members"
    __table_args__ = (Index("uq_group_buy_members_holding", "group_id", "customer_id", unique=True,
                            sqlite_where=text("status IN ('pending', 'paid')"),
                            postgresql_where=text("status IN ('pending', 'paid')")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("group_buys.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
