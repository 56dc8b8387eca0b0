"""Flash sales: creating a launch, reservations, the purchase rules, and giving units back.

The hot path (``purchase``) asks the gate first and touches the database only for a winner, through the
group-commit writer (``writer.py``): a 201 is answered only after the winner's order is committed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog.service import get_variant, sku_info
from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent, insert_rows
from fanbase.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from fanbase.flashsale.gate import Decision, Gate, SaleState
from fanbase.flashsale.models import FIRST_COME, LOTTERY, FlashSale, Purchase, Reservation
from fanbase.i18n import N_
from fanbase.inventory import service as inventory
from fanbase.orders import service as orders
from fanbase.orders.models import Order

SOURCE = "flash_sale"
MAX_UNITS = 10_000_000


@dataclass(frozen=True)
class SaleSpec:
    sku: str
    units: int
    price_fen: int
    reservations_open_at: datetime
    starts_at: datetime
    ends_at: datetime
    per_customer_limit: int = 1
    payment_window_seconds: int = 15 * 60
    mode: str = FIRST_COME
    require_purchase_token: bool = False


def hold_reference(sale_id: int) -> str:
    return f"flash_sale:{sale_id}"


def create_sale(session: Session, clock: Clock, spec: SaleSpec, actor_id: int) -> FlashSale:
    """Set the sale's units aside from stock now, so that ordinary checkouts cannot take them."""
    if not spec.reservations_open_at <= spec.starts_at < spec.ends_at:
        raise ValidationFailed("Times must be reservations_open_at <= starts_at < ends_at")
    if spec.mode == LOTTERY:
        raise ValidationFailed("Lottery sales are not available yet; use first_come")
    if spec.mode != FIRST_COME:
        raise ValidationFailed("mode is first_come or lottery")
    if not 1 <= spec.units <= MAX_UNITS or spec.price_fen <= 0:
        raise ValidationFailed("units must be 1 to {max} and the price positive", max=MAX_UNITS)
    if not 1 <= spec.per_customer_limit <= spec.units:
        raise ValidationFailed("per_customer_limit must be between 1 and units")
    get_variant(session, spec.sku)
    sale = FlashSale(sku=spec.sku, units=spec.units, price_fen=spec.price_fen,
                     reservations_open_at=spec.reservations_open_at, starts_at=spec.starts_at, ends_at=spec.ends_at,
                     per_customer_limit=spec.per_customer_limit, payment_window_seconds=spec.payment_window_seconds,
                     mode=spec.mode, require_purchase_token=spec.require_purchase_token, created_by=actor_id,
                     created_at=clock.now())
    session.add(sale)
    session.flush()
    inventory.allocate(session, clock, hold_reference(sale.id), [(spec.sku, spec.units)])
    record_audit(session, clock, actor_id=actor_id, action="flash_sale.create", target=f"flash_sale:{sale.id}",
                 detail={"sku": spec.sku, "units": spec.units, "price_fen": spec.price_fen})
    return sale


def get_sale(session: Session, sale_id: int) -> FlashSale:
    sale = session.get(FlashSale, sale_id)
    if sale is None:
        raise NotFound("No such flash sale")
    return sale


def status(sale: FlashSale, now: datetime, remaining: int) -> str:
    if now >= sale.ends_at:
        return "ended"
    if now >= sale.starts_at:
        return "live" if remaining > 0 else "sold_out"
    return "reserving" if now >= sale.reservations_open_at else "scheduled"


def reservation_count(session: Session, sale_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Reservation)
                              .where(Reservation.sale_id == sale_id)) or 0)


def live_units(session: Session, sale_id: int) -> int:
    """Units in orders that still hold them (not closed unpaid or cancelled)."""
    return int(session.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                              .where(Purchase.sale_id == sale_id, Purchase.released_at.is_(None))) or 0)


def reserve(session: Session, clock: Clock, sale_id: int, customer_id: int) -> None:
    sale = get_sale(session, sale_id)
    now = clock.now()
    if now < sale.reservations_open_at:
        raise DomainError("Reservations for this sale have not opened yet", code="sale_not_started")
    if now >= sale.starts_at:
        raise Conflict("Reservations closed when the sale started")
    if not insert_if_absent(session, Reservation, sale_id=sale_id, customer_id=customer_id, created_at=now):
        raise DomainError("You have already reserved this sale", code="already_reserved")


def is_reserved(session: Session, sale_id: int, customer_id: int) -> bool:
    return session.scalar(select(Reservation.id).where(Reservation.sale_id == sale_id,
                                                       Reservation.customer_id == customer_id)) is not None


