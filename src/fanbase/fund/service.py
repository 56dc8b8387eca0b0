"""The money-market balance (like Yu'e Bao): units at a fixed NAV of 1.00 CNY, counted in fen.

- Subscribe from the wallet (tier 3 only): the money leaves the wallet at once and waits in
  ``fund_pending:<c>``; units are confirmed, and earn, from the next trading day after the trade date
  (``calendar.confirmation_day``: 15:00 cut-off, weekends and holidays skipped).
- Redeem ``instant`` (to the wallet now; with fund payments at checkout at most 10,000 CNY a customer a
  day) or ``standard`` (credited to the wallet on the confirmation day, no cap). Redeemed units stop
  earning the day they are redeemed.
- Daily income (``income.distribute``), reinvested as units that earn from the next day.

The platform's side of every movement: the fund pool (an asset: the money invested for the holders)
grows with subscriptions and income and shrinks with redemptions, against the gateway clearing account
that backs wallets and revenue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TypeVar

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from fanbase.clock import Clock
from fanbase.db import affected, insert_if_absent
from fanbase.errors import Conflict, Forbidden, ValidationFailed
from fanbase.fund import calendar
from fanbase.fund.models import (
    INSTANT,
    STANDARD,
    DailyIncome,
    IncomeLine,
    InstantUsage,
    Redemption,
    Subscription,
    UnitMove,
)
from fanbase.ledger import service as ledger
from fanbase.ledger.models import LedgerAccount
from fanbase.wallet import service as wallet

INSTANT_DAILY_CAP_FEN = 1_000_000  # 10,000 CNY a customer a day, fund payments at checkout included
MAX_ORDER_FEN = 10_000_000_000  # a sanity bound on one subscription or redemption: 100 million CNY
YIELD_DAYS = 7
_Due = TypeVar("_Due", Subscription, Redemption)
# the holders' ledger accounts: confirmed, pending subscription, standard redemption on its way
KINDS = (ledger.customer_fund(0).kind, ledger.customer_fund_pending(0).kind, ledger.customer_fund_redeeming(0).kind)


def _amount(amount_fen: int) -> None:
    if not 0 < amount_fen <= MAX_ORDER_FEN:
        raise ValidationFailed("The amount must be more than zero")


def _today(clock: Clock, zone: tzinfo) -> date:
    return calendar.local_date(clock.now(), zone)


def confirmation_day(session: Session, clock: Clock, zone: tzinfo) -> date:
    """When something placed now is confirmed (subscriptions) or credited (standard redemptions)."""
    now = clock.now()
    return calendar.confirmation_day(now, zone, calendar.exceptions(session, calendar.local_date(now, zone)))


def subscribe(session: Session, clock: Clock, zone: tzinfo, *, customer_id: int, amount_fen: int) -> Subscription:
    """Move money from the wallet into the fund; InsufficientFunds if the wallet is short, Forbidden below
    tier 3."""
    _amount(amount_fen)
    if wallet.tier_of(session, customer_id) < wallet.FUND_TIER:
        raise Forbidden("Only tier III wallets may subscribe to the money-market fund")
    subscription = Subscription(customer_id=customer_id, amount_fen=amount_fen, placed_at=clock.now(),
                                confirms_on=confirmation_day(session, clock, zone))
    session.add(subscription)
    session.flush()
    wallet_account = ledger.customer_wallet(customer_id)
    pending = ledger.customer_fund_pending(customer_id)
    ledger.post(session, clock, key=f"fund:subscription:{subscription.id}", kind="fund_subscription",
                memo="money-market fund subscription", reference=f"fund_subscription:{subscription.id}",
                postings=[(ledger.FUND_POOL, amount_fen), (ledger.GATEWAY_CLEARING, -amount_fen),
                          (wallet_account, amount_fen), (pending, -amount_fen)],
                owners={wallet_account.code: customer_id, pending.code: customer_id})
    # the holder's fund account exists from now on: the day's income is posted to it in bulk
    ledger.ensure_accounts(session, [ledger.customer_fund(customer_id)], owner_id=customer_id)
    session.add(UnitMove(customer_id=customer_id, effective_on=subscription.confirms_on, units_fen=amount_fen,
                         source=f"subscription:{subscription.id}"))
    return subscription


def redeem(session: Session, clock: Clock, zone: tzinfo, *, customer_id: int, amount_fen: int,
           mode: str) -> Redemption:
    """Take units out of the fund: ``instant`` to the wallet now (capped per day), ``standard`` on the next
    trading day. InsufficientFunds when the confirmed units are fewer."""
    _amount(amount_fen)
    if mode not in (INSTANT, STANDARD):
        raise ValidationFailed("The mode must be instant or standard")
    today = _today(clock, zone)
    credits_on = today if mode == INSTANT else confirmation_day(session, clock, zone)
    redemption = Redemption(customer_id=customer_id, amount_fen=amount_fen, mode=mode, placed_at=clock.now(),
                            credits_on=credits_on, credited_at=clock.now() if mode == INSTANT else None)
    session.add(redemption)
    session.flush()
    fund = ledger.customer_fund(customer_id)
    if mode == INSTANT:
        wallet_account = ledger.customer_wallet(customer_id)
        postings = [(ledger.GATEWAY_CLEARING, amount_fen), (ledger.FUND_POOL, -amount_fen),
                    (fund, amount_fen), (wallet_account, -amount_fen)]
        owners = {fund.code: customer_id, wallet_account.code: customer_id}
    else:
        redeeming = ledger.customer_fund_redeeming(customer_id)
        postings = [(fund, amount_fen), (redeeming, -amount_fen)]
        owners = {fund.code: customer_id, redeeming.code: customer_id}
    ledger.post(session, clock, key=f"fund:redemption:{redemption.id}", kind=f"fund_redemption_{mode}",
                memo=f"money-market fund {mode} redemption", reference=f"fund_redemption:{redemption.id}",
                postings=postings, owners=owners)
    if mode == INSTANT:
        # after the ledger, as in ``pay``: the accounts first, then the allowance row, in every transaction
        # that takes both (the other order deadlocks with a concurrent fund payment on PostgreSQL)
        _use_instant_allowance(session, customer_id, today, amount_fen)
    _stop_earning(session, customer_id, today, amount_fen, f"redemption:{redemption.id}")
    return redemption


def pay(session: Session, clock: Clock, zone: tzinfo, *, customer_id: int, amount_fen: int, key: str, memo: str,
        reference: str, order_id: int) -> None:
    """Pay an order from the fund: an instant redemption and the payment in one step, once per ``key``.
    It counts toward the instant allowance and the wallet tier's cap on payments."""
    if ledger.transaction_id(session, key) is not None:
        return
    _amount(amount_fen)
    today = _today(clock, zone)
    redemption = Redemption(customer_id=customer_id, amount_fen=amount_fen, mode=INSTANT, placed_at=clock.now(),
                            credits_on=today, credited_at=clock.now(), order_id=order_id)
    session.add(redemption)
    session.flush()
    fund = ledger.customer_fund(customer_id)
    ledger.post_new(session, clock, key=key, kind="fund_payment", memo=memo, reference=reference,
                    postings=[(ledger.GATEWAY_CLEARING, amount_fen), (ledger.FUND_POOL, -amount_fen),
                              (fund, amount_fen), (ledger.SALES_REVENUE, -amount_fen)],
                    owners={fund.code: customer_id})
    # the limits after the balance: short money is said first
    _use_instant_allowance(session, customer_id, today, amount_fen)
    wallet.count_outgoing(session, clock, zone, customer_id, amount_fen)
    _stop_earning(session, customer_id, today, amount_fen, f"redemption:{redemption.id}")


