"""The fund's calendar rules with a frozen clock (issue 6): the 15:00 cut-off in the store's zone, Fridays,
weekends, holidays an operator records (on the trade day and on the confirmation day), a weekend declared a
trading day; when units start and stop earning; standard redemptions credited by the job on their day; the
instant allowance per local day (fund payments included); the wallet tiers' caps (for life at tier 1, per
calendar year at tiers 2 and 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fanbase.accounts.models import AuditEntry
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import Conflict, Forbidden, InsufficientFunds
from fanbase.fund import calendar
from fanbase.fund.models import INSTANT, STANDARD, IncomeLine, Redemption
from fanbase.ledger.check import problems
from fanbase.ledger.models import LedgerTransaction
from fanbase.payments.gateway import SandboxGateway
from fanbase.wallet import service as wallet
from tests.services.fund_support import ZONE, Fund, at

WED, THU, FRI, SAT, SUN, MON, TUE = (date(2026, 11, 25) + timedelta(days=n) for n in range(7))
NEXT_WED = date(2026, 12, 2)

# (placed, the operator's exceptions, trade date, confirmation day)
CASES = [
    pytest.param("2026-11-25 00:00", {}, WED, THU, id="wednesday-midnight"),
    pytest.param("2026-11-25 14:59:59", {}, WED, THU, id="wednesday-14:59:59"),
    pytest.param("2026-11-25 15:00", {}, THU, FRI, id="wednesday-15:00"),
    pytest.param("2026-11-25 23:59:59", {}, THU, FRI, id="wednesday-late"),
    pytest.param("2026-11-27 14:59", {}, FRI, MON, id="friday-before-cut-off"),
    pytest.param("2026-11-27 15:00", {}, MON, TUE, id="friday-at-cut-off"),
    pytest.param("2026-11-28 09:00", {}, MON, TUE, id="saturday-morning"),
    pytest.param("2026-11-28 16:00", {}, MON, TUE, id="saturday-afternoon"),
    pytest.param("2026-11-29 23:59:59", {}, MON, TUE, id="sunday-night"),
    pytest.param("2026-11-30 00:00", {}, MON, TUE, id="monday-midnight"),
    # holidays recorded by an operator
    pytest.param("2026-11-25 14:59", {THU: False}, WED, FRI, id="holiday-on-the-confirmation-day"),
    pytest.param("2026-11-26 10:00", {THU: False}, FRI, MON, id="holiday-on-the-trade-day"),
    pytest.param("2026-11-25 15:00", {THU: False}, FRI, MON, id="after-cut-off-before-a-holiday"),
    pytest.param("2026-11-27 14:59", {MON: False}, FRI, TUE, id="friday-before-a-monday-holiday"),
    pytest.param("2026-11-27 15:00", {MON: False}, TUE, NEXT_WED, id="friday-late-before-a-monday-holiday"),
    pytest.param("2026-11-26 10:00", {THU: False, FRI: False}, MON, TUE, id="holidays-then-weekend"),
    # a weekend day declared a trading day
    pytest.param("2026-11-27 14:59", {SAT: True}, FRI, SAT, id="friday-before-an-open-saturday"),
    pytest.param("2026-11-27 15:00", {SAT: True}, SAT, MON, id="friday-late-before-an-open-saturday"),
    pytest.param("2026-11-28 14:59", {SAT: True}, SAT, MON, id="open-saturday-before-cut-off"),
    pytest.param("2026-11-28 15:00", {SAT: True}, MON, TUE, id="open-saturday-at-cut-off"),
    pytest.param("2026-11-29 10:00", {SUN: True}, SUN, MON, id="open-sunday"),
    # a weekday marked open changes nothing
    pytest.param("2026-11-25 14:59", {THU: True}, WED, THU, id="weekday-marked-open"),
]


# --- the pure rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("placed", "exceptions", "trade", "confirms"), CASES)
def test_trade_date_and_confirmation_day(placed: str, exceptions: dict[date, bool], trade: date,
                                         confirms: date) -> None:
    when = at(placed)
    assert calendar.trade_date(when, ZONE, exceptions) == trade
    assert calendar.confirmation_day(when, ZONE, exceptions) == confirms
    # the same instant given in UTC: the rules read the store's clock, not the caller's
    assert calendar.confirmation_day(when.astimezone(UTC), ZONE, exceptions) == confirms


@pytest.mark.parametrize(("utc", "confirms"), [
    ("2026-11-25T06:59:59+00:00", THU),  # 14:59:59 in Shanghai
    ("2026-11-25T07:00:00+00:00", FRI),  # 15:00 in Shanghai, though 07:00 in UTC
    ("2026-11-26T23:30:00+00:00", MON),  # Friday 07:30 in Shanghai while it is still Thursday in UTC
    ("2026-11-27T16:00:00+00:00", TUE),  # Saturday 00:00 in Shanghai, Friday in UTC
])
def test_the_cut_off_is_read_in_the_stores_zone(utc: str, confirms: date) -> None:
    assert calendar.confirmation_day(datetime.fromisoformat(utc), ZONE, {}) == confirms


def test_a_golden_week_is_skipped() -> None:
    closed = {date(2026, 10, 1) + timedelta(days=n): False for n in range(7)}  # Thursday 1 to Wednesday 7
    assert calendar.confirmation_day(at("2026-09-30 14:59"), ZONE, closed) == date(2026, 10, 8)
    assert calendar.confirmation_day(at("2026-09-30 15:00"), ZONE, closed) == date(2026, 10, 9)
    assert calendar.trade_date(at("2026-10-03 10:00"), ZONE, closed) == date(2026, 10, 8)


def test_no_trading_day_in_sight_is_an_error() -> None:
    closed = {WED + timedelta(days=n): False for n in range(calendar.MAX_CLOSED_RUN + 1)}
    with pytest.raises(ValueError, match="no trading day"):
        calendar.next_trading_day(WED - timedelta(days=1), closed)


# --- through the services, the operator's calendar in the database ------------------------------------


@pytest.fixture
def fund(db: Database, clock: FixedClock) -> Fund:
    return Fund(db, clock)


def holder(fund: Fund, clock: FixedClock, units_fen: int, wallet_fen: int = 0) -> int:
    """A tier III customer with ``units_fen`` confirmed units, bought well before the week under test."""
    clock.set(at("2026-11-02 10:00"))  # a Monday three weeks earlier: confirmed on Tuesday
    customer_id = fund.customer(wallet_fen=units_fen + wallet_fen)
    fund.subscribe(customer_id, units_fen)
    clock.set(at("2026-11-03 00:00"))
    assert fund.settle() >= 1
    return customer_id


@pytest.mark.parametrize(("placed", "exceptions", "trade", "confirms"), CASES)
def test_subscriptions_and_redemptions_get_their_days(fund: Fund, clock: FixedClock, db: Database, placed: str,
                                                      exceptions: dict[date, bool], trade: date,
                                                      confirms: date) -> None:
    customer_id = holder(fund, clock, 3_000_000, wallet_fen=1_000_000)
    for day, trading in exceptions.items():
        fund.set_day(day, trading)
    clock.set(at(placed))
    assert fund.subscribe(customer_id, 100_000).confirms_on == confirms
    assert fund.redeem(customer_id, 200_000, STANDARD).credits_on == confirms
    assert fund.redeem(customer_id, 300_000, INSTANT).credits_on == at(placed).date()  # the store's today
    with db.read() as s:
        assert problems(s) == []


def test_a_holiday_recorded_after_an_order_leaves_that_order_its_day(fund: Fund, clock: FixedClock,
                                                                     db: Database) -> None:
    customer_id = fund.customer(wallet_fen=3_000_000)
    clock.set(at("2026-11-25 14:59"))
    early = fund.subscribe(customer_id, 1_000_000)
    assert early.confirms_on == THU
    fund.set_day(THU, trading=False)
    late = fund.subscribe(customer_id, 1_000_000)
    assert late.confirms_on == FRI
    with db.read() as s:
        assert s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "fund.calendar")) == {
            "from": None, "to": False, "note": "holiday"}
        assert calendar.exceptions(s, WED) == {THU: False}
    clock.set(at("2026-11-26 00:00"))
    assert fund.settle() == 1  # the early one, on the day it was given
    assert fund.holding(customer_id).balance_fen == 1_000_000
    assert fund.holding(customer_id).pending_fen == 1_000_000
    fund.set_day(THU, trading=True)  # the operator changes their mind: nothing already given moves
    clock.set(at("2026-11-26 23:59:59"))
    assert fund.settle() == 0
    clock.set(at("2026-11-27 00:00"))
    assert fund.settle() == 1
    assert fund.holding(customer_id).balance_fen == 2_000_000


def test_settle_due_confirms_and_credits_on_the_day_and_only_once(fund: Fund, clock: FixedClock,
                                                                   db: Database) -> None:
    customer_id = holder(fund, clock, 2_000_000, wallet_fen=1_000_000)
    clock.set(at("2026-11-27 14:59"))
    fund.subscribe(customer_id, 500_000)  # Friday before the cut-off: confirmed Monday
    clock.set(at("2026-11-27 15:00"))
    fund.redeem(customer_id, 700_000, STANDARD)  # Friday at the cut-off: credited Tuesday
    assert fund.wallet_balance(customer_id) == 500_000
    assert fund.holding(customer_id).redeeming_fen == 700_000
    for moment in ("2026-11-28 12:00", "2026-11-29 23:59:59"):
        clock.set(at(moment))
        assert fund.settle() == 0
    clock.set(at("2026-11-30 00:00"))
    assert fund.settle() == 1
    shown = fund.holding(customer_id)
    assert (shown.balance_fen, shown.pending_fen, shown.redeeming_fen) == (1_800_000, 0, 700_000)
    clock.set(at("2026-11-30 23:59:59"))
    assert fund.settle() == 0
    assert fund.wallet_balance(customer_id) == 500_000
    clock.set(at("2026-12-01 00:00"))
    assert fund.settle() == 1
    assert fund.settle() == 0
    assert fund.wallet_balance(customer_id) == 1_200_000
    assert fund.holding(customer_id).redeeming_fen == 0
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(LedgerTransaction)
                        .where(LedgerTransaction.kind == "fund_redemption_credit")) == 1
        assert problems(s) == []


def test_a_job_that_missed_days_settles_everything_due(fund: Fund, clock: FixedClock) -> None:
    customer_id = holder(fund, clock, 2_000_000, wallet_fen=1_000_000)
    clock.set(at("2026-11-25 10:00"))
    fund.subscribe(customer_id, 100_000)  # confirmed Thursday
    fund.redeem(customer_id, 100_000, STANDARD)  # credited Thursday
    clock.set(at("2026-11-26 15:00"))
    fund.subscribe(customer_id, 100_000)  # confirmed Monday
    clock.set(at("2026-12-01 09:00"))
    assert fund.settle() == 3
    assert fund.holding(customer_id).balance_fen == 2_100_000


def lines(db: Database, day: date) -> dict[int, tuple[int, int]]:
    """customer -> (units, income) of one day."""
    with db.read() as s:
        return {c: (u, i) for c, u, i in s.execute(select(IncomeLine.customer_id, IncomeLine.units_fen,
                                                          IncomeLine.income_fen).where(IncomeLine.day == day))}


def test_units_earn_from_the_confirmation_day_and_stop_on_the_redemption_day(fund: Fund, clock: FixedClock,
                                                                             db: Database) -> None:
    old = holder(fund, clock, 5_000_000)
    new = fund.customer(wallet_fen=10_000_000)
    clock.set(at("2026-11-25 14:59"))
    assert fund.subscribe(new, 10_000_000).confirms_on == THU
    clock.set(at("2026-11-26 00:30"))
    fund.settle()
    fund.income(WED, 10_000)  # entered on Thursday for Wednesday: the new units are not in it yet
    assert lines(db, WED) == {old: (5_000_000, 500)}
    clock.set(at("2026-11-27 09:00"))
    # Friday: redeemed units stop earning today, whether the redemption is instant, standard or a payment
    fund.redeem(new, 4_000_000, STANDARD)
    fund.redeem(new, 300_000, INSTANT)
    fund.pay_from_fund(new, 200_000, order_id=1)
    fund.redeem(old, 5_000_500, STANDARD)  # everything it holds this morning
    # Thursday's income, entered after those redemptions: the units were held all Thursday, so they earn
    fund.income(THU, 10_000)
    assert lines(db, THU) == {old: (5_000_500, 500), new: (10_000_000, 1_000)}
    clock.set(at("2026-11-28 09:00"))
    fund.income(FRI, 10_000)
    # old: only Thursday's 500 fen of income, reinvested from Friday (0.05 fen: nothing)
    assert lines(db, FRI) == {new: (10_001_000 - 4_500_000, 550), old: (500, 0)}
    assert fund.holding(old).balance_fen == 500
    assert fund.holding(new).total_income_fen == 1_550
    with db.read() as s:
        assert problems(s) == []


def test_a_standard_redemption_stops_earning_at_once_though_credited_later(fund: Fund, clock: FixedClock,
                                                                          db: Database) -> None:
    customer_id = holder(fund, clock, 10_000_000)
    clock.set(at("2026-11-27 16:00"))  # Friday after the cut-off: credited Tuesday
    assert fund.redeem(customer_id, 10_000_000, STANDARD).credits_on == TUE
    for day in (FRI, SAT, SUN, MON):
        clock.set(datetime.combine(day + timedelta(days=1), datetime.min.time(), ZONE))
        assert fund.income(day, 10_000).holders == 0
    assert fund.settle() == 1  # Tuesday 00:00
    assert fund.wallet_balance(customer_id) == 10_000_000
    with db.read() as s:
        assert problems(s) == []


# --- the instant allowance ------------------------------------------------------------------------------


def redemptions(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Redemption)) or 0


def test_instant_redemptions_and_fund_payments_share_a_daily_allowance(fund: Fund, clock: FixedClock,
                                                                       db: Database) -> None:
    customer_id = holder(fund, clock, 8_000_000)
    clock.set(at("2026-11-27 10:00"))
    assert fund.instant_left(customer_id) == 1_000_000
    fund.redeem(customer_id, 600_000, INSTANT)
    fund.pay_from_fund(customer_id, 400_000, order_id=1)
    assert fund.instant_left(customer_id) == 0
    before = redemptions(db)
    with pytest.raises(Conflict) as refused:
        fund.redeem(customer_id, 1, INSTANT)
    assert refused.value.code == "limit_exceeded"
    with pytest.raises(Conflict) as refused:
        fund.pay_from_fund(customer_id, 1, order_id=2)
    assert refused.value.code == "limit_exceeded"
    assert redemptions(db) == before  # a refusal wrote nothing
    fund.redeem(customer_id, 2_000_000, STANDARD)  # no cap on standard redemptions
    clock.set(at("2026-11-27 23:59:59"))
    with pytest.raises(Conflict):
        fund.redeem(customer_id, 1, INSTANT)
    clock.set(at("2026-11-28 00:00"))  # the store's next day, while it is still Friday 16:00 in UTC
    assert clock.now().astimezone(UTC).date() == FRI
    assert fund.instant_left(customer_id) == 1_000_000
    fund.pay_from_fund(customer_id, 1_000_000, order_id=3)
    with pytest.raises(Conflict):
        fund.redeem(customer_id, 1, INSTANT)
    clock.set(at("2026-11-29 08:00"))
    fund.redeem(customer_id, 1_000_000, INSTANT)
    shown = fund.holding(customer_id)
    assert shown.balance_fen == 8_000_000 - 600_000 - 400_000 - 2_000_000 - 1_000_000 - 1_000_000
    assert fund.wallet_balance(customer_id) == 600_000 + 1_000_000
    with db.read() as s:
        assert problems(s) == []


def test_one_instant_redemption_over_the_cap_is_refused_whole(fund: Fund, clock: FixedClock) -> None:
    customer_id = holder(fund, clock, 3_000_000)
    clock.set(at("2026-11-27 10:00"))
    with pytest.raises(Conflict):
        fund.redeem(customer_id, 1_000_001, INSTANT)
    with pytest.raises(Conflict):
        fund.pay_from_fund(customer_id, 1_000_001, order_id=1)
    assert fund.instant_left(customer_id) == 1_000_000
    fund.redeem(customer_id, 1_000_000, INSTANT)


def test_short_units_are_refused_without_using_the_allowance(fund: Fund, clock: FixedClock) -> None:
    customer_id = holder(fund, clock, 300_000)
    clock.set(at("2026-11-27 10:00"))
    with pytest.raises(InsufficientFunds):
        fund.redeem(customer_id, 300_001, INSTANT)
    with pytest.raises(InsufficientFunds):
        fund.pay_from_fund(customer_id, 300_001, order_id=1)
    with pytest.raises(InsufficientFunds):
        fund.redeem(customer_id, 300_001, STANDARD)
    assert fund.instant_left(customer_id) == 1_000_000
    fund.redeem(customer_id, 300_000, INSTANT)
    assert fund.instant_left(customer_id) == 700_000


# --- the wallet tiers ------------------------------------------------------------------------------------


def withdraw(fund: Fund, gateway: SandboxGateway, customer_id: int, amount_fen: int) -> None:
    with fund.db.uow() as s:
        wallet.withdraw(s, fund.clock, gateway, ZONE, customer_id=customer_id, amount_fen=amount_fen)


def limit_exceeded(action: object) -> None:
    with pytest.raises(Conflict) as refused:
        action()  # type: ignore[operator]
    assert refused.value.code == "limit_exceeded"


def test_tier_one_has_a_lifetime_cap(fund: Fund, clock: FixedClock, gateway: SandboxGateway,
                                     db: Database) -> None:
    clock.set(at("2026-11-25 10:00"))
    customer_id = fund.customer(tier=1, wallet_fen=300_000)
    fund.pay_from_wallet(customer_id, 60_000, "a")
    limit_exceeded(lambda: withdraw(fund, gateway, customer_id, 40_001))
    withdraw(fund, gateway, customer_id, 40_000)
    limit_exceeded(lambda: fund.pay_from_wallet(customer_id, 1, "b"))
    clock.set(at("2027-01-01 00:00"))  # a new year changes nothing for life
    limit_exceeded(lambda: fund.pay_from_wallet(customer_id, 1, "c"))
    with pytest.raises(Forbidden):
        fund.subscribe(customer_id, 1_000)
    assert fund.wallet_balance(customer_id) == 200_000
    with db.uow() as s:
        wallet.set_tier(s, clock, customer_id=customer_id, tier=2, actor_id=fund.staff_id)
    fund.pay_from_wallet(customer_id, 150_000, "d")  # tier II counts this year only
    with db.read() as s:
        assert problems(s) == []


@pytest.mark.parametrize(("tier", "cap"), [(2, 10_000_000), (3, 20_000_000)])
def test_tiers_two_and_three_have_a_yearly_cap_that_resets_on_the_stores_new_year(
        fund: Fund, clock: FixedClock, gateway: SandboxGateway, db: Database, tier: int, cap: int) -> None:
    assert wallet.YEARLY_CAP_FEN[tier] == cap
    clock.set(at("2026-03-01 10:00"))
    customer_id = fund.customer(tier=tier, wallet_fen=2 * cap + 1_000_000)
    fund.pay_from_wallet(customer_id, cap - 100_000, "a")
    withdraw(fund, gateway, customer_id, 99_999)
    fund.pay_from_wallet(customer_id, 1, "b")  # exactly the cap
    limit_exceeded(lambda: fund.pay_from_wallet(customer_id, 1, "c"))
    limit_exceeded(lambda: withdraw(fund, gateway, customer_id, 1))
    clock.set(at("2026-12-31 23:59:59"))
    limit_exceeded(lambda: fund.pay_from_wallet(customer_id, 1, "d"))
    clock.set(at("2027-01-01 00:00"))  # the store's new year, still 2026 in UTC
    assert clock.now().astimezone(UTC).year == 2026
    fund.pay_from_wallet(customer_id, cap, "e")
    limit_exceeded(lambda: fund.pay_from_wallet(customer_id, 1, "f"))
    assert fund.wallet_balance(customer_id) == 1_000_000
    with db.read() as s:
        account = wallet.account(s, clock, customer_id)
        assert (account.year, account.year_out_fen, account.lifetime_out_fen) == (2027, cap, 2 * cap)
        assert problems(s) == []


def test_fund_payments_count_toward_the_tier_cap_and_subscriptions_do_not(fund: Fund, clock: FixedClock,
                                                                          db: Database) -> None:
    cap = wallet.YEARLY_CAP_FEN[3]
    customer_id = holder(fund, clock, 3_000_000, wallet_fen=cap + 5_000_000)
    clock.set(at("2026-11-25 10:00"))
    fund.pay_from_wallet(customer_id, cap - 500_000, "a")
    fund.pay_from_fund(customer_id, 500_000, order_id=1)  # reaches the cap
    assert fund.instant_left(customer_id) == 500_000
    limit_exceeded(lambda: fund.pay_from_fund(customer_id, 1, order_id=2))
    assert fund.instant_left(customer_id) == 500_000  # the refusal gave the allowance back
    fund.subscribe(customer_id, 2_000_000)  # moving money into the fund is not a payment
    fund.redeem(customer_id, 500_000, INSTANT)  # nor is taking it back into the wallet
    clock.set(at("2027-01-01 00:00"))
    fund.pay_from_fund(customer_id, 1_000_000, order_id=3)
    with db.read() as s:
        assert wallet.account(s, clock, customer_id).year_out_fen == 1_000_000
        assert problems(s) == []
