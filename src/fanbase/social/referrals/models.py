"""Tables of share links, their clicks, the operators' commission rates and the commissions earned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

# commission statuses (API.md)
PENDING = "pending"  # the order is not completed yet (or still returnable)
PAID = "paid"  # credited to the sharer's wallet
REVERSED = "reversed"  # the order was refunded, cancelled or expired
STATUSES = (PENDING, PAID, REVERSED)

RATE_SCALE = 10_000  # rates are kept as whole ten-thousandths: "0.0525" -> 525


class ShareLink(Base):
    """One link per fan and product: sharing the same product again gives the same code."""

    __tablename__ = "share_links"
    __table_args__ = (UniqueConstraint("sharer_id", "product_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    sharer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    product_slug: Mapped[str] = mapped_column(String(100))  # for the link's address (slugs never change)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShareClick(Base):
    """A signed-in customer opened a share link (never the sharer's own). Only the newest click of a
    customer for a product counts, for 7 days."""

    __tablename__ = "share_clicks"
    __table_args__ = (Index("ix_share_clicks_customer_id_clicked_at", "customer_id", "clicked_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    link_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_links.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    sharer_id: Mapped[int] = mapped_column(BigId)  # the link's, copied so attribution reads one table
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommissionRate(Base):
    """The operators' rate for a category, in ten-thousandths (no row: no commission)."""

    __tablename__ = "commission_rates"

    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"), primary_key=True)
    rate_e4: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(BigId, default=None)


class Commission(Base):
    """What one sharer earns on one order (the sum of its attributed lines, each truncated to the fen)."""

    __tablename__ = "commissions"
    __table_args__ = (UniqueConstraint("order_id", "sharer_id"),
                      Index("ix_commissions_sharer_id_id", "sharer_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    sharer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    buyer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # [{sku, line_total_fen, rate, amount_fen}]: how the amount was reached
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # a commission reversed after it was paid: what came back from the sharer's wallet
    clawed_back_fen: Mapped[int] = mapped_column(BigInteger, default=0)
