"""Flash sales: creating a launch, reservations, the purchase rules, and giving units back.

The hot path (``purchase``) asks the gate first and touches the database only for a winner, through the
group-commit writer (``writer.py``): a 201 is answered only after the winner's order is committed.
"""

from __future__ import annotations

import hmac
import math
import random
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog.service import get_variant, sku_info
from fanbase.clock import Clock
from fanbase.db import Database, affected, insert_if_absent, insert_rows
from fanbase.errors import Conflict, DomainError, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from fanbase.festival import service as festival
from fanbase.flashsale.gate import Decision, Gate, Round, SaleState
from fanbase.flashsale.models import FIRST_COME, LOTTERY, FlashSale, LotteryRound, LotteryWinner, Purchase, Reservation
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
    festival_id: int | None = None  # a festival-only sale: must lie inside the festival's window


def hold_reference(sale_id: int) -> str:
    return f"flash_sale:{sale_id}"


def create_sale(session: Session, clock: Clock, spec: SaleSpec, actor_id: int) -> FlashSale:
    """Set the sale's units aside from stock now, so that ordinary checkouts cannot take them."""
    if not spec.reservations_open_at <= spec.starts_at < spec.ends_at:
        raise ValidationFailed("Times must be reservations_open_at <= starts_at < ends_at")
    if spec.mode not in (FIRST_COME, LOTTERY):
        raise ValidationFailed("mode is first_come or lottery")
    if not 1 <= spec.units <= MAX_UNITS or spec.price_fen <= 0:
        raise ValidationFailed("units must be 1 to {max} and the price positive", max=MAX_UNITS)
    if not 1 <= spec.per_customer_limit <= spec.units:
        raise ValidationFailed("per_customer_limit must be between 1 and units")
    get_variant(session, spec.sku)
    if spec.festival_id is not None:
        festival.check_flash_sale(session, spec.festival_id, spec.starts_at, spec.ends_at)
    sale = FlashSale(sku=spec.sku, units=spec.units, price_fen=spec.price_fen,
                     reservations_open_at=spec.reservations_open_at, starts_at=spec.starts_at, ends_at=spec.ends_at,
                     per_customer_limit=spec.per_customer_limit, payment_window_seconds=spec.payment_window_seconds,
                     mode=spec.mode, require_purchase_token=spec.require_purchase_token, created_by=actor_id,
                     created_at=clock.now(), festival_id=spec.festival_id)
    session.add(sale)
    session.flush()
    inventory.allocate(session, clock, hold_reference(sale.id), [(spec.sku, spec.units)])
    record_audit(session, clock, actor_id=actor_id, action="flash_sale.create", target=f"flash_sale:{sale.id}",
                 detail={"sku": spec.sku, "units": spec.units, "price_fen": spec.price_fen}
                 | ({"festival_id": spec.festival_id} if spec.festival_id is not None else {}))
    return sale


def end_sale(session: Session, clock: Clock, gate: Gate, sale_id: int, actor_id: int) -> FlashSale:
    """An operator ends a sale now (or calls off one that has not started): no purchase is taken after
    this. Unsold units go back to stock with the next ``close_ended_sales``; orders already won stand.
    The caller tells the other processes after the commit (``FLASH_SALE_CHANGED``)."""
    sale = session.scalar(select(FlashSale).where(FlashSale.id == sale_id).with_for_update())
    if sale is None:
        raise NotFound("No such flash sale")
    now = clock.now()
    if now >= sale.ends_at:
        raise Conflict("This sale has already ended")
    sale.starts_at = min(sale.starts_at, now)
    sale.reservations_open_at = min(sale.reservations_open_at, now)
    sale.ends_at = now
    gate.set_window(sale_id, sale.starts_at, sale.ends_at)
    record_audit(session, clock, actor_id=actor_id, action="flash_sale.end", target=f"flash_sale:{sale_id}",
                 detail={"ended_at": now.isoformat()})
    return sale


def refresh_window(session: Session, gate: Gate, sale_id: int) -> None:
    """Another process changed a sale's times: this process's gate takes them from the database."""
    sale = session.get(FlashSale, sale_id)
    if sale is not None:
        gate.set_window(sale_id, sale.starts_at, sale.ends_at)


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


