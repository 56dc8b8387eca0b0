"""Read-only questions the pages ask about launches: the home page, the launch page and the console."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fanbase.flashsale.models import FlashSale, Purchase


def next_launch(session: Session, now: datetime) -> FlashSale | None:
    """The launch to show: the live one that started first, else the next to start."""
    return session.scalar(select(FlashSale).where(FlashSale.ends_at > now)
                          .order_by(FlashSale.starts_at, FlashSale.id).limit(1))


def customer_order_id(session: Session, sale_id: int, customer_id: int) -> int | None:
    """The fan's newest order from this sale (a live one first: one that still holds its units)."""
    return session.scalar(select(Purchase.order_id)
                          .where(Purchase.sale_id == sale_id, Purchase.customer_id == customer_id)
                          .order_by(Purchase.released_at.is_not(None), Purchase.id.desc()).limit(1))


def list_sales(session: Session, limit: int = 100) -> list[FlashSale]:
    """For the console: the newest sales first."""
    return list(session.scalars(select(FlashSale).order_by(FlashSale.id.desc()).limit(limit)))


def orders_since(session: Session, sale_id: int, since: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(Purchase)
                              .where(Purchase.sale_id == sale_id, Purchase.created_at >= since)) or 0)


def sold_curve(session: Session, sale: FlashSale, now: datetime, points: int = 30) -> list[tuple[float, int]]:
    """Sell-through over the sale so far: ``points`` samples of (seconds since the start, units sold by
    then), counting every purchase made (an order closed unpaid later still sold at its time)."""
    end = min(now, sale.ends_at)
    if end <= sale.starts_at:
        return []
    span = (end - sale.starts_at).total_seconds()
    moments = [span * step / points for step in range(points + 1)]
    # one pass of the database over the sale's purchases: the units bought by each moment
    sold = session.execute(select(*(
        func.coalesce(func.sum(case((Purchase.created_at <= sale.starts_at + timedelta(seconds=at),
                                     Purchase.quantity), else_=0)), 0) for at in moments))
        .where(Purchase.sale_id == sale.id)).one()
    return [(at, int(units)) for at, units in zip(moments, sold, strict=True)]
