"""Properties of the money-market fund (issue 6), with hypothesis.

- The day's income is distributed in full for random holdings and rates: each holder gets the truncated
  fen or one more, the extra fen go to the largest remainders (ties to the lower ledger account id), the
  day's total is exactly what was distributed, the same day twice changes nothing, and the income earns
  from the next day. The expected lines are computed here in plain Python.
- Under random concurrent wallet payments, fund payments, redemptions, subscriptions, withdrawals and
  refunds (8 threads, a few customers), no wallet or fund account is ever negative (every posting's
  ``balance_after`` is checked), a refusal is only InsufficientFunds or Conflict, the books agree with
  what succeeded, and ``fanbase ledger check`` finds nothing.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fanbase.cart import service as cart_service
from fanbase.clock import FixedClock
from fanbase.db import Database
from fanbase.errors import Conflict, InsufficientFunds
from fanbase.fund import service as fund_service
from fanbase.fund.models import INSTANT, STANDARD, DailyIncome, IncomeLine, InstantUsage, UnitMove
from fanbase.ledger import service as ledger
from fanbase.ledger.check import problems
from fanbase.ledger.models import CREDIT, DEBIT, LedgerAccount, LedgerPosting, LedgerTransaction
from fanbase.orders import service as orders
from fanbase.orders.models import CANCELLED, PENDING_PAYMENT, Order
from fanbase.payments.gateway import SandboxGateway
from fanbase.wallet import service as wallet
from fanbase.wallet.models import WalletAccount
from tests.helpers import ADDRESS, seed_catalogue, table_rows
from tests.services.fund_support import ZONE, Fund, at, empty

SCALE = 10**8
DAY = date(2026, 11, 20)  # the clock's default is 2026-11-25: these days have begun
_ids = itertools.count(1)


# --- income: the expected distribution, in plain Python ---------------------------------------------------


def expected_lines(units: dict[int, int], rate_e4: int) -> dict[int, int]:
    """account id -> income: truncated, then the leftover fen one each to the largest remainders, ties to
    the lower account id. Holders without units have no line."""
    held = {account: u for account, u in units.items() if u > 0}
    income = {account: u * rate_e4 // SCALE for account, u in held.items()}
    leftover = sum(held.values()) * rate_e4 // SCALE - sum(income.values())
    ranked = sorted(held, key=lambda a: (-(held[a] * rate_e4 % SCALE), a))
    for account in ranked[:leftover]:
        income[account] += 1
    if leftover:
        event("leftover fen to hand out")
        remainders = [held[a] * rate_e4 % SCALE for a in ranked]
        if leftover < len(ranked) and remainders[leftover - 1] == remainders[leftover]:
            event("a tie in remainders decides who gets a fen")
    return income


# units: the edges (nothing, one fen, huge) and values that make equal remainders likely
units_st = st.one_of(st.just(0), st.just(1), st.integers(0, 10**7), st.integers(0, 10**12),
                     st.sampled_from([10_000, 12_345, 99_999_999, 10**8, 10**8 + 1, 10**12]))
# yuan per 10,000 units x 10^4: nothing, tiny, typical, the largest parse_rate accepts
rate_st = st.one_of(st.just(0), st.just(1), st.integers(0, 20_000), st.just(999_999), st.integers(0, 999_999))


@dataclass
class HolderPlan:
    units: int  # confirmed and earning on DAY
    later: int  # confirmed after DAY: must not earn on DAY
    redeemed: int  # redeemed on DAY (out of ``units + redeemed`` held before): stops earning that day


later_st = st.sampled_from([0, 0, 5_000, 10**9])
redeemed_st = st.sampled_from([0, 0, 1, 777, 10**8])


@st.composite
def holdings(draw: st.DrawFn) -> list[HolderPlan]:
    """Up to 8 holders, many of them holding one of a few shared amounts (equal remainders, so ties)."""
    palette = draw(st.lists(units_st, min_size=1, max_size=3))
    size = draw(st.integers(0, 8))
    return [HolderPlan(units=draw(st.one_of(st.sampled_from(palette), units_st)), later=draw(later_st),
                       redeemed=draw(redeemed_st)) for _ in range(size)]


def seed_holders(db: Database, clock: FixedClock, plans: list[HolderPlan], order: list[int]) -> dict[int, int]:
    """Fund accounts for the holders, created in ``order`` (so that account ids and customer ids disagree),
    their units as the ledger and the unit moves record them. Returns customer id -> account id."""
    accounts: dict[int, int] = {}
    with db.uow() as s:
        for index in order:
            customer_id = 1000 + index
            plan = plans[index]
            fund = ledger.customer_fund(customer_id)
            accounts[customer_id] = ledger.ensure_accounts(s, [fund], owner_id=customer_id)[fund.code]
            held = plan.units + plan.later
            if held:
                ledger.post(s, clock, key=f"seed:{customer_id}", kind="test", memo="units",
                            postings=[(ledger.FUND_POOL, held), (fund, -held)], owners={fund.code: customer_id})
            moves = [(DAY - timedelta(days=3), plan.units + plan.redeemed), (DAY, -plan.redeemed),
                     (DAY + timedelta(days=1), plan.later)]
            s.add_all(UnitMove(customer_id=customer_id, effective_on=day, units_fen=u, source="test")
                      for day, u in moves if u)
    return accounts


def income_lines(db: Database, day: date) -> dict[int, tuple[int, int]]:
    """account id -> (units, income)"""
    with db.read() as s:
        return {a: (u, i) for a, u, i in s.execute(select(IncomeLine.account_id, IncomeLine.units_fen,
                                                          IncomeLine.income_fen).where(IncomeLine.day == day))}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plans=holdings(), rate=rate_st, next_rate=rate_st, data=st.data())
def test_income_is_distributed_in_full_by_largest_remainder(db: Database, clock: FixedClock,
                                                           plans: list[HolderPlan], rate: int, next_rate: int,
                                                           data: st.DataObject) -> None:
    empty(db)
    fund = Fund(db, clock)
    order = data.draw(st.permutations(range(len(plans))))
    accounts = seed_holders(db, clock, plans, order)
    units = {accounts[1000 + i]: plan.units for i, plan in enumerate(plans)}
    later = {accounts[1000 + i]: plan.later for i, plan in enumerate(plans)}
    expected = expected_lines(units, rate)

    entered = fund.income(DAY, rate)
    day_total = sum(units.values()) * rate // SCALE
    assert (entered.day_total_fen, entered.distributed_fen) == (day_total, day_total)
    assert entered.holders == len(expected) and entered.units_fen == sum(units.values())
    found = income_lines(db, DAY)
    assert found == {a: (units[a], income) for a, income in expected.items()}
    for u, income in found.values():
        assert income - u * rate // SCALE in (0, 1)  # the truncated fen, or one more
    with db.read() as s:
        for a, income in expected.items():
            assert s.get_one(LedgerAccount, a).balance == -(units[a] + income + later[a])
        if day_total:
            txn = s.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key
                                                           == fund_service.income_key(DAY)))
            assert txn is not None
            assert s.scalar(select(func.sum(LedgerPosting.amount))
                            .where(LedgerPosting.transaction_id == txn.id)) == 0
        assert problems(s) == []

    # the same day again: nothing changes; another rate for it: refused, nothing changes
    before = table_rows(db)
    assert fund.income(DAY, rate).distributed_fen == day_total
    if next_rate != rate:
        with pytest.raises(Conflict):
            fund.income(DAY, next_rate)
    assert table_rows(db) == before

    # the next day: yesterday's income earns, the later subscriptions too
    fund.income(DAY + timedelta(days=1), next_rate)
    units_next = {a: units[a] + expected.get(a, 0) + later[a] for a in units}
    expected_next = expected_lines(units_next, next_rate)
    assert income_lines(db, DAY + timedelta(days=1)) == {a: (units_next[a], i) for a, i in expected_next.items()}
    with db.read() as s:
        assert s.get_one(DailyIncome, DAY + timedelta(days=1)).distributed_fen == \
            sum(units_next.values()) * next_rate // SCALE
        assert problems(s) == []


def test_ties_in_remainders_go_to_the_lower_account_id(db: Database, clock: FixedClock) -> None:
    """Three holders with equal remainders and one leftover fen between them: the first account made gets it,
    whatever the customers' ids."""
    plans = [HolderPlan(units=5_000, later=0, redeemed=0) for _ in range(3)]
    accounts = seed_holders(db, clock, plans, order=[2, 0, 1])
    # 5,000 x 6,700 / 10^8 = 0.335 each; 15,000 x 6,700 / 10^8 = 1.005: one fen to hand out
    Fund(db, clock).income(DAY, 6_700)
    first = min(accounts.values())
    assert first == accounts[1002]
    assert income_lines(db, DAY) == {a: (5_000, 1 if a == first else 0) for a in accounts.values()}


