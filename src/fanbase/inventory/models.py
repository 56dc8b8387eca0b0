from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

WAREHOUSE = "warehouse"
STORE = "store"


class Location(Base):
    """A warehouse or a store. Allocation tries locations in ascending ``priority``."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16), default=WAREHOUSE)
    priority: Mapped[int] = mapped_column(Integer, default=100)


class StockLevel(Base):
    """On hand and allocated for one SKU at one location; available = on_hand - allocated.

    The CHECK constraints are the last line of defence: whatever a bug does, the database refuses
    to allocate more than is on hand."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("sku", "location_id"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        CheckConstraint("on_hand >= allocated", name="not_oversold"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"), index=True)
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("locations.id"))
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated: Mapped[int] = mapped_column(BigInteger, default=0)


ALLOCATED = "allocated"
RELEASED = "released"
FULFILLED = "fulfilled"


class Allocation(Base):
    """Units held for a reference (e.g. ``order:42``) at one location."""

    __tablename__ = "stock_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("locations.id"))
    stock_level_id: Mapped[int] = mapped_column(BigId, ForeignKey("stock_levels.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ALLOCATED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
