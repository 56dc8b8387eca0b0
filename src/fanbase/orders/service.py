"""Orders: checkout, payment, the lifecycle and its timeline, expiry, cancel and refund.

Every status change is a conditional UPDATE from the expected status (so a webhook and an expiry racing
for the same order cannot both win) and writes an event to the order's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import partial
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.orm import Session, selectinload

from fanbase.accounts.service import record_audit
from fanbase.cart import service as cart_service
from fanbase.clock import Clock
from fanbase.db import affected, insert_rows, next_ids, set_loaded
from fanbase.errors import Conflict, NotFound, ValidationFailed
from fanbase.fund import service as fund
from fanbase.inventory import service as inventory
from fanbase.ledger import service as ledger
from fanbase.orders.models import (
    CANCELLED,
    COMPLETED,
    DELIVERED,
    PAID,
    PAYMENT_METHODS,
    PENDING_PAYMENT,
    REFUNDED,
    SHIPPED,
    TRANSITIONS,
    Order,
    OrderEvent,
    OrderLine,
)
from fanbase.pagination import Page, PageRequest, make_page
from fanbase.payments import service as payments
from fanbase.payments.gateway import PaymentGateway
from fanbase.payments.models import Payment
from fanbase.wallet import service as wallet

PURPOSE = "order"


@dataclass(frozen=True)
class OrderPolicy:
    payment_window: timedelta = timedelta(minutes=30)
    return_window: timedelta = timedelta(days=7)
    zone: tzinfo = UTC  # the store's zone: order numbers carry the store's date


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price_fen: int
    name: str = ""
    festival_id: int | None = None  # the festival whose discount made ``unit_price_fen``


def checkout(session: Session, clock: Clock, gateway: PaymentGateway, policy: OrderPolicy, *, customer_id: int,
             payment_method: str, shipping_address: dict[str, str], points: int = 0) -> Order:
    """Turn the cart into an order: stock for every line is held in the same transaction, or nothing is.
    Each line is charged the cart's price now (a live festival's discount included)."""
    cart = cart_service.get_cart(session, clock, customer_id)
    if not cart.lines:
        raise ValidationFailed("The cart is empty")
    lines = [Line(sku=x.sku, quantity=x.quantity, unit_price_fen=x.unit_price_fen, name=x.title,
                  festival_id=x.festival_id) for x in cart.lines]
    cart_service.remove_ordered(session, customer_id, [x.sku for x in lines])
    return create_order(session, clock, gateway, policy, customer_id=customer_id, lines=lines,
                        payment_method=payment_method, shipping_address=shipping_address, points=points)


def create_order(session: Session, clock: Clock, gateway: PaymentGateway, policy: OrderPolicy, *,
                 customer_id: int, lines: Sequence[Line], payment_method: str, shipping_address: dict[str, str],
                 source: str = "cart", allocate_stock: bool = True,
                 payment_window: timedelta | None = None, points: int = 0) -> Order:
    """Create a ``pending_payment`` order and start paying it. Other domains (flash sales) call this
    with their own price and without allocating from general stock. ``points``: membership points to spend
    (the redeemer registered by membership takes at most the total off ``total_fen``)."""
    if payment_method not in PAYMENT_METHODS:
        raise ValidationFailed("Unknown payment method {method}", method=payment_method)
    now = clock.now()
    total = sum(line.unit_price_fen * line.quantity for line in lines)
    order = Order(customer_id=customer_id, status=PENDING_PAYMENT, total_fen=total, payment_method=payment_method,
                  payment_due_at=now + (payment_window or policy.payment_window), shipping_address=shipping_address,
                  source=source, created_at=now, updated_at=now,
                  lines=[OrderLine(sku=x.sku, name=x.name[:300], quantity=x.quantity, unit_price_fen=x.unit_price_fen)
                         for x in lines], events=[])
    session.add(order)
    session.flush()
    order.number = order_number(now.astimezone(policy.zone).strftime("%Y%m%d"), order.id)
    if points:
        if _points_redeemer is None:
            raise ValidationFailed("Points cannot be redeemed here")
        discount = _points_redeemer(session, clock, order, points)
        if discount:
            order.total_fen, order.points_discount_fen = total - discount, discount
    created: dict[str, Any] = {"total_fen": order.total_fen, "source": source}
    festivals = sorted({x.festival_id for x in lines if x.festival_id is not None})
    if festivals:
        created["festival_id"] = festivals[0]  # the lines' prices came from this festival's discounts
    _event(session, clock, order, "created", detail=created)
    start_payment(session, clock, gateway, order, payment_method, policy.zone, new_order=True)
    if allocate_stock:
        # Last on purpose: the stock rows of a popular SKU are what concurrent checkouts queue on, so
        # they are locked for as short a time as possible (just this and the commit). A refusal still
        # rolls back everything above, payment included.
        inventory.allocate(session, clock, reference(order), [(x.sku, x.quantity) for x in lines])
        session.flush()
    return order


def order_number(day: str, order_id: int) -> str:
    """What a customer quotes: the store's date and the id (``20261125`` + ``0000000042``)."""
    return f"{day}{order_id:010d}"