def released_units_to_return(session: Session, sale_id: int) -> int:
    """Units of orders that closed unpaid and that ``take_back_released`` has not handed back yet."""
    return int(session.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                              .where(Purchase.sale_id == sale_id, Purchase.released_at.is_not(None),
                                     Purchase.returned.is_(False))) or 0)


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


def has_reserved(session: Session, customer_id: int) -> bool:
    """Has this fan ever reserved a launch (membership's "early reserver" badge)?"""
    return session.scalar(select(Reservation.id).where(Reservation.customer_id == customer_id).limit(1)) is not None


# --- purchase tokens: issued only once the sale is live, so nobody can pre-script the buy ------------


def purchase_token(secret: str, sale_id: int, customer_id: int) -> str:
    return hmac.digest(secret.encode(), f"flash-sale:{sale_id}:{customer_id}".encode(), "sha256").hex()


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
    return replace(sale_state(sale, sale.units - sum(bought.values())), reserved=reserved, bought=bought)


def sale_state(sale: FlashSale, remaining: int) -> SaleState:
    """A sale's settings as the gate decides with them, and ``remaining``; no reservations or counts."""
    return SaleState(sale_id=sale.id, units=sale.units, starts_at=sale.starts_at, ends_at=sale.ends_at,
                     per_customer_limit=sale.per_customer_limit, remaining=remaining,
                     require_purchase_token=sale.require_purchase_token, price_fen=sale.price_fen, sku=sale.sku,
                     payment_window_seconds=sale.payment_window_seconds, mode=sale.mode)


def remaining_units(session: Session, gate: Gate, sale: FlashSale) -> int:
    """Units left: what the gate counts (shared by every process with the Redis gate; in flight or not, a
    taken unit is not left), else the committed count."""
    remaining = gate.remaining(sale.id)
    return remaining if remaining is not None else sale.units - live_units(session, sale.id)


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


# --- lottery sales ---------------------------------------------------------------------------------
#
# When the sale starts, a seed is drawn and the reservations, sorted by customer id, are shuffled with it
# (``draw_order``): the draw order, which anyone can repeat from the published seed. The sale then runs
# in rounds of one payment window each. A round opens with the next fans in draw order, as many as the
# units still free need at the per-customer limit; only they may buy, until the round closes. Units a
# round leaves unclaimed (and units of orders that closed unpaid) are free again for the next round.
# Rounds are recorded by whoever opens one first, under the sale's row lock, so every process lets the
# same fans in; a process reads a round once, then decides in memory.


