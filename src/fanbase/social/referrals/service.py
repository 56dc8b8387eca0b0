"""Share links and commissions: every rule of issue 7's word of mouth.

- A fan's share link for a product has one code (``share``: asking again gives the same code).
- A click is recorded for a signed-in customer (``record_click``); a click on one's own link is ignored,
  so it can neither earn the clicker anything nor take the attribution from another sharer.
- When a normal cart order is created (timeline event ``created``, ``order.source == "cart"``), each of
  its lines is attributed to the sharer of the buyer's newest click on that line's product, if that click
  is at most ``ATTRIBUTION_WINDOW`` (7 days) old when the order is created: last click wins, and the buyer
  is never their own sharer. Flash-sale and group-buy orders (other sources) earn nothing.
- The commission of a line is its total (unit price x quantity) x the rate of the product's category at
  that moment, truncated to the fen (``line_commission``: rounding happens there and only there); the
  lines of one sharer in one order make one ``Commission``. No rate set (or a rate of 0), or an amount
  that truncates to 0: no commission. One level only: nothing for recruiting, nothing on a recruit's
  sales, no entry fee.
- Paid on ``completed`` (the order is past its return window): Dr ``system:commission_expense``,
  Cr ``wallet:<sharer>``, idempotency key ``commission:<id>:paid``.
- ``refunded`` / ``cancelled`` / ``expired`` before payment: the commission becomes ``reversed``, no money
  moves. After payment (the lifecycle has no refund of a completed order today; this is for when it has
  one): as much as the sharer's wallet still holds, up to the commission, goes back to the expense
  account (key ``commission:<id>:reversed``); what the sharer already spent is written off as expense,
  never taken below zero. ``clawed_back_fen`` says how much came back.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, cast, func, select, true, update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.catalog import service as catalog
from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent
from fanbase.errors import NotFound, ValidationFailed
from fanbase.i18n import N_
from fanbase.ledger import service as ledger
from fanbase.ledger.models import DEBIT
from fanbase.orders import service as orders
from fanbase.orders.models import Order
from fanbase.pagination import Page, PageRequest, make_page
from fanbase.social.referrals.models import (
    PAID,
    PENDING,
    RATE_SCALE,
    REVERSED,
    Commission,
    CommissionRate,
    ShareClick,
    ShareLink,
)

if TYPE_CHECKING:
    from fanbase.catalog.models import Category, Product

ATTRIBUTION_WINDOW = timedelta(days=7)
ATTRIBUTED_SOURCES = frozenset({"cart"})  # flash-sale and group-buy orders earn no commission
MAX_RATE = Decimal("0.5")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a poster
CODE_LENGTH = 10
COMMISSION_EXPENSE = ledger.SystemAccount("system:commission_expense", "Commission expense", "expense", DEBIT)


def valid_code(code: str) -> bool:
    """The shape of a code (what a ``?ref=`` or a cookie may carry), without a database read."""
    return 4 <= len(code) <= 16 and code.isascii() and code.isalnum()


# --- share links and clicks --------------------------------------------------------------------------


def share(session: Session, clock: Clock, *, sharer_id: int, product_slug: str) -> ShareLink:
    """The fan's link for this product (created on first ask, the same code afterwards). NotFound for an
    unknown product."""
    product = catalog.get_product(session, product_slug)
    for _attempt in range(5):
        found = session.scalar(select(ShareLink).where(ShareLink.sharer_id == sharer_id,
                                                       ShareLink.product_id == product.id))
        if found is not None:
            return found
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        # a twin request inserting the same (sharer, product), or (very rarely) a code already taken,
        # does nothing here: read again, with a fresh code if it was the code
        insert_if_absent(session, ShareLink, code=code, sharer_id=sharer_id, product_id=product.id,
                         product_slug=product.slug, created_at=clock.now())
    raise RuntimeError("could not draw a free share code")  # pragma: no cover  (32^10 codes)


def link_by_code(session: Session, code: str) -> ShareLink:
    link = session.scalar(select(ShareLink).where(ShareLink.code == code)) if valid_code(code) else None
    if link is None:
        raise NotFound(N_("No such share link"))
    return link


def record_click(session: Session, clock: Clock, *, code: str, customer_id: int) -> bool:
    """The customer opened the link ``code``: True if the click was recorded, False for the sharer's own
    link (ignored). NotFound for an unknown code."""
    link = link_by_code(session, code)
    if link.sharer_id == customer_id:
        return False
    session.add(ShareClick(link_id=link.id, customer_id=customer_id, product_id=link.product_id,
                           sharer_id=link.sharer_id, clicked_at=clock.now()))
    session.flush()
    return True


def record_clicks(session: Session, clock: Clock, *, codes: list[str], customer_id: int) -> int:
    """Clicks an anonymous visitor made, recorded when they sign in (oldest first, so the newest wins);
    unknown codes are skipped. How many were recorded."""
    recorded = 0
    for code in codes:
        try:
            recorded += record_click(session, clock, code=code, customer_id=customer_id)
        except NotFound:
            continue
    return recorded


def my_links(session: Session, sharer_id: int, limit: int = 100) -> list[tuple[ShareLink, Product]]:
    """The fan's links, newest first, with their products."""
    links = session.scalars(select(ShareLink).where(ShareLink.sharer_id == sharer_id)
                            .order_by(ShareLink.id.desc()).limit(limit)).all()
    return [(link, catalog.get_product(session, link.product_slug)) for link in links]


