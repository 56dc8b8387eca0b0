"""Inventory: stock per SKU per location, allocation that never oversells.

Allocation is a conditional UPDATE (``... WHERE on_hand - allocated >= :take``) checked by its row
count, inside the caller's transaction: correct under any concurrency on SQLite (writers queue on
BEGIN IMMEDIATE) and on PostgreSQL (the UPDATE re-checks the newest row version). Lines are handled in
SKU order and locations in priority order, so concurrent checkouts lock rows in the same order and
cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog.service import get_variant
from fanbase.clock import Clock
from fanbase.db import affected
from fanbase.errors import Conflict, OutOfStock, ValidationFailed
from fanbase.inventory.models import (
    ALLOCATED,
    FULFILLED,
    RELEASED,
    STORE,
    WAREHOUSE,
    Allocation,
    Location,
    StockLevel,
)

MAX_ON_HAND = 10**9


@dataclass(frozen=True)
class StockView:
    sku: str
    location: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


def create_location(session: Session, *, code: str, name: str, kind: str = WAREHOUSE, priority: int = 100,
                    name_en: str = "") -> Location:
    if kind not in (WAREHOUSE, STORE):
        raise ValidationFailed("A location is a warehouse or a store")
    location = Location(code=code, name=name, name_en=name_en, kind=kind, priority=priority)
    session.add(location)
    session.flush()
    return location


def list_locations(session: Session) -> list[Location]:
    return list(session.scalars(select(Location).order_by(Location.priority, Location.id)))


def get_location(session: Session, code: str) -> Location:
    location = session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise ValidationFailed("Unknown location {location}", location=code)
    return location


def set_on_hand(session: Session, clock: Clock, *, sku: str, location_code: str, on_hand: int,
                actor_id: int | None = None) -> StockView:
    """Set the counted quantity; refused if it would fall below what is already allocated."""
    if not 0 <= on_hand <= MAX_ON_HAND:
        raise ValidationFailed("on_hand must be between 0 and {max}", max=MAX_ON_HAND)
    get_variant(session, sku)
    location = get_location(session, location_code)
    level = _level(session, sku, location.id)
    if level is None:
        level = StockLevel(sku=sku, location_id=location.id, on_hand=0, allocated=0)
        session.add(level)
        session.flush()
    result = session.execute(update(StockLevel).where(StockLevel.id == level.id,
                                                      StockLevel.allocated <= on_hand)
                             .values(on_hand=on_hand).returning(StockLevel.on_hand, StockLevel.allocated))
    row = result.first()
    if row is None:
        raise Conflict("On hand cannot be less than the units already allocated to orders")
    if actor_id is not None:
        record_audit(session, clock, actor_id=actor_id, action="stock.set", target=f"sku:{sku}",
                     detail={"location": location_code, "on_hand": on_hand})
    return StockView(sku=sku, location=location_code, on_hand=int(row[0]), allocated=int(row[1]))


def _level(session: Session, sku: str, location_id: int) -> StockLevel | None:
    return session.scalar(select(StockLevel).where(StockLevel.sku == sku, StockLevel.location_id == location_id))


def available_by_sku(session: Session, skus: Sequence[str]) -> dict[str, int]:
    if not skus:
        return {}
    rows = session.execute(select(StockLevel.sku, func.sum(StockLevel.on_hand - StockLevel.allocated))
                           .where(StockLevel.sku.in_(list(skus))).group_by(StockLevel.sku))
    found = {sku: int(total or 0) for sku, total in rows}
    return {sku: found.get(sku, 0) for sku in skus}


def stock_of(session: Session, sku: str) -> list[StockView]:
    rows = session.execute(select(StockLevel, Location.code).join(Location)
                           .where(StockLevel.sku == sku).order_by(Location.priority, Location.id))
    return [StockView(sku=sku, location=code, on_hand=lvl.on_hand, allocated=lvl.allocated)
            for lvl, code in rows]


def allocate(session: Session, clock: Clock, reference: str, lines: Sequence[tuple[str, int]]) -> None:
    """Hold every line for ``reference`` or raise OutOfStock; the caller's rollback undoes a partial
    allocation, so it is all or nothing with whatever else the transaction writes (the order)."""
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValidationFailed("Quantities must be positive")
        wanted[sku] = wanted.get(sku, 0) + quantity
    for sku in sorted(wanted):
        _allocate_sku(session, clock, reference, sku, wanted[sku])


def _allocate_sku(session: Session, clock: Clock, reference: str, sku: str, quantity: int) -> None:
    remaining = quantity
    candidates = session.execute(
        select(StockLevel.id, StockLevel.location_id, StockLevel.on_hand - StockLevel.allocated)
        .join(Location).where(StockLevel.sku == sku, StockLevel.on_hand > StockLevel.allocated)
        .order_by(Location.priority, Location.id)).all()
    for level_id, location_id, seen_available in candidates:
        available = int(seen_available)
        while remaining > 0 and available > 0:
            take = min(available, remaining)
            taken = affected(session.execute(update(StockLevel)
                                    .where(StockLevel.id == level_id,
                                           StockLevel.on_hand - StockLevel.allocated >= take)
                                    .values(allocated=StockLevel.allocated + take)))
            if taken:
                session.add(Allocation(reference=reference, sku=sku, location_id=location_id,
                                       stock_level_id=level_id, quantity=take, status=ALLOCATED,
                                       created_at=clock.now()))
                remaining -= take
                break
            # someone took units since we looked: look again at this location
            available = int(session.scalar(select(StockLevel.on_hand - StockLevel.allocated)
                                           .where(StockLevel.id == level_id)) or 0)
        if remaining == 0:
            break
    if remaining > 0:
        raise OutOfStock("Not enough stock of {sku}", sku=sku)
    session.flush()


def release(session: Session, reference: str) -> int:
    """Give back every unit still held for ``reference``; returns units released. Idempotent."""
    return _settle(session, reference, RELEASED)


def fulfil(session: Session, reference: str) -> int:
    """The units leave the building: on hand and allocated both drop. Idempotent."""
    return _settle(session, reference, FULFILLED)


def fulfil_part(session: Session, clock: Clock, reference: str, sku: str, quantity: int) -> None:
    """Ship ``quantity`` units of ``sku`` out of a larger hold (a flash sale's set-aside units): the hold
    shrinks, and on hand and allocated both drop. Raises Conflict if the hold has too few units."""
    _take_from_hold(session, clock, reference, sku, quantity, shipped=True)


def release_part(session: Session, clock: Clock, reference: str, sku: str, quantity: int) -> None:
    """Give ``quantity`` units of a larger hold back to ordinary stock (a flash sale that ended)."""
    _take_from_hold(session, clock, reference, sku, quantity, shipped=False)


def _take_from_hold(session: Session, clock: Clock, reference: str, sku: str, quantity: int, *,
                    shipped: bool) -> None:
    if quantity <= 0:
        return
    held = session.scalars(select(Allocation).where(Allocation.reference == reference, Allocation.sku == sku,
                                                    Allocation.status == ALLOCATED)
                           .order_by(Allocation.id)).all()
    left = quantity
    for allocation in held:
        take = min(left, allocation.quantity)
        shrunk = affected(session.execute(update(Allocation).where(Allocation.id == allocation.id,
                                                                   Allocation.quantity >= take)
                                          .values(quantity=Allocation.quantity - take)))
        if not shrunk:
            continue
        values = {"allocated": StockLevel.allocated - take}
        if shipped:
            values["on_hand"] = StockLevel.on_hand - take
        session.execute(update(StockLevel).where(StockLevel.id == allocation.stock_level_id).values(**values))
        session.add(Allocation(reference=f"{reference}:{'shipped' if shipped else 'released'}", sku=sku,
                               location_id=allocation.location_id, stock_level_id=allocation.stock_level_id,
                               quantity=take, status=FULFILLED if shipped else RELEASED, created_at=clock.now()))
        left -= take
        if left == 0:
            break
    if left:
        raise Conflict("The units held for {reference} are fewer than {quantity}", reference=reference,
                       quantity=quantity)
    session.expire_all()


def _settle(session: Session, reference: str, new_status: str) -> int:
    total = 0
    held = session.scalars(select(Allocation).where(Allocation.reference == reference,
                                                    Allocation.status == ALLOCATED)
                           .order_by(Allocation.sku, Allocation.id)).all()
    for allocation in held:
        # flip the allocation first: only one caller may settle it
        flipped = affected(session.execute(update(Allocation).where(Allocation.id == allocation.id,
                                                           Allocation.status == ALLOCATED)
                                  .values(status=new_status)))
        if not flipped:
            continue
        values = {"allocated": StockLevel.allocated - allocation.quantity}
        if new_status == FULFILLED:
            values["on_hand"] = StockLevel.on_hand - allocation.quantity
        session.execute(update(StockLevel).where(StockLevel.id == allocation.stock_level_id).values(**values))
        total += allocation.quantity
    session.expire_all()
    return total
