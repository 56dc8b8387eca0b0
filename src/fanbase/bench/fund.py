"""``fanbase bench fund``: one day's money-market income distributed to N holders, and wallet payments
from concurrent writers; each against a naive baseline measured in the same run on the same database.

Importing this module has no side effects; everything happens in :func:`run_fund_bench`.

- **Set-up** (not timed): N holders with random confirmed units, inserted in bulk with Core statements as
  the production code would leave them: a ``fund:<c>`` ledger account (kind ``customer_fund``, owned by the
  customer) credited by a balanced set-up transaction against the fund pool, and a unit move effective the
  day before. The expected income of every holder is computed here too, in Python, from the same numbers.
- **Distribution** (timed): ``fund.income.distribute`` for yesterday in one transaction, commit included. It is
  then read back: the day's income lines, the ledger transaction's postings, the ``DailyIncome`` row, each
  holder's line against the expected one (units x rate / 10^8 truncated, the leftover fen one each to the
  largest remainders, ties to the lower account id).
- **Distribution baseline**: ``min(N, 2,000)`` further holders, set up the same way after the timed run,
  given the same day's income by a naive loop: ORM objects, one query per holder for its units and one
  ``ledger.post`` per holder, in one transaction. Its rate is holders per second.
- **Payments**: P ``wallet.pay`` calls, each in its own ``Database.uow()``, from W writer threads, by
  customers at tier 2 or 3 whose wallet balances cover 90% of what they try to spend, so that each of them
  is refused at least once for insufficient funds. Checked afterwards: no wallet below zero, the successful
  payments' sum equal to what the revenue account gained, one ledger transaction per successful payment.
- **Payments baseline**: about ``min(P, 5,000)`` of the same payments (all those of the first customers, so
  that as many are refused), by a copy of the same customers with the same balances, one at a time, each a
  naive check-then-act transaction (read the balance and the tier's totals into ORM objects, compare in
  Python, write them back).

Finally the whole ledger is checked (``ledger.book_problems``: every transaction balanced, every balance
equal to its postings and on its allowed side). A database given by FANBASE_DATABASE_URL must hold no fund
holders yet: the day's income goes to every holder in it.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from fanbase.bench.api import BenchError, _stderr_console, emit, machine_info
from fanbase.bench.bulk import (
    CHUNK,
    bench_database,
    insert_users,
    mark,
    progress_bar,
    report_console,
    setup_frozen,
    zero,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console
    from rich.progress import Progress

    from fanbase.clock import Clock
    from fanbase.db import Database
    from fanbase.ledger.service import SystemAccount

RATE_E4 = 6012  # 0.6012 yuan per 10,000 units
SCALE = 10**8  # fen = units x rate_e4 / 10^8
DEFAULT_HOLDERS = 1_000_000
DEFAULT_PAYMENTS = 20_000
DEFAULT_WRITERS = 8
BASELINE_HOLDERS = 2_000
BASELINE_PAYMENTS = 5_000
PAYMENTS_PER_CUSTOMER = 20
COVERED = 0.9  # wallet balances cover this share of what their owners try to spend
MIN_AMOUNT_FEN, MAX_AMOUNT_FEN = 100, 20_000

#: Targets from issue 6 (a 2-core machine, SQLite); checked and printed with every run.
TARGET_HOLDERS = 1_000_000
MAX_SECONDS = 20.0
TARGET_WRITERS = 8
MIN_PAYMENTS_PER_S = 2_000.0


# --------------------------------------------------------------------------------------------
# Set-up in bulk
# --------------------------------------------------------------------------------------------


def credit_accounts(db: Database, clock: Clock, tag: str, owners: Sequence[int], amounts: Sequence[int],
                    spec_of: Callable[[int], SystemAccount], counter: SystemAccount, kind: str,
                    progress: Progress | None, description: str) -> list[int]:
    """A new ledger account ``spec_of(owner)`` for each owner, credited with its amount by one balanced
    transaction a chunk (debiting ``counter``), with Core bulk inserts; the accounts' ids."""
    from sqlalchemy import Table, update

    from fanbase.db import insert_rows, next_ids
    from fanbase.ledger import service as ledger
    from fanbase.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction

    accounts: Table = LedgerAccount.__table__  # type: ignore[assignment]
    transactions: Table = LedgerTransaction.__table__  # type: ignore[assignment]
    postings: Table = LedgerPosting.__table__  # type: ignore[assignment]
    now = clock.now()
    task = progress.add_task(description, total=len(owners)) if progress else None
    ids: list[int] = []
    for start in range(0, len(owners), CHUNK):
        chunk, money = owners[start:start + CHUNK], amounts[start:start + CHUNK]
        total = sum(money)
        with db.uow() as s:
            counter_id = ledger.ensure_accounts(s, [counter])[counter.code]
            account_ids = next_ids(s, accounts, len(chunk))
            specs = [spec_of(owner) for owner in chunk]
            insert_rows(s, accounts, ("id", "code", "name", "kind", "owner_id", "normal", "allow_negative",
                                      "currency", "balance"),
                        [(account_id, spec.code, spec.name, spec.kind, owner, spec.normal, spec.allow_negative,
                          "CNY", -amount)
                         for account_id, spec, owner, amount in zip(account_ids, specs, chunk, money, strict=True)])
            (txn_id,) = next_ids(s, transactions, 1)
            insert_rows(s, transactions, ("id", "idempotency_key", "kind", "memo", "reference", "created_at"),
                        [(txn_id, f"bench:{tag}:{kind}:{start}", kind, f"benchmark set-up: {description}", None,
                          now)])
            counter_after = int(s.execute(update(LedgerAccount).where(LedgerAccount.id == counter_id)
                                          .values(balance=LedgerAccount.balance + total)
                                          .returning(LedgerAccount.balance)).scalar_one())
            posting_ids = next_ids(s, postings, len(chunk) + 1)
            rows = [(posting_ids[0], txn_id, counter_id, total, counter_after)]
            rows += [(posting_id, txn_id, account_id, -amount, -amount)
                     for posting_id, account_id, amount in zip(posting_ids[1:], account_ids, money, strict=True)]
            insert_rows(s, postings, ("id", "transaction_id", "account_id", "amount", "balance_after"), rows)
        ids.extend(account_ids)
        if progress is not None and task is not None:
            progress.advance(task, len(chunk))
    return ids