# --- rates -------------------------------------------------------------------------------------------


def parse_rate(raw: str) -> int:
    """A decimal string ("0.05") as ten-thousandths; 0 <= rate <= 0.5, at most 4 decimals."""
    try:
        rate = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("The rate must be a decimal such as 0.05")) from None
    if not rate.is_finite() or len(raw) > 12:
        raise ValidationFailed(N_("The rate must be a decimal such as 0.05"))
    if not Decimal(0) <= rate <= MAX_RATE:
        raise ValidationFailed(N_("The rate must be between 0 and {max}"), max=str(MAX_RATE))
    scaled = rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(N_("The rate may have at most 4 decimals"))
    return int(scaled)


def rate_text(rate_e4: int) -> str:
    """Ten-thousandths as the API's decimal string: 500 -> "0.05", 0 -> "0"."""
    return str((Decimal(rate_e4) / RATE_SCALE).normalize()) if rate_e4 else "0"


def set_rate(session: Session, clock: Clock, *, category: str, rate: str, actor_id: int) -> tuple[str, str]:
    """The operators' rate for a category (audited): (category slug, rate). NotFound for an unknown one.
    Orders already created keep the commission they were given."""
    rate_e4 = parse_rate(rate)
    found = catalog.get_category(session, category)
    now = clock.now()
    if not insert_if_absent(session, CommissionRate, category_id=found.id, rate_e4=rate_e4, updated_at=now,
                            updated_by=actor_id):
        session.execute(update(CommissionRate).where(CommissionRate.category_id == found.id)
                        .values(rate_e4=rate_e4, updated_at=now, updated_by=actor_id))
    record_audit(session, clock, actor_id=actor_id, action="commission.rate", target=f"category:{found.slug}",
                 detail={"rate": rate_text(rate_e4)})
    return found.slug, rate_text(rate_e4)


def rates(session: Session) -> list[tuple[Category, str]]:
    """Every category with its rate ("0" where none is set)."""
    set_ = dict(session.execute(select(CommissionRate.category_id, CommissionRate.rate_e4)).tuples().all())
    return [(c, rate_text(set_.get(c.id, 0))) for c in catalog.list_categories(session)]


def line_commission(line_total_fen: int, rate_e4: int) -> int:
    """Line total x rate, truncated to the fen (the only rounding of a commission)."""
    return line_total_fen * rate_e4 // RATE_SCALE


# --- the order's timeline ----------------------------------------------------------------------------


