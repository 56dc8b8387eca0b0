"""The flash-sale engine on a real database: no oversell, no fan over the limit, no winner lost, under
concurrency, expiries, failed writes and restarts (the gate rebuilt from committed rows)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import DomainError, ServiceUnavailable
from fanbase.flashsale import service as flash
from fanbase.flashsale.gate import InProcessGate
from fanbase.flashsale.models import LotteryRound, LotteryWinner, Purchase
from fanbase.flashsale.writer import GroupCommitWriter
from fanbase.orders import service as orders
from fanbase.orders.models import PENDING_PAYMENT, Order
from fanbase.payments.gateway import SandboxGateway
from tests.helpers import seed_catalogue

SECRET = "test-secret"


def make_sale(db: Database, clock: FixedClock, *, units: int, limit: int, customers: int,
              mode: str = "first_come") -> tuple[int, list[int]]:
    seed_catalogue(db, clock, stock=1000)
    now = clock.now()
    with db.uow() as s:
        staff = accounts.create_staff(s, clock, email="ops@example.com", password="password-1", name="运营",
                                      role="operator").id
        sale = flash.create_sale(s, clock, flash.SaleSpec(
            sku="BAND9", units=units, price_fen=9900, reservations_open_at=now,
            starts_at=now + timedelta(seconds=60), ends_at=now + timedelta(hours=2), per_customer_limit=limit,
            payment_window_seconds=300, mode=mode), staff)
        fans = [accounts.register_customer(s, clock, email=f"f{i}@example.com", password="password-1",
                                           name="粉丝").id for i in range(customers)]
    with db.uow() as s:
        for fan in fans:
            flash.reserve(s, clock, sale.id, fan)
    clock.advance(60)
    return sale.id, fans


def live_units_by_customer(db: Database, sale_id: int) -> dict[int, int]:
    totals: dict[int, int] = {}
    with db.read() as s:
        for purchase in s.scalars(select(Purchase).where(Purchase.sale_id == sale_id,
                                                         Purchase.released_at.is_(None))):
            totals[purchase.customer_id] = totals.get(purchase.customer_id, 0) + purchase.quantity
    return totals


def test_one_fan_sending_twenty_requests_at_once_gets_at_most_the_limit(db, clock) -> None:  # type: ignore[no-untyped-def]
    sale_id, (fan, *_others) = make_sale(db, clock, units=10, limit=2, customers=2)
    gate = InProcessGate()
    writer = GroupCommitWriter(db, clock, gate, orders.OrderPolicy)
    with db.uow() as s:
        state = flash.ensure_loaded(s, gate, sale_id)
    barrier = threading.Barrier(20)

    def attempt() -> str:
        barrier.wait()
        try:
            flash.attempt(gate, writer.submit, clock, SECRET, state, fan, 1, None).result(timeout=30)
            return "won"
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: attempt(), range(20)))
    writer.stop()
    assert outcomes.count("won") == 2 and outcomes.count("limit_exceeded") == 18
    assert live_units_by_customer(db, sale_id) == {fan: 2}


def test_a_failed_write_answers_503_and_gives_the_units_back(db, clock) -> None:  # type: ignore[no-untyped-def]
    sale_id, fans = make_sale(db, clock, units=1, limit=1, customers=2)
    gate = InProcessGate()
    writer = GroupCommitWriter(db, clock, gate, orders.OrderPolicy)
    with db.uow() as s:
        state = flash.ensure_loaded(s, gate, sale_id)
    original = flash.write_wins

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    flash.write_wins = broken  # type: ignore[assignment]
    try:
        with pytest.raises(ServiceUnavailable):
            flash.attempt(gate, writer.submit, clock, SECRET, state, fans[0], 1, None).result(timeout=30)
    finally:
        flash.write_wins = original  # type: ignore[assignment]
    assert state.remaining == 1 and not state.bought  # nothing was sold, nothing is lost
    order = flash.attempt(gate, writer.submit, clock, SECRET, state, fans[1], 1, None).result(timeout=30)
    writer.stop()
    assert order.status == PENDING_PAYMENT and live_units_by_customer(db, sale_id) == {fans[1]: 1}


class LostAcknowledgement:
    """The database as the writer sees it when the connection drops during COMMIT: the first write
    transaction commits, then fails as if the answer never came back; with ``blind``, reads fail too."""

    def __init__(self, db: Database, *, blind: bool = False) -> None:
        self.db, self.blind, self.armed = db, blind, True

    @contextmanager
    def uow(self) -> Iterator[Session]:
        with self.db.uow() as session:
            yield session
        if self.armed:
            self.armed = False
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    @contextmanager
    def read(self) -> Iterator[Session]:
        if self.blind:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        with self.db.read() as session:
            yield session


@pytest.mark.parametrize("blind", [False, True], ids=["verified", "unknown"])
def test_a_commit_whose_answer_was_lost_never_sells_a_unit_twice(db, clock, blind) -> None:  # type: ignore[no-untyped-def]
    sale_id, fans = make_sale(db, clock, units=1, limit=1, customers=2)
    gate = InProcessGate()
    writer = GroupCommitWriter(LostAcknowledgement(db, blind=blind), clock, gate, orders.OrderPolicy)  # type: ignore[arg-type]
    with db.uow() as s:
        state = flash.ensure_loaded(s, gate, sale_id)
    future = flash.attempt(gate, writer.submit, clock, SECRET, state, fans[0], 1, None)
    if blind:  # we cannot tell: 503, and the unit stays taken (the gate under-counts, never sells it twice)
        with pytest.raises(ServiceUnavailable):
            future.result(timeout=30)
    else:  # the order is there: the fan is told they won
        assert future.result(timeout=30).customer_id == fans[0]
    assert live_units_by_customer(db, sale_id) == {fans[0]: 1} and state.remaining == 0
    with pytest.raises(DomainError) as refused:
        flash.attempt(gate, writer.submit, clock, SECRET, state, fans[1], 1, None)
    assert refused.value.code == "sold_out"
    writer.stop()


UNITS, LIMIT, CUSTOMERS = 5, 2, 6


class FlashSaleMachine(RuleBasedStateMachine):
    """Random interleavings of purchases, payments, expiries and restarts."""

    mode = "first_come"

    def __init__(self) -> None:
        super().__init__()
        self.db, self.clock = self._fresh()
        self.sale_id, self.fans = make_sale(self.db, self.clock, units=UNITS, limit=LIMIT, customers=CUSTOMERS,
                                            mode=self.mode)
        self.gateway = SandboxGateway("secret", "http://test")
        self._restart()

    # set by the test below: where fresh databases come from
    tmp_factory: pytest.TempPathFactory
    pg_database: Database | None = None

    def _fresh(self) -> tuple[Database, FixedClock]:
        from tests.conftest import fresh_database

        self._databases = fresh_database(self.tmp_factory.mktemp("flash"), self.pg_database)
        return next(self._databases), FixedClock()

    def _restart(self) -> None:
        """A new process: an empty gate rebuilt from what is committed."""
        self.gate = InProcessGate()
        self.writer = GroupCommitWriter(self.db, self.clock, self.gate, orders.OrderPolicy, max_wait_seconds=0)
        with self.db.uow() as s:
            self.state = flash.ensure_loaded(s, self.gate, self.sale_id)

    @rule(fan=st.integers(0, CUSTOMERS - 1), quantity=st.integers(1, 2))
    def purchase(self, fan: int, quantity: int) -> None:
        if flash.round_due(self.state, self.clock.now()):
            flash.load_round(self.db, self.clock, self.gate, self.state)
        try:
            flash.attempt(self.gate, self.writer.submit, self.clock, SECRET, self.state, self.fans[fan], quantity,
                          None).result(timeout=30)
        except DomainError as error:
            assert error.code in ("sold_out", "limit_exceeded", "not_drawn" if self.mode == "lottery" else "")

    @rule()
    def pay_one(self) -> None:
        with self.db.uow() as s:
            order = s.scalar(select(Order).where(Order.status == PENDING_PAYMENT).limit(1))
            if order is not None:
                orders.pay(s, self.clock, self.gateway, orders.OrderPolicy(), order_id=order.id,
                           customer_id=order.customer_id, payment_method="gateway")

    @rule(seconds=st.sampled_from([60, 301]))
    def time_passes_and_unpaid_orders_expire(self, seconds: int) -> None:
        self.clock.advance(seconds)
        with self.db.uow() as s:
            orders.expire_unpaid(s, self.clock, self.gateway)

    @rule()
    def released_units_return_to_the_gate(self) -> None:
        with self.db.uow() as s:
            flash.take_back_released(s, self.gate)

    @rule()
    def restart(self) -> None:
        self.writer.stop()
        self._restart()

    @invariant()
    def never_oversold_never_over_the_limit(self) -> None:
        live = live_units_by_customer(self.db, self.sale_id)
        assert sum(live.values()) <= UNITS
        assert all(units <= LIMIT for units in live.values())
        # the gate may under-count, never over-count
        assert self.state.remaining + sum(live.values()) <= UNITS
        with self.db.read() as s:
            held = s.scalar(select(Order.id).where(Order.status == PENDING_PAYMENT,
                                                   Order.id.not_in(select(Purchase.order_id))))
        assert held is None  # every won order has its purchase row (written in the same transaction)
        if self.mode == "lottery":  # only drawn fans bought, and only in their own round
            with self.db.read() as s:
                outside = s.execute(
                    select(Purchase.id).outerjoin(LotteryWinner, (LotteryWinner.sale_id == Purchase.sale_id)
                                                  & (LotteryWinner.customer_id == Purchase.customer_id))
                    .outerjoin(LotteryRound, (LotteryRound.sale_id == LotteryWinner.sale_id)
                               & (LotteryRound.number == LotteryWinner.round))
                    .where(or_(LotteryRound.number.is_(None), Purchase.created_at < LotteryRound.opens_at,
                               Purchase.created_at >= LotteryRound.closes_at))).all()
            assert outside == []

    def teardown(self) -> None:
        self.writer.stop()
        next(self._databases, None)  # dispose of it


class LotteryMachine(FlashSaleMachine):
    """The same, for a lottery sale: rounds open as time passes and units come back."""

    mode = "lottery"


@pytest.mark.parametrize("machine", [FlashSaleMachine, LotteryMachine], ids=["first_come", "lottery"])
def test_random_interleavings_never_oversell(machine, tmp_path_factory, pg_database) -> None:  # type: ignore[no-untyped-def]
    machine.tmp_factory = tmp_path_factory
    machine.pg_database = pg_database
    machine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()


def test_units_of_an_expired_order_come_back_once_across_a_restart(db, clock) -> None:  # type: ignore[no-untyped-def]
    sale_id, fans = make_sale(db, clock, units=2, limit=1, customers=2)
    gateway = SandboxGateway("secret", "http://test")
    gate = InProcessGate()
    writer = GroupCommitWriter(db, clock, gate, orders.OrderPolicy)
    with db.uow() as s:
        state = flash.ensure_loaded(s, gate, sale_id)
    flash.attempt(gate, writer.submit, clock, SECRET, state, fans[0], 1, None).result(timeout=30)
    writer.stop()
    clock.advance(301)
    with db.uow() as s:
        assert orders.expire_unpaid(s, clock, gateway) == 1
    restarted = InProcessGate()  # the process restarts before the job hands the units back
    with db.uow() as s:
        state = flash.ensure_loaded(s, restarted, sale_id)
    assert state.remaining == 2
    with db.uow() as s:
        assert flash.take_back_released(s, restarted) == 0  # already counted by the rebuild
    assert state.remaining == 2 and not state.bought
