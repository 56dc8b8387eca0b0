"""Reviews of products by customers who received them (one per order line) and their helpful votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

MAX_TEXT = 2000


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # plain text, escaped wherever shown
    author_name: Mapped[str] = mapped_column(String(100))
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HelpfulVote(Base):
    __tablename__ = "review_helpful_votes"
    __table_args__ = (UniqueConstraint("review_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(BigId, ForeignKey("reviews.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