def attribute(session: Session, clock: Clock, order: Order) -> list[Commission]:
    """On ``created``: the commissions this order will earn, pending until it completes."""
    if order.source not in ATTRIBUTED_SOURCES:
        return []
    since = order.created_at - ATTRIBUTION_WINDOW
    # most checkouts follow no click at all: one indexed query and done
    clicks = session.execute(select(ShareClick.product_id, ShareClick.sharer_id)
                             .where(ShareClick.customer_id == order.customer_id, ShareClick.clicked_at >= since,
                                    ShareClick.clicked_at <= order.created_at)
                             .order_by(ShareClick.clicked_at, ShareClick.id)).tuples().all()
    if not clicks:
        return []
    last_click = dict(clicks)  # product -> sharer of the newest click (later rows overwrite earlier ones)
    rate_of = dict(session.execute(select(CommissionRate.category_id, CommissionRate.rate_e4)).tuples().all())
    info = catalog.sku_info(session, [line.sku for line in order.lines])  # one query for every line
    earned: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in order.lines:
        sku = info[line.sku]
        sharer = last_click.get(sku.product_id)
        rate_e4 = rate_of.get(sku.category_id, 0)
        if sharer is None or sharer == order.customer_id or rate_e4 <= 0:
            continue
        total = line.unit_price_fen * line.quantity
        earned[sharer].append({"sku": line.sku, "line_total_fen": total, "rate": rate_text(rate_e4),
                               "amount_fen": line_commission(total, rate_e4)})
    made = []
    for sharer, lines in sorted(earned.items()):
        amount = sum(x["amount_fen"] for x in lines)
        if amount > 0:
            commission = Commission(order_id=order.id, sharer_id=sharer, buyer_id=order.customer_id,
                                    amount_fen=amount, status=PENDING, lines=lines, created_at=clock.now())
            session.add(commission)
            made.append(commission)
    if made:
        session.flush()
    return made


def pay(session: Session, clock: Clock, order: Order) -> int:
    """On ``completed``: every pending commission of the order goes to its sharer's wallet. Fen paid."""
    if order.source not in ATTRIBUTED_SOURCES:
        return 0  # no commission was ever written: no query (this runs for every completed order)
    paid = 0
    for commission in _of_order(session, order.id, PENDING):
        moved = affected(session.execute(update(Commission).where(Commission.id == commission.id,
                                                                  Commission.status == PENDING)
                                         .values(status=PAID, paid_at=clock.now())))
        if not moved:
            continue
        wallet = ledger.customer_wallet(commission.sharer_id)
        ledger.post(session, clock, key=_key(commission, PAID), kind="commission",
                    memo=f"commission on order {order.number}", reference=f"commission:{commission.id}",
                    postings=[(COMMISSION_EXPENSE, commission.amount_fen), (wallet, -commission.amount_fen)],
                    owners={wallet.code: commission.sharer_id})
        paid += commission.amount_fen
    return paid


def reverse(session: Session, clock: Clock, order: Order) -> int:
    """On ``refunded`` / ``cancelled`` / ``expired``: the order's commissions become ``reversed``. A paid
    one takes back what the sharer's wallet holds, up to the commission (see the module's rules). Returns
    how many commissions were reversed."""
    if order.source not in ATTRIBUTED_SOURCES:
        return 0  # no commission was ever written: no query (the expiry job closes thousands of flash-sale orders)
    count = 0
    now = clock.now()
    for commission in _of_order(session, order.id, PENDING, PAID):
        if commission.status == PENDING:
            count += affected(session.execute(update(Commission).where(Commission.id == commission.id,
                                                                       Commission.status == PENDING)
                                              .values(status=REVERSED, reversed_at=now)))
            continue
        wallet = ledger.customer_wallet(commission.sharer_id)
        back = min(commission.amount_fen, max(0, ledger.balance_of(session, wallet)))
        moved = affected(session.execute(update(Commission).where(Commission.id == commission.id,
                                                                  Commission.status == PAID)
                                         .values(status=REVERSED, reversed_at=now, clawed_back_fen=back)))
        if not moved:
            continue
        if back:
            # the wallet may not go negative: a payment committed since the read above makes this refuse
            # (insufficient_funds) and the whole refund rolls back, to be tried again
            ledger.post(session, clock, key=_key(commission, REVERSED), kind="commission_reversal",
                        memo=f"commission on order {order.number} reversed", reference=f"commission:{commission.id}",
                        postings=[(wallet, back), (COMMISSION_EXPENSE, -back)],
                        owners={wallet.code: commission.sharer_id})
        count += 1
    return count