def _stop_earning(session: Session, customer_id: int, today: date, amount_fen: int, source: str) -> None:
    session.add(UnitMove(customer_id=customer_id, effective_on=today, units_fen=-amount_fen, source=source))


def _use_instant_allowance(session: Session, customer_id: int, today: date, amount_fen: int) -> None:
    """Add to today's instant total, or raise Conflict ``limit_exceeded`` past the cap (atomic)."""
    insert_if_absent(session, InstantUsage, customer_id=customer_id, day=today, used_fen=0)
    used = affected(session.execute(
        update(InstantUsage).where(InstantUsage.customer_id == customer_id, InstantUsage.day == today,
                                   InstantUsage.used_fen + amount_fen <= INSTANT_DAILY_CAP_FEN)
        .values(used_fen=InstantUsage.used_fen + amount_fen)))
    if not used:
        raise Conflict("Instant redemptions and fund payments are limited to 10,000 CNY a day; "
                       "a standard redemption has no limit", code="limit_exceeded")


def instant_left(session: Session, clock: Clock, zone: tzinfo, customer_id: int) -> int:
    used = session.scalar(select(InstantUsage.used_fen).where(InstantUsage.customer_id == customer_id,
                                                              InstantUsage.day == _today(clock, zone)))
    return INSTANT_DAILY_CAP_FEN - int(used or 0)


