"""The flash-sale gate: decides each purchase attempt in memory, without touching the database.

The database is the truth; the gate is a cache of it that may only under-count remaining units:
units are taken here before the order is written, given back if the write fails, and come back from
closed orders only through released purchases (``service.take_back_released``), never by recounting
while purchases may be in flight. The check order follows DESIGN.md: window, sold-out flag (answers
everyone at once), reservation, per-customer limit, then the atomic take.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Decision(Enum):
    TAKEN = "taken"
    SALE_NOT_STARTED = "sale_not_started"
    SALE_ENDED = "sale_ended"
    SOLD_OUT = "sold_out"
    NOT_RESERVED = "not_reserved"
    LIMIT_EXCEEDED = "limit_exceeded"
    # lottery sales (decided by ``service.attempt`` from the round, before the gate is asked)
    NOT_DRAWN = "not_drawn"
    TURN_PASSED = "turn_passed"
    ROUND_OPENING = "round_opening"


@dataclass(frozen=True)
class Round:
    """The open round of a lottery sale, as recorded in the database (``service.open_round``): only
    ``winners`` may buy, until ``closes_at``; ``drawn_before`` are the winners of earlier rounds."""

    number: int
    opens_at: datetime
    closes_at: datetime
    winners: frozenset[int]
    drawn_before: frozenset[int]


@dataclass
class SaleState:
    sale_id: int
    units: int
    starts_at: datetime
    ends_at: datetime
    per_customer_limit: int
    remaining: int
    reserved: set[int] = field(default_factory=set)
    require_purchase_token: bool = False
    price_fen: int = 0
    sku: str = ""
    payment_window_seconds: int = 900
    bought: dict[int, int] = field(default_factory=dict)  # customer -> live units (committed or in flight)
    mode: str = "first_come"
    round: Round | None = None  # lottery sales: the round this process last loaded
    round_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class Gate(Protocol):
    """What the service, the API and the group-commit writer need from a gate: ``InProcessGate`` (one
    process) or ``redis_gate.RedisGate`` (any number of processes sharing a sale through Redis)."""

    def state(self, sale_id: int) -> SaleState | None: ...

    def load_once(self, state: SaleState) -> SaleState: ...

    def add_reservation(self, sale_id: int, customer_id: int) -> None: ...

    def remaining(self, sale_id: int) -> int | None: ...

    def is_reserved(self, sale_id: int, customer_id: int) -> bool: ...

    def set_window(self, sale_id: int, starts_at: datetime, ends_at: datetime) -> None:
        """A sale's times changed (an operator ended it): this process decides with the new ones."""
        ...

    def try_take(self, sale_id: int, customer_id: int, quantity: int, now: datetime) -> Decision: ...

    def give_back(self, sale_id: int, customer_id: int, quantity: int) -> None: ...

    # The writer's side. A gate shared by several processes can be rebuilt while a win is on its way to the
    # database; these let the writer commit only wins whose take the current gate still counts.
    def ticket(self, sale_id: int, customer_id: int, quantity: int) -> object | None:
        """Called by the writer's ``submit`` right after this thread's ``try_take`` answered TAKEN."""
        ...

    def admit(self, session: Session, tickets: Sequence[object | None]) -> list[bool]:
        """Inside the writer's transaction, before the wins are written: which of them may commit."""
        ...

    def undo_take(self, sale_id: int, customer_id: int, quantity: int, ticket: object | None,
                  admitted: bool) -> None:
        """A win that was not committed: its units go back, if the gate still counts its take."""
        ...


class InProcessGate:
    """One process: a lock-protected counter and sets per sale (about a microsecond a decision)."""

    def __init__(self) -> None:
        self._sales: dict[int, SaleState] = {}
        self._lock = threading.Lock()

    def load_once(self, state: SaleState) -> SaleState:
        """Install a sale's state rebuilt from committed data, unless another thread already did: a
        loaded state is only ever changed by takes and give-backs, never replaced while in use."""
        with self._lock:
            return self._sales.setdefault(state.sale_id, state)

    def state(self, sale_id: int) -> SaleState | None:
        return self._sales.get(sale_id)

    def add_reservation(self, sale_id: int, customer_id: int) -> None:
        state = self._sales.get(sale_id)
        if state is not None:
            state.reserved.add(customer_id)

    def remaining(self, sale_id: int) -> int | None:
        state = self._sales.get(sale_id)
        return None if state is None else state.remaining

    def is_reserved(self, sale_id: int, customer_id: int) -> bool:
        return customer_id in self._sales[sale_id].reserved

    def set_window(self, sale_id: int, starts_at: datetime, ends_at: datetime) -> None:
        state = self._sales.get(sale_id)
        if state is not None:
            state.starts_at, state.ends_at = starts_at, ends_at

    def try_take(self, sale_id: int, customer_id: int, quantity: int, now: datetime) -> Decision:
        state = self._sales[sale_id]
        if now < state.starts_at:
            return Decision.SALE_NOT_STARTED
        if now >= state.ends_at:
            return Decision.SALE_ENDED
        if state.remaining <= 0:
            return Decision.SOLD_OUT
        if customer_id not in state.reserved:
            return Decision.NOT_RESERVED
        with self._lock:  # the check and the take are one step: no fan drains stock, no oversell by one
            if state.bought.get(customer_id, 0) + quantity > state.per_customer_limit:
                return Decision.LIMIT_EXCEEDED
            if state.remaining < quantity:
                return Decision.SOLD_OUT
            state.remaining -= quantity
            state.bought[customer_id] = state.bought.get(customer_id, 0) + quantity
            return Decision.TAKEN

    def give_back(self, sale_id: int, customer_id: int, quantity: int) -> None:
        """Units of an attempt that was not committed, or of an order that closed unpaid."""
        with self._lock:
            state = self._sales[sale_id]
            state.remaining = min(state.units, state.remaining + quantity)
            left = state.bought.get(customer_id, 0) - quantity
            if left > 0:
                state.bought[customer_id] = left
            else:
                state.bought.pop(customer_id, None)

    # One process, one gate, rebuilt only when the process starts: every take in flight is still counted.
    def ticket(self, sale_id: int, customer_id: int, quantity: int) -> None:
        return None

    def admit(self, session: Session, tickets: Sequence[object | None]) -> list[bool]:
        return [True] * len(tickets)

    def undo_take(self, sale_id: int, customer_id: int, quantity: int, ticket: object | None,
                  admitted: bool) -> None:
        self.give_back(sale_id, customer_id, quantity)