def insert_unit_moves(db: Database, tag: str, customer_ids: Sequence[int], units: Sequence[int], effective_on: date,
                      progress: Progress | None) -> None:
    """Confirmed units that earn from ``effective_on`` on, as a confirmed subscription leaves them."""
    from sqlalchemy import Table

    from fanbase.db import insert_rows, next_ids
    from fanbase.fund.models import UnitMove

    table: Table = UnitMove.__table__  # type: ignore[assignment]
    task = progress.add_task(f"{len(customer_ids):,} unit moves", total=len(customer_ids)) if progress else None
    for start in range(0, len(customer_ids), CHUNK):
        chunk, amounts = customer_ids[start:start + CHUNK], units[start:start + CHUNK]
        with db.uow() as s:
            ids = next_ids(s, table, len(chunk))
            insert_rows(s, table, ("id", "customer_id", "effective_on", "units_fen", "source"),
                        [(move_id, customer_id, effective_on, amount, f"bench:{tag}")
                         for move_id, customer_id, amount in zip(ids, chunk, amounts, strict=True)])
        if progress is not None and task is not None:
            progress.advance(task, len(chunk))


@dataclass
class Holders:
    customer_ids: list[int]
    account_ids: list[int]
    units: list[int]


def random_units(count: int, seed: int) -> list[int]:
    """Units in fen from 1 CNY to 100,000 CNY, log-uniform: small holders (whose income truncates to 0 fen)
    as well as large ones."""
    rng = random.Random(seed)
    return [int(10 ** rng.uniform(2, 7)) for _ in range(count)]


def create_holders(db: Database, clock: Clock, count: int, effective_on: date, seed: int,
                   progress: Progress | None) -> Holders:
    from fanbase.ledger import service as ledger

    tag = uuid.uuid4().hex[:8]
    units = random_units(count, seed)
    customer_ids = insert_users(db, clock, tag, count, progress)
    account_ids = credit_accounts(db, clock, tag, customer_ids, units, ledger.customer_fund, ledger.FUND_POOL,
                                  "bench_fund_units", progress, f"{count:,} fund accounts with confirmed units")
    insert_unit_moves(db, tag, customer_ids, units, effective_on, progress)
    return Holders(customer_ids, account_ids, units)


def expected_income(holders: Holders, rate_e4: int) -> tuple[int, dict[int, int]]:
    """The day's total and each account's income by the rule, computed here from the set-up's numbers."""
    lines = [(divmod(units * rate_e4, SCALE), account_id)
             for units, account_id in zip(holders.units, holders.account_ids, strict=True) if units > 0]
    day_total = sum(holders.units) * rate_e4 // SCALE
    income = {account_id: truncated for (truncated, _), account_id in lines}
    leftover = day_total - sum(income.values())
    lines.sort(key=lambda line: (-line[0][1], line[1]))
    for _, account_id in lines[:leftover]:
        income[account_id] += 1
    return day_total, income


