"""Inventory invariants under random sequences of operations (hypothesis, stateful).

Every operation runs in its own ``db.uow()``, so a refusal is a real rollback of a real transaction. A
plain-Python model predicts each answer (including where units are taken: locations in ascending
priority, then id) and after every step the database must agree with it and with itself:

- 0 <= allocated <= on_hand on every stock row;
- the active allocations that point at a row add up to its ``allocated``;
- allocate is all or nothing: OutOfStock (or bad input) leaves every row and allocation as it was;
- release and fulfil are idempotent: settling a reference again gives back nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import Conflict, OutOfStock, ValidationFailed
from fanbase.inventory import service as inventory
from fanbase.inventory.models import ALLOCATED, FULFILLED, RELEASED, Allocation, Location, StockLevel
from tests.helpers import seed_catalogue

SKUS = ("BAND9", "XM15-256")
LOCATIONS = ("main", "sh-store", "bj-wh")  # priorities 10, 20, 10: allocation order main, bj-wh, sh-store
REFERENCES = tuple(f"order:{n}" for n in range(1, 6))

quantities = st.integers(min_value=1, max_value=4)
order_lines = st.lists(st.tuples(st.sampled_from(SKUS), quantities), min_size=1, max_size=3)


@dataclass
class Held:
    sku: str
    location: str
    quantity: int
    status: str = ALLOCATED


@dataclass
class Model:
    """What the stock should be: (sku, location) -> [on_hand, allocated]; reference -> its allocations."""

    rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    held: dict[str, list[Held]] = field(default_factory=dict)


class InventoryMachine(RuleBasedStateMachine):
    db: Database
    clock: FixedClock
    order: list[str]  # location codes in allocation order

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()

    @initialize()
    def empty_stock(self) -> None:
        with self.db.uow() as s:
            s.execute(delete(Allocation))
            s.execute(delete(StockLevel))

    # --- operations -------------------------------------------------------------------------------

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), on_hand=st.integers(0, 8))
    def set_on_hand(self, sku: str, location: str, on_hand: int) -> None:
        row = self.model.rows.get((sku, location), [0, 0])
        try:
            with self.db.uow() as s:
                view = inventory.set_on_hand(s, self.clock, sku=sku, location_code=location, on_hand=on_hand)
        except Conflict:
            assert on_hand < row[1], "refused although nothing allocated would be left uncovered"
            return
        assert on_hand >= row[1], "on hand was set below what is allocated"
        assert (view.on_hand, view.allocated) == (on_hand, row[1])
        self.model.rows[(sku, location)] = [on_hand, row[1]]

    @rule(reference=st.sampled_from(REFERENCES), lines=order_lines)
    def allocate(self, reference: str, lines: list[tuple[str, int]]) -> None:
        planned = self._plan(lines)
        try:
            with self.db.uow() as s:
                inventory.allocate(s, self.clock, reference, lines)
        except OutOfStock:
            assert planned is None, f"refused {lines} although the model can place them: {planned}"
            return  # all or nothing: the invariants check that every row is as it was
        assert planned is not None, f"allocated {lines} beyond what is available"
        for held in planned:
            self.model.rows[(held.sku, held.location)][1] += held.quantity
        self.model.held.setdefault(reference, []).extend(planned)

    @rule(reference=st.sampled_from(REFERENCES), lines=order_lines, bad=st.integers(-2, 0))
    def allocate_with_a_bad_quantity(self, reference: str, lines: list[tuple[str, int]], bad: int) -> None:
        lines = [*lines, (lines[0][0], bad)]
        try:
            with self.db.uow() as s:
                inventory.allocate(s, self.clock, reference, lines)
        except ValidationFailed:
            return
        raise AssertionError(f"allocated {lines} with a quantity of {bad}")

    @rule(reference=st.sampled_from(REFERENCES), fulfil=st.booleans())
    def settle(self, reference: str, fulfil: bool) -> None:
        self._settle(reference, fulfil)

    @precondition(lambda self: any(h.status == ALLOCATED for held in self.model.held.values() for h in held))
    @rule(data=st.data(), fulfil=st.booleans(), then_fulfil=st.booleans())
    def settle_twice(self, data: st.DataObject, fulfil: bool, then_fulfil: bool) -> None:
        """Release or fulfil a reference that holds units, then settle it again: the second gives nothing."""
        active = sorted(r for r, held in self.model.held.items() if any(h.status == ALLOCATED for h in held))
        reference = data.draw(st.sampled_from(active))
        assert self._settle(reference, fulfil) > 0
        assert self._settle(reference, then_fulfil) == 0

    # --- checks after every step ------------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model_and_itself(self) -> None:
        with self.db.read() as s:
            codes = dict(s.execute(select(Location.id, Location.code)).tuples().all())
            levels = s.scalars(select(StockLevel)).all()
            active = dict(s.execute(select(Allocation.stock_level_id, func.sum(Allocation.quantity))
                                    .where(Allocation.status == ALLOCATED)
                                    .group_by(Allocation.stock_level_id)).tuples().all())
            found = {}
            for level in levels:
                assert 0 <= level.allocated <= level.on_hand, (level.sku, level.on_hand, level.allocated)
                assert level.allocated == int(active.get(level.id, 0))
                found[(level.sku, codes[level.location_id])] = [level.on_hand, level.allocated]
            assert found == self.model.rows
            got = Counter((a.reference, a.sku, codes[a.location_id], a.quantity, a.status)
                          for a in s.scalars(select(Allocation)))
        want = Counter((ref, h.sku, h.location, h.quantity, h.status)
                       for ref, held in self.model.held.items() for h in held)
        assert got == want

    # --- the model --------------------------------------------------------------------------------

    def _plan(self, lines: list[tuple[str, int]]) -> list[Held] | None:
        """Where the units should come from, or None when some SKU cannot be covered."""
        wanted = Counter[str]()
        for sku, quantity in lines:
            wanted[sku] += quantity
        plan = []
        for sku in sorted(wanted):
            remaining = wanted[sku]
            for location in self.order:
                on_hand, allocated = self.model.rows.get((sku, location), [0, 0])
                take = min(on_hand - allocated, remaining)
                if take > 0:
                    plan.append(Held(sku, location, take))
                    remaining -= take
            if remaining:
                return None
        return plan

    def _settle(self, reference: str, fulfil: bool) -> int:
        with self.db.uow() as s:
            given = inventory.fulfil(s, reference) if fulfil else inventory.release(s, reference)
        expected = 0
        for held in self.model.held.get(reference, []):
            if held.status != ALLOCATED:
                continue
            row = self.model.rows[(held.sku, held.location)]
            row[1] -= held.quantity
            if fulfil:
                row[0] -= held.quantity
            held.status = FULFILLED if fulfil else RELEASED
            expected += held.quantity
        assert given == expected
        return given


def test_inventory_invariants_hold_under_random_operations(db: Database, clock: FixedClock) -> None:
    seed_catalogue(db, clock, stock=0)
    with db.uow() as s:
        inventory.create_location(s, code="bj-wh", name="北京仓", priority=10)
    with db.read() as s:
        order = list(s.scalars(select(Location.code).order_by(Location.priority, Location.id)))
    assert order == ["main", "bj-wh", "sh-store"]
    machine = type("Machine", (InventoryMachine,), {"db": db, "clock": clock, "order": order})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]))