# --- concurrency: nothing ever negative --------------------------------------------------------------------

CUSTOMERS = 3
THREADS = 8
OPS = ("wallet_pay", "fund_pay", "order_fund_pay", "instant", "standard", "subscribe", "withdraw", "refund",
       "cancel")
WALLET_FEN, UNITS_FEN = 300_000, 1_200_000  # the wallet after the setup: about 200,000
POLICY = orders.OrderPolicy(zone=ZONE, payment_window=timedelta(days=30))  # orders wait for the threads


@dataclass
class World:
    """What the concurrent phase starts from, and what succeeded in it."""

    fund: Fund
    gateway: SandboxGateway
    customers: list[int]
    paid_orders: dict[int, list[tuple[int, int]]]  # customer -> (order id, total) paid from the wallet
    pending_orders: dict[int, list[tuple[int, int]]]  # customer -> (order id, total) waiting for payment
    lock: threading.Lock = field(default_factory=threading.Lock)
    into_wallet: Counter[int] = field(default_factory=Counter)
    out_of_wallet: Counter[int] = field(default_factory=Counter)
    into_fund: Counter[int] = field(default_factory=Counter)  # confirmed units only
    out_of_fund: Counter[int] = field(default_factory=Counter)
    instant: Counter[int] = field(default_factory=Counter)  # instant redemptions and fund payments
    outgoing: Counter[int] = field(default_factory=Counter)  # payments and withdrawals (tier caps)
    standard: Counter[int] = field(default_factory=Counter)
    pending: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    unexpected: list[BaseException] = field(default_factory=list)

    def took(self, pool: Counter[int], customer_id: int, amount: int) -> None:
        with self.lock:
            pool[customer_id] += amount


