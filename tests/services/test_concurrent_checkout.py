"""No oversell under real concurrency: 50 checkouts race for the last 5 units.

Each checkout runs in its own thread and its own unit of work (``db.uow()``), exactly as a request does,
so the only thing standing between the customers and an oversell is the service's conditional UPDATE
(and, behind it, the database's CHECK constraint). Runs on SQLite (writers queue on BEGIN IMMEDIATE) and
on PostgreSQL (row locks under READ COMMITTED) with the same assertions.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from fanbase.accounts import service as accounts
from fanbase.cart import service as cart_service
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import OutOfStock
from fanbase.inventory import service as inventory
from fanbase.inventory.models import ALLOCATED, Allocation, StockLevel
from fanbase.orders import service as orders
from fanbase.orders.models import PENDING_PAYMENT, Order
from fanbase.payments.gateway import SandboxGateway
from fanbase.payments.models import Payment, SandboxGatewayPayment
from tests.helpers import ADDRESS

CUSTOMERS = 50
UNITS = 5
SKU = "XM15-256"
OTHER = "BAND9"


def _customers(db: Database, clock: FixedClock, carts: Sequence[Sequence[tuple[str, int]]]) -> list[int]:
    """One customer per cart, each cart filled with its lines in the given order."""
    ids = []
    with db.uow() as s:
        for i, lines in enumerate(carts):
            user = accounts.register_customer(s, clock, email=f"racer{i}@example.com", password="password-1",
                                              name=f"fan {i}")
            for sku, quantity in lines:
                cart_service.set_quantity(s, clock, user.id, sku, quantity)
            ids.append(user.id)
    return ids


def _stock(db: Database, clock: FixedClock, sku: str, per_location: dict[str, int]) -> None:
    with db.uow() as s:
        for location, on_hand in per_location.items():
            inventory.set_on_hand(s, clock, sku=sku, location_code=location, on_hand=on_hand)


def _race(customer_ids: Sequence[int], attempt: Callable[[int], str]
          ) -> tuple[Counter[str], list[BaseException]]:
    """Start every attempt at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(customer_ids))
    errors: list[BaseException] = []

    def run(customer_id: int) -> str:
        barrier.wait()
        try:
            return attempt(customer_id)
        except BaseException as exc:  # anything but OutOfStock is a failure of the test
            errors.append(exc)
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=len(customer_ids)) as pool:
        outcomes = Counter(pool.map(run, customer_ids))
    return outcomes, errors


def _checkout(db: Database, clock: FixedClock, gateway: SandboxGateway, policy: orders.OrderPolicy
              ) -> Callable[[int], str]:
    def attempt(customer_id: int) -> str:
        try:
            with db.uow() as s:
                orders.checkout(s, clock, gateway, policy, customer_id=customer_id, payment_method="gateway",
                                shipping_address=ADDRESS)
            return "order"
        except OutOfStock:
            return "out_of_stock"

    return attempt


def _assert_outcome(outcomes: Counter[str], errors: list[BaseException]) -> None:
    # a tripped CHECK constraint would surface here as an IntegrityError, a deadlock as an OperationalError
    assert not errors, [repr(e) for e in errors]
    assert outcomes == {"order": UNITS, "out_of_stock": CUSTOMERS - UNITS}


def _assert_rows_sound(db: Database) -> None:
    """Every stock row within its limits and equal to the allocations that point at it."""
    with db.read() as s:
        held = dict(s.execute(select(Allocation.stock_level_id, func.sum(Allocation.quantity))
                              .where(Allocation.status == ALLOCATED)
                              .group_by(Allocation.stock_level_id)).tuples().all())
        for level in s.scalars(select(StockLevel)):
            assert 0 <= level.allocated <= level.on_hand
            assert level.allocated == int(held.get(level.id, 0))


def _assert_orders(db: Database, winners: int, customer_ids: Sequence[int], cart_size: int) -> None:
    with db.read() as s:
        placed = s.scalars(select(Order)).all()
        assert len(placed) == winners
        assert {o.status for o in placed} == {PENDING_PAYMENT}
        assert len({o.customer_id for o in placed}) == winners  # one order per winner, none doubled
        assert s.scalar(select(func.count()).select_from(Payment)) == winners
        assert s.scalar(select(func.count()).select_from(SandboxGatewayPayment)) == winners
        # the losers' transactions rolled back: their carts are untouched, the winners' are emptied
        won = {o.customer_id for o in placed}
        for customer_id in customer_ids:
            lines = cart_service.get_cart(s, FixedClock(), customer_id).lines
            assert len(lines) == (0 if customer_id in won else cart_size)


