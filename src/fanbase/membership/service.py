"""Membership: growth and levels, points earned, redeemed at checkout and expired, badges.

Rules (the store's calendar, ``zone``, decides every date):
- Growth: 1 per yuan paid for a completed order of at least 10 CNY (paid = the order's total after points),
  ``REVIEW_GROWTH`` for a review, ``IDEA_GROWTH`` for an accepted idea (moved to ``planned``, heard through
  ``ideas.on_status``). Each grant has a key and counts once; growth counts for the calendar year it is
  earned in.
- Levels: bronze, silver (2,000), gold (10,000), diamond (30,000). A member's level for a year is the
  higher of the level the previous year's growth reached (set by the yearly review, ``review_levels``, on
  1 January) and the level this year's growth has reached so far (raised at once).
- Points: 1 point per yuan paid, earned when the order completes; 100 points = 1 CNY (1 point = 1 fen).
  Points earned in a year form one lot that expires at the end of the next calendar year
  (``expire_points``). Checkout spends the lots that expire first (FIFO), at most the order's total; an
  order closed unpaid, cancelled or refunded gives its points back to the lots they came from; a completed
  order refunded later takes back the points it earned (those still held) and its growth.
- Ledger: earned Dr ``POINTS_EXPENSE`` / Cr ``POINTS_LIABILITY``; redeemed Dr liability / Cr sales revenue;
  given back Dr sales revenue (unpaid order) or refunds (paid order) / Cr liability; reversed Dr liability /
  Cr expense; expired Dr liability / Cr ``POINTS_BREAKAGE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fanbase.clock import Clock
from fanbase.community.ideas import service as ideas
from fanbase.community.ideas.models import PLANNED, Idea
from fanbase.db import affected, insert_if_absent
from fanbase.errors import InsufficientFunds, ValidationFailed
from fanbase.flashsale import service as flashsale
from fanbase.fund.calendar import local_date
from fanbase.i18n import N_
from fanbase.ledger import service as ledger
from fanbase.ledger.models import CREDIT, DEBIT
from fanbase.membership.models import BRONZE, LEVELS, GrowthEntry, Member, PointsLot, PointsMove
from fanbase.orders import service as orders
from fanbase.orders.models import Order

POINT_FEN = 1  # 100 points = 1 CNY
POINTS_PER_YUAN = 1  # earned per yuan paid for a completed order
GROWTH_PER_YUAN = 1
MIN_GROWTH_ORDER_FEN = 1000  # no growth for orders under 10 CNY
REVIEW_GROWTH = 10
IDEA_GROWTH = 100  # an accepted idea (``on_idea_status``)

POINTS_EXPENSE = ledger.SystemAccount("system:points_expense", "Points granted (marketing expense)", "expense",
                                      DEBIT)
POINTS_BREAKAGE = ledger.SystemAccount("system:points_breakage", "Expired points (breakage revenue)", "revenue",
                                       CREDIT)
RANK = {name: rank for rank, (name, _needed) in enumerate(reversed(LEVELS))}

# The store's zone for order listeners, which hear (session, clock, order) only; the context sets it.
_store_zone: tzinfo = ZoneInfo("Asia/Shanghai")


def configure(zone: tzinfo) -> None:
    global _store_zone
    _store_zone = zone


def expiry_of(earned_year: int) -> date:
    """Points earned in a year expire at the end of the next calendar year."""
    return date(earned_year + 1, 12, 31)


def level_for(growth: int) -> str:
    return next(name for name, needed in LEVELS if growth >= needed)


def _higher(a: str, b: str) -> str:
    return a if RANK[a] >= RANK[b] else b


# --- growth and levels ------------------------------------------------------------------------------


def growth_of(session: Session, customer_id: int, year: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(GrowthEntry.amount), 0))
                              .where(GrowthEntry.customer_id == customer_id, GrowthEntry.year == year)) or 0)


def _ensure_member(session: Session, clock: Clock, customer_id: int, year: int) -> Member:
    now = clock.now()
    insert_if_absent(session, Member, customer_id=customer_id, level=BRONZE, level_year=year, created_at=now,
                     updated_at=now)
    member = session.get(Member, customer_id, with_for_update=True, populate_existing=True)
    assert member is not None
    return member


def _level_in(session: Session, member: Member, year: int, growth: int) -> str:
    """The member's level in ``year``: the yearly review's (previous year's growth) if it has not run yet,
    raised by ``growth`` (this year's)."""
    kept = member.level if member.level_year >= year else level_for(growth_of(session, member.customer_id, year - 1))
    return _higher(kept, level_for(growth))


def add_growth(session: Session, clock: Clock, customer_id: int, amount: int, reason: str, key: str,
               zone: tzinfo | None = None) -> bool:
    """Grant (or with a negative amount take back) growth once per ``key``; raises the level at once when
    this year's growth reaches a higher one. False if ``key`` was used before."""
    if not isinstance(amount, int) or len(key) > 120 or len(reason) > 32:
        raise ValidationFailed("Growth is a whole number with a short key")
    year = local_date(clock.now(), zone or _store_zone).year
    if not insert_if_absent(session, GrowthEntry, customer_id=customer_id, year=year, amount=amount, reason=reason,
                            key=key, created_at=clock.now()):
        return False
    member = _ensure_member(session, clock, customer_id, year)
    # never lower: a level reached this year is kept for the year
    level = _level_in(session, member, year, growth_of(session, customer_id, year))
    member.level, member.level_year, member.updated_at = level, year, clock.now()
    session.flush()
    return True


def review_levels(session: Session, clock: Clock, zone: tzinfo, limit: int = 500) -> int:
    """The yearly review (a job; due from 1 January in the store's zone): each member's level for the new
    year is what the previous year's growth reached (or more, if this year's already reached more).
    Idempotent: a member is reviewed once a year (conditional UPDATE on ``level_year``)."""
    year = local_date(clock.now(), zone).year
    due = session.scalars(select(Member).where(Member.level_year < year).order_by(Member.customer_id)
                          .limit(limit)).all()
    growth: dict[tuple[int, int], int] = {}  # (customer, year) -> growth, one query for the whole round
    if due:
        growth = {(customer_id, grown_in): int(amount) for customer_id, grown_in, amount in session.execute(
            select(GrowthEntry.customer_id, GrowthEntry.year, func.sum(GrowthEntry.amount))
            .where(GrowthEntry.customer_id.in_([m.customer_id for m in due]), GrowthEntry.year.in_([year - 1, year]))
            .group_by(GrowthEntry.customer_id, GrowthEntry.year)).tuples()}
    done = 0
    for member in due:
        level = _higher(level_for(growth.get((member.customer_id, year - 1), 0)),
                        level_for(growth.get((member.customer_id, year), 0)))
        done += affected(session.execute(
            update(Member).where(Member.customer_id == member.customer_id, Member.level_year == member.level_year)
            .values(level=level, level_year=year, updated_at=clock.now())
            .execution_options(synchronize_session=False)))
    return done


# --- points ------------------------------------------------------------------------------------------


def _lot(session: Session, customer_id: int, year: int) -> PointsLot:
    insert_if_absent(session, PointsLot, customer_id=customer_id, earned_year=year, expires_on=expiry_of(year),
                     remaining=0)
    lot = session.scalar(select(PointsLot).where(PointsLot.customer_id == customer_id, PointsLot.earned_year == year)
                         .with_for_update().execution_options(populate_existing=True))
    assert lot is not None
    return lot


def _move(session: Session, clock: Clock, lot: PointsLot, kind: str, delta: int, order_id: int | None,
          key: str | None) -> bool:
    """Change a lot by ``delta`` and record the move; once per ``key``. The lot never goes below zero."""
    if key is not None:
        if not insert_if_absent(session, PointsMove, customer_id=lot.customer_id, lot_id=lot.id, kind=kind,
                                delta=delta, order_id=order_id, key=key, created_at=clock.now()):
            return False
    else:
        session.add(PointsMove(customer_id=lot.customer_id, lot_id=lot.id, kind=kind, delta=delta,
                               order_id=order_id, created_at=clock.now()))
    moved = affected(session.execute(
        update(PointsLot).where(PointsLot.id == lot.id, PointsLot.remaining + delta >= 0)
        .values(remaining=PointsLot.remaining + delta).execution_options(synchronize_session=False)))
    if not moved:
        raise InsufficientFunds("Not enough points")
    session.refresh(lot, ["remaining"])
    return True


def points_of(session: Session, clock: Clock, zone: tzinfo, customer_id: int) -> int:
    """Points the customer can spend today (lots past their expiry are not counted, swept or not)."""
    today = local_date(clock.now(), zone)
    return int(session.scalar(select(func.coalesce(func.sum(PointsLot.remaining), 0))
                              .where(PointsLot.customer_id == customer_id, PointsLot.expires_on >= today)) or 0)


def _reference(order: Order) -> str:
    return f"order:{order.id}"


def on_completed(session: Session, clock: Clock, order: Order) -> None:
    """Points and growth for a completed order, once."""
    paid = order.total_fen
    year = local_date(clock.now(), _store_zone).year
    points = paid // 100 * POINTS_PER_YUAN
    if points > 0:
        lot = _lot(session, order.customer_id, year)
        if _move(session, clock, lot, "earn", points, order.id, f"order:{order.id}:earn"):
            ledger.post(session, clock, key=f"points:order:{order.id}:earn", kind="points_earned",
                        memo=f"points for order {order.number}", reference=_reference(order),
                        postings=[(POINTS_EXPENSE, points * POINT_FEN), (ledger.POINTS_LIABILITY, -points * POINT_FEN)])
    if paid >= MIN_GROWTH_ORDER_FEN:
        add_growth(session, clock, order.customer_id, paid // 100 * GROWTH_PER_YUAN, "order", f"order:{order.id}")


def redeem_at_checkout(session: Session, clock: Clock, order: Order, points: int) -> int:
    """Spend up to ``points`` (at most the order's total) on a new order, the lots that expire first first;
    returns the discount in fen. InsufficientFunds when the customer holds fewer than would be used."""
    used = min(points, order.total_fen // POINT_FEN)
    if used <= 0:
        return 0
    today = local_date(clock.now(), _store_zone)
    lots = session.scalars(select(PointsLot).where(PointsLot.customer_id == order.customer_id,
                                                   PointsLot.remaining > 0, PointsLot.expires_on >= today)
                           .order_by(PointsLot.expires_on, PointsLot.id).with_for_update()
                           .execution_options(populate_existing=True)).all()
    held = sum(lot.remaining for lot in lots)
    if held < used:
        raise InsufficientFunds("You have {held} points; this order would use {used}", held=held, used=used)
    left = used
    for lot in lots:
        take = min(left, lot.remaining)
        if take:
            _move(session, clock, lot, "redeem", -take, order.id, f"order:{order.id}:redeem:{lot.id}")
            left -= take
    ledger.post(session, clock, key=f"points:order:{order.id}:redeem", kind="points_redeemed",
                memo=f"points on order {order.number}", reference=_reference(order),
                postings=[(ledger.POINTS_LIABILITY, used * POINT_FEN), (ledger.SALES_REVENUE, -used * POINT_FEN)])
    return used * POINT_FEN


def on_closed(session: Session, clock: Clock, order: Order) -> None:
    """An order closed unpaid, cancelled or refunded: the points spent on it go back to their lots (once)."""
    if not order.points_discount_fen:
        return  # most orders: no query at all (the expiry job closes thousands of flash-sale orders)
    spent = session.scalars(select(PointsMove).where(PointsMove.order_id == order.id, PointsMove.kind == "redeem")
                            .order_by(PointsMove.id)).all()
    returned = 0
    for move in spent:
        lot = session.get(PointsLot, move.lot_id, with_for_update=True, populate_existing=True)
        assert lot is not None
        if _move(session, clock, lot, "return", -move.delta, order.id, f"order:{order.id}:return:{lot.id}"):
            returned -= move.delta
    if returned:
        # revenue recognised at checkout: undone, or counted as refunded if the order had been paid
        counter = ledger.REFUNDS if order.paid_at is not None else ledger.SALES_REVENUE
        ledger.post(session, clock, key=f"points:order:{order.id}:return", kind="points_returned",
                    memo=f"points back from order {order.number}", reference=_reference(order),
                    postings=[(counter, returned * POINT_FEN), (ledger.POINTS_LIABILITY, -returned * POINT_FEN)])


def on_refunded(session: Session, clock: Clock, order: Order) -> None:
    """A refund: the points spent come back, and points and growth the order earned (if it had completed)
    are taken back."""
    on_closed(session, clock, order)
    _reverse_earned(session, clock, order)


def _reverse_earned(session: Session, clock: Clock, order: Order) -> None:
    earned = session.scalar(select(PointsMove).where(PointsMove.key == f"order:{order.id}:earn"))
    if earned is not None:
        lot = session.get(PointsLot, earned.lot_id, with_for_update=True, populate_existing=True)
        assert lot is not None
        take = min(earned.delta, lot.remaining)  # points already spent or expired are not taken back
        if take > 0 and _move(session, clock, lot, "reverse", -take, order.id, f"order:{order.id}:reverse"):
            ledger.post(session, clock, key=f"points:order:{order.id}:reverse", kind="points_reversed",
                        memo=f"points of refunded order {order.number}", reference=_reference(order),
                        postings=[(ledger.POINTS_LIABILITY, take * POINT_FEN), (POINTS_EXPENSE, -take * POINT_FEN)])
    granted = session.scalar(select(GrowthEntry.amount).where(GrowthEntry.key == f"order:{order.id}"))
    if granted:
        add_growth(session, clock, order.customer_id, -int(granted), "order_refunded", f"order:{order.id}:reverse")


def expire_points(session: Session, clock: Clock, zone: tzinfo, limit: int = 500) -> int:
    """A job: lots past the end of their expiry day (store's zone) lose what is left; idempotent (the lot's
    conditional UPDATE decides). Returns how many lots expired."""
    today = local_date(clock.now(), zone)
    due = session.execute(select(PointsLot.id, PointsLot.customer_id, PointsLot.remaining)
                          .where(PointsLot.expires_on < today, PointsLot.remaining > 0)
                          .order_by(PointsLot.id).limit(limit)).all()
    done = 0
    for lot_id, customer_id, remaining in due:
        if not affected(session.execute(update(PointsLot).where(PointsLot.id == lot_id,
                                                                PointsLot.remaining == remaining)
                                        .values(remaining=0).execution_options(synchronize_session=False))):
            continue
        move = PointsMove(customer_id=customer_id, lot_id=lot_id, kind="expire", delta=-remaining,
                          created_at=clock.now())
        session.add(move)
        session.flush()
        ledger.post(session, clock, key=f"points:expire:{move.id}", kind="points_expired",
                    memo=f"points of customer {customer_id} expired", reference=f"points_lot:{lot_id}",
                    postings=[(ledger.POINTS_LIABILITY, remaining * POINT_FEN),
                              (POINTS_BREAKAGE, -remaining * POINT_FEN)])
        done += 1
    return done


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_on: date


@dataclass(frozen=True)
class Membership:
    level: str
    growth: int  # this calendar year's
    points: int
    points_expiring: list[Expiring]
    next_level: str | None
    growth_to_next: int  # growth still needed this year for ``next_level``


def membership(session: Session, clock: Clock, zone: tzinfo, customer_id: int) -> Membership:
    today = local_date(clock.now(), zone)
    member = session.get(Member, customer_id)
    growth = growth_of(session, customer_id, today.year)
    level = BRONZE if member is None else _level_in(session, member, today.year, growth)
    lots = session.scalars(select(PointsLot).where(PointsLot.customer_id == customer_id, PointsLot.remaining > 0,
                                                   PointsLot.expires_on >= today)
                           .order_by(PointsLot.expires_on)).all()
    higher = [(name, needed) for name, needed in LEVELS if RANK[name] > RANK[level]]
    next_level, needed = higher[-1] if higher else (None, 0)
    return Membership(level=level, growth=growth, points=sum(lot.remaining for lot in lots),
                      points_expiring=[Expiring(lot.remaining, lot.expires_on) for lot in lots],
                      next_level=next_level, growth_to_next=max(0, needed - growth) if next_level else 0)


@dataclass(frozen=True)
class Badge:
    code: str
    label: str  # a message id (N_), translated where shown
    earned: Callable[[Session, int], bool]


BADGES: list[Badge] = [
    Badge("early_reserver", N_("Early reserver"), flashsale.has_reserved),
    Badge("idea_shipped", N_("Idea shipped"), ideas.has_shipped_idea),
]


def badges_of(session: Session, customer_id: int) -> list[Badge]:
    return [badge for badge in BADGES if badge.earned(session, customer_id)]


def on_idea_status(session: Session, clock: Clock, idea: Idea, old_status: str) -> None:
    """An idea accepted (planned) earns its author growth, once per idea."""
    if idea.status == PLANNED:
        add_growth(session, clock, idea.author_id, IDEA_GROWTH, "idea", f"idea:{idea.id}:planned")


ideas.on_status(on_idea_status)

# the orders domain tells us about its orders (in their own transaction) and asks us about points
orders.on_event("completed", on_completed)
orders.on_event("cancelled", on_closed)  # closed unpaid by the customer (a paid order cancelled is "refunded")
orders.on_event("expired", on_closed)
orders.on_event("refunded", on_refunded)
orders.register_points_redeemer(redeem_at_checkout)