def build_world(db: Database, clock: FixedClock, gateway: SandboxGateway) -> World:
    empty(db)
    seed_catalogue(db, clock, stock=1000)
    fund = Fund(db, clock)
    clock.set(at("2026-11-24 10:00"))  # Tuesday: confirmed Wednesday
    customers = [fund.customer(wallet_fen=WALLET_FEN + UNITS_FEN) for _ in range(CUSTOMERS)]
    for c in customers:
        fund.subscribe(c, UNITS_FEN)
    clock.set(at("2026-11-25 10:00"))  # Wednesday
    assert fund.settle() == CUSTOMERS
    paid: dict[int, list[tuple[int, int]]] = defaultdict(list)
    pending: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for c in customers:
        for method, quantity in (("wallet", 1), ("wallet", 3), ("gateway", 2), ("gateway", 6)):
            with db.uow() as s:
                cart_service.set_quantity(s, clock, c, "BAND9", quantity)
                order = orders.checkout(s, clock, gateway, POLICY, customer_id=c,
                                        payment_method=method, shipping_address=ADDRESS)
                (paid if method == "wallet" else pending)[c].append((order.id, order.total_fen))
    world = World(fund=fund, gateway=gateway, customers=customers, paid_orders=paid, pending_orders=pending)
    for c in customers:  # the wallet now, for the model
        world.into_wallet[c] = fund.wallet_balance(c)
        world.outgoing[c] = sum(total for _, total in paid[c])
    return world


@dataclass(frozen=True)
class Op:
    kind: str
    customer: int  # index
    amount: int


op_st = st.builds(Op, kind=st.sampled_from(OPS), customer=st.integers(0, CUSTOMERS - 1),
                  amount=st.one_of(st.integers(1, 900_000), st.sampled_from([1, 100_000, 500_000, 1_000_000])))