def round_number(state: FlashSale | SaleState, now: datetime) -> int:
    return int((now - state.starts_at).total_seconds() // state.payment_window_seconds)


def round_due(state: SaleState, now: datetime) -> bool:
    """A live lottery sale whose round this process has not loaded yet (or whose round has closed)."""
    return (state.mode == LOTTERY and state.starts_at <= now < state.ends_at
            and (state.round is None or now >= state.round.closes_at))


def draw_order(seed: str, customer_ids: Sequence[int]) -> list[int]:
    """The lottery: a uniformly random order of the reserved fans, the same for the same seed and fans."""
    order = sorted(customer_ids)
    random.Random(seed).shuffle(order)
    return order


_DRAWS: dict[tuple[int, str], list[int]] = {}  # the draw orders this process computed, most recent last


def _draw(session: Session, sale: FlashSale) -> list[int]:
    assert sale.lottery_seed is not None
    key = (sale.id, sale.lottery_seed)
    order = _DRAWS.get(key)
    if order is None:  # reservations closed when the sale started: the order never changes
        order = draw_order(sale.lottery_seed, list(session.scalars(
            select(Reservation.customer_id).where(Reservation.sale_id == sale.id))))
        while len(_DRAWS) >= 4:
            _DRAWS.pop(next(iter(_DRAWS)))
        _DRAWS[key] = order
    return order


def open_round(session: Session, clock: Clock, gate: Gate, sale_id: int) -> LotteryRound | None:
    """The round of a live lottery sale for now, recorded if nobody has yet (the first one draws the
    seed). None if the sale is not a lottery or not live."""
    sale = session.scalar(select(FlashSale).where(FlashSale.id == sale_id).with_for_update())
    now = clock.now()
    if sale is None or sale.mode != LOTTERY or not sale.starts_at <= now < sale.ends_at:
        return None
    number = round_number(sale, now)
    recorded = session.get(LotteryRound, (sale_id, number))
    if recorded is not None:
        return recorded
    if sale.lottery_seed is None:
        sale.lottery_seed, sale.drawn_at = secrets.token_hex(16), now
    order = _draw(session, sale)
    first = int(session.scalar(select(func.coalesce(func.max(LotteryRound.end_position), 0))
                               .where(LotteryRound.sale_id == sale_id)) or 0)
    free = max(0, remaining_units(session, gate, sale))
    end = min(len(order), first + math.ceil(free / sale.per_customer_limit))
    opens_at = sale.starts_at + timedelta(seconds=number * sale.payment_window_seconds)
    recorded = LotteryRound(sale_id=sale_id, number=number, opens_at=opens_at,
                            closes_at=min(sale.ends_at, opens_at + timedelta(seconds=sale.payment_window_seconds)),
                            free_units=free, first_position=first, end_position=end)
    session.add(recorded)
    insert_rows(session, _WINNERS, ("sale_id", "position", "customer_id", "round"),
                [(sale_id, position, order[position], number) for position in range(first, end)])
    return recorded


def load_round(db: Database, clock: Clock, gate: Gate, state: SaleState) -> None:
    """Bring this process's copy of a lottery sale's round up to date (once per round: the requests that
    arrive meanwhile wait for it). Opens the round if nobody has."""
    with state.round_lock:
        if not round_due(state, clock.now()):
            return
        def window(recorded: LotteryRound | None) -> tuple[int, datetime, datetime] | None:
            return None if recorded is None else (recorded.number, recorded.opens_at, recorded.closes_at)

        with db.read() as session:
            current = window(session.get(LotteryRound, (state.sale_id, round_number(state, clock.now()))))
        if current is None:
            with db.uow() as session:
                current = window(open_round(session, clock, gate, state.sale_id))
        if current is None:
            return
        number, opens_at, closes_at = current
        with db.read() as session:
            drawn = session.execute(select(LotteryWinner.customer_id, LotteryWinner.round)
                                    .where(LotteryWinner.sale_id == state.sale_id,
                                           LotteryWinner.round <= number)).all()
        state.round = Round(number=number, opens_at=opens_at, closes_at=closes_at,
                            winners=frozenset(c for c, r in drawn if r == number),
                            drawn_before=frozenset(c for c, r in drawn if r < number))


def open_due_rounds(session: Session, clock: Clock, gate: Gate) -> int:
    """Scheduled: draw lottery sales that started and open their rounds on time, even before anyone
    tries to buy. Returns the rounds opened."""
    now = clock.now()
    opened = 0
    for sale in session.scalars(select(FlashSale).where(FlashSale.mode == LOTTERY, FlashSale.starts_at <= now,
                                                        FlashSale.ends_at > now)):
        if session.get(LotteryRound, (sale.id, round_number(sale, now))) is None:
            opened += open_round(session, clock, gate, sale.id) is not None
    return opened


def lottery_refusal(gate: Gate, state: SaleState, customer_id: int, now: datetime) -> Decision | None:
    """None if this fan may buy in the lottery's open round; otherwise why not."""
    current = state.round
    if current is None or not current.opens_at <= now < current.closes_at:
        return Decision.ROUND_OPENING
    if customer_id in current.winners:
        return None
    if customer_id in current.drawn_before:  # drawn, so reserved: no need to ask the gate
        return Decision.TURN_PASSED
    if not gate.is_reserved(state.sale_id, customer_id):
        return Decision.NOT_RESERVED
    return Decision.SOLD_OUT if state.remaining <= 0 else Decision.NOT_DRAWN


class RoundSummary(NamedTuple):
    number: int
    opens_at: datetime
    closes_at: datetime
    free_units: int
    winners: int


def lottery_rounds(session: Session, sale_id: int) -> list[RoundSummary]:
    return [RoundSummary(*row) for row in session.execute(
        select(LotteryRound.number, LotteryRound.opens_at, LotteryRound.closes_at, LotteryRound.free_units,
               LotteryRound.end_position - LotteryRound.first_position)
        .where(LotteryRound.sale_id == sale_id).order_by(LotteryRound.number))]


class Draw(NamedTuple):
    position: int
    round: int
    opens_at: datetime
    closes_at: datetime


def customer_draw(session: Session, sale_id: int, customer_id: int) -> Draw | None:
    """Where a fan was drawn in a lottery sale, and their window to buy; None if not (yet) drawn."""
    sale = get_sale(session, sale_id)
    if sale.mode != LOTTERY:
        raise DomainError("This sale is first come, first served: there is no draw", code="conflict")
    row = session.execute(select(LotteryWinner.position, LotteryRound.number, LotteryRound.opens_at,
                                 LotteryRound.closes_at)
                          .join(LotteryRound, (LotteryRound.sale_id == LotteryWinner.sale_id)
                                & (LotteryRound.number == LotteryWinner.round))
                          .where(LotteryWinner.sale_id == sale_id, LotteryWinner.customer_id == customer_id)).first()
    return None if row is None else Draw(*row)


_WINNERS = cast(Table, LotteryWinner.__table__)


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


def committed_orders(session: Session, order_ids: Sequence[int]) -> set[int]:
    """Which of these sale orders are in the database (the writer asks after a failed COMMIT)."""
    return set(session.scalars(select(Purchase.order_id).where(Purchase.order_id.in_(order_ids))))


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
    Decision.NOT_DRAWN: (N_("You have not been drawn in this round of the lottery; units nobody claims go to "
                            "the next fans drawn"), "not_drawn"),
    Decision.TURN_PASSED: (N_("Your turn to buy in this lottery has passed"), "not_drawn"),
}


