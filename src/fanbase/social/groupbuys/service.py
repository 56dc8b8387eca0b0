"""Group buys (拼团): an operator offers a SKU at a group price for groups of N; a fan starts a group by
ordering at that price, others join through the share link by ordering too; when the last place is paid the
group is complete and its orders go ahead (they ship only then); a group not complete by ``expires_at``
fails and every member's order is called off: refunded to where it was paid from, or cancelled if unpaid.

Rules chosen:
- A place is taken when the member's order is created (paid or waiting for payment), so a group never has
  more members than its size: ``seats_taken`` rises by a conditional UPDATE of the group's row (``WHERE
  status = 'forming' AND expires_at > now AND seats_taken < group_size``), which serialises joiners on that
  row; the CHECK constraint is the last defence. A member counts (``members``) once paid.
- One place per fan per group (partial unique index; 409 ``conflict``); a fan whose order closed unpaid, or
  who cancelled it, gives the place up and may join again while the group is forming.
- Joining a complete, failed, expired or full group: 409 ``conflict``.
- Member orders are ordinary orders (``source = "group_buy"``, stock allocated at creation as for checkout,
  no referral commission); their payment window ends at the group's expiry at the latest, and an order that
  closes unpaid frees its place (``expire_unpaid_orders``).
- The group completes in the order's "paid" event (in the payment's transaction). A complete group stays
  complete if a member later cancels or is refunded.
- ``fail_expired`` (a job): first marks overdue forming groups failed (their row only), then, in later rounds,
  calls off each remaining member's order (``orders.call_off``: the order row is locked before the member's
  and the group's, as the payment webhook takes them), each once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog.service import get_variant, sku_info
from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent
from fanbase.errors import Conflict, NotFound, ValidationFailed
from fanbase.inventory import service as inventory
from fanbase.orders import service as orders
from fanbase.orders.models import CANCELLED as ORDER_CANCELLED
from fanbase.orders.models import PAID as ORDER_PAID
from fanbase.orders.models import REFUNDED as ORDER_REFUNDED
from fanbase.orders.models import Order
from fanbase.payments.gateway import PaymentGateway
from fanbase.social.groupbuys.models import (
    CANCELLED,
    COMPLETE,
    FAILED,
    FORMING,
    HOLDING,
    LEFT,
    PAID,
    PENDING,
    REFUNDED,
    GroupBuy,
    GroupMember,
    GroupOffer,
)

SOURCE = "group_buy"
MIN_SIZE, MAX_SIZE = 2, 100
DEFAULT_TIME_LIMIT = 24 * 3600
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 60, 30 * 24 * 3600


# --- offers ------------------------------------------------------------------------------------------


def create_offer(session: Session, clock: Clock, *, sku: str, group_price_fen: int, group_size: int,
                 time_limit_seconds: int = DEFAULT_TIME_LIMIT, actor_id: int) -> GroupOffer:
    if not MIN_SIZE <= group_size <= MAX_SIZE:
        raise ValidationFailed("group_size must be from {low} to {high}", low=MIN_SIZE, high=MAX_SIZE)
    if not MIN_TIME_LIMIT <= time_limit_seconds <= MAX_TIME_LIMIT:
        raise ValidationFailed("time_limit_seconds must be from {low} to {high}", low=MIN_TIME_LIMIT,
                               high=MAX_TIME_LIMIT)
    variant = get_variant(session, sku)
    if not 0 < group_price_fen < variant.price_fen:
        raise ValidationFailed("The group price must be positive and below the price of {sku}", sku=sku)
    offer = GroupOffer(sku=sku, group_price_fen=group_price_fen, group_size=group_size,
                       time_limit_seconds=time_limit_seconds, created_by=actor_id, created_at=clock.now())
    session.add(offer)
    session.flush()
    record_audit(session, clock, actor_id=actor_id, action="group_offer.create", target=f"group_offer:{offer.id}",
                 detail={"sku": sku, "group_price_fen": group_price_fen, "group_size": group_size,
                         "time_limit_seconds": time_limit_seconds})
    return offer


def get_offer(session: Session, offer_id: int) -> GroupOffer:
    offer = session.get(GroupOffer, offer_id)
    if offer is None:
        raise NotFound("No such group offer")
    return offer


def offers_for(session: Session, skus: list[str]) -> list[GroupOffer]:
    """The offers of these SKUs (a product page), newest first."""
    if not skus:
        return []
    return list(session.scalars(select(GroupOffer).where(GroupOffer.sku.in_(skus)).order_by(GroupOffer.id.desc())))


def list_offers(session: Session, limit: int = 200) -> list[GroupOffer]:
    return list(session.scalars(select(GroupOffer).order_by(GroupOffer.id.desc()).limit(limit)))


# --- starting and joining --------------------------------------------------------------------------


class Joined(NamedTuple):
    group: GroupBuy
    order: Order


def start(session: Session, clock: Clock, gateway: PaymentGateway, policy: orders.OrderPolicy, *, offer_id: int,
          customer_id: int, payment_method: str, shipping_address: dict[str, str]) -> Joined:
    """A fan starts a group of ``offer_id`` with their own order at the group price."""
    offer = get_offer(session, offer_id)
    now = clock.now()
    group = GroupBuy(offer_id=offer.id, sku=offer.sku, price_fen=offer.group_price_fen, group_size=offer.group_size,
                     status=FORMING, starter_id=customer_id, seats_taken=0, paid_count=0,
                     expires_at=now + timedelta(seconds=offer.time_limit_seconds), created_at=now)
    session.add(group)
    session.flush()
    return _enter(session, clock, gateway, policy, group.id, customer_id, payment_method, shipping_address)


def join(session: Session, clock: Clock, gateway: PaymentGateway, policy: orders.OrderPolicy, *, group_id: int,
         customer_id: int, payment_method: str, shipping_address: dict[str, str]) -> Joined:
    return _enter(session, clock, gateway, policy, group_id, customer_id, payment_method, shipping_address)


def _enter(session: Session, clock: Clock, gateway: PaymentGateway, policy: orders.OrderPolicy, group_id: int,
           customer_id: int, payment_method: str, shipping_address: dict[str, str]) -> Joined:
    now = clock.now()
    taken = affected(session.execute(
        update(GroupBuy).where(GroupBuy.id == group_id, GroupBuy.status == FORMING, GroupBuy.expires_at > now,
                               GroupBuy.seats_taken < GroupBuy.group_size)
        .values(seats_taken=GroupBuy.seats_taken + 1)))
    if not taken:
        _refuse(session, group_id, customer_id, now)
    if not insert_if_absent(session, GroupMember, group_id=group_id, customer_id=customer_id, status=PENDING,
                            joined_at=now):
        raise Conflict("You are already in this group")
    member_id = session.scalars(select(GroupMember.id).where(
        GroupMember.group_id == group_id, GroupMember.customer_id == customer_id,
        GroupMember.status == PENDING, GroupMember.order_id.is_(None))).one()
    group = session.scalars(select(GroupBuy).where(GroupBuy.id == group_id)
                            .execution_options(populate_existing=True)).one()
    title = sku_info(session, [group.sku])[group.sku].title
    order = orders.create_order(
        session, clock, gateway, policy, customer_id=customer_id,
        lines=[orders.Line(sku=group.sku, quantity=1, unit_price_fen=group.price_fen, name=title)],
        payment_method=payment_method, shipping_address=shipping_address, source=SOURCE,
        payment_window=min(policy.payment_window, group.expires_at - now))
    session.execute(update(GroupMember).where(GroupMember.id == member_id).values(order_id=order.id))
    if order.status == ORDER_PAID:  # paid from a balance inside create_order, before the member knew its order
        _member_paid(session, clock, order)
        session.refresh(group)  # the member counted, perhaps completing the group
    return Joined(group, order)


def _refuse(session: Session, group_id: int, customer_id: int, now: datetime) -> None:
    """Why the seat was not taken (the UPDATE said no; this only picks the message)."""
    group = session.scalars(select(GroupBuy).where(GroupBuy.id == group_id)
                            .execution_options(populate_existing=True)).one_or_none()
    if group is None:
        raise NotFound("No such group buy")
    if group.status == COMPLETE:
        raise Conflict("This group is already complete")
    if group.status == FAILED or group.expires_at <= now:
        raise Conflict("This group buy has ended")
    if holds_place(session, group_id, customer_id):
        raise Conflict("You are already in this group")
    raise Conflict("This group is full: every place is paid for or waiting for payment")


# --- what orders tell us ---------------------------------------------------------------------------


def group_of_order(session: Session, order: Order) -> int | None:
    """The group a group-buy order belongs to (its order page links back to it)."""
    member = _member_of(session, order)
    return None if member is None else member.group_id


def _member_of(session: Session, order: Order) -> GroupMember | None:
    if order.source != SOURCE:
        return None
    return session.scalars(select(GroupMember).where(GroupMember.order_id == order.id)
                           .execution_options(populate_existing=True)).one_or_none()


def _member_paid(session: Session, clock: Clock, order: Order) -> None:
    """The member's order is paid: the member counts; the last one completes the group."""
    member = _member_of(session, order)
    if member is None:
        return
    now = clock.now()
    if not affected(session.execute(update(GroupMember).where(GroupMember.id == member.id,
                                                              GroupMember.status == PENDING)
                                    .values(status=PAID, paid_at=now))):
        return
    # a group that failed meanwhile calls this order off in the job's next round (its member is paid now)
    session.execute(update(GroupBuy).where(GroupBuy.id == member.group_id, GroupBuy.status == FORMING)
                    .values(paid_count=GroupBuy.paid_count + 1))
    session.execute(update(GroupBuy).where(GroupBuy.id == member.group_id, GroupBuy.status == FORMING,
                                           GroupBuy.paid_count >= GroupBuy.group_size)
                    .values(status=COMPLETE, completed_at=now))