def reference(order: Order) -> str:
    return f"order:{order.id}"


def paid_order_references(session: Session) -> list[str]:
    """The ledger references of every order that was ever paid: each must have its payment transaction."""
    return [f"order:{order_id}" for order_id in session.scalars(
        select(Order.id).where(Order.paid_at.is_not(None)).order_by(Order.id))]


@dataclass(frozen=True)
class StockHooks:
    """Where an order's units are held. Cart orders hold their own allocation; an order made by another
    domain (a flash sale holds units for all its orders) registers hooks for its ``source``."""

    release: Callable[[Session, Clock, Order], object]  # the order closed before shipping
    fulfil: Callable[[Session, Clock, Order], object]  # the order shipped


_OWN_ALLOCATION = StockHooks(release=lambda session, clock, order: inventory.release(session, reference(order)),
                             fulfil=lambda session, clock, order: inventory.fulfil(session, reference(order)))
_STOCK_HOOKS: dict[str, StockHooks] = {}


def register_stock_hooks(source: str, hooks: StockHooks) -> None:
    _STOCK_HOOKS[source] = hooks


def _stock(order: Order) -> StockHooks:
    return _STOCK_HOOKS.get(order.source, _OWN_ALLOCATION)


@dataclass(frozen=True)
class NewOrder:
    customer_id: int
    lines: Sequence[Line]
    payment_window: timedelta
    source: str


class PlacedLine(NamedTuple):
    id: int
    order_id: int
    sku: str
    name: str
    quantity: int
    unit_price_fen: int


class PlacedEvent(NamedTuple):
    id: int
    order_id: int
    kind: str
    status: str
    actor_id: int | None
    detail: dict[str, Any]
    at: datetime


class PlacedOrder(NamedTuple):
    """An order as ``create_unpaid_orders`` wrote it: the row's columns, its lines and its events. A
    read-only value (a tenth of the cost of ORM objects, and next to no work for the garbage collector on
    the flash-sale hot path); load the ``Order`` to change it."""

    id: int
    number: str
    customer_id: int
    status: str
    total_fen: int
    currency: str
    payment_method: str
    payment_due_at: datetime
    shipping_address: dict[str, Any]
    source: str
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    delivered_at: datetime | None
    lines: tuple[PlacedLine, ...]
    events: tuple[PlacedEvent, ...]


def create_unpaid_orders(session: Session, clock: Clock, policy: OrderPolicy,
                         new: Sequence[NewOrder]) -> list[PlacedOrder]:
    """Many ``pending_payment`` orders at once, without allocating stock or opening a payment: for
    domains that hold the units themselves and write orders in batches (flash sales). The customer pays
    with ``POST /orders/{id}/pay``.

    The hot write path of a flash sale: the ids are taken first, so the orders (numbered), their lines and
    their ``created`` events are three multi-row INSERTs (``db.insert_rows``): no ORM flush, no RETURNING,
    no UPDATE of the number."""
    if not new:
        return []
    now = clock.now()
    day = now.astimezone(policy.zone).strftime("%Y%m%d")
    order_ids = next_ids(session, _ORDERS, len(new))
    line_ids = iter(next_ids(session, _LINES, sum(len(n.lines) for n in new)))
    event_ids = next_ids(session, _EVENTS, len(new))
    placed: list[PlacedOrder] = []
    line_rows: list[PlacedLine] = []
    event_rows: list[PlacedEvent] = []
    for order_id, event_id, n in zip(order_ids, event_ids, new, strict=True):
        total = sum(x.unit_price_fen * x.quantity for x in n.lines)
        lines = tuple([PlacedLine(next(line_ids), order_id, x.sku, x.name[:300], x.quantity, x.unit_price_fen)
                       for x in n.lines])
        event = PlacedEvent(event_id, order_id, "created", PENDING_PAYMENT, None, {"source": n.source}, now)
        placed.append(PlacedOrder(order_id, order_number(day, order_id), n.customer_id, PENDING_PAYMENT, total,
                                  "CNY", "gateway", now + n.payment_window, {}, n.source, now, now, None, None,
                                  lines, (event,)))
        line_rows.extend(lines)
        event_rows.append(event)
    insert_rows(session, _ORDERS, _ORDER_COLUMNS, placed)
    insert_rows(session, _LINES, PlacedLine._fields, line_rows)
    insert_rows(session, _EVENTS, PlacedEvent._fields, event_rows)
    return placed