def refusal(decision: Decision) -> DomainError:
    if decision is Decision.ROUND_OPENING:
        return ServiceUnavailable("The next round of the lottery is opening; please try again in a moment",
                                  headers={"Retry-After": "1"})
    detail, code = DECISION_ERRORS[decision]
    return DomainError(detail, code=code)


def try_purchase(gate: Gate, submit: Callable[[Win], Future[orders.PlacedOrder]], clock: Clock, secret: str,
                 state: SaleState, customer_id: int, quantity: int,
                 token: str | None) -> Future[orders.PlacedOrder] | Decision:
    """The hot path: decide in memory; only a winner reaches the database (through ``submit``). A refusal
    is returned, not raised: at a launch nearly every attempt is refused, and raising an exception for each
    would cost more than deciding. For a lottery sale the caller has brought the round up to date
    (``round_due`` / ``load_round``)."""
    now = clock.now()
    if now < state.starts_at:
        return Decision.SALE_NOT_STARTED
    if now >= state.ends_at:
        return Decision.SALE_ENDED
    if state.require_purchase_token and (
            not token or not hmac.compare_digest(token, purchase_token(secret, state.sale_id, customer_id))):
        raise Forbidden("This sale needs the purchase token issued when it went live")
    if quantity < 1:
        raise ValidationFailed("quantity must be at least 1")
    if state.mode == LOTTERY:
        drawn = lottery_refusal(gate, state, customer_id, now)
        if drawn is not None:
            return drawn
    decision = gate.try_take(state.sale_id, customer_id, quantity, now)
    if decision is not Decision.TAKEN:
        return decision
    return submit(Win(sale_id=state.sale_id, customer_id=customer_id, quantity=quantity))


def attempt(gate: Gate, submit: Callable[[Win], Future[orders.PlacedOrder]], clock: Clock, secret: str,
            state: SaleState, customer_id: int, quantity: int, token: str | None) -> Future[orders.PlacedOrder]:
    """``try_purchase`` for callers that answer one attempt at a time: a refusal is raised as its problem."""
    outcome = try_purchase(gate, submit, clock, secret, state, customer_id, quantity, token)
    if isinstance(outcome, Decision):
        raise refusal(outcome)
    return outcome