def _member_gone(session: Session, clock: Clock, order: Order) -> None:
    """The member's order closed unpaid, or was cancelled or refunded: a forming group gets the place back."""
    member = _member_of(session, order)
    if member is None or member.status not in HOLDING:
        return
    was = member.status
    if not affected(session.execute(update(GroupMember).where(GroupMember.id == member.id,
                                                              GroupMember.status == was).values(status=LEFT))):
        return
    session.execute(update(GroupBuy).where(GroupBuy.id == member.group_id, GroupBuy.status == FORMING)
                    .values(seats_taken=GroupBuy.seats_taken - 1,
                            paid_count=GroupBuy.paid_count - (1 if was == PAID else 0)))


def _release(session: Session, clock: Clock, order: Order) -> None:
    inventory.release(session, orders.reference(order))


def _fulfil(session: Session, clock: Clock, order: Order) -> None:
    """A group-buy order ships only once its group is complete."""
    member = _member_of(session, order)
    group = None if member is None else session.get(GroupBuy, member.group_id)
    if group is None or group.status != COMPLETE:
        raise Conflict("This order's group buy is not complete; it ships once the group is")
    inventory.fulfil(session, orders.reference(order))


orders.on_event("paid", _member_paid)
for _kind in ("cancelled", "expired", "refunded"):
    orders.on_event(_kind, _member_gone)