# --- purchase tokens: issued only once the sale is live, so nobody can pre-script the buy ------------


def purchase_token(secret: str, sale_id: int, customer_id: int) -> str:
    return hmac.new(secret.encode(), f"flash-sale:{sale_id}:{customer_id}".encode(), hashlib.sha256).hexdigest()


def issue_purchase_token(session: Session, clock: Clock, secret: str, sale_id: int, customer_id: int) -> str:
    sale = get_sale(session, sale_id)
    now = clock.now()
    if now < sale.starts_at:
        raise refusal(Decision.SALE_NOT_STARTED)
    if now >= sale.ends_at:
        raise refusal(Decision.SALE_ENDED)
    if not is_reserved(session, sale_id, customer_id):
        raise refusal(Decision.NOT_RESERVED)
    return purchase_token(secret, sale_id, customer_id)


# --- the gate's state, from committed data ----------------------------------------------------------


def rebuild_state(session: Session, sale: FlashSale) -> SaleState:
    """What the gate should hold, from committed rows only. Safe at start-up, when nothing is in flight;
    later changes reach the gate through ``take_back_released`` and the writer."""
    bought: dict[int, int] = {}
    for customer_id, quantity in session.execute(
            select(Purchase.customer_id, func.sum(Purchase.quantity))
            .where(Purchase.sale_id == sale.id, Purchase.released_at.is_(None)).group_by(Purchase.customer_id)):
        bought[int(customer_id)] = int(quantity)
    reserved = set(session.scalars(select(Reservation.customer_id).where(Reservation.sale_id == sale.id)))
    # released purchases are counted as back in the sale: mark them so nobody gives them back twice
    session.execute(update(Purchase).where(Purchase.sale_id == sale.id, Purchase.released_at.is_not(None),
                                           Purchase.returned.is_(False)).values(returned=True))
    return SaleState(sale_id=sale.id, units=sale.units, starts_at=sale.starts_at, ends_at=sale.ends_at,
                     per_customer_limit=sale.per_customer_limit, remaining=sale.units - sum(bought.values()),
                     reserved=reserved, bought=bought, require_purchase_token=sale.require_purchase_token,
                     price_fen=sale.price_fen, sku=sale.sku, payment_window_seconds=sale.payment_window_seconds)


def ensure_loaded(session: Session, gate: Gate, sale_id: int) -> SaleState:
    state = gate.state(sale_id)
    if state is None:
        state = gate.load_once(rebuild_state(session, get_sale(session, sale_id)))
    return state


def take_back_released(session: Session, gate: Gate) -> int:
    """Units of sale orders that closed unpaid go back to their sale (each purchase exactly once)."""
    returned = 0
    rows = session.execute(select(Purchase.id, Purchase.sale_id, Purchase.customer_id, Purchase.quantity)
                           .where(Purchase.released_at.is_not(None), Purchase.returned.is_(False))
                           .limit(1000)).all()
    for purchase_id, sale_id, customer_id, quantity in rows:
        claimed = affected(session.execute(update(Purchase).where(Purchase.id == purchase_id,
                                                                  Purchase.returned.is_(False))
                                           .values(returned=True)))
        if claimed and gate.state(sale_id) is not None:
            gate.give_back(sale_id, customer_id, quantity)
            returned += quantity
    return returned


# --- writing winners (called by the group-commit writer, one transaction per batch) --------------


@dataclass(frozen=True)
class Win:
    sale_id: int
    customer_id: int
    quantity: int


def write_wins(session: Session, clock: Clock, policy: orders.OrderPolicy, wins: Sequence[Win],
               states: dict[int, SaleState]) -> list[orders.PlacedOrder]:
    """The orders and purchase rows of a batch of wins, in the writer's transaction: four multi-row
    INSERTs for the whole batch (see ``orders.create_unpaid_orders``)."""
    titles = sku_info(session, sorted({states[w.sale_id].sku for w in wins}))
    lines: dict[tuple[int, int], list[orders.Line]] = {}  # one line value per (sale, quantity)
    windows = {sale_id: timedelta(seconds=state.payment_window_seconds) for sale_id, state in states.items()}
    new = []
    for w in wins:
        line = lines.get((w.sale_id, w.quantity))
        if line is None:
            state = states[w.sale_id]
            line = lines[w.sale_id, w.quantity] = [orders.Line(sku=state.sku, quantity=w.quantity,
                                                               unit_price_fen=state.price_fen,
                                                               name=titles[state.sku].title)]
        new.append(orders.NewOrder(customer_id=w.customer_id, source=SOURCE, payment_window=windows[w.sale_id],
                                   lines=line))
    created = orders.create_unpaid_orders(session, clock, policy, new)
    now = clock.now()
    insert_rows(session, _PURCHASES, ("sale_id", "customer_id", "order_id", "quantity", "created_at", "released_at",
                                      "returned"),
                [(w.sale_id, w.customer_id, order.id, w.quantity, now, None, False)
                 for w, order in zip(wins, created, strict=True)])
    return created


