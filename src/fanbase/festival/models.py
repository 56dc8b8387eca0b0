"""Tables of fan festivals (a campaign with a time window) and their discounts by product or category."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fanbase.db import Base, BigId, UTCDateTime


class Festival(Base):
    """Live from ``starts_at`` (included) until ``ends_at`` (excluded). Festivals never overlap (409)."""

    __tablename__ = "festivals"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    discounts: Mapped[list[FestivalDiscount]] = relationship(order_by="FestivalDiscount.id", lazy="selectin")


class FestivalDiscount(Base):
    """``percent_off`` (1-90) of every variant of one product, or of every product of one category. The slug
    is copied for display (slugs never change)."""

    __tablename__ = "festival_discounts"
    __table_args__ = (
        CheckConstraint("percent_off BETWEEN 1 AND 90", name="percent"),
        CheckConstraint("(product_id IS NULL) <> (category_id IS NULL)", name="one_target"),
        UniqueConstraint("festival_id", "product_id", name="uq_festival_discounts_product"),
        UniqueConstraint("festival_id", "category_id", name="uq_festival_discounts_category"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    festival_id: Mapped[int] = mapped_column(BigId, ForeignKey("festivals.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"), default=None)
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id"), default=None)
    slug: Mapped[str] = mapped_column(String(100))
    percent_off: Mapped[int] = mapped_column(Integer)
