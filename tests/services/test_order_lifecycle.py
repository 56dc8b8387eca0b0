"""The order lifecycle at the service level: every move TRANSITIONS allows works and does exactly its part;
every move it forbids is refused before anything is written; the scheduled jobs are idempotent; and a
gateway webhook racing the expiry job has exactly one winner."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.cart import service as cart_service
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import Conflict
from fanbase.inventory import service as inventory
from fanbase.inventory.models import ALLOCATED, FULFILLED, RELEASED, Allocation
from fanbase.ledger import service as ledger
from fanbase.membership import service as membership
from fanbase.orders import service as orders
from fanbase.orders.models import (
    CANCELLED,
    COMPLETED,
    DELIVERED,
    PAID,
    PENDING_PAYMENT,
    REFUNDED,
    SHIPPED,
    TRANSITIONS,
    Order,
    OrderEvent,
)
from fanbase.payments import models as payment_models
from fanbase.payments import service as payments
from fanbase.payments.gateway import SandboxGateway
from fanbase.payments.models import Payment
from fanbase.payments.models import SandboxGatewayPayment as Bank
from fanbase.wallet import service as wallet_service
from tests.helpers import ADDRESS

SKU, PRICE, QUANTITY, STOCK = "BAND9", 24900, 2, 100  # seed_catalogue: BAND9 at ¥249.00, 100 in `main`
TOTAL = PRICE * QUANTITY
_emails = itertools.count(1)


class Shop:
    """The services wired the way a request or a job calls them: each step in its own unit of work."""

    def __init__(self, db: Database, clock: FixedClock, gateway: SandboxGateway,
                 policy: orders.OrderPolicy) -> None:
        self.db, self.clock, self.gateway, self.policy = db, clock, gateway, policy
        with db.uow() as s:
            self.staff_id = accounts.create_staff(s, clock, email="ops@example.com", password="password-1",
                                                  name="运营", role="admin").id

    def customer(self, wallet_fen: int = 0) -> int:
        with self.db.uow() as s:
            customer_id = accounts.register_customer(s, self.clock, email=f"life{next(_emails)}@example.com",
                                                     password="password-1", name="粉丝").id
            if wallet_fen:
                wallet = ledger.customer_wallet(customer_id)
                ledger.post(s, self.clock, key=f"top-up:{customer_id}", kind="top_up", memo="",
                            postings=[(ledger.GATEWAY_CLEARING, wallet_fen), (wallet, -wallet_fen)],
                            owners={wallet.code: customer_id})
                wallet_service.set_tier(s, self.clock, customer_id=customer_id, tier=2, actor_id=self.staff_id)
        return customer_id

    def checkout(self, customer_id: int, method: str = "gateway") -> int:
        with self.db.uow() as s:
            cart_service.set_quantity(s, self.clock, customer_id, SKU, QUANTITY)
            return orders.checkout(s, self.clock, self.gateway, self.policy, customer_id=customer_id,
                                   payment_method=method, shipping_address=ADDRESS).id

    def bank_approves(self, order_id: int) -> tuple[bytes, dict[str, str]]:
        """The payer approves at the bank; returns the webhook the bank will deliver."""
        with self.db.uow() as s:
            payment = orders.current_payment(s, orders.get_order(s, order_id))
            assert payment is not None
            event = self.gateway.decide(s, self.clock, payment.id, approve=True)
            body, headers = self.gateway.signed_delivery(event)
        return body, {k.lower(): v for k, v in headers.items()}

    def deliver_webhook(self, webhook: tuple[bytes, dict[str, str]]) -> None:
        with self.db.uow() as s:
            payments.handle_webhook(s, self.clock, self.gateway, *webhook)

    def expire(self) -> int:
        with self.db.uow() as s:
            return orders.expire_unpaid(s, self.clock, self.gateway)

    def complete(self) -> int:
        with self.db.uow() as s:
            return orders.complete_delivered(s, self.clock, self.policy)

    def order_in(self, status: str) -> tuple[int, int]:
        """A fresh order brought to ``status`` the way real ones get there: (order id, customer id)."""
        customer_id = self.customer(wallet_fen=10 * TOTAL)
        order_id = self.checkout(customer_id)
        if status in (PAID, SHIPPED, DELIVERED, COMPLETED, REFUNDED):
            self.deliver_webhook(self.bank_approves(order_id))
        if status in (SHIPPED, DELIVERED, COMPLETED):
            with self.db.uow() as s:
                orders.ship(s, self.clock, order_id=order_id, actor_id=self.staff_id)
        if status in (DELIVERED, COMPLETED):
            with self.db.uow() as s:
                orders.deliver(s, self.clock, order_id=order_id, actor_id=self.staff_id)
        if status == COMPLETED:
            self.clock.advance(self.policy.return_window.total_seconds())
            assert self.complete() == 1
        if status == CANCELLED:
            with self.db.uow() as s:
                orders.cancel(s, self.clock, self.gateway, order_id=order_id, customer_id=customer_id)
        if status == REFUNDED:
            with self.db.uow() as s:
                orders.refund(s, self.clock, self.gateway, order_id=order_id, actor_id=self.staff_id)
        with self.db.read() as s:
            assert orders.get_order(s, order_id).status == status
        return order_id, customer_id

    def snapshot(self, order_id: int) -> dict[str, Any]:
        """Everything a lifecycle step may touch."""
        with self.db.read() as s:
            order = orders.get_order(s, order_id)
            return {
                "status": order.status,
                "events": [(e.kind, e.status) for e in order.events],
                "stock": [(v.on_hand, v.allocated) for v in inventory.stock_of(s, SKU)],
                "allocations": sorted(s.scalars(select(Allocation.status)
                                                .where(Allocation.reference == orders.reference(order)))),
                "payments": sorted(s.execute(select(Payment.status, Payment.refunded_fen)
                                             .where(Payment.reference_id == order_id)).tuples().all()),
                "bank": sorted(s.execute(select(Bank.status, Bank.refunded_fen)
                                         .where(Bank.merchant_reference == f"order:{order_id}"))
                               .tuples().all()),
                "ledger": dict(s.execute(select(ledger.LedgerAccount.code, ledger.LedgerAccount.balance))
                               .tuples().all()),
                "delivered_at": order.delivered_at,
            }


@pytest.fixture
def life(shop, db, clock, gateway, policy) -> Shop:  # type: ignore[no-untyped-def]
    return Shop(db, clock, gateway, policy)


# --- every transition, allowed and forbidden ------------------------------------------------------------

# the service call that tries to move an order to each status (nothing moves an order back to pending)
MOVES: dict[str, Callable[[Shop, Session, int, int], Any]] = {
    PAID: lambda shop, s, order_id, customer_id: orders.pay(
        s, shop.clock, shop.gateway, shop.policy, order_id=order_id, customer_id=customer_id,
        payment_method="wallet"),
    SHIPPED: lambda shop, s, order_id, _: orders.ship(s, shop.clock, order_id=order_id,
                                                      actor_id=shop.staff_id),
    DELIVERED: lambda shop, s, order_id, _: orders.deliver(s, shop.clock, order_id=order_id,
                                                           actor_id=shop.staff_id),
    COMPLETED: lambda shop, s, order_id, _: orders.complete_delivered(s, shop.clock, shop.policy),
    CANCELLED: lambda shop, s, order_id, customer_id: orders.cancel(
        s, shop.clock, shop.gateway, order_id=order_id, customer_id=customer_id),
    REFUNDED: lambda shop, s, order_id, _: orders.refund(s, shop.clock, shop.gateway, order_id=order_id,
                                                         actor_id=shop.staff_id),
}

# what each allowed move does besides the status and one event: stock (on hand, allocated) deltas,
# the order's allocations afterwards, and normal-side ledger deltas
_REFUND = {ledger.REFUNDS.code: TOTAL, ledger.GATEWAY_CLEARING.code: -TOTAL}
EFFECTS: dict[tuple[str, str], tuple[tuple[int, int], str, dict[str, int]]] = {
    (PENDING_PAYMENT, PAID): ((0, 0), ALLOCATED, {"wallet": -TOTAL, ledger.SALES_REVENUE.code: TOTAL}),
    (PENDING_PAYMENT, CANCELLED): ((0, -QUANTITY), RELEASED, {}),
    (PAID, SHIPPED): ((-QUANTITY, -QUANTITY), FULFILLED, {}),
    (PAID, CANCELLED): ((0, -QUANTITY), RELEASED, _REFUND),
    (PAID, REFUNDED): ((0, -QUANTITY), RELEASED, _REFUND),
    (SHIPPED, DELIVERED): ((0, 0), FULFILLED, {}),
    (SHIPPED, REFUNDED): ((0, 0), FULFILLED, _REFUND),  # the goods left: no stock comes back
    # membership: 1 point per yuan paid, earned on completion (a marketing expense owed as points)
    (DELIVERED, COMPLETED): ((0, 0), FULFILLED, {ledger.POINTS_LIABILITY.code: TOTAL // 100,
                                                 membership.POINTS_EXPENSE.code: TOTAL // 100}),
    (DELIVERED, REFUNDED): ((0, 0), FULFILLED, _REFUND),
}


def test_every_allowed_transition_has_a_service_move_and_an_expectation() -> None:
    allowed = {(old, new) for old, targets in TRANSITIONS.items() for new in targets}
    assert allowed == set(EFFECTS)
    assert {new for _, new in allowed} <= set(MOVES)


def _ledger_delta(before: dict[str, int], after: dict[str, int], customer_id: int) -> dict[str, int]:
    """Normal-side changes of the order's accounts (the customer's wallet is called ``wallet``)."""
    specs = {spec.code: spec for spec in (ledger.SALES_REVENUE, ledger.REFUNDS, ledger.GATEWAY_CLEARING,
                                          ledger.UNAPPLIED_PAYMENTS, ledger.customer_wallet(customer_id),
                                          ledger.POINTS_LIABILITY, membership.POINTS_EXPENSE)}
    delta = {}
    for code in set(before) | set(after):
        change = after.get(code, 0) - before.get(code, 0)
        if change:
            delta["wallet" if code.startswith("wallet:") else code] = (
                change if specs[code].normal == "debit" else -change)
    return delta


@pytest.mark.parametrize(("old", "new"), [(old, new) for old in TRANSITIONS for new in MOVES],
                         ids=lambda status: status)
def test_transition(life: Shop, old: str, new: str) -> None:
    order_id, customer_id = life.order_in(old)
    if new == COMPLETED:
        life.clock.advance(life.policy.return_window.total_seconds())  # the job only looks at due orders
    before = life.snapshot(order_id)

    if new not in TRANSITIONS[old]:
        # refused before anything is written: even a caller that commits after the refusal changes nothing
        with life.db.uow() as s:
            if new == COMPLETED:
                assert MOVES[new](life, s, order_id, customer_id) == 0  # a job skips, it does not raise
            else:
                with pytest.raises(Conflict):
                    MOVES[new](life, s, order_id, customer_id)
        assert life.snapshot(order_id) == before
        return

    with life.db.uow() as s:
        MOVES[new](life, s, order_id, customer_id)
    after = life.snapshot(order_id)
    (on_hand, allocated), allocation_status, ledger_delta = EFFECTS[(old, new)]
    assert after["status"] == new
    assert after["events"][:-1] == before["events"] and after["events"][-1][1] == new  # exactly one event
    [(was_on_hand, was_allocated)] = before["stock"]
    assert after["stock"] == [(was_on_hand + on_hand, was_allocated + allocated)]
    assert after["allocations"] == [allocation_status]
    assert _ledger_delta(before["ledger"], after["ledger"], customer_id) == ledger_delta
    if ledger_delta is _REFUND:  # the gateway payment went back through the bank, in full
        assert after["payments"] == [(payment_models.REFUNDED, TOTAL)]
        assert after["bank"] == [(payment_models.SUCCEEDED, TOTAL)]
    if new == DELIVERED:
        assert after["delivered_at"] == life.clock.now()


def test_cancelling_an_order_paid_from_the_wallet_refunds_the_wallet(life: Shop) -> None:
    customer_id = life.customer(wallet_fen=TOTAL)
    order_id = life.checkout(customer_id, method="wallet")
    with life.db.read() as s:
        assert orders.get_order(s, order_id).status == PAID
        assert ledger.balance_of(s, ledger.customer_wallet(customer_id)) == 0
    with life.db.uow() as s:
        orders.cancel(s, life.clock, life.gateway, order_id=order_id, customer_id=customer_id)
    with life.db.read() as s:
        assert orders.get_order(s, order_id).status == CANCELLED
        assert ledger.balance_of(s, ledger.customer_wallet(customer_id)) == TOTAL
        assert ledger.balance_of(s, ledger.REFUNDS) == TOTAL
        assert inventory.stock_of(s, SKU)[0].allocated == 0


def test_paying_after_the_window_is_refused(life: Shop) -> None:
    customer_id = life.customer(wallet_fen=TOTAL)
    order_id = life.checkout(customer_id)
    life.clock.advance(life.policy.payment_window.total_seconds())
    before = life.snapshot(order_id)
    with pytest.raises(Conflict) as refused, life.db.uow() as s:
        orders.pay(s, life.clock, life.gateway, life.policy, order_id=order_id, customer_id=customer_id,
                   payment_method="wallet")
    assert refused.value.code == "payment_expired"
    assert life.snapshot(order_id) == before


# --- scheduled jobs -------------------------------------------------------------------------------------


def _expired_twice(life: Shop, run_both: Callable[[], list[int]]) -> None:
    due = [life.checkout(life.customer()) for _ in range(3)]
    life.clock.advance(60)
    not_due = life.checkout(life.customer())
    life.clock.advance(life.policy.payment_window.total_seconds() - 30)  # due for the first three only

    assert sorted(run_both()) == [0, len(due)]

    with life.db.read() as s:
        for order_id in due:
            order = orders.get_order(s, order_id)
            assert order.status == CANCELLED
            assert [e.kind for e in order.events] == ["created", "expired"]
            assert orders.current_payment(s, order).status == payment_models.CANCELLED
        assert orders.get_order(s, not_due).status == PENDING_PAYMENT
        # released once: only the order still waiting holds units
        assert [(v.on_hand, v.allocated) for v in inventory.stock_of(s, SKU)] == [(STOCK, QUANTITY)]
        statuses = s.execute(select(Allocation.status, func.count()).group_by(Allocation.status))
        assert dict(statuses.tuples().all()) == {RELEASED: len(due), ALLOCATED: 1}
        assert s.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == "expired")) == 3


def test_expiry_job_run_twice_cancels_once(life: Shop) -> None:
    _expired_twice(life, lambda: [life.expire(), life.expire()])


def test_expiry_job_run_twice_at_once_cancels_once(life: Shop) -> None:
    """Two workers running the job at the same moment (a real race on PostgreSQL)."""
    barrier = threading.Barrier(2)

    def run() -> int:
        barrier.wait()
        return life.expire()

    def both() -> list[int]:
        with ThreadPoolExecutor(2) as pool:
            return [f.result() for f in [pool.submit(run), pool.submit(run)]]

    _expired_twice(life, both)


def test_complete_delivered_waits_for_the_return_window(life: Shop) -> None:
    order_id, _ = life.order_in(DELIVERED)
    with life.db.read() as s:
        delivered_at = orders.get_order(s, order_id).delivered_at
    assert delivered_at == life.clock.now()
    window = life.policy.return_window

    life.clock.set(delivered_at + window - timedelta(seconds=1))
    assert life.complete() == 0
    with life.db.read() as s:
        assert orders.get_order(s, order_id).status == DELIVERED

    life.clock.set(delivered_at + window)
    assert life.complete() == 1
    assert life.complete() == 0  # idempotent
    with life.db.read() as s:
        order = orders.get_order(s, order_id)
        assert order.status == COMPLETED
        assert [e.kind for e in order.events].count("completed") == 1


# --- a webhook racing the expiry job --------------------------------------------------------------------

ROUNDS = 12
STAGGER = [(0, 0), (0.0005, 0), (0, 0.0005), (0.0002, 0), (0, 0.0002), (0.001, 0)]  # seconds: webhook, expiry


def test_webhook_racing_expiry_has_exactly_one_winner(life: Shop) -> None:
    """The payer approved at the last moment; the bank's webhook and the expiry job arrive together.

    Either the webhook wins (the order is paid and keeps its stock) or the expiry does (the order is
    cancelled, its stock returns and the captured money goes straight back); never both, never neither,
    and no money is lost. Staggering the start by a few hundred microseconds lets both orders of arrival
    happen. On SQLite the two transactions queue; on PostgreSQL they really overlap."""
    outcomes = []
    for round_ in range(ROUNDS):
        customer_id = life.customer()
        order_id = life.checkout(customer_id)
        webhook = life.bank_approves(order_id)
        life.clock.advance(life.policy.payment_window.total_seconds())
        barrier = threading.Barrier(2)
        webhook_delay, expiry_delay = STAGGER[round_ % len(STAGGER)]

        def deliver(webhook: tuple[bytes, dict[str, str]] = webhook, delay: float = webhook_delay,
                    barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            time.sleep(delay)
            life.deliver_webhook(webhook)

        def expire(delay: float = expiry_delay, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            time.sleep(delay)
            return life.expire()

        with ThreadPoolExecutor(2) as pool:
            delivered, expired = pool.submit(deliver), pool.submit(expire)
            delivered.result()  # neither side may fail (a deadlock would surface here)
            expired_count = expired.result()

        with life.db.read() as s:
            order = orders.get_order(s, order_id)
            kinds = [e.kind for e in order.events]
            [payment] = s.scalars(select(Payment).where(Payment.reference_id == order_id)).all()
            bank = life.gateway.get(s, payment.id)
            [allocation] = s.scalars(select(Allocation).where(Allocation.reference == f"order:{order_id}"))
            if order.status == PAID:
                assert expired_count == 0
                assert kinds == ["created", "paid"]
                assert payment.status == payment_models.SUCCEEDED and bank.refunded_fen == 0
                assert allocation.status == ALLOCATED
            else:
                assert order.status == CANCELLED and expired_count == 1
                assert kinds == ["created", "expired"]
                assert payment.status == payment_models.REFUNDED, "kept the money of a cancelled order"
                assert bank.refunded_fen == TOTAL
                assert allocation.status == RELEASED
            outcomes.append(order.status)
        # the bank retries: a repeated delivery changes nothing
        life.deliver_webhook(webhook)

    with life.db.read() as s:
        paid = outcomes.count(PAID)
        assert [(v.on_hand, v.allocated) for v in inventory.stock_of(s, SKU)] == [(STOCK, paid * QUANTITY)]
        assert ledger.balance_of(s, ledger.SALES_REVENUE) == paid * TOTAL
        assert ledger.balance_of(s, ledger.GATEWAY_CLEARING) == paid * TOTAL
        assert ledger.balance_of(s, ledger.UNAPPLIED_PAYMENTS) == 0
        assert s.scalar(select(func.count()).select_from(Order).where(Order.status == PAID)) == paid
