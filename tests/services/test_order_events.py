"""Other domains hear an order's timeline events in the order's own transaction (``orders.on_event``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from fanbase.clock import Clock
from fanbase.db import Database
from fanbase.orders import service as orders
from fanbase.orders.models import Order
from tests.services.test_order_lifecycle import Shop


@pytest.fixture
def heard() -> Iterator[list[tuple[str, int]]]:
    seen: list[tuple[str, int]] = []

    def hear(kind: str) -> orders.OrderListener:
        return lambda session, clock, order: seen.append((kind, order.id))

    added = {kind: hear(kind) for kind in ("created", "paid")}
    for kind, listener in added.items():
        orders.on_event(kind, listener)
    yield seen
    for kind, listener in added.items():
        orders._LISTENERS[kind].remove(listener)


@pytest.fixture
def shop_life(shop, db, clock, gateway, policy) -> Shop:  # type: ignore[no-untyped-def]
    return Shop(db, clock, gateway, policy)


def test_listeners_hear_their_events_and_can_refuse_the_change(heard: list[tuple[str, int]], db: Database,
                                                                 shop_life: Shop) -> None:
    life = shop_life
    customer = life.customer(wallet_fen=10_000_000)
    order_id = life.checkout(customer, method="wallet")
    assert heard == [("created", order_id), ("paid", order_id)]

    def refuse(session: Session, clock: Clock, order: Order) -> None:
        raise RuntimeError("no")

    orders.on_event("created", refuse)
    try:
        with pytest.raises(RuntimeError):
            life.checkout(customer, method="wallet")
    finally:
        orders._LISTENERS["created"].remove(refuse)
    with db.read() as s:
        assert s.query(Order).count() == 1  # the refused checkout left nothing