def run(world: World, op: Op) -> str:
    """One operation in its own unit of work, as a request would run it; the model learns what succeeded."""
    fund, db, clock, c = world.fund, world.fund.db, world.fund.clock, world.customers[op.customer]
    amount = op.amount
    if op.kind == "wallet_pay":
        fund.pay_from_wallet(c, amount, f"test-pay:{next(_ids)}")
        world.took(world.out_of_wallet, c, amount)
        world.took(world.outgoing, c, amount)
    elif op.kind == "fund_pay":
        fund.pay_from_fund(c, amount, order_id=10**6 + next(_ids))
        world.took(world.out_of_fund, c, amount)
        world.took(world.instant, c, amount)
        world.took(world.outgoing, c, amount)
    elif op.kind == "order_fund_pay":  # a pending gateway order paid from the fund instead
        with world.lock:
            if not world.pending_orders[c]:
                return "nothing_left"
            order_id, amount = world.pending_orders[c].pop()
        with db.uow() as s:
            orders.pay(s, clock, world.gateway, POLICY, order_id=order_id, customer_id=c,
                       payment_method="fund")
        world.took(world.out_of_fund, c, amount)
        world.took(world.instant, c, amount)
        world.took(world.outgoing, c, amount)
    elif op.kind in (INSTANT, STANDARD):
        fund.redeem(c, amount, op.kind)
        world.took(world.out_of_fund, c, amount)
        if op.kind == INSTANT:
            world.took(world.instant, c, amount)
            world.took(world.into_wallet, c, amount)
        else:
            world.took(world.standard, c, amount)
    elif op.kind == "subscribe":
        fund.subscribe(c, amount)
        world.took(world.out_of_wallet, c, amount)
        world.took(world.pending, c, amount)
    elif op.kind == "withdraw":
        with db.uow() as s:
            wallet.withdraw(s, clock, world.gateway, ZONE, customer_id=c, amount_fen=amount)
        world.took(world.out_of_wallet, c, amount)
        world.took(world.outgoing, c, amount)
    elif op.kind == "refund":  # money back to the wallet straight from the ledger (e.g. a goodwill refund)
        account = ledger.customer_wallet(c)
        with db.uow() as s:
            ledger.post(s, clock, key=f"test-refund:{next(_ids)}", kind="refund", memo="goodwill",
                        postings=[(ledger.REFUNDS, amount), (account, -amount)], owners={account.code: c})
        world.took(world.into_wallet, c, amount)
    elif op.kind == "cancel":  # a wallet-paid order cancelled: refunded to the wallet
        with world.lock:
            if not world.paid_orders[c]:
                return "nothing_left"
            order_id, amount = world.paid_orders[c].pop()
        with db.uow() as s:
            orders.cancel(s, clock, world.gateway, order_id=order_id, customer_id=c)
        world.took(world.into_wallet, c, amount)
    return "ok"


def attempt(world: World, op: Op) -> None:
    try:
        outcome = run(world, op)
    except (InsufficientFunds, Conflict) as refused:
        with world.lock:
            world.outcomes[f"{op.kind}:{refused.code}"] += 1
    except BaseException as error:  # noqa: BLE001 - reported by the test
        with world.lock:
            world.unexpected.append(error)
            error.add_note(f"during {op}")
    else:
        with world.lock:
            world.outcomes[f"{op.kind}:{outcome}"] += 1