orders.register_stock_hooks(SOURCE, orders.StockHooks(release=_release, fulfil=_fulfil))


# --- the job ---------------------------------------------------------------------------------------


def fail_expired(session: Session, clock: Clock, gateway: PaymentGateway, limit: int = 100) -> int:
    """Groups still forming at ``expires_at`` fail; then each member's order is called off (refunded when
    paid, cancelled when not), each once. Returns how much it did (0: nothing due)."""
    now = clock.now()
    due = session.scalars(select(GroupBuy.id).where(GroupBuy.status == FORMING, GroupBuy.expires_at <= now)
                          .order_by(GroupBuy.expires_at).limit(limit)).all()
    if due:
        # only the groups' rows in this round: the orders are locked (before their members and groups, as a
        # payment takes them) in the next rounds
        return affected(session.execute(update(GroupBuy).where(GroupBuy.id.in_(due), GroupBuy.status == FORMING,
                                                                GroupBuy.expires_at <= now)
                                        .values(status=FAILED, failed_at=now)))
    members = session.execute(
        select(GroupMember.id, GroupMember.order_id).join(GroupBuy, GroupBuy.id == GroupMember.group_id)
        .where(GroupBuy.status == FAILED, GroupMember.status.in_(HOLDING), GroupMember.order_id.is_not(None))
        .order_by(GroupMember.id).limit(limit)).all()
    for member_id, order_id in members:
        assert order_id is not None
        outcome = orders.call_off(session, clock, gateway, order_id=order_id)
        status = {ORDER_REFUNDED: REFUNDED, ORDER_CANCELLED: CANCELLED}.get(outcome or "", LEFT)
        session.execute(update(GroupMember).where(GroupMember.id == member_id).values(status=status))
    return len(members)


# --- reading ---------------------------------------------------------------------------------------


def get_group(session: Session, group_id: int) -> GroupBuy:
    group = session.get(GroupBuy, group_id)
    if group is None:
        raise NotFound("No such group buy")
    return group


def status_of(group: GroupBuy, now: datetime) -> str:
    """What the group is: a forming group past its time has failed, even before the job refunds it."""
    if group.status == FORMING and group.expires_at <= now:
        return FAILED
    return group.status


def member_order_id(session: Session, group_id: int, customer_id: int) -> int | None:
    """The order of the fan's place in the group (a place held, else their latest one), or None."""
    rows = session.execute(select(GroupMember.order_id, GroupMember.status).where(
        GroupMember.group_id == group_id, GroupMember.customer_id == customer_id).order_by(GroupMember.id.desc())
    ).all()
    holding = [order_id for order_id, status in rows if status in HOLDING]
    if holding:
        return holding[0]
    return rows[0][0] if rows else None


def holds_place(session: Session, group_id: int, customer_id: int) -> bool:
    return session.scalar(select(GroupMember.id).where(
        GroupMember.group_id == group_id, GroupMember.customer_id == customer_id,
        GroupMember.status.in_(HOLDING)).limit(1)) is not None