# --------------------------------------------------------------------------------------------
# The distribution and its naive baseline
# --------------------------------------------------------------------------------------------


def distribute_day(db: Database, clock: Clock, zone: tzinfo, day: date, rate_e4: int) -> float:
    """``income.distribute`` in one transaction; seconds, commit included."""
    from fanbase.fund import income

    with setup_frozen():
        began = time.perf_counter()
        with db.uow() as s:
            income.distribute(s, clock, zone, day=day, rate_e4=rate_e4)
        return time.perf_counter() - began


def read_back(db: Database, day: date, expected: dict[int, int]) -> dict[str, Any]:
    """What was written for ``day``: lines, ledger postings, the DailyIncome row, and each line against
    ``expected`` (account id -> income)."""
    from sqlalchemy import func, select

    from fanbase.fund.models import DailyIncome, IncomeLine
    from fanbase.fund.service import income_key
    from fanbase.ledger import service as ledger
    from fanbase.ledger.models import LedgerAccount, LedgerPosting

    with db.read() as s:
        entered = s.get_one(DailyIncome, day)
        lines_total, lines = s.execute(select(func.coalesce(func.sum(IncomeLine.income_fen), 0), func.count())
                                       .where(IncomeLine.day == day)).one()
        found = dict(s.execute(select(IncomeLine.account_id, IncomeLine.income_fen)
                               .where(IncomeLine.day == day)).tuples().all())
        txn_id = ledger.transaction_id(s, income_key(day))
        pool_id = s.scalar(select(LedgerAccount.id).where(LedgerAccount.code == ledger.FUND_POOL.code))
        credited = pool_debited = 0
        if txn_id is not None:
            of_txn = select(func.coalesce(func.sum(LedgerPosting.amount), 0)) \
                .where(LedgerPosting.transaction_id == txn_id)
            pool_debited = int(s.scalar(of_txn.where(LedgerPosting.account_id == pool_id)) or 0)
            credited = -int(s.scalar(of_txn.where(LedgerPosting.account_id != pool_id)) or 0)
        recorded = {"day_total_fen": int(entered.day_total_fen),
                    "recorded_distributed_fen": int(entered.distributed_fen),
                    "recorded_holders": int(entered.holders), "units_fen": int(entered.units_fen)}
    mismatched = sum(1 for account_id, fen in expected.items() if found.get(account_id, 0) != fen)
    mismatched += sum(1 for account_id in found if account_id not in expected)
    return {**recorded, "distributed_fen": int(lines_total), "ledger_credited_fen": credited,
            "pool_debited_fen": pool_debited, "income_lines": int(lines), "mismatched_lines": mismatched}


def naive_distribution(db: Database, clock: Clock, day: date, rate_e4: int, holders: Holders) -> dict[str, Any]:
    """The same day's income to ``holders`` by a loop over ORM objects: each holder's units by its own
    queries, the leftover fen sorted out in Python, a line and a ``ledger.post`` per holder; one
    transaction. Holders per second."""
    from sqlalchemy import select

    from fanbase.fund.models import IncomeLine, UnitMove
    from fanbase.ledger import service as ledger
    from fanbase.ledger.models import LedgerAccount

    first, last = min(holders.account_ids), max(holders.account_ids)
    with setup_frozen():
        began = time.perf_counter()
        with db.uow() as s:
            accounts = s.scalars(select(LedgerAccount).where(LedgerAccount.id.between(first, last),
                                                             LedgerAccount.kind == "customer_fund")
                                 .order_by(LedgerAccount.id)).all()
            lines: list[IncomeLine] = []
            for acc in accounts:
                assert acc.owner_id is not None
                units = sum(move.units_fen for move in s.scalars(
                    select(UnitMove).where(UnitMove.customer_id == acc.owner_id, UnitMove.effective_on <= day)))
                units += sum(line.income_fen for line in s.scalars(
                    select(IncomeLine).where(IncomeLine.customer_id == acc.owner_id, IncomeLine.day < day)))
                if units > 0:
                    truncated, remainder = divmod(units * rate_e4, SCALE)
                    lines.append(IncomeLine(day=day, account_id=acc.id, customer_id=acc.owner_id, units_fen=units,
                                            income_fen=truncated, remainder=remainder))
            day_total = sum(line.units_fen for line in lines) * rate_e4 // SCALE
            leftover = day_total - sum(line.income_fen for line in lines)
            for line in sorted(lines, key=lambda line: (-line.remainder, line.account_id))[:leftover]:
                line.income_fen += 1
            for line in lines:
                s.add(line)
                if line.income_fen:
                    fund = ledger.customer_fund(line.customer_id)
                    ledger.post(s, clock, key=f"bench:naive_income:{day.isoformat()}:{line.account_id}",
                                kind="fund_income", memo=f"money-market fund income {day.isoformat()}",
                                reference=f"fund_income:{day.isoformat()}",
                                postings=[(ledger.FUND_POOL, line.income_fen), (fund, -line.income_fen)],
                                owners={fund.code: line.customer_id})
            distributed = sum(line.income_fen for line in lines)
        seconds = time.perf_counter() - began
    return {"holders": len(accounts), "seconds": round(seconds, 3),
            "holders_per_s": round(len(accounts) / seconds, 1) if seconds > 0 else 0.0,
            "day_total_fen": day_total, "distributed_fen": distributed, "ok": distributed == day_total}


