"""The money-market balance. Money lives in the ledger (``fund:<c>`` confirmed units, ``fund_pending:<c>``
subscriptions not yet confirmed, ``fund_redeeming:<c>`` standard redemptions not yet credited); these
tables hold what the ledger cannot say: when units start and stop earning, and the daily income."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

INSTANT = "instant"
STANDARD = "standard"


class CalendarDay(Base):
    """An operator's exception to the default trading calendar (Monday to Friday): a holiday on a weekday,
    or (rarely) a weekend day declared a trading day."""

    __tablename__ = "fund_calendar"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    trading: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")
    updated_by: Mapped[int | None] = mapped_column(BigId, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscription(Base):
    __tablename__ = "fund_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirms_on: Mapped[date] = mapped_column(Date, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Redemption(Base):
    """``instant`` (to the wallet at once, capped per day) or ``standard`` (credited on ``credits_on``).
    Paying an order from the fund is an instant redemption with ``order_id`` set."""

    __tablename__ = "fund_redemptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(10))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    credits_on: Mapped[date] = mapped_column(Date, index=True)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    order_id: Mapped[int | None] = mapped_column(BigId, default=None)


class UnitMove(Base):
    """Units (in fen at NAV 1.00) that start earning on ``effective_on`` (> 0: a confirmed subscription) or
    stop earning on it (< 0: a redemption or a payment). A holder's units on day D are the sum of their
    moves effective on or before D plus the income of the days before D (``IncomeLine``)."""

    __tablename__ = "fund_unit_moves"
    __table_args__ = (Index("ix_fund_unit_moves_effective_on_customer_id", "effective_on", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    units_fen: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))  # "subscription:<id>", "redemption:<id>"


class DailyIncome(Base):
    """One day's income per 10,000 units, entered once (``rate_e4``: yuan per 10,000 units x 10,000, so
    "0.6012" is 6012), and what was distributed."""

    __tablename__ = "fund_daily_incomes"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rate_e4: Mapped[int] = mapped_column(Integer)
    holders: Mapped[int] = mapped_column(Integer, default=0)
    units_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    day_total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    distributed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    entered_by: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncomeLine(Base):
    """A holder's income for one day, reinvested as units that earn from the next day. ``remainder`` is
    what truncation to the fen cut off (in 1e-8 fen), which decides who gets the leftover fen."""

    __tablename__ = "fund_income_lines"
    __table_args__ = (Index("ix_fund_income_lines_customer_id_day", "customer_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, primary_key=True)  # the holder's ledger account fund:<c>
    customer_id: Mapped[int] = mapped_column(BigId)
    units_fen: Mapped[int] = mapped_column(BigInteger)
    income_fen: Mapped[int] = mapped_column(BigInteger)
    remainder: Mapped[int] = mapped_column(BigInteger)


class InstantUsage(Base):
    """How much a customer took out of the fund instantly on one local day (instant redemptions and fund
    payments), checked against the daily cap in the same UPDATE that adds to it."""

    __tablename__ = "fund_instant_usage"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used_fen: Mapped[int] = mapped_column(BigInteger, default=0)