# --- the scheduled step: confirmations and standard redemptions that fell due ----------------------


def settle_due(session: Session, clock: Clock, zone: tzinfo, limit: int = 1000) -> int:
    """Confirm the subscriptions and credit the standard redemptions whose day has come; each once."""
    today = _today(clock, zone)
    done = 0
    _lock_fund_pool(session)
    for subscription in _claim_due(session, clock, Subscription, Subscription.confirms_on, Subscription.confirmed_at,
                                   today, limit):
        c = subscription.customer_id
        pending, fund = ledger.customer_fund_pending(c), ledger.customer_fund(c)
        ledger.post(session, clock, key=f"fund:subscription:{subscription.id}:confirm", kind="fund_confirmation",
                    memo="money-market fund units confirmed", reference=f"fund_subscription:{subscription.id}",
                    postings=[(pending, subscription.amount_fen), (fund, -subscription.amount_fen)],
                    owners={pending.code: c, fund.code: c})
        done += 1
    for redemption in _claim_due(session, clock, Redemption, Redemption.credits_on, Redemption.credited_at,
                                 today, limit):
        c = redemption.customer_id
        redeeming, wallet_account = ledger.customer_fund_redeeming(c), ledger.customer_wallet(c)
        ledger.post(session, clock, key=f"fund:redemption:{redemption.id}:credit", kind="fund_redemption_credit",
                    memo="money-market fund redemption credited", reference=f"fund_redemption:{redemption.id}",
                    postings=[(ledger.GATEWAY_CLEARING, redemption.amount_fen),
                              (ledger.FUND_POOL, -redemption.amount_fen),
                              (redeeming, redemption.amount_fen), (wallet_account, -redemption.amount_fen)],
                    owners={redeeming.code: c, wallet_account.code: c})
        done += 1
    return done


def _claim_due(session: Session, clock: Clock, model: type[_Due], due_on: InstrumentedAttribute[date],
               stamp: InstrumentedAttribute[datetime | None], today: date, limit: int) -> Iterator[_Due]:
    """The rows due by ``today`` and not settled yet, oldest first, each stamped as settled now unless a
    twin job did first: each is settled once."""
    for row in session.scalars(select(model).where(due_on <= today, stamp.is_(None)).order_by(model.id).limit(limit)):
        if affected(session.execute(update(model).where(model.id == row.id, stamp.is_(None))
                                    .values({stamp: clock.now()}))):
            yield row


def _lock_fund_pool(session: Session) -> None:
    """The fund pool's row first, as the day's income takes it before it credits every holder in one
    statement: a job touching several holders' accounts then never holds one the income is waiting for."""
    pool_id = ledger.ensure_accounts(session, [ledger.FUND_POOL])[ledger.FUND_POOL.code]
    session.execute(select(LedgerAccount.id).where(LedgerAccount.id == pool_id).with_for_update())


# --- what a holder and the console see -------------------------------------------------------------


RATE_FORMAT = re.compile(r"\d{1,2}(\.\d{1,4})?")


def parse_rate(text: str) -> int:
    """"0.6012" (yuan per 10,000 units: digits, at most 4 decimals, under 100) -> 6012."""
    if not RATE_FORMAT.fullmatch(text):
        raise ValidationFailed("The income per 10,000 units is a decimal such as 0.6012")
    return int(Decimal(text) * 10_000)


def format_rate(rate_e4: int) -> str:
    return f"{Decimal(rate_e4) / 10_000:.4f}"