_ORDERS = cast(Table, Order.__table__)
_LINES = cast(Table, OrderLine.__table__)
_EVENTS = cast(Table, OrderEvent.__table__)
_ORDER_COLUMNS = PlacedOrder._fields[:14]


def start_payment(session: Session, clock: Clock, gateway: PaymentGateway, order: Order, method: str,
                  zone: tzinfo, new_order: bool = False) -> None:
    """Gateway: open a payment the customer completes at the bank. Wallet or fund: pay now or raise
    InsufficientFunds / Conflict ``limit_exceeded`` (the caller's transaction then rolls back)."""
    if method not in PAYMENT_METHODS:
        raise ValidationFailed("Unknown payment method {method}", method=method)
    if method == "gateway" and order.total_fen > 0:
        payments.start_gateway_payment(session, clock, gateway, purpose=PURPOSE, reference_id=order.id,
                                       customer_id=order.customer_id, amount_fen=order.total_fen,
                                       replaces_pending=not new_order)
        return
    if not new_order:
        for pending in payments.pending_payments(session, PURPOSE, order.id):
            payments.cancel_payment(session, clock, gateway, pending)
    if order.total_fen == 0:  # points paid it all: nothing to take from a balance
        _transition(session, clock, order, PENDING_PAYMENT, PAID, "paid", detail={"method": method},
                    also={"payment_method": method, "paid_at": clock.now()})
        return
    paid_from = wallet.pay if method == "wallet" else partial(fund.pay, order_id=order.id)
    paid_from(session, clock, zone, customer_id=order.customer_id, amount_fen=order.total_fen,
              key=f"order:{order.id}:pay:{method}", memo=f"order {order.number}", reference=reference(order))
    _transition(session, clock, order, PENDING_PAYMENT, PAID, "paid", detail={"method": method},
                also={"payment_method": method, "paid_at": clock.now()})


def pay(session: Session, clock: Clock, gateway: PaymentGateway, policy: OrderPolicy, *, order_id: int,
        customer_id: int, payment_method: str) -> Order:
    order = get_order(session, order_id, customer_id=customer_id)
    if order.status != PENDING_PAYMENT:
        raise Conflict("The order is no longer waiting for payment")
    if order.payment_due_at <= clock.now():
        raise Conflict("The payment window of this order has closed", code="payment_expired")
    order.payment_method = payment_method
    start_payment(session, clock, gateway, order, payment_method, policy.zone)
    return order


def _on_gateway_captured(session: Session, clock: Clock, payment: Payment) -> bool:
    order = session.get(Order, payment.reference_id)
    if order is None or order.status != PENDING_PAYMENT or payment.amount_fen != order.total_fen:
        return False
    if not _try_transition(session, clock, order, PENDING_PAYMENT, PAID, "paid",
                           detail={"method": "gateway", "payment_id": payment.id},
                           also={"payment_method": "gateway", "paid_at": clock.now()}):
        return False
    ledger.post(session, clock, key=f"payment:{payment.id}:capture", kind="order_payment",
                memo=f"order {order.number}", reference=reference(order),
                postings=payments.capture_postings(payment, ledger.SALES_REVENUE))
    return True


def _on_gateway_declined(session: Session, clock: Clock, payment: Payment) -> None:
    order = session.get(Order, payment.reference_id)
    if order is not None:
        _event(session, clock, order, "payment_declined", detail={"payment_id": payment.id})


