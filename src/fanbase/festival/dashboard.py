"""The festival's dashboard: orders placed inside the festival's window (those paid and kept make the
sales), counted by the database, one query per figure: ``orders.service.window_summary`` (orders, sales,
average, orders per hour), ``orders.service.top_lines`` (top products by units),
``referrals.service.top_sharers`` (sharers by the line totals attributed to them, reversed commissions
left out). Read-only; kept apart from ``service.py`` because the cart (which ``orders`` imports) prices
through that module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fanbase.accounts.service import names_of
from fanbase.festival.models import Festival
from fanbase.festival.service import get_festival, status
from fanbase.orders import service as orders
from fanbase.social.referrals import service as referrals

TOP = 10
MAX_CHART_BARS = 72  # orders per hour; a longer festival is drawn in wider bars


@dataclass(frozen=True)
class TopProduct:
    sku: str
    name: str
    units: int
    sales_fen: int


@dataclass(frozen=True)
class TopSharer:
    sharer_id: int
    name: str
    attributed_sales_fen: int
    orders: int
    commission_fen: int


@dataclass(frozen=True)
class Dashboard:
    festival: Festival
    status: str
    placed: int  # orders placed in the window, whatever became of them
    orders: int  # of those, paid and kept
    sales_fen: int
    average_order_fen: int  # sales / orders, half up to the fen
    bucket_hours: int  # width of a bar of ``per_bucket``
    bucket_starts: list[datetime]
    per_bucket: list[int]  # orders placed in each bar, from the start until now (or the end)
    top_products: list[TopProduct]
    top_sharers: list[TopSharer]


def dashboard(session: Session, now: datetime, festival_id: int, top: int = TOP) -> Dashboard:
    festival = get_festival(session, festival_id)
    start, end = festival.starts_at, festival.ends_at
    until = min(max(now, start), end)
    hours = max(1, -(-int((until - start).total_seconds()) // 3600))  # whole hours, rounded up
    width = -(-hours // MAX_CHART_BARS)  # hours per bar, rounded up
    starts = [start + timedelta(hours=width * i) for i in range(-(-hours // width))]
    edges = [*starts, min(starts[-1] + timedelta(hours=width), end)]
    summary = orders.window_summary(session, edges)
    products = [TopProduct(sku=sku, name=name, units=units, sales_fen=sales)
                for sku, name, units, sales in orders.top_lines(session, start, end, top)]
    sharers = referrals.top_sharers(session, start, end, top)
    names = names_of(session, {s.sharer_id for s in sharers})
    return Dashboard(festival=festival, status=status(festival, now), placed=summary.placed, orders=summary.paid,
                     sales_fen=summary.sales_fen, average_order_fen=summary.average_fen, bucket_hours=width,
                     bucket_starts=starts, per_bucket=summary.per_bucket,
                     top_products=products,
                     top_sharers=[TopSharer(sharer_id=s.sharer_id, name=names.get(s.sharer_id, ""),
                                            attributed_sales_fen=s.attributed_sales_fen, orders=s.orders,
                                            commission_fen=s.commission_fen) for s in sharers])

