"""The day's income (万份收益), distributed to every holder in set-based SQL.

Each holder's units on day D are their unit moves effective on or before D plus the income of the days
before D. Income = units x rate / 10,000 (rate in yuan per 10,000 units), truncated to the fen; the fen
truncation left over, up to the day's total (all units x rate / 10,000, truncated), go one each to the
holders with the largest truncated remainders, ties to the lower ledger account id. The income is
reinvested: it counts as units from D + 1. A day is entered once it is over, and once; entering it again
changes nothing.
"""

from __future__ import annotations

from datetime import date, tzinfo

from sqlalchemy import BigInteger, cast, func, insert, literal, select, update
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.clock import Clock
from fanbase.db import insert_if_absent
from fanbase.errors import Conflict, ValidationFailed
from fanbase.fund import calendar
from fanbase.fund.models import DailyIncome, IncomeLine, UnitMove
from fanbase.fund.service import format_rate, income_key
from fanbase.ledger import service as ledger
from fanbase.ledger.models import LedgerAccount

SCALE = 10**8  # rate_e4 is yuan per 10,000 units x 10^4: fen = units_fen x rate_e4 / 10^8


def distribute(session: Session, clock: Clock, zone: tzinfo, *, day: date, rate_e4: int,
               actor_id: int | None = None) -> DailyIncome:
    # only once the day is over: units redeemed later that day must not earn it
    if day >= calendar.local_date(clock.now(), zone):
        raise ValidationFailed("The income of a day can only be entered once the day is over")
    if not insert_if_absent(session, DailyIncome, day=day, rate_e4=rate_e4, holders=0, units_fen=0,
                            day_total_fen=0, distributed_fen=0, entered_by=actor_id, created_at=clock.now()):
        entered = session.get_one(DailyIncome, day)
        if entered.rate_e4 != rate_e4:
            raise Conflict("The income of {day} was already entered as {rate}", day=day.isoformat(),
                           rate=format_rate(entered.rate_e4))
        return entered  # the same day twice changes nothing
    _write_lines(session, day, rate_e4)
    holders, units, truncated = session.execute(
        select(func.count(), func.coalesce(func.sum(IncomeLine.units_fen), 0),
               func.coalesce(func.sum(IncomeLine.income_fen), 0)).where(IncomeLine.day == day)).one()
    day_total = int(units) * rate_e4 // SCALE
    _hand_out_leftover(session, day, day_total - int(truncated))
    credited = select(IncomeLine.account_id.label("account_id"), (-IncomeLine.income_fen).label("amount")) \
        .where(IncomeLine.day == day, IncomeLine.income_fen > 0).subquery()
    # holders' accounts are liabilities: income credits them (negative amounts), the pool is debited
    distributed = -ledger.post_many(session, clock, key=income_key(day), kind="fund_income",
                                    memo=f"money-market fund income {day.isoformat()}",
                                    reference=f"fund_income:{day.isoformat()}", lines=credited,
                                    counter=ledger.FUND_POOL) if day_total else 0
    session.execute(update(DailyIncome).where(DailyIncome.day == day)
                    .values(holders=int(holders), units_fen=int(units), day_total_fen=day_total,
                            distributed_fen=distributed))
    record_audit(session, clock, actor_id=actor_id, action="fund.daily_income", target=f"day:{day.isoformat()}",
                 detail={"income_per_10k": format_rate(rate_e4), "holders": int(holders),
                         "distributed_fen": distributed})
    return session.get_one(DailyIncome, day, populate_existing=True)


def _write_lines(session: Session, day: date, rate_e4: int) -> None:
    """One line per holder with units on ``day``: units, truncated income, and what truncation cut off."""
    moves = select(UnitMove.customer_id.label("customer_id"), UnitMove.units_fen.label("units")) \
        .where(UnitMove.effective_on <= day)
    reinvested = select(IncomeLine.customer_id, IncomeLine.income_fen).where(IncomeLine.day < day)
    every = moves.union_all(reinvested).subquery()
    held = select(every.c.customer_id, cast(func.sum(every.c.units), BigInteger).label("units")) \
        .group_by(every.c.customer_id).having(func.sum(every.c.units) > 0).subquery()
    product = held.c.units * rate_e4
    session.execute(insert(IncomeLine).from_select(
        ["day", "account_id", "customer_id", "units_fen", "income_fen", "remainder"],
        select(literal(day, IncomeLine.day.type), LedgerAccount.id, held.c.customer_id, held.c.units,
               product // SCALE, product % SCALE)
        .join(LedgerAccount, (LedgerAccount.owner_id == held.c.customer_id)
              & (LedgerAccount.kind == ledger.customer_fund(0).kind))))


def _hand_out_leftover(session: Session, day: date, leftover: int) -> None:
    if leftover <= 0:
        return
    first = select(IncomeLine.account_id).where(IncomeLine.day == day) \
        .order_by(IncomeLine.remainder.desc(), IncomeLine.account_id).limit(leftover)
    session.execute(update(IncomeLine).where(IncomeLine.day == day, IncomeLine.account_id.in_(first))
                    .values(income_fen=IncomeLine.income_fen + 1))
