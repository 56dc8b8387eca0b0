from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

FIRST_COME = "first_come"
LOTTERY = "lottery"


class FlashSale(Base):
    """A launch: ``units`` of one SKU set aside from stock at ``price_fen`` for reserved fans."""

    __tablename__ = "flash_sales"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"))
    units: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    reservations_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    per_customer_limit: Mapped[int] = mapped_column(Integer)
    payment_window_seconds: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16), default=FIRST_COME)
    require_purchase_token: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # set when the sale ended and its unsold units went back to ordinary stock
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # lottery sales: the seed of the draw, chosen when the sale starts (never before, so nobody can game it)
    # and published afterwards, so anyone can repeat the draw from it and the reservations
    lottery_seed: Mapped[str | None] = mapped_column(String(64), default=None)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # a festival-only sale: it lies inside this festival's window (``festival.service.check_flash_sale``)
    festival_id: Mapped[int | None] = mapped_column(BigId, default=None, index=True)


class Reservation(Base):
    __tablename__ = "flash_sale_reservations"
    __table_args__ = (UniqueConstraint("sale_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sale_id: Mapped[int] = mapped_column(BigId, ForeignKey("flash_sales.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Purchase(Base):
    """One winning purchase and its order. ``released_at`` is set when the order closes unpaid (or is
    cancelled) so its units belong to the sale again; ``returned`` says the gate has taken them back."""

    __tablename__ = "flash_sale_purchases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sale_id: Mapped[int] = mapped_column(BigId, ForeignKey("flash_sales.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)


class LotteryRound(Base):
    """A round of a lottery sale: the fans at draw positions ``[first_position, end_position)`` may buy
    from ``opens_at`` until ``closes_at`` (one payment window). Recorded once, by whoever opens it first,
    so every process lets the same fans in."""

    __tablename__ = "flash_sale_lottery_rounds"

    sale_id: Mapped[int] = mapped_column(BigId, ForeignKey("flash_sales.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    free_units: Mapped[int] = mapped_column(Integer)  # what was left for this round when it opened
    first_position: Mapped[int] = mapped_column(Integer)
    end_position: Mapped[int] = mapped_column(Integer)


class LotteryWinner(Base):
    """A fan drawn in a lottery sale: their place in the draw and the round in which they may buy."""

    __tablename__ = "flash_sale_lottery_winners"
    __table_args__ = (UniqueConstraint("sale_id", "customer_id"),)

    sale_id: Mapped[int] = mapped_column(BigId, ForeignKey("flash_sales.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    round: Mapped[int] = mapped_column(Integer)
