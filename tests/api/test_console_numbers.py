"""The console's figures, counted by the database: today's orders per local hour, paid orders, sales and
their average; a launch's sell-through curve."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.flashsale.models import FlashSale
from fanbase.flashsale.showcase import sold_curve
from fanbase.orders import service as orders
from tests.api.test_flash_sales import START, buy, live_sale
from tests.helpers import place_order


def test_the_day_summary_counts_local_hours_and_paid_orders(client: TestClient, ctx: Context, clock: FixedClock,
                                                           shop: None, fan: str) -> None:
    zone = ctx.settings.zone
    midnight = datetime(2026, 11, 25, 0, 0, tzinfo=zone)
    placed_at = {0: 1, 9: 2, 23: 1}  # local hour -> orders placed in it (paid: all but the first of hour 9)
    clock.set(midnight - timedelta(minutes=1))
    place_order(client, fan)  # yesterday: not counted
    for hour, count in placed_at.items():
        for index in range(count):
            clock.set(midnight + timedelta(hours=hour, minutes=59 if index else 0))
            order = place_order(client, fan, quantity=hour // 9 + 1)
            if not (hour == 9 and index == 0):
                client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
    clock.set(midnight + timedelta(days=1))
    place_order(client, fan)  # tomorrow's first minute: not counted either
    with ctx.db.read() as session:
        summary = orders.day_summary(session, midnight, zone)
    expected_hours = [placed_at.get(hour, 0) for hour in range(24)]
    assert summary.per_hour == expected_hours
    # paid: hour 0 x1 unit, hour 9 x2 units (one of two), hour 23 x3 units; 4,499.00 a unit
    assert (summary.placed, summary.paid) == (4, 3)
    assert summary.sales_fen == 449900 * (1 + 2 + 3)
    assert summary.average_fen == 449900 * 2


def test_the_sell_through_curve_counts_units_bought_by_each_moment(client: TestClient, db: Database, ctx: Context,
                                                                  clock: FixedClock, shop: None, admin: str) -> None:
    now = clock.now()
    body = {"sku": "XM15-256", "units": 10, "price_fen": 399900, "reservations_open_at": now.isoformat(),
            "starts_at": (now + timedelta(seconds=START)).isoformat(),
            "ends_at": (now + timedelta(seconds=START + 600)).isoformat(), "per_customer_limit": 3,
            "payment_window_seconds": 900}
    sale, tokens = live_sale(client, db, ctx, clock, admin, body, 4)
    start = clock.now()
    for token, (seconds, quantity) in zip(tokens, ((0, 1), (30, 2), (61, 3), (599, 1)), strict=True):
        clock.set(start + timedelta(seconds=seconds))
        assert buy(client, sale, token, quantity=quantity).status_code == 201
    with ctx.db.read() as session:
        curve = sold_curve(session, session.get_one(FlashSale, sale["id"]), start + timedelta(minutes=20), points=10)
    assert curve == [(0.0, 1), (60.0, 3), (120.0, 6), (180.0, 6), (240.0, 6), (300.0, 6), (360.0, 6),
                     (420.0, 6), (480.0, 6), (540.0, 6), (600.0, 7)]