_PURCHASES = cast(Table, Purchase.__table__)


# --- what happens to a sale order's units when the order moves on ---------------------------------


def _release(session: Session, clock: Clock, order: Order) -> None:
    """A sale order closed before shipping: its units belong to the sale again, or, once the sale has
    ended and closed, to ordinary stock."""
    released = affected(session.execute(update(Purchase)
                                        .where(Purchase.order_id == order.id, Purchase.released_at.is_(None))
                                        .values(released_at=clock.now())))
    purchase = session.scalar(select(Purchase).where(Purchase.order_id == order.id))
    if not released or purchase is None:
        return
    sale = get_sale(session, purchase.sale_id)
    if sale.closed_at is not None:
        inventory.release_part(session, clock, hold_reference(sale.id), sale.sku, purchase.quantity)
        session.execute(update(Purchase).where(Purchase.id == purchase.id).values(returned=True))


def close_ended_sales(session: Session, clock: Clock) -> int:
    """Scheduled: a sale that ended gives its unsold units back to ordinary stock. Units of orders still
    open stay held for them (and follow them back to stock if they close unpaid). Returns sales closed."""
    closed = 0
    for sale in session.scalars(select(FlashSale).where(FlashSale.ends_at <= clock.now(),
                                                        FlashSale.closed_at.is_(None)).limit(100)):
        if not affected(session.execute(update(FlashSale).where(FlashSale.id == sale.id,
                                                                FlashSale.closed_at.is_(None))
                                        .values(closed_at=clock.now()))):
            continue
        # held now = units - shipped; what open orders still need = live - shipped; the rest is unsold
        unsold = sale.units - live_units(session, sale.id)
        inventory.release_part(session, clock, hold_reference(sale.id), sale.sku, unsold)
        session.execute(update(Purchase).where(Purchase.sale_id == sale.id, Purchase.released_at.is_not(None))
                        .values(returned=True))
        closed += 1
    return closed


def _fulfil(session: Session, clock: Clock, order: Order) -> None:
    purchase = session.scalar(select(Purchase).where(Purchase.order_id == order.id))
    if purchase is None:
        raise NotFound("No flash-sale purchase for this order")
    sale = get_sale(session, purchase.sale_id)
    inventory.fulfil_part(session, clock, hold_reference(sale.id), sale.sku, purchase.quantity)


orders.register_stock_hooks(SOURCE, orders.StockHooks(release=_release, fulfil=_fulfil))

DECISION_ERRORS = {
    Decision.SALE_NOT_STARTED: (N_("The sale has not started"), "sale_not_started"),
    Decision.SALE_ENDED: (N_("The sale has ended"), "sale_ended"),
    Decision.SOLD_OUT: (N_("Sold out"), "sold_out"),
    Decision.NOT_RESERVED: (N_("Only fans who reserved may buy"), "not_reserved"),
    Decision.LIMIT_EXCEEDED: (N_("You have reached this sale's limit per customer"), "limit_exceeded"),
}


def refusal(decision: Decision) -> DomainError:
    detail, code = DECISION_ERRORS[decision]
    return DomainError(detail, code=code)


def attempt(gate: Gate, submit: Callable[[Win], Future[orders.PlacedOrder]], clock: Clock, secret: str,
            state: SaleState, customer_id: int, quantity: int, token: str | None) -> Future[orders.PlacedOrder]:
    """The hot path: decide in memory; only a winner reaches the database (through ``submit``)."""
    now = clock.now()
    if now < state.starts_at:
        raise refusal(Decision.SALE_NOT_STARTED)
    if now >= state.ends_at:
        raise refusal(Decision.SALE_ENDED)
    if state.require_purchase_token and (
            not token or not hmac.compare_digest(token, purchase_token(secret, state.sale_id, customer_id))):
        raise Forbidden("This sale needs the purchase token issued when it went live")
    if quantity < 1:
        raise ValidationFailed("quantity must be at least 1")
    decision = gate.try_take(state.sale_id, customer_id, quantity, now)
    if decision is not Decision.TAKEN:
        raise refusal(decision)
    return submit(Win(sale_id=state.sale_id, customer_id=customer_id, quantity=quantity))
