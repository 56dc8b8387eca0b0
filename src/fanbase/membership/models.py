"""Membership: a member's level, growth entries (each counted once by its key), points lots (one per
customer and earning year, each with its expiry) and every move of points."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

BRONZE = "bronze"
SILVER = "silver"
GOLD = "gold"
DIAMOND = "diamond"
# level -> growth needed within one calendar year, highest first
LEVELS: tuple[tuple[str, int], ...] = ((DIAMOND, 30_000), (GOLD, 10_000), (SILVER, 2_000), (BRONZE, 0))


class Member(Base):
    """``level`` as set by the yearly review of ``level_year`` (the store's calendar year), raised during the
    year when that year's growth reaches a higher level."""

    __tablename__ = "members"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), default=BRONZE)
    level_year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GrowthEntry(Base):
    __tablename__ = "membership_growth"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)  # the store's calendar year it counts for
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointsLot(Base):
    """The points a customer earned in one calendar year; they expire after ``expires_on`` (the end of the
    next calendar year, in the store's zone). ``remaining`` is what is left to spend."""

    __tablename__ = "points_lots"
    __table_args__ = (UniqueConstraint("customer_id", "earned_year"),
                      CheckConstraint("remaining >= 0", name="points_not_negative"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    earned_year: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    remaining: Mapped[int] = mapped_column(BigInteger, default=0)


class PointsMove(Base):
    """Every change of a lot, never edited: ``delta`` > 0 adds points. ``key`` makes a move happen once
    (``order:<id>:earn``, ``order:<id>:redeem:<lot>``...); expiries have none (the lot's conditional UPDATE
    decides)."""

    __tablename__ = "points_moves"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("points_lots.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # earn | redeem | return | reverse | expire
    delta: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(BigId, index=True, default=None)
    key: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