def _of_order(session: Session, order_id: int, *statuses: str) -> list[Commission]:
    return list(session.scalars(select(Commission).where(Commission.order_id == order_id,
                                                         Commission.status.in_(statuses))
                                .order_by(Commission.id)))


def _key(commission: Commission, what: str) -> str:
    return f"commission:{commission.id}:{what}"


def _on_created(session: Session, clock: Clock, order: Order) -> None:
    attribute(session, clock, order)


def _on_completed(session: Session, clock: Clock, order: Order) -> None:
    pay(session, clock, order)


def _on_closed(session: Session, clock: Clock, order: Order) -> None:
    reverse(session, clock, order)


orders.on_event("created", _on_created)
orders.on_event("completed", _on_completed)
for _kind in ("refunded", "cancelled", "expired"):
    orders.on_event(_kind, _on_closed)


# --- reading -----------------------------------------------------------------------------------------


def commissions(session: Session, sharer_id: int, page: PageRequest) -> Page[Commission]:
    """The sharer's commissions, oldest first (ids ascend, as every list's cursor)."""
    query = select(Commission).where(Commission.sharer_id == sharer_id).order_by(Commission.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(Commission.id > page.after_id)
    return make_page(session.scalars(query).all(), page)


@dataclass(frozen=True)
class Totals:
    pending_fen: int
    paid_fen: int
    reversed_fen: int


def totals(session: Session, sharer_id: int) -> Totals:
    sums = {status: int(amount) for status, amount in session.execute(
        select(Commission.status, func.sum(Commission.amount_fen)).where(Commission.sharer_id == sharer_id)
        .group_by(Commission.status)).tuples()}
    return Totals(pending_fen=sums.get(PENDING, 0), paid_fen=sums.get(PAID, 0),
                  reversed_fen=sums.get(REVERSED, 0))


@dataclass(frozen=True)
class SharerSales:
    sharer_id: int
    attributed_sales_fen: int  # the line totals attributed to the sharer
    orders: int
    commission_fen: int


def top_sharers(session: Session, start: datetime, end: datetime, limit: int) -> list[SharerSales]:
    """Sharers by the line totals attributed to them in orders placed in ``[start, end)`` (a commission is
    written when its order is created), reversed commissions left out. One GROUP BY over the commissions'
    lines, expanded from their JSON by the database (``json_each`` on SQLite, ``json_array_elements`` on
    PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        each = func.json_array_elements(Commission.lines).table_valued("value").lateral("line")
        line_total = cast(each.c.value.op("->>")("line_total_fen"), BigInteger)
        line_amount = cast(each.c.value.op("->>")("amount_fen"), BigInteger)
    else:
        each = func.json_each(Commission.lines).table_valued("value").alias("line")
        line_total = cast(func.json_extract(each.c.value, "$.line_total_fen"), BigInteger)
        line_amount = cast(func.json_extract(each.c.value, "$.amount_fen"), BigInteger)
    sales = func.sum(line_total)
    rows = session.execute(select(Commission.sharer_id, sales, func.count(func.distinct(Commission.id)),
                                  func.sum(line_amount))
                           .select_from(Commission).join(each, true())
                           .where(Commission.created_at >= start, Commission.created_at < end,
                                  Commission.status != REVERSED)
                           .group_by(Commission.sharer_id).order_by(sales.desc(), Commission.sharer_id)
                           .limit(limit)).tuples().all()
    return [SharerSales(sharer_id=sharer, attributed_sales_fen=int(total), orders=int(count),
                        commission_fen=int(amount)) for sharer, total, count, amount in rows]


def expected_ledger_keys(session: Session) -> list[str]:
    """Every paid commission has its payment, every clawback its transaction (``fanbase ledger check``)."""
    keys = [f"commission:{commission_id}:paid" for commission_id in session.scalars(
        select(Commission.id).where(Commission.paid_at.is_not(None)).order_by(Commission.id))]
    keys += [f"commission:{commission_id}:reversed" for commission_id in session.scalars(
        select(Commission.id).where(Commission.clawed_back_fen > 0).order_by(Commission.id))]
    return keys