def _lock_for_webhook(session: Session, payment: Payment) -> None:
    """The order row before its payment, as every other change of an order takes them."""
    # FOR NO KEY UPDATE: the lock the status UPDATE itself takes (PostgreSQL; SQLite's writers queue anyway)
    session.execute(select(Order.id).where(Order.id == payment.reference_id).with_for_update(key_share=True))


payments.register_purpose(PURPOSE, payments.PurposeHandler(on_captured=_on_gateway_captured,
                                                           on_declined=_on_gateway_declined,
                                                           lock=_lock_for_webhook))


def cancel(session: Session, clock: Clock, gateway: PaymentGateway, *, order_id: int, customer_id: int) -> Order:
    """The customer cancels: unpaid orders close and free their stock; paid orders are refunded in full."""
    order = get_order(session, order_id, customer_id=customer_id)
    if order.status == PENDING_PAYMENT:
        _close_unpaid(session, clock, gateway, order, "cancelled", actor_id=customer_id)
    elif order.status == PAID:
        _refund(session, clock, gateway, order, PAID, CANCELLED, actor_id=customer_id)
    else:
        raise Conflict("Only unpaid or paid, unshipped orders can be cancelled")
    return order


def _close_unpaid(session: Session, clock: Clock, gateway: PaymentGateway, order: Order, kind: str,
                  actor_id: int | None) -> bool:
    if not _try_transition(session, clock, order, PENDING_PAYMENT, CANCELLED, kind, actor_id=actor_id):
        return False
    _stock(order).release(session, clock, order)
    for pending in payments.pending_payments(session, PURPOSE, order.id):
        payments.cancel_payment(session, clock, gateway, pending)
    return True


def _refund(session: Session, clock: Clock, gateway: PaymentGateway, order: Order, expected: str, new_status: str,
            actor_id: int | None) -> None:
    _transition(session, clock, order, expected, new_status, "refunded", actor_id=actor_id,
                detail={"amount_fen": order.total_fen, "method": order.payment_method})
    if expected == PAID:
        _stock(order).release(session, clock, order)  # never left the warehouse
    captured = payments.captured_payment(session, PURPOSE, order.id)
    if captured is not None:
        payments.refund_gateway_payment(session, clock, gateway, captured, ledger.REFUNDS)
    elif order.total_fen > 0:
        # paid from a balance: the money goes back to the customer's wallet
        wallet = ledger.customer_wallet(order.customer_id)
        ledger.post(session, clock, key=f"order:{order.id}:refund", kind="refund", memo=f"order {order.number}",
                    reference=reference(order),
                    postings=[(ledger.REFUNDS, order.total_fen), (wallet, -order.total_fen)],
                    owners={wallet.code: order.customer_id})


def ship(session: Session, clock: Clock, *, order_id: int, actor_id: int) -> Order:
    order = get_order(session, order_id)
    _transition(session, clock, order, PAID, SHIPPED, "shipped", actor_id=actor_id)
    _stock(order).fulfil(session, clock, order)
    _audit(session, clock, actor_id, "order.ship", order)
    return order


def deliver(session: Session, clock: Clock, *, order_id: int, actor_id: int) -> Order:
    order = get_order(session, order_id)
    _transition(session, clock, order, SHIPPED, DELIVERED, "delivered", actor_id=actor_id,
                also={"delivered_at": clock.now()})
    _audit(session, clock, actor_id, "order.deliver", order)
    return order


def refund(session: Session, clock: Clock, gateway: PaymentGateway, *, order_id: int, actor_id: int) -> Order:
    order = get_order(session, order_id)
    if order.status not in (PAID, SHIPPED, DELIVERED):
        raise Conflict("Only paid, shipped or delivered orders can be refunded")
    _refund(session, clock, gateway, order, order.status, REFUNDED, actor_id=actor_id)
    _audit(session, clock, actor_id, "order.refund", order)
    return order


def call_off(session: Session, clock: Clock, gateway: PaymentGateway, *, order_id: int) -> str | None:
    """Another domain's rule calls an order off (a group buy that failed): an unpaid order is cancelled and
    frees its stock; a paid one, not shipped, is refunded in full to where it was paid from. The order row is
    locked first. Returns the new status, or None when the order is already past both (so a retry does
    nothing twice)."""
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update(key_share=True)
                           .execution_options(populate_existing=True))
    if order is None:
        raise NotFound("No such order")
    if order.status == PENDING_PAYMENT:
        return CANCELLED if _close_unpaid(session, clock, gateway, order, "cancelled", actor_id=None) else None
    if order.status == PAID:
        _refund(session, clock, gateway, order, PAID, REFUNDED, actor_id=None)
        return REFUNDED
    return None


