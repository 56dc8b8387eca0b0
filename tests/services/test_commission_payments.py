"""Commissions in the service layer: paid once on completion, and reversed after payment (the lifecycle has
no refund of a completed order yet; ``reverse`` is what its "refunded" listener will do): what the sharer's
wallet still holds comes back, what they spent is written off, the wallet never goes negative."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fanbase.db import Database
from fanbase.ledger import service as ledger
from fanbase.ledger.check import problems
from fanbase.orders import service as orders
from fanbase.social.referrals import service as referrals
from fanbase.social.referrals.models import PAID, REVERSED, Commission
from tests.services.test_order_lifecycle import TOTAL, Shop

RATE = "0.1"
COMMISSION = TOTAL // 10


@pytest.fixture
def life(shop, db, clock, gateway, policy) -> Shop:  # type: ignore[no-untyped-def]
    return Shop(db, clock, gateway, policy)


def completed_shared_order(life: Shop) -> tuple[int, int]:
    """(order id, sharer id): an order of BAND9 through the sharer's link, completed and its commission paid."""
    sharer = life.customer()
    with life.db.uow() as s:
        referrals.set_rate(s, life.clock, category="lifestyle", rate=RATE, actor_id=life.staff_id)
        link = referrals.share(s, life.clock, sharer_id=sharer, product_slug="mi-band-9")
    buyer = life.customer()
    with life.db.uow() as s:
        assert referrals.record_click(s, life.clock, code=link.code, customer_id=buyer)
        assert not referrals.record_click(s, life.clock, code=link.code, customer_id=sharer)
    order_id = life.checkout(buyer)
    life.deliver_webhook(life.bank_approves(order_id))
    with life.db.uow() as s:
        orders.ship(s, life.clock, order_id=order_id, actor_id=life.staff_id)
        orders.deliver(s, life.clock, order_id=order_id, actor_id=life.staff_id)
    life.clock.advance(timedelta(days=8).total_seconds())
    assert life.complete() == 1
    with life.db.read() as s:
        assert ledger.balance_of(s, ledger.customer_wallet(sharer)) == COMMISSION
    return order_id, sharer


def reverse_completed(db: Database, life: Shop, order_id: int) -> Commission:
    with db.uow() as s:
        assert referrals.reverse(s, life.clock, orders.get_order(s, order_id)) == 1
        assert referrals.reverse(s, life.clock, orders.get_order(s, order_id)) == 0  # once
    with db.read() as s:
        commission = s.query(Commission).filter_by(order_id=order_id).one()
        assert problems(s) == []
        s.expunge(commission)
        return commission


def test_a_paid_commission_reversed_comes_back_from_the_wallet(db: Database, life: Shop) -> None:
    order_id, sharer = completed_shared_order(life)
    with db.uow() as s:
        assert referrals.pay(s, life.clock, orders.get_order(s, order_id)) == 0  # paid once
    commission = reverse_completed(db, life, order_id)
    assert (commission.status, commission.clawed_back_fen) == (REVERSED, COMMISSION)
    with db.read() as s:
        assert ledger.balance_of(s, ledger.customer_wallet(sharer)) == 0
        assert ledger.balance_of(s, referrals.COMMISSION_EXPENSE) == 0


def test_what_the_sharer_spent_is_written_off(db: Database, life: Shop) -> None:
    order_id, sharer = completed_shared_order(life)
    spent = COMMISSION - 300
    with db.uow() as s:
        ledger.post(s, life.clock, key="spent", kind="wallet_payment", memo="",
                    postings=[(ledger.customer_wallet(sharer), spent), (ledger.SALES_REVENUE, -spent)])
    commission = reverse_completed(db, life, order_id)
    assert (commission.status, commission.clawed_back_fen) == (REVERSED, 300)
    with db.read() as s:
        assert ledger.balance_of(s, ledger.customer_wallet(sharer)) == 0
        assert ledger.balance_of(s, referrals.COMMISSION_EXPENSE) == spent


def test_the_ledger_check_misses_a_commission_payment(db: Database, life: Shop) -> None:
    order_id, _sharer = completed_shared_order(life)
    with db.uow() as s:
        commission = s.query(Commission).filter_by(order_id=order_id).one()
        assert commission.status == PAID
        s.add(Commission(order_id=order_id, sharer_id=commission.buyer_id, buyer_id=commission.buyer_id,
                         amount_fen=1, status=PAID, lines=[], created_at=life.clock.now(),
                         paid_at=life.clock.now()))
        s.flush()
        forged = max(c.id for c in s.query(Commission))
    with db.read() as s:
        assert problems(s) == [f"missing ledger transaction commission:{forged}:paid"]
    with db.uow() as s:
        s.query(Commission).filter_by(id=forged).delete()


@pytest.mark.parametrize(("total", "rate", "expected"), [(24900, "0.0333", 829), (1, "0.5", 0), (99, "0.01", 0),
                                                         (10_000, "0.0001", 1), (449900, "0.5", 224950)])
def test_line_commission_truncates_to_the_fen(total: int, rate: str, expected: int) -> None:
    assert referrals.line_commission(total, referrals.parse_rate(rate)) == expected
