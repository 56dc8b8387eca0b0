"""The trading-day calendar and the fund's T+1 rules (cut-off 15:00, store's zone).

By default Monday to Friday are trading days; operators record exceptions (``CalendarDay``): holidays,
and the odd weekend declared a trading day. Every rule here takes the exceptions as a mapping, so it is a
pure function of its inputs; ``exceptions`` reads them from the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanbase.accounts.service import record_audit
from fanbase.clock import Clock
from fanbase.fund.models import CalendarDay

CUT_OFF = time(15, 0)
# the furthest a search for the next trading day looks: far past any real run of holidays
MAX_CLOSED_RUN = 60

Exceptions = Mapping[date, bool]


def is_trading_day(day: date, exceptions: Exceptions) -> bool:
    return exceptions.get(day, day.weekday() < 5)


def next_trading_day(after: date, exceptions: Exceptions) -> date:
    """The first trading day strictly after ``after``."""
    day = after
    for _ in range(MAX_CLOSED_RUN):
        day += timedelta(days=1)
        if is_trading_day(day, exceptions):
            return day
    raise ValueError(f"no trading day within {MAX_CLOSED_RUN} days after {after}")


def trade_date(when: datetime, zone: tzinfo, exceptions: Exceptions) -> date:
    """The trading day an order placed at ``when`` counts for: that day if it is a trading day and the order
    came before 15:00, else the next trading day."""
    local = when.astimezone(zone)
    if is_trading_day(local.date(), exceptions) and local.time() < CUT_OFF:
        return local.date()
    return next_trading_day(local.date(), exceptions)


def confirmation_day(when: datetime, zone: tzinfo, exceptions: Exceptions) -> date:
    """T+1: the trading day after the trade date. A subscription is confirmed (and starts earning) then; a
    standard redemption is credited to the wallet then."""
    return next_trading_day(trade_date(when, zone, exceptions), exceptions)


def exceptions(session: Session, start: date, days: int = 2 * MAX_CLOSED_RUN) -> dict[date, bool]:
    """The operator's exceptions from ``start`` on, as far as any rule above may look."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.trading)
                           .where(CalendarDay.day >= start, CalendarDay.day <= start + timedelta(days=days)))
    return {day: trading for day, trading in rows}


def set_day(session: Session, clock: Clock, *, day: date, trading: bool, note: str, actor_id: int) -> CalendarDay:
    """An operator marks a day open or closed for trading. Orders placed before the change keep the day
    they were given."""
    entry = session.get(CalendarDay, day)
    before = None if entry is None else entry.trading
    if entry is None:
        entry = CalendarDay(day=day, trading=trading, note=note, updated_by=actor_id, updated_at=clock.now())
        session.add(entry)
    else:
        entry.trading, entry.note, entry.updated_by, entry.updated_at = trading, note, actor_id, clock.now()
    session.flush()
    record_audit(session, clock, actor_id=actor_id, action="fund.calendar", target=f"day:{day.isoformat()}",
                 detail={"from": before, "to": trading, "note": note})
    return entry


def listed_days(session: Session, start: date, end: date) -> list[CalendarDay]:
    return list(session.scalars(select(CalendarDay).where(CalendarDay.day >= start, CalendarDay.day <= end)
                                .order_by(CalendarDay.day)))


def local_date(when: datetime, zone: tzinfo) -> date:
    return when.astimezone(zone).date()