def _audit(session: Session, clock: Clock, actor_id: int, action: str, order: Order) -> None:
    record_audit(session, clock, actor_id=actor_id, action=action, target=f"order:{order.id}",
                 detail={"status": order.status})


# --- scheduled jobs: idempotent functions of (session, now) --------------------------------------


def expire_unpaid(session: Session, clock: Clock, gateway: PaymentGateway, limit: int = 500) -> int:
    """Cancel orders whose payment window has passed; their stock returns. Returns how many."""
    due = session.scalars(select(Order).where(Order.status == PENDING_PAYMENT, Order.payment_due_at <= clock.now())
                          .order_by(Order.payment_due_at).limit(limit)).all()
    return sum(_close_unpaid(session, clock, gateway, order, "expired", actor_id=None) for order in due)


def complete_delivered(session: Session, clock: Clock, policy: OrderPolicy, limit: int = 500) -> int:
    """A delivered order completes once its return window has passed."""
    cutoff = clock.now() - policy.return_window
    due = session.scalars(select(Order).where(Order.status == DELIVERED, Order.delivered_at <= cutoff)
                          .order_by(Order.delivered_at).limit(limit)).all()
    return sum(_try_transition(session, clock, order, DELIVERED, COMPLETED, "completed") for order in due)


# --- reading ---------------------------------------------------------------------------------------


def get_order(session: Session, order_id: int, customer_id: int | None = None) -> Order:
    """With ``customer_id``, another customer's order is 404: we do not confirm it exists."""
    order = session.get(Order, order_id)
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        raise NotFound("No such order")
    return order


def list_orders(session: Session, page: PageRequest, *, customer_id: int | None = None,
                status: str | None = None) -> Page[Order]:
    query = (select(Order).options(selectinload(Order.lines), selectinload(Order.events))
             .order_by(Order.id).limit(page.limit + 1))
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if status:
        query = query.where(Order.status == status)
    if page.after_id is not None:
        query = query.where(Order.id > page.after_id)
    return make_page(session.scalars(query).all(), page)


PAID_STATUSES = (PAID, SHIPPED, DELIVERED, COMPLETED)  # money received and kept


class DaySummary(NamedTuple):
    placed: int  # orders placed that day, whatever became of them
    paid: int  # of those, paid and not refunded or cancelled
    sales_fen: int  # their total
    average_fen: int  # sales / paid, rounded half up to the fen (0 without paid orders)
    per_hour: list[int]  # orders placed in each hour of the day (24, in the store's zone)


def day_summary(session: Session, day_start: datetime, zone: tzinfo) -> DaySummary:
    """The console's numbers for one day starting at ``day_start`` (midnight in the store's zone), counted by
    the database in one pass over the day's orders (a launch day has hundreds of thousands)."""
    local_day = day_start.astimezone(zone).date()
    hours = [datetime.combine(local_day, time(hour), tzinfo=zone) for hour in range(24)]
    hours.append(day_start + timedelta(days=1))
    return DaySummary(*window_summary(session, hours))  # the same figures, its buckets the hours


class WindowSummary(NamedTuple):
    placed: int  # orders placed from the first edge until the last, whatever became of them
    paid: int  # of those, paid and not refunded or cancelled
    sales_fen: int  # their total
    average_fen: int  # sales / paid, rounded half up to the fen (0 without paid orders)
    per_bucket: list[int]  # orders placed between each edge and the next


def window_summary(session: Session, edges: Sequence[datetime]) -> WindowSummary:
    """Orders placed in ``[edges[0], edges[-1])``, counted by the database in one pass (the day's console
    numbers, a festival's dashboard)."""
    paid = Order.status.in_(PAID_STATUSES)
    row = session.execute(select(
        func.count(), func.coalesce(func.sum(case((paid, 1), else_=0)), 0),
        func.coalesce(func.sum(case((paid, Order.total_fen), else_=0)), 0),
        *(func.coalesce(func.sum(case((Order.created_at < end, 1), else_=0)), 0) for end in edges[1:]),
    ).where(Order.created_at >= edges[0], Order.created_at < edges[-1])).one()
    placed, paid_count, sales = (int(value) for value in row[:3])
    before_end = [int(value) for value in row[3:]]  # orders placed before the end of each bucket
    per_bucket = [count - previous for count, previous in zip(before_end, [0, *before_end[:-1]], strict=True)]
    average = (sales * 2 + paid_count) // (paid_count * 2) if paid_count else 0  # half up, in integers
    return WindowSummary(placed=placed, paid=paid_count, sales_fen=sales, average_fen=average, per_bucket=per_bucket)