def in_threads(world: World, ops: list[Op]) -> None:
    barrier = threading.Barrier(THREADS)

    def worker(mine: list[Op]) -> None:
        barrier.wait()
        for op in mine:
            attempt(world, op)

    threads = [threading.Thread(target=worker, args=(ops[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def assert_only_expected_refusals(world: World) -> None:
    """Short money or a limit: any other refusal (an expired order, a conflict on a row) is a bug here."""
    refused = {key.split(":")[1] for key in world.outcomes} - {"ok", "nothing_left"}
    assert refused <= {"insufficient_funds", "limit_exceeded"}, world.outcomes


def assert_never_negative(db: Database) -> None:
    """Every posting on an account that may not go negative left it on its normal side, and each account's
    postings, in order, add up to their ``balance_after``."""
    with db.read() as s:
        crossed = s.execute(
            select(LedgerAccount.code, LedgerPosting.id, LedgerPosting.balance_after)
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerAccount.allow_negative.is_(False),
                   ((LedgerAccount.normal == CREDIT) & (LedgerPosting.balance_after > 0))
                   | ((LedgerAccount.normal == DEBIT) & (LedgerPosting.balance_after < 0)))).all()
        assert crossed == []
        running: dict[int, int] = defaultdict(int)
        for account_id, amount, after in s.execute(select(LedgerPosting.account_id, LedgerPosting.amount,
                                                          LedgerPosting.balance_after).order_by(LedgerPosting.id)):
            running[account_id] += amount
            assert running[account_id] == after, f"account {account_id}: balance_after {after} out of order"
        guarded = s.scalar(select(func.count()).select_from(LedgerAccount)
                           .where(LedgerAccount.allow_negative.is_(False)))
        assert guarded and guarded >= 3 * CUSTOMERS


def assert_books_agree(world: World) -> None:
    db, clock = world.fund.db, world.fund.clock
    with db.read() as s:
        for c in world.customers:
            assert wallet.balance(s, c) == world.into_wallet[c] - world.out_of_wallet[c], world.outcomes
            held = fund_service.holding(s, clock, ZONE, c)
            assert held.balance_fen == UNITS_FEN - world.out_of_fund[c]
            assert held.redeeming_fen == world.standard[c]
            assert held.pending_fen == world.pending[c]
            used = s.scalar(select(InstantUsage.used_fen).where(InstantUsage.customer_id == c)) or 0
            assert used == world.instant[c] <= fund_service.INSTANT_DAILY_CAP_FEN
            out = s.get_one(WalletAccount, c)
            assert out.year_out_fen == out.lifetime_out_fen == world.outgoing[c] <= wallet.YEARLY_CAP_FEN[3]
        counts = dict(s.execute(select(Order.status, func.count()).group_by(Order.status)).tuples().all())
        assert counts.get(CANCELLED, 0) == world.outcomes["cancel:ok"]
        assert counts.get(PENDING_PAYMENT, 0) == 2 * CUSTOMERS - world.outcomes["order_fund_pay:ok"]
        assert problems(s) == []


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(ops=st.lists(op_st, min_size=THREADS, max_size=48))
def test_no_balance_goes_negative_under_concurrent_payments_refunds_and_redemptions(
        db: Database, clock: FixedClock, gateway: SandboxGateway, ops: list[Op]) -> None:
    world = build_world(db, clock, gateway)
    clock.set(at("2026-11-27 14:00"))  # Friday: standard redemptions are credited on Monday
    in_threads(world, ops)
    assert world.unexpected == [], world.unexpected
    assert sum(world.outcomes.values()) == len(ops)
    assert_only_expected_refusals(world)
    assert_never_negative(db)
    assert_books_agree(world)

    # Monday: the job credits the standard redemptions and confirms the subscriptions, once
    clock.set(at("2026-11-30 00:00"))
    settled = world.fund.settle()
    assert settled == world.outcomes["standard:ok"] + world.outcomes["subscribe:ok"]
    assert world.fund.settle() == 0
    with db.read() as s:
        for c in world.customers:
            assert wallet.balance(s, c) == world.into_wallet[c] - world.out_of_wallet[c] + world.standard[c]
            assert fund_service.holding(s, clock, ZONE, c).balance_fen == \
                UNITS_FEN - world.out_of_fund[c] + world.pending[c]
        assert problems(s) == []
    assert_never_negative(db)


def test_one_customer_hammered_from_every_side(db: Database, clock: FixedClock, gateway: SandboxGateway) -> None:
    """A fixed, dense mix on a single customer: every thread fights over the same wallet and fund account
    and the same allowance rows."""
    world = build_world(db, clock, gateway)
    clock.set(at("2026-11-27 14:00"))
    rng = random.Random(6)
    kinds = ("wallet_pay", "fund_pay", INSTANT, STANDARD, "refund", "withdraw", "subscribe", "cancel",
             "order_fund_pay")
    ops = [Op(kind, 0, rng.choice([1, 50_000, 200_000, 400_000])) for kind in kinds for _ in range(THREADS)]
    rng.shuffle(ops)
    in_threads(world, ops)
    assert world.unexpected == [], world.unexpected
    assert_never_negative(db)
    assert_books_agree(world)
    assert_only_expected_refusals(world)