def annualised_yield(rates_e4: list[int]) -> str:
    """Seven-day annualised yield in percent, compound form: ((prod(1 + r_i / 10,000))^(365/7) - 1) x 100,
    where r_i is the income per 10,000 units of day i; 3 decimals."""
    with localcontext() as context:
        context.prec = 40
        growth = Decimal(1)
        for rate in rates_e4:
            growth *= 1 + Decimal(rate) / 10**8  # rate_e4 / 10,000 yuan per 10,000 units
        percent = (growth ** (Decimal(365) / len(rates_e4)) - 1) * 100
        return str(percent.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def yields(session: Session, up_to: date, days: int = 30) -> list[tuple[date, str]]:
    """(day, seven-day annualised yield) for the last ``days`` days with income entered on or before
    ``up_to``, oldest first; a day needs seven entered days (itself and the six before it) to have one."""
    rows = list(session.execute(select(DailyIncome.day, DailyIncome.rate_e4).where(DailyIncome.day <= up_to)
                                .order_by(DailyIncome.day.desc()).limit(days + YIELD_DAYS - 1)))[::-1]
    return [(rows[end - 1][0], annualised_yield([rate for _, rate in rows[end - YIELD_DAYS:end]]))
            for end in range(max(YIELD_DAYS, len(rows) - days + 1), len(rows) + 1)]


def seven_day_yield(session: Session, up_to: date) -> str | None:
    latest = yields(session, up_to, days=1)
    return latest[-1][1] if latest else None


@dataclass(frozen=True)
class Holding:
    balance_fen: int  # confirmed units
    pending_fen: int  # subscriptions not confirmed yet
    redeeming_fen: int  # standard redemptions not credited yet
    yesterday_income_fen: int
    total_income_fen: int
    seven_day_yield: str | None


def holding(session: Session, clock: Clock, zone: tzinfo, customer_id: int) -> Holding:
    today = _today(clock, zone)
    yesterday, total = session.execute(
        select(func.coalesce(func.sum(case((IncomeLine.day == today - timedelta(days=1), IncomeLine.income_fen))), 0),
               func.coalesce(func.sum(IncomeLine.income_fen), 0))
        .where(IncomeLine.customer_id == customer_id)).one()
    fund, pending, redeeming = (ledger.customer_fund(customer_id), ledger.customer_fund_pending(customer_id),
                                ledger.customer_fund_redeeming(customer_id))
    balances = {account.code: ledger.normal_balance(account) for account in session.scalars(
        select(LedgerAccount).where(LedgerAccount.code.in_((fund.code, pending.code, redeeming.code))))}
    return Holding(balance_fen=balances.get(fund.code, 0), pending_fen=balances.get(pending.code, 0),
                   redeeming_fen=balances.get(redeeming.code, 0),
                   yesterday_income_fen=int(yesterday), total_income_fen=int(total),
                   seven_day_yield=seven_day_yield(session, today))


@dataclass(frozen=True)
class FundTotals:
    holders: int  # customers with confirmed units
    confirmed_fen: int
    pending_fen: int
    redeeming_fen: int
    pool_fen: int  # what the platform holds invested for them: the sum of the three


def totals(session: Session) -> FundTotals:
    """For the console: the fund's size from the holders' ledger accounts."""
    sums = dict(session.execute(select(LedgerAccount.kind, -func.sum(LedgerAccount.balance))
                                .where(LedgerAccount.kind.in_(KINDS)).group_by(LedgerAccount.kind)).tuples().all())
    holders = session.scalar(select(func.count()).select_from(LedgerAccount)
                             .where(LedgerAccount.kind == KINDS[0], LedgerAccount.balance < 0))
    return FundTotals(holders=int(holders or 0), confirmed_fen=int(sums.get(KINDS[0]) or 0),
                      pending_fen=int(sums.get(KINDS[1]) or 0), redeeming_fen=int(sums.get(KINDS[2]) or 0),
                      pool_fen=ledger.balance_of(session, ledger.FUND_POOL))


def recent_incomes(session: Session, limit: int = 10) -> list[DailyIncome]:
    return list(session.scalars(select(DailyIncome).order_by(DailyIncome.day.desc()).limit(limit)))


def expected_ledger_keys(session: Session) -> list[str]:
    """Every fund operation must have its transaction: subscriptions and their confirmations, redemptions
    and the credits of standard ones, fund payments, and each day's income that paid anything."""
    keys: list[str] = []
    for sub_id, confirmed in session.execute(select(Subscription.id, Subscription.confirmed_at.is_not(None))
                                             .order_by(Subscription.id)):
        keys.append(f"fund:subscription:{sub_id}")
        if confirmed:
            keys.append(f"fund:subscription:{sub_id}:confirm")
    for red_id, mode, credited, order_id in session.execute(
            select(Redemption.id, Redemption.mode, Redemption.credited_at.is_not(None), Redemption.order_id)
            .order_by(Redemption.id)):
        if order_id is not None:
            keys.append(f"order:{order_id}:pay:fund")
            continue
        keys.append(f"fund:redemption:{red_id}")
        if mode == STANDARD and credited:
            keys.append(f"fund:redemption:{red_id}:credit")
    for day in session.scalars(select(DailyIncome.day).where(DailyIncome.distributed_fen > 0)
                               .order_by(DailyIncome.day)):
        keys.append(income_key(day))
    return keys


def income_key(day: date) -> str:
    return f"fund:income:{day.isoformat()}"