def top_lines(session: Session, start: datetime, end: datetime, limit: int) -> list[tuple[str, str, int, int]]:
    """(sku, name, units, sales fen) of the SKUs most sold by units in orders placed in ``[start, end)`` and
    paid and kept; one GROUP BY in the database."""
    units = func.sum(OrderLine.quantity)
    rows = session.execute(select(OrderLine.sku, func.max(OrderLine.name), units,
                                  func.sum(OrderLine.quantity * OrderLine.unit_price_fen))
                           .join(Order, Order.id == OrderLine.order_id)
                           .where(Order.created_at >= start, Order.created_at < end,
                                  Order.status.in_(PAID_STATUSES))
                           .group_by(OrderLine.sku).order_by(units.desc(), OrderLine.sku).limit(limit))
    return [(sku, name, int(count), int(sales)) for sku, name, count, sales in rows]


def current_payment(session: Session, order: Order) -> Payment | None:
    return payments.latest_payment(session, PURPOSE, order.id)


def current_payments(session: Session, orders: Sequence[Order]) -> dict[int, Payment]:
    return payments.latest_payments(session, PURPOSE, [o.id for o in orders])


# --- transitions -----------------------------------------------------------------------------------


def _transition(session: Session, clock: Clock, order: Order, old: str, new: str, kind: str,
                actor_id: int | None = None, detail: dict[str, Any] | None = None,
                also: dict[str, Any] | None = None) -> None:
    if not _try_transition(session, clock, order, old, new, kind, actor_id=actor_id, detail=detail, also=also):
        raise Conflict("The order is {status} and cannot become {new}", status=order.status, new=new)


def _try_transition(session: Session, clock: Clock, order: Order, old: str, new: str, kind: str,
                    actor_id: int | None = None, detail: dict[str, Any] | None = None,
                    also: dict[str, Any] | None = None) -> bool:
    """Move ``old -> new`` (and write ``also`` in the same UPDATE) only if the order is still ``old``."""
    assert new in TRANSITIONS[old], f"{old} -> {new} is not in the lifecycle"
    now: datetime = clock.now()
    values = {"status": new, "updated_at": now, **(also or {})}
    moved = affected(session.execute(update(Order).where(Order.id == order.id, Order.status == old)
                                     .values(**values)))
    if not moved:
        session.refresh(order, ["status", "updated_at"])
        return False
    set_loaded(order, **values)
    _event(session, clock, order, kind, actor_id=actor_id, detail=detail)
    return True


OrderListener = Callable[[Session, Clock, Order], None]
PointsRedeemer = Callable[[Session, Clock, Order, int], int]
_points_redeemer: PointsRedeemer | None = None


def register_points_redeemer(redeemer: PointsRedeemer) -> None:
    """Membership spends points on a new order (before it is paid): ``redeemer(session, clock, order, points)``
    answers the discount in fen, at most ``order.total_fen``, or raises to refuse the checkout."""
    global _points_redeemer
    _points_redeemer = redeemer


_LISTENERS: dict[str, list[OrderListener]] = {}


def on_event(kind: str, listener: OrderListener) -> None:
    """Let another domain act on an order's timeline event (``created``, ``paid``, ``completed``,
    ``refunded``, ``cancelled``, ``expired``...) in the same transaction, so that orders never imports it:
    membership credits points on ``completed``, referrals reverse a commission on ``refunded``. A listener
    that raises rolls the whole change back."""
    _LISTENERS.setdefault(kind, []).append(listener)


def _event(session: Session, clock: Clock, order: Order, kind: str, actor_id: int | None = None,
           detail: dict[str, Any] | None = None) -> None:
    event = OrderEvent(kind=kind, status=order.status, actor_id=actor_id, detail=detail or {}, at=clock.now())
    if "events" in order.__dict__:
        order.events.append(event)  # the loaded timeline stays current without reading it back
    else:
        event.order_id = order.id
        session.add(event)
    for listener in _LISTENERS.get(kind, ()):
        listener(session, clock, order)