# --------------------------------------------------------------------------------------------
# Wallet payments and their naive baseline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentPlan:
    """Payment i is ``amounts[i]`` fen by customer ``payer[i]`` (an index); ``balances`` per customer cover
    ``COVERED`` of what that customer tries to spend, so everyone is refused at least once."""

    payer: list[int]
    amounts: list[int]
    balances: list[int]
    tiers: list[int]


def plan_payments(payments: int, customers: int, seed: int) -> PaymentPlan:
    rng = random.Random(seed)
    payer = [i % customers for i in range(payments)]
    rng.shuffle(payer)
    amounts = [rng.randint(MIN_AMOUNT_FEN, MAX_AMOUNT_FEN) for _ in range(payments)]
    spend = [0] * customers
    for who, amount in zip(payer, amounts, strict=True):
        spend[who] += amount
    return PaymentPlan(payer, amounts, [int(total * COVERED) for total in spend],
                       [2 + i % 2 for i in range(customers)])


def customer_count(payments: int, writers: int) -> int:
    return max(1, min(payments, max(writers * 4, payments // PAYMENTS_PER_CUSTOMER)))


def create_payers(db: Database, clock: Clock, zone: tzinfo, plan: PaymentPlan, progress: Progress | None,
                  label: str) -> list[int]:
    """Customers with wallets at tier 2 or 3 holding the plan's balances; their ids."""
    from sqlalchemy import Table

    from fanbase.db import insert_rows
    from fanbase.ledger import service as ledger
    from fanbase.wallet.models import WalletAccount

    tag = uuid.uuid4().hex[:8]
    count = len(plan.balances)
    customer_ids = insert_users(db, clock, tag, count, progress)
    now = clock.now()
    table: Table = WalletAccount.__table__  # type: ignore[assignment]
    for start in range(0, count, CHUNK):
        with db.uow() as s:
            insert_rows(s, table, ("customer_id", "tier", "lifetime_out_fen", "year", "year_out_fen", "updated_at"),
                        [(customer_id, tier, 0, now.astimezone(zone).year, 0, now)
                         for customer_id, tier in zip(customer_ids[start:start + CHUNK],
                                                      plan.tiers[start:start + CHUNK], strict=True)])
    credit_accounts(db, clock, tag, customer_ids, plan.balances, ledger.customer_wallet, ledger.GATEWAY_CLEARING,
                    "bench_wallet_top_up", progress, f"{count:,} wallets ({label})")
    return customer_ids


@dataclass
class _Tally:
    committed: int = 0
    paid_fen: int = 0
    refused: int = 0
    limit_refused: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        self.committed += other.committed
        self.paid_fen += other.paid_fen
        self.refused += other.refused
        self.limit_refused += other.limit_refused
        self.errors += other.errors


def _revenue(db: Database) -> int:
    from fanbase.ledger import service as ledger

    with db.read() as s:
        return ledger.balance_of(s, ledger.SALES_REVENUE)


def run_payments(db: Database, clock: Clock, zone: tzinfo, plan: PaymentPlan, customer_ids: Sequence[int],
                 writers: int) -> dict[str, Any]:
    """Every payment of the plan through ``wallet.pay``, each in its own unit of work, payment i by writer
    thread i mod ``writers``."""
    from fanbase.errors import Conflict, InsufficientFunds
    from fanbase.wallet import service as wallet

    tag = uuid.uuid4().hex[:8]
    revenue_before = _revenue(db)
    tallies = [_Tally() for _ in range(writers)]
    start = threading.Barrier(writers + 1)

    def writer(number: int) -> None:
        tally = tallies[number]
        start.wait()
        for i in range(number, len(plan.amounts), writers):
            customer_id, amount = customer_ids[plan.payer[i]], plan.amounts[i]
            try:
                with db.uow() as s:
                    wallet.pay(s, clock, zone, customer_id=customer_id, amount_fen=amount,
                               key=f"bench:{tag}:pay:{i}", memo="benchmark payment", reference=f"bench:{tag}:{i}")
            except InsufficientFunds:
                tally.refused += 1
            except Conflict as error:
                if error.code != "limit_exceeded":
                    raise
                tally.limit_refused += 1
            except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
                tally.errors.append(repr(error)[:300])
            else:
                tally.committed += 1
                tally.paid_fen += amount

    threads = [threading.Thread(target=writer, args=(n,), name=f"bench-writer-{n}", daemon=True)
               for n in range(writers)]
    with setup_frozen():
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    total = _Tally()
    for tally in tallies:
        total.add(tally)
    return _payments_result(db, tag, plan, range(len(plan.amounts)), total, seconds, revenue_before) \
        | {"writers": writers}


def baseline_share(plan: PaymentPlan, count: int) -> list[int]:
    """The payments (indices, in the plan's order) of the first customers, every payment of each, about
    ``count`` of them: so that the baseline meets refusals as often as the run it is compared with."""
    customers = max(1, -(-len(plan.balances) * count // len(plan.amounts)))
    return [i for i, who in enumerate(plan.payer) if who < customers]


def naive_payments(db: Database, clock: Clock, zone: tzinfo, plan: PaymentPlan, customer_ids: Sequence[int],
                   indices: Sequence[int]) -> dict[str, Any]:
    """The plan's payments ``indices``, one at a time, each a check-then-act transaction over ORM
    objects: read the wallet's balance and the tier's totals, compare in Python, write them back with the
    transaction and its postings. (Correct only because nothing runs beside it.)"""
    from sqlalchemy import select

    from fanbase.ledger import service as ledger
    from fanbase.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction
    from fanbase.wallet import service as wallet
    from fanbase.wallet.models import WalletAccount

    tag = uuid.uuid4().hex[:8]
    revenue_before = _revenue(db)
    tally = _Tally()
    year = clock.now().astimezone(zone).year
    with setup_frozen():
        began = time.perf_counter()
        for i in indices:
            customer_id, amount = customer_ids[plan.payer[i]], plan.amounts[i]
            key = f"bench:{tag}:pay:{i}"
            with db.uow() as s:
                if s.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)) is not None:
                    continue
                acc = s.scalars(select(LedgerAccount).where(
                    LedgerAccount.code == ledger.customer_wallet(customer_id).code)).one()
                if -acc.balance < amount:
                    tally.refused += 1
                    continue
                rules = s.get_one(WalletAccount, customer_id)
                out_this_year = rules.year_out_fen if rules.year == year else 0
                if rules.tier == 1:
                    within = rules.lifetime_out_fen + amount <= wallet.LIFETIME_CAP_FEN[1]
                else:
                    within = out_this_year + amount <= wallet.YEARLY_CAP_FEN[rules.tier]
                if not within:
                    tally.limit_refused += 1
                    continue
                revenue = s.scalars(select(LedgerAccount)
                                    .where(LedgerAccount.code == ledger.SALES_REVENUE.code)).one()
                txn = LedgerTransaction(idempotency_key=key, kind="wallet_payment", memo="benchmark payment",
                                        reference=f"bench:{tag}:{i}", created_at=clock.now())
                s.add(txn)
                s.flush()
                acc.balance += amount
                revenue.balance -= amount
                s.add_all([LedgerPosting(transaction_id=txn.id, account_id=revenue.id, amount=-amount,
                                         balance_after=revenue.balance),
                           LedgerPosting(transaction_id=txn.id, account_id=acc.id, amount=amount,
                                         balance_after=acc.balance)])
                rules.lifetime_out_fen += amount
                rules.year, rules.year_out_fen = year, out_this_year + amount
                rules.updated_at = clock.now()
            tally.committed += 1
            tally.paid_fen += amount
        seconds = time.perf_counter() - began
    return _payments_result(db, tag, plan, indices, tally, seconds, revenue_before) | {"writers": 1}


def _payments_result(db: Database, tag: str, plan: PaymentPlan, indices: Sequence[int], tally: _Tally,
                     seconds: float, revenue_before: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from fanbase.ledger.models import LedgerAccount, LedgerTransaction

    attempted = tally.committed + tally.refused + tally.limit_refused + len(tally.errors)
    with db.read() as s:
        revenue_gained = _revenue(db) - revenue_before
        negative = int(s.scalar(select(func.count()).select_from(LedgerAccount)
                                .where(LedgerAccount.kind == "customer_wallet", LedgerAccount.balance > 0)) or 0)
        recorded = int(s.scalar(select(func.count()).select_from(LedgerTransaction)
                                .where(LedgerTransaction.idempotency_key.like(f"bench:{tag}:pay:%"))) or 0)
    payers = {plan.payer[i] for i in indices}
    return {"payments": attempted, "seconds": round(seconds, 3),
            "payments_per_s": round(attempted / seconds, 1) if seconds > 0 else 0.0,
            "committed": tally.committed,
            "committed_per_s": round(tally.committed / seconds, 1) if seconds > 0 else 0.0,
            "refused": tally.refused, "limit_refused": tally.limit_refused, "errors": len(tally.errors),
            "error_samples": tally.errors[:3], "customers": len(payers),
            "paid_fen": tally.paid_fen, "revenue_gained_fen": revenue_gained, "negative_wallets": negative,
            "transactions": recorded}


# --------------------------------------------------------------------------------------------
# The whole benchmark
# --------------------------------------------------------------------------------------------


def _require_no_holders(db: Database) -> None:
    from sqlalchemy import func, select

    from fanbase.fund.models import DailyIncome, UnitMove

    with db.read() as s:
        moves = int(s.scalar(select(func.count()).select_from(UnitMove)) or 0)
        days = int(s.scalar(select(func.count()).select_from(DailyIncome)) or 0)
    if moves or days:
        raise BenchError("the database already holds money-market units or income; the day's income goes to every "
                         "holder in it: point FANBASE_DATABASE_URL at an empty database")


def _distribution(db: Database, clock: Clock, zone: tzinfo, holders: int, seed: int, console: Console,
                  baseline_holders: int) -> dict[str, Any]:
    from fanbase.fund import calendar

    day = calendar.local_date(clock.now(), zone) - timedelta(days=1)  # a day's income is entered once it is over
    with progress_bar(console) as progress:
        prepared = create_holders(db, clock, holders, day - timedelta(days=1), seed, progress)
    expected_total, expected = expected_income(prepared, RATE_E4)
    console.print(f"[dim]bench: distributing {day.isoformat()}'s income to {holders:,} holders[/dim]")
    seconds = distribute_day(db, clock, zone, day, RATE_E4)
    written = read_back(db, day, expected)
    distributed = written["distributed_fen"]
    ok = (distributed == written["day_total_fen"] == expected_total == written["ledger_credited_fen"]
          == written["pool_debited_fen"] == written["recorded_distributed_fen"]
          and written["mismatched_lines"] == 0 and written["recorded_holders"] == holders)
    sample = min(holders, baseline_holders)
    console.print(f"[dim]bench: naive baseline: the same day's income to {sample:,} further holders[/dim]")
    with progress_bar(console) as progress:
        others = create_holders(db, clock, sample, day - timedelta(days=1), seed + 1, progress)
    baseline = naive_distribution(db, clock, day, RATE_E4, others)
    baseline["expected_day_total_fen"] = expected_income(others, RATE_E4)[0]
    baseline["ok"] = baseline["ok"] and baseline["day_total_fen"] == baseline["expected_day_total_fen"]
    rate = holders / seconds if seconds > 0 else 0.0
    base_rate = float(baseline["holders_per_s"])
    return {"holders": holders, "seconds": round(seconds, 3), "holders_per_s": round(rate, 1),
            "day_total_fen": written["day_total_fen"], "distributed_fen": distributed, "ok": ok,
            "baseline_holders_per_s": base_rate, "ratio": round(rate / base_rate, 1) if base_rate > 0 else None,
            "day": day.isoformat(), "rate_e4": RATE_E4, "expected_day_total_fen": expected_total,
            "leftover_fen": expected_total - sum(divmod(u * RATE_E4, SCALE)[0] for u in prepared.units),
            **{key: written[key] for key in ("units_fen", "income_lines", "ledger_credited_fen", "pool_debited_fen",
                                              "recorded_distributed_fen", "mismatched_lines")},
            "baseline": baseline}


def _balances_held(p: dict[str, Any]) -> bool:
    """No wallet below zero, every fen paid gained by revenue, one transaction per committed payment, no
    errors, and every customer refused at least once (their balances cover only part of their spend)."""
    return (p["negative_wallets"] == 0 and p["paid_fen"] == p["revenue_gained_fen"]
            and p["transactions"] == p["committed"] and p["errors"] == 0 and p["refused"] >= p["customers"])


def _payments(db: Database, clock: Clock, zone: tzinfo, payments: int, writers: int, seed: int,
              console: Console, baseline_payments: int) -> dict[str, Any]:
    plan = plan_payments(payments, customer_count(payments, writers), seed)
    with progress_bar(console) as progress:
        payers = create_payers(db, clock, zone, plan, progress, "writers")
        copies = create_payers(db, clock, zone, plan, progress, "baseline")
    console.print(f"[dim]bench: {payments:,} wallet payments by {len(plan.balances):,} customers from "
                  f"{writers} writer threads[/dim]")
    result = run_payments(db, clock, zone, plan, payers, writers)
    share = baseline_share(plan, min(payments, baseline_payments))
    console.print(f"[dim]bench: naive baseline: the {len(share):,} payments of the first customers, one at a "
                  f"time[/dim]")
    baseline = naive_payments(db, clock, zone, plan, copies, share)
    base_rate = float(baseline["payments_per_s"])
    result["ok"] = _balances_held(result) and result["payments"] == payments
    baseline["ok"] = _balances_held(baseline)
    head = {key: result.pop(key) for key in ("payments", "writers", "seconds", "payments_per_s", "committed",
                                             "committed_per_s", "refused", "negative_wallets", "ok")}
    return {**head, "baseline_payments_per_s": base_rate,
            "ratio": round(head["payments_per_s"] / base_rate, 1) if base_rate > 0 else None,
            **result, "baseline": baseline}


def run_fund_bench(*, holders: int = DEFAULT_HOLDERS, payments: int = DEFAULT_PAYMENTS,
                   writers: int = DEFAULT_WRITERS, json_output: bool = False, database_url: str | None = None,
                   seed: int = 1, baseline_holders: int = BASELINE_HOLDERS,
                   baseline_payments: int = BASELINE_PAYMENTS) -> dict[str, Any]:
    """Run the benchmark; returns (and prints) one object starting with ``holders``, ``seconds``,
    ``holders_per_s``, ``day_total_fen``, ``distributed_fen``, ``ok``, ``baseline_holders_per_s``, ``ratio``,
    then the detail, ``payments`` (the wallet payments and their baseline; absent with ``payments=0``),
    ``book_problems``, ``targets`` and ``machine``.

    Raises :class:`BenchError` when the benchmark cannot run; a missed target or a failed check is
    reported, not raised."""
    from fanbase.clock import SystemClock
    from fanbase.config import Settings
    from fanbase.ledger import service as ledger

    if holders < 1 or payments < 0 or writers < 1 or baseline_holders < 1 or baseline_payments < 1:
        raise ValueError("holders >= 1, payments >= 0, writers >= 1")
    console = _stderr_console()
    clock = SystemClock()
    zone = Settings().zone
    with bench_database(database_url, "fanbase-bench-fund-") as db:
        _require_no_holders(db)
        result = _distribution(db, clock, zone, holders, seed, console, baseline_holders)
        if payments:
            result["payments"] = _payments(db, clock, zone, payments, writers, seed, console, baseline_payments)
        console.print("[dim]bench: checking the books[/dim]")
        with db.read() as s:
            problems = ledger.book_problems(s)
    result["book_problems"] = problems[:20]
    result["book_problem_count"] = len(problems)
    result["machine"] = machine_info(database_url=database_url, workers=1)
    result["targets"] = _targets(result)
    result["machine"] = result.pop("machine")  # last, as in the other benchmarks
    emit(result, json_output, lambda: print_report(result))
    return result


def _targets(result: dict[str, Any]) -> dict[str, Any]:
    targets: dict[str, Any] = {"distribution_max_s": MAX_SECONDS,
                               "distribution_met": result["ok"] and result["seconds"] <= MAX_SECONDS
                               and result["holders"] >= TARGET_HOLDERS,
                               "payments_min_per_s": MIN_PAYMENTS_PER_S}
    paid = result.get("payments")
    targets["payments_met"] = bool(paid and paid["ok"] and paid["committed_per_s"] >= MIN_PAYMENTS_PER_S
                                   and paid["writers"] >= TARGET_WRITERS)
    notes = []
    if result["machine"]["database"] != "sqlite":
        notes.append("the targets are for SQLite")
    if result["holders"] < TARGET_HOLDERS:
        notes.append(f"the distribution target is for {TARGET_HOLDERS:,} holders")
    if not paid or paid["writers"] < TARGET_WRITERS:
        notes.append(f"the payments target is for {TARGET_WRITERS} concurrent writers")
    targets["note"] = "; ".join(notes)
    return targets


def print_report(r: dict[str, Any]) -> None:
    from rich.table import Table

    console = report_console()

    b = r["baseline"]
    table = Table(title=f"Money-market income of {r['day']} to {r['holders']:,} holders at {r['rate_e4'] / 10_000:.4f} "
                        f"per 10,000 units ({r['machine']['database']})")
    table.add_column("measure")
    table.add_column("Fanbase (set-based SQL)", justify="right")
    table.add_column("naive baseline (ORM loop)", justify="right")
    table.add_row("holders", f"{r['holders']:,}", f"{b['holders']:,}")
    table.add_row("time (one transaction, commit included)", f"{r['seconds']:.2f} s", f"{b['seconds']:.2f} s")
    table.add_row("holders / s", f"{r['holders_per_s']:,.0f}", f"{b['holders_per_s']:,.0f}")
    table.add_row("ratio", f"[bold]{r['ratio']}x[/bold]" if r["ratio"] else "-", "1x")
    table.add_row("day's total (fen)", f"{r['day_total_fen']:,}", f"{b['day_total_fen']:,}")
    table.add_row("distributed (fen)", f"{r['distributed_fen']:,}", f"{b['distributed_fen']:,}")
    table.add_row("distributed == day's total, to the fen", mark(r["ok"]), mark(b["ok"]))
    table.add_row("lines differing from the rule", zero(r["mismatched_lines"]), "")
    console.print(table)
    console.print(f"[dim]leftover fen handed out: {r['leftover_fen']:,}; ledger: holders credited "
                  f"{r['ledger_credited_fen']:,}, pool debited {r['pool_debited_fen']:,}[/dim]")
    p = r.get("payments")
    if p:
        pb = p["baseline"]
        table = Table(title=f"Wallet payments: {p['payments']:,} by {p['customers']:,} customers "
                            f"(balances cover {COVERED:.0%} of their spend)")
        table.add_column("measure")
        table.add_column(f"wallet.pay, {p['writers']} writers", justify="right")
        table.add_column("naive check-then-act, 1 writer", justify="right")
        table.add_row("payments", f"{p['payments']:,}", f"{pb['payments']:,}")
        table.add_row("time", f"{p['seconds']:.2f} s", f"{pb['seconds']:.2f} s")
        table.add_row("payments answered / s", f"{p['payments_per_s']:,.0f}", f"{pb['payments_per_s']:,.0f}")
        table.add_row("committed / s", f"{p['committed_per_s']:,.0f}", f"{pb['committed_per_s']:,.0f}")
        table.add_row("ratio (answered / s)", f"[bold]{p['ratio']}x[/bold]" if p["ratio"] else "-", "1x")
        table.add_row("refused: insufficient funds", f"{p['refused']:,}", f"{pb['refused']:,}")
        table.add_row("refused: tier limit", f"{p['limit_refused']:,}", f"{pb['limit_refused']:,}")
        table.add_row("wallets below zero", zero(p["negative_wallets"]), zero(pb["negative_wallets"]))
        table.add_row("paid == revenue gained", mark(p["paid_fen"] == p["revenue_gained_fen"]),
                      mark(pb["paid_fen"] == pb["revenue_gained_fen"]))
        table.add_row("errors", zero(p["errors"]), zero(pb["errors"]))
        console.print(table)
    console.print(f"books: {zero(r['book_problem_count'])} problem(s)"
                  + "".join(f"\n  - {line}" for line in r["book_problems"]))
    t = r["targets"]
    console.print(f"target: {TARGET_HOLDERS:,} holders in <= {t['distribution_max_s']:g} s, exact: "
                  f"{mark(t['distribution_met'])}; >= {t['payments_min_per_s']:,.0f} committed payments / s "
                  f"from {TARGET_WRITERS} writers, balances held: {mark(t['payments_met'])}")
    if t["note"]:
        console.print(f"[dim]({t['note']})[/dim]")
    m = r["machine"]
    console.print(f"[dim]{m['cpu_model']} x {m['cpu_count']}, {m['memory_total_gib']} GiB, {m['platform']}, "
                  f"{m['python']}[/dim]")
