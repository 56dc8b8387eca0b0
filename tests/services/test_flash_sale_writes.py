"""The group commit's write path (multi-row Core INSERTs with ids taken first) writes the same rows the
ORM would, and hands back exactly what it wrote."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fanbase.clock import FixedClock
from fanbase.db import Database, next_ids
from fanbase.flashsale import service as flash
from fanbase.flashsale.gate import InProcessGate
from fanbase.flashsale.models import Purchase
from fanbase.orders import service as orders
from fanbase.orders.models import PENDING_PAYMENT, Order, OrderLine
from fanbase.payments.gateway import SandboxGateway
from tests.services.test_flash_sale_engine import make_sale


def test_a_batch_of_wins_is_written_as_the_orm_would_and_handed_back_as_written(db: Database,
                                                                               clock: FixedClock) -> None:
    sale_id, fans = make_sale(db, clock, units=10, limit=2, customers=3)
    gate = InProcessGate()
    with db.uow() as s:
        state = flash.ensure_loaded(s, gate, sale_id)
    policy = orders.OrderPolicy(zone=ZoneInfo("Asia/Shanghai"))  # 02:00 UTC is 10:00 in Shanghai: same day
    wins = [flash.Win(sale_id, fans[0], 1), flash.Win(sale_id, fans[1], 2), flash.Win(sale_id, fans[0], 1)]
    with db.uow() as s:
        placed = flash.write_wins(s, clock, policy, wins, {sale_id: state})
    now = clock.now()
    day = now.astimezone(policy.zone).strftime("%Y%m%d")
    with db.read() as s:
        loaded = select(Order).options(selectinload(Order.lines), selectinload(Order.events))
        rows = {o.id: o for o in s.scalars(loaded)}
        purchases = s.scalars(select(Purchase).order_by(Purchase.id)).all()
        assert [p.id for p in placed] == sorted(rows) and len({p.number for p in placed}) == 3
        for win, p in zip(wins, placed, strict=True):
            row = rows[p.id]
            assert p.number == row.number == f"{day}{p.id:010d}"
            assert (p.customer_id, p.status, p.total_fen, p.currency, p.payment_method, p.source) == (
                row.customer_id, PENDING_PAYMENT, 9900 * win.quantity, "CNY", "gateway", "flash_sale") == (
                win.customer_id, row.status, row.total_fen, row.currency, row.payment_method, row.source)
            assert p.created_at == row.created_at == row.updated_at == now
            assert p.payment_due_at == row.payment_due_at == now + timedelta(seconds=300)
            assert p.shipping_address == row.shipping_address == {} and row.paid_at is None and row.delivered_at is None
            assert [(x.id, x.sku, x.name, x.quantity, x.unit_price_fen) for x in p.lines] == [
                (x.id, x.sku, x.name, x.quantity, x.unit_price_fen) for x in row.lines] == [
                (p.lines[0].id, "BAND9", "小米手环 9 黑色", win.quantity, 9900)]
            assert [(e.id, e.kind, e.status, e.actor_id, e.detail, e.at) for e in p.events] == [
                (e.id, e.kind, e.status, e.actor_id, e.detail, e.at) for e in row.events] == [
                (p.events[0].id, "created", PENDING_PAYMENT, None, {"source": "flash_sale"}, now)]
        assert p.events[0].detail is not placed[0].events[0].detail  # each value handed out has its own dict
        assert [(x.sale_id, x.customer_id, x.order_id, x.quantity, x.created_at, x.released_at, x.returned)
                for x in purchases] == [(sale_id, w.customer_id, p.id, w.quantity, now, None, False)
                                        for w, p in zip(wins, placed, strict=True)]


def test_a_written_order_is_an_ordinary_order_afterwards(db: Database, clock: FixedClock) -> None:
    sale_id, fans = make_sale(db, clock, units=10, limit=1, customers=1)
    gate = InProcessGate()
    with db.uow() as s:
        state = flash.ensure_loaded(s, gate, sale_id)
        (won,) = flash.write_wins(s, clock, orders.OrderPolicy(), [flash.Win(sale_id, fans[0], 1)], {sale_id: state})
    with db.uow() as s:
        order = orders.pay(s, clock, SandboxGateway("secret", "http://test"), orders.OrderPolicy(), order_id=won.id,
                           customer_id=fans[0], payment_method="gateway")
        assert order.number == won.number and [x.sku for x in order.lines] == ["BAND9"]


def test_big_batches_are_split_into_statements_the_database_takes(db: Database, clock: FixedClock) -> None:
    sale_id, fans = make_sale(db, clock, units=10, limit=1, customers=1)
    many = 5000  # 14 columns an order: more parameters than one SQLite statement may hold
    line = [orders.Line(sku="BAND9", quantity=1, unit_price_fen=100, name="x" * 400)]
    new = [orders.NewOrder(customer_id=fans[0], lines=line, payment_window=timedelta(minutes=5), source="flash_sale")
           for _ in range(many)]
    with db.uow() as s:
        placed = orders.create_unpaid_orders(s, clock, orders.OrderPolicy(), new)
        following = next_ids(s, Order.__table__, 2)  # type: ignore[arg-type]
    assert len({p.id for p in placed}) == many and following[0] > placed[-1].id
    with db.read() as s:
        names = s.scalars(select(OrderLine.name).where(OrderLine.order_id.in_([p.id for p in placed[-3:]]))).all()
        numbers = set(s.scalars(select(Order.number)))
    assert names == ["x" * 300] * 3 and numbers == {p.number for p in placed}