@pytest.fixture
def race_shop(shop, db, clock):  # type: ignore[no-untyped-def]
    """The catalogue with nothing in stock yet (each test sets its own levels)."""
    with db.uow() as s:
        for sku in ("XM15-256", "XM15-512", "BAND9"):
            inventory.set_on_hand(s, clock, sku=sku, location_code="main", on_hand=0)


def test_check_constraint_guards_the_stock_rows(race_shop, db: Database, clock: FixedClock) -> None:
    """The last line of defence is really there on this engine, so "never tripped" below means something."""
    _stock(db, clock, SKU, {"main": UNITS})
    with pytest.raises(IntegrityError), db.uow() as s:
        s.execute(update(StockLevel).where(StockLevel.sku == SKU).values(allocated=UNITS + 1))
    with pytest.raises(IntegrityError), db.uow() as s:
        s.execute(update(StockLevel).where(StockLevel.sku == SKU).values(allocated=-1))


def test_fifty_checkouts_for_the_last_five_units(race_shop, db, clock, gateway, policy) -> None:  # type: ignore[no-untyped-def]
    _stock(db, clock, SKU, {"main": UNITS})
    customer_ids = _customers(db, clock, [[(SKU, 1)]] * CUSTOMERS)

    outcomes, errors = _race(customer_ids, _checkout(db, clock, gateway, policy))

    _assert_outcome(outcomes, errors)
    with db.read() as s:
        [row] = inventory.stock_of(s, SKU)
        assert (row.on_hand, row.allocated, row.available) == (UNITS, UNITS, 0)
        assert inventory.available_by_sku(s, [SKU]) == {SKU: 0}
    _assert_rows_sound(db)
    _assert_orders(db, UNITS, customer_ids, cart_size=1)


def test_last_units_split_over_two_locations(race_shop, db, clock, gateway, policy) -> None:  # type: ignore[no-untyped-def]
    _stock(db, clock, SKU, {"main": 3, "sh-store": 2})
    customer_ids = _customers(db, clock, [[(SKU, 1)]] * CUSTOMERS)

    outcomes, errors = _race(customer_ids, _checkout(db, clock, gateway, policy))

    _assert_outcome(outcomes, errors)
    with db.read() as s:
        rows = {row.location: (row.on_hand, row.allocated) for row in inventory.stock_of(s, SKU)}
        assert rows == {"main": (3, 3), "sh-store": (2, 2)}
        assert inventory.available_by_sku(s, [SKU]) == {SKU: 0}
    _assert_rows_sound(db)
    _assert_orders(db, UNITS, customer_ids, cart_size=1)


def test_multi_line_carts_in_opposite_orders_neither_deadlock_nor_oversell(  # type: ignore[no-untyped-def]
        race_shop, db, clock, gateway, policy) -> None:
    """Half the carts list SKU then OTHER, half OTHER then SKU. OTHER has more units than SKU, so most losers
    hold a unit of OTHER when SKU runs out: their rollback must give it back, and row locks taken in
    opposite orders would deadlock on PostgreSQL."""
    _stock(db, clock, SKU, {"main": UNITS})
    _stock(db, clock, OTHER, {"main": UNITS + 3})
    carts = [[(SKU, 1), (OTHER, 1)] if i % 2 else [(OTHER, 1), (SKU, 1)] for i in range(CUSTOMERS)]
    customer_ids = _customers(db, clock, carts)

    outcomes, errors = _race(customer_ids, _checkout(db, clock, gateway, policy))

    _assert_outcome(outcomes, errors)
    with db.read() as s:
        [row] = inventory.stock_of(s, SKU)
        assert (row.on_hand, row.allocated) == (UNITS, UNITS)
        [other] = inventory.stock_of(s, OTHER)
        assert (other.on_hand, other.allocated) == (UNITS + 3, UNITS)  # losers' units of OTHER came back
        for order in s.scalars(select(Order)):
            assert sorted((line.sku, line.quantity) for line in order.lines) == sorted([(SKU, 1), (OTHER, 1)])
    _assert_rows_sound(db)
    _assert_orders(db, UNITS, customer_ids, cart_size=2)
