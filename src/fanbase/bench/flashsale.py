"""``fanbase bench flash-sale``: a whole flash sale through the production code path, and the same
workload through a naive baseline measured in the same run on the same database.

Importing this module has no side effects; everything happens in :func:`run_flash_sale_bench`.

The workload: ``customers`` fans, all reserved, each trying once in random order, plus 10% of them
trying a second time (retries), for a sale of ``units`` units at one per customer.

- **engine**: ``flashsale.service.attempt`` called in-process with the ``InProcessGate`` and the
  ``GroupCommitWriter`` the server uses, by several caller threads, each keeping many purchase calls in
  flight (as an event loop with many connections does): a call answers at once when refused, or when
  its order is committed.
- **http**: ``fanbase serve`` in its own process, and the load generator (``fanbase.bench.loadgen``,
  scenario ``flash_sale``) in another, over loopback, one bearer token per fan.
- **baseline** (both modes): the same attempts in the same order, each one database transaction that
  locks a stock row (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), checks
  the reservation, the per-customer limit and the stock, decrements it and inserts the order, its line,
  its event and the purchase row (the same rows the engine writes), with one call at a time per thread.
  It runs until the sale is sold out or for ``baseline_seconds``; its rate is orders committed per
  second of that time.

Customers and reservations are inserted in bulk with Core statements and a fixed dummy password hash
(no argon2), so a million fans take seconds. After each run the database is checked: units sold, live
units above the sale's units (``oversold``), customers above the per-customer limit
(``duplicate_winners``), fans told they won without a committed order (``lost_winners``), and attempts
never answered (``unanswered``).
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from fanbase.bench.api import (
    HOST,
    BenchError,
    _check_alive,
    _Deadline,
    _free_port,
    _run_cli,
    _server_env,
    _stderr_console,
    _stop_server,
    _tail,
    _wait_until_ready,
    emit,
    machine_info,
)
from fanbase.bench.bulk import CHUNK, bench_database, insert_users, mark, report_console, zero
from fanbase.bench.bulk import progress_bar as _progress
from fanbase.bench.bulk import setup_frozen as _setup_frozen
from fanbase.bench.loadgen import FLASH_SALE_ROUTE, percentile

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from fanbase.clock import Clock
    from fanbase.db import Database
    from fanbase.flashsale.gate import Decision, Gate
    from fanbase.orders.service import PlacedOrder

MODES = ("engine", "http", "both")
#: (units, customers) when neither is given: about 30 s for ``--mode both`` on a 2-core machine
DEFAULT_SIZES = {"engine": (10_000, 100_000), "http": (2_000, 20_000)}
RETRY_FRACTION = 0.10
PRICE_FEN = 399_900
PER_CUSTOMER_LIMIT = 1
API = "/api/v1"
STAFF_PASSWORD = "bench-password-1"
TOKEN_TTL_SECONDS = 24 * 3600

#: Targets from issue 4 (a 2-core machine); checked and printed with every run.
ENGINE_MAX_SECONDS = 5.0  # U=100,000, C=1,000,000 answered, every winner committed (SQLite)
MIN_RATIO = 10.0
HTTP_MAX_SELL_OUT_S = 15.0  # U=100,000
HTTP_MAX_P99_MS = 250.0


# --------------------------------------------------------------------------------------------
# The sale and its fans, in bulk
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What a run needs: the sale, the baseline's own sale and stock row, the fans (all reserved)."""

    sale_id: int
    units: int
    sku: str
    baseline_sale_id: int
    baseline_level_id: int
    customer_ids: list[int]


def create_catalogue(db: Database, clock: Clock, tag: str, units: int) -> tuple[str, str, int]:
    """A product with two SKUs in its own warehouse: one for the sale, one for the baseline's stock
    row (``units`` on hand each). Names carry ``tag`` so that a reused PostgreSQL database is fine."""
    from sqlalchemy import select

    from fanbase.catalog import service as catalog
    from fanbase.inventory import service as inventory
    from fanbase.inventory.models import StockLevel

    sale_sku, baseline_sku, slug = f"FB-{tag}-SALE", f"FB-{tag}-NAIVE", f"bench-{tag}"
    with db.uow() as s:
        catalog.create_brand(s, slug=slug, name="Bench", name_en="Bench")
        catalog.create_category(s, slug=slug, name="Bench", name_en="Bench")
        inventory.create_location(s, code=slug, name="Bench warehouse", priority=1)
        catalog.create_product(s, clock, slug=f"{slug}-phone", name="发布会手机", name_en="Launch phone",
                               brand=slug, category=slug, description="flash-sale benchmark",
                               variants=[catalog.NewVariant(sale_sku, "12+256GB", PRICE_FEN, 1),
                                         catalog.NewVariant(baseline_sku, "12+256GB (baseline)", PRICE_FEN, 1)])
        for sku in (sale_sku, baseline_sku):
            inventory.set_on_hand(s, clock, sku=sku, location_code=slug, on_hand=units)
        level_id = int(s.scalar(select(StockLevel.id).where(StockLevel.sku == baseline_sku)) or 0)
    return sale_sku, baseline_sku, level_id


def insert_reservations(db: Database, clock: Clock, sale_id: int, customer_ids: Sequence[int],
                        progress: Progress | None) -> None:
    from sqlalchemy import Table

    from fanbase.db import insert_rows, next_ids
    from fanbase.flashsale.models import Reservation

    table: Table = Reservation.__table__  # type: ignore[assignment]
    now = clock.now()
    task = progress.add_task(f"{len(customer_ids):,} reservations", total=len(customer_ids)) if progress else None
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start:start + CHUNK]
        with db.uow() as s:
            ids = next_ids(s, table, len(chunk))
            insert_rows(s, table, ("id", "sale_id", "customer_id", "created_at"),
                        [(row_id, sale_id, customer_id, now) for row_id, customer_id in zip(ids, chunk, strict=True)])
        if progress is not None and task is not None:
            progress.advance(task, len(chunk))


def create_baseline_sale(db: Database, clock: Clock, sku: str, units: int, staff_id: int | None) -> int:
    """A sale row for the baseline's purchases (the baseline keeps its stock in a stock row instead)."""
    from fanbase.flashsale.models import FlashSale

    now = clock.now()
    with db.uow() as s:
        sale = FlashSale(sku=sku, units=units, price_fen=PRICE_FEN, reservations_open_at=now - timedelta(hours=1),
                         starts_at=now, ends_at=now + timedelta(days=1), per_customer_limit=PER_CUSTOMER_LIMIT,
                         payment_window_seconds=15 * 60, mode="first_come", require_purchase_token=False,
                         created_by=staff_id, created_at=now)
        s.add(sale)
        s.flush()
        return sale.id


def prepare_engine_sale(db: Database, clock: Clock, units: int, customers: int, progress: Progress) -> Prepared:
    from fanbase.flashsale import service as flash

    tag = uuid.uuid4().hex[:8]
    sku, baseline_sku, level_id = create_catalogue(db, clock, tag, units)
    (staff_id,) = insert_users(db, clock, tag, 1, None, kind="staff", role="operator")
    now = clock.now()
    with db.uow() as s:
        sale_id = flash.create_sale(s, clock, flash.SaleSpec(
            sku=sku, units=units, price_fen=PRICE_FEN, reservations_open_at=now - timedelta(hours=1), starts_at=now,
            ends_at=now + timedelta(days=1), per_customer_limit=PER_CUSTOMER_LIMIT), staff_id).id
    customer_ids = insert_users(db, clock, tag, customers, progress)
    insert_reservations(db, clock, sale_id, customer_ids, progress)
    baseline_sale_id = create_baseline_sale(db, clock, baseline_sku, units, staff_id)
    return Prepared(sale_id=sale_id, units=units, sku=sku, baseline_sale_id=baseline_sale_id,
                    baseline_level_id=level_id, customer_ids=customer_ids)


def attempt_order(customer_ids: Sequence[int], seed: int, retry_fraction: float = RETRY_FRACTION) -> list[int]:
    """Every fan once, plus ``retry_fraction`` of them (distinct, chosen at random) a second time, shuffled."""
    rng = random.Random(seed)
    attempts = list(customer_ids)
    attempts.extend(rng.sample(list(customer_ids), int(len(customer_ids) * retry_fraction)))
    rng.shuffle(attempts)
    return attempts


# --------------------------------------------------------------------------------------------
# Checking the outcome in the database
# --------------------------------------------------------------------------------------------


def check_sale(db: Database, sale_id: int, units: int, limit: int, acknowledged: Sequence[int]) -> dict[str, int]:
    """What is committed: units sold, oversold units, customers over the limit, acknowledged winners
    (order ids a fan was given) without a committed order and purchase."""
    from sqlalchemy import func, select

    from fanbase.flashsale.models import Purchase
    from fanbase.orders.models import Order

    with db.read() as s:
        live = Purchase.sale_id == sale_id, Purchase.released_at.is_(None)
        sold = int(s.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0)).where(*live)) or 0)
        per_customer = select(Purchase.customer_id).where(*live).group_by(Purchase.customer_id) \
            .having(func.sum(Purchase.quantity) > limit).subquery()
        over_limit = int(s.scalar(select(func.count()).select_from(per_customer)) or 0)
        committed = set(s.scalars(select(Purchase.order_id).join(Order, Order.id == Purchase.order_id)
                                  .where(Purchase.sale_id == sale_id)))
    return {"units_sold": sold, "oversold": max(0, sold - units), "duplicate_winners": over_limit,
            "lost_winners": len(set(acknowledged) - committed)}


# --------------------------------------------------------------------------------------------
# Engine mode: the production hot path in-process
# --------------------------------------------------------------------------------------------


def run_engine(db: Database, clock: Clock, prepared: Prepared, attempts: Sequence[int], *, threads: int,
               in_flight: int, redis_url: str | None = None) -> dict[str, Any]:
    """Every attempt through ``flashsale.service.attempt``; winners through the group-commit writer.

    ``threads`` callers share the attempts; each keeps up to ``in_flight / threads`` won calls waiting
    for their commit while it goes on with the next attempts, as an event loop serving many connections
    does. A call's latency runs from the call to its answer: the refusal, or the commit of its order.
    The gate is the in-process one, or with ``redis_url`` the Redis gate (as ``fanbase serve`` chooses),
    under keys of this run's own (removed afterwards)."""
    from fanbase.flashsale.gate import InProcessGate

    if not redis_url:
        return _run_engine(db, clock, prepared, attempts, InProcessGate(), threads=threads, in_flight=in_flight)
    from fanbase.flashsale.redis_gate import RedisGate

    gate = RedisGate(redis_url, db, prefix=f"fanbase:bench:{uuid.uuid4().hex[:12]}")
    try:
        gate.rebuild(prepared.sale_id)  # what the first attempt of the sale does, before the sale opens
        return _run_engine(db, clock, prepared, attempts, gate, threads=threads, in_flight=in_flight)
    finally:
        for key in gate.redis.scan_iter(match=gate.keys(prepared.sale_id).prefix + "*"):
            gate.redis.delete(key)


def _run_engine(db: Database, clock: Clock, prepared: Prepared, attempts: Sequence[int], gate: Gate, *,
                threads: int, in_flight: int) -> dict[str, Any]:
    from fanbase.errors import DomainError
    from fanbase.flashsale import service as flash
    from fanbase.flashsale.writer import GroupCommitWriter
    from fanbase.orders.service import OrderPolicy

    policy = OrderPolicy()
    writer = GroupCommitWriter(db, clock, gate, lambda: policy)
    with db.uow() as s:  # what a server does on its first purchase (start-up), before the sale opens
        state = flash.ensure_loaded(s, gate, prepared.sale_id)
    writer.start()
    perf = time.perf_counter
    started = threading.Barrier(threads + 1)
    secret = "bench"  # the sale takes no purchase token
    # per caller: refusal latencies, refusal codes, when its last refusal was answered, and the answers
    # of its won calls, appended by the writer thread (list.append is atomic): (answered, began, order id
    # or None, error code or None)
    refused: list[tuple[array[float], Counter[str], float]] = []
    answers: list[list[tuple[float, float, int | None, str | None]]] = [[] for _ in range(threads)]

    def answered(mine: list[tuple[float, float, int | None, str | None]], began: float,
                 future: Future[PlacedOrder]) -> None:
        error = future.exception()
        if error is None:
            mine.append((perf(), began, future.result().id, None))
        else:
            mine.append((perf(), began, None, getattr(error, "code", type(error).__name__)))

    def caller(index: int) -> None:
        window = max(1, in_flight // threads)
        mine = answers[index]
        latencies = array("d")
        record = latencies.append  # the harness's own cost per call: two clock reads and two appends
        codes: list[str] = []
        refuse = codes.append
        attempt, submit = flash.try_purchase, writer.submit
        last = 0.0
        sent = 0
        started.wait()
        for customer_id in itertools.islice(attempts, index, None, threads):  # no copy for the GC to scan
            if sent - len(mine) >= window:  # this caller's calls in flight: wait for some answers
                while sent - len(mine) >= window:
                    time.sleep(0.0005)
            began = perf()
            outcome: Future[PlacedOrder] | Decision | DomainError
            try:
                outcome = attempt(gate, submit, clock, secret, state, customer_id, 1, None)
            except DomainError as error:  # not expected here (no token, valid quantity): counted all the same
                outcome = error
            if not isinstance(outcome, Future):
                last = perf()
                record(last - began)
                refuse(outcome.code if isinstance(outcome, DomainError) else outcome.value)
                continue
            sent += 1
            outcome.add_done_callback(partial(answered, mine, began))
        while len(mine) < sent:
            time.sleep(0.0005)
        refused.append((latencies, Counter(codes), last))

    workers = [threading.Thread(target=caller, args=(i,), name=f"bench-caller-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    started.wait()
    t0 = perf()
    for worker in workers:
        worker.join()
    writer.stop()
    latencies = array("d")
    outcomes: Counter[str] = Counter()
    won_orders: list[int] = []
    last_answer = last_win = t0
    for part, codes, last in refused:
        latencies.extend(part)
        outcomes.update(codes)
        last_answer = max(last_answer, last)
    for done, began, order_id, code in itertools.chain.from_iterable(answers):
        latencies.append(done - began)
        last_answer = max(last_answer, done)
        if order_id is not None:
            won_orders.append(order_id)
            last_win = max(last_win, done)
        else:
            outcomes[code or "error"] += 1
    outcomes["won"] = len(won_orders)
    ordered = sorted(latencies)
    answered_s = last_answer - t0
    sell_out_s = last_win - t0
    check = check_sale(db, prepared.sale_id, prepared.units, PER_CUSTOMER_LIMIT, won_orders)
    return {
        "sell_out_s": round(sell_out_s, 3),
        "answered_s": round(answered_s, 3),
        "attempts": len(attempts),
        "answered": len(ordered),
        "unanswered": len(attempts) - len(ordered),
        "attempts_per_s": round(len(ordered) / answered_s, 1) if answered_s > 0 else 0.0,
        "orders_per_s": round(len(won_orders) / sell_out_s, 1) if sell_out_s > 0 else 0.0,
        "p50_ms": round(percentile(ordered, 50) * 1000, 3),
        "p99_ms": round(percentile(ordered, 99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3) if ordered else 0.0,
        "outcomes": dict(sorted(outcomes.items())),
        "won": len(won_orders),
        "writer_batches": writer.batches,
        **check,
    }


# --------------------------------------------------------------------------------------------
# The naive baseline: one transaction per attempt, locking the stock row
# --------------------------------------------------------------------------------------------


class NaiveStatements:
    """The baseline's statements, built once (Core, on tables: SQLAlchemy caches their compiled form), so
    that the baseline pays for its transactions, not for building statements."""

    def __init__(self) -> None:
        from sqlalchemy import Table, bindparam, func, insert, select, update

        from fanbase.flashsale.models import Purchase, Reservation
        from fanbase.inventory.models import StockLevel
        from fanbase.orders.models import Order, OrderEvent, OrderLine

        levels, reservations, purchases = (StockLevel.__table__, Reservation.__table__, Purchase.__table__)
        orders, lines, events = Order.__table__, OrderLine.__table__, OrderEvent.__table__
        assert isinstance(levels, Table) and isinstance(reservations, Table) and isinstance(purchases, Table)
        assert isinstance(orders, Table) and isinstance(lines, Table) and isinstance(events, Table)
        self.lock = (select(levels.c.on_hand - levels.c.allocated).where(levels.c.id == bindparam("level"))
                     .with_for_update())  # SQLite has no FOR UPDATE: its BEGIN IMMEDIATE locks the database
        self.reserved = select(reservations.c.id).where(reservations.c.sale_id == bindparam("sale"),
                                                        reservations.c.customer_id == bindparam("customer"))
        self.bought = select(func.coalesce(func.sum(purchases.c.quantity), 0)).where(
            purchases.c.sale_id == bindparam("naive_sale"), purchases.c.customer_id == bindparam("customer"),
            purchases.c.released_at.is_(None))
        self.take = (update(levels).where(levels.c.id == bindparam("level"))
                     .values(allocated=levels.c.allocated + 1))
        self.order = insert(orders).returning(orders.c.id)
        self.number = update(orders).where(orders.c.id == bindparam("order")).values(number=bindparam("value"))
        self.line = insert(lines)
        self.event = insert(events)
        self.purchase = insert(purchases)


def naive_attempt(db: Database, clock: Clock, prepared: Prepared, customer_id: int, day: str,
                  q: NaiveStatements) -> str:
    """Lock the stock row, check reservation, limit and stock, decrement, insert the order (then its
    number), its line, its event and the purchase: one transaction, as a naive seckill does. Returns
    ``won`` or the refusal's code."""
    from fanbase.orders.models import PENDING_PAYMENT
    from fanbase.orders.service import order_number

    with db.uow() as s:  # SQLite: BEGIN IMMEDIATE; PostgreSQL: the FOR UPDATE below
        c = s.connection()
        available = c.execute(q.lock, {"level": prepared.baseline_level_id}).scalar_one()
        if c.execute(q.reserved, {"sale": prepared.sale_id, "customer": customer_id}).first() is None:
            return "not_reserved"
        bought = c.execute(q.bought, {"naive_sale": prepared.baseline_sale_id, "customer": customer_id}).scalar()
        if int(bought or 0) + 1 > PER_CUSTOMER_LIMIT:
            return "limit_exceeded"
        if available < 1:
            return "sold_out"
        c.execute(q.take, {"level": prepared.baseline_level_id})
        now = clock.now()
        order_id = c.execute(q.order, {
            "customer_id": customer_id, "status": PENDING_PAYMENT, "payment_method": "gateway",
            "total_fen": PRICE_FEN, "currency": "CNY", "payment_due_at": now + timedelta(minutes=15),
            "shipping_address": {}, "source": "flash_sale", "created_at": now, "updated_at": now}).scalar_one()
        c.execute(q.number, {"order": order_id, "value": order_number(day, order_id)})
        c.execute(q.line, {"order_id": order_id, "sku": prepared.sku, "name": "发布会手机 12+256GB", "quantity": 1,
                           "unit_price_fen": PRICE_FEN})
        c.execute(q.event, {"order_id": order_id, "kind": "created", "status": PENDING_PAYMENT,
                            "detail": {"source": "flash_sale"}, "at": now})
        c.execute(q.purchase, {"sale_id": prepared.baseline_sale_id, "customer_id": customer_id,
                               "order_id": order_id, "quantity": 1, "created_at": now, "returned": False})
    return "won"


def run_baseline(db: Database, clock: Clock, prepared: Prepared, attempts: Sequence[int], *, threads: int,
                 max_seconds: float) -> dict[str, Any]:
    """The same attempts in the same order until sold out (or ``max_seconds``), ``threads`` at a time."""
    from fanbase.errors import DomainError
    from fanbase.orders.service import OrderPolicy

    day = clock.now().astimezone(OrderPolicy().zone).strftime("%Y%m%d")
    statements = NaiveStatements()
    next_index = itertools.count()
    stop = threading.Event()
    lock = threading.Lock()
    latencies = array("d")
    outcomes: Counter[str] = Counter()
    perf = time.perf_counter
    deadline = perf() + max_seconds
    last_win = [0.0]

    def worker() -> None:
        mine = array("d")
        counts: Counter[str] = Counter()
        while not stop.is_set():
            index = next(next_index)
            if index >= len(attempts) or perf() >= deadline:
                break
            begun = perf()
            try:
                outcome = naive_attempt(db, clock, prepared, attempts[index], day, statements)
            except DomainError as error:
                outcome = error.code
            except Exception as error:  # a database error is an answer too (503 in a server)
                outcome = type(error).__name__
            ended = perf()
            mine.append(ended - begun)
            counts[outcome] += 1
            if outcome == "won":
                last_win[0] = max(last_win[0], ended)
            elif outcome == "sold_out":
                stop.set()  # nothing comes back during the run: everyone after this is refused too
        with lock:
            latencies.extend(mine)
            outcomes.update(counts)

    workers = [threading.Thread(target=worker, name=f"bench-baseline-{i}") for i in range(threads)]
    t0 = perf()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = perf() - t0
    won = outcomes.get("won", 0)
    sold_out = outcomes.get("sold_out", 0) > 0
    measured = (last_win[0] - t0) if sold_out and won else elapsed
    ordered = sorted(latencies)
    check = check_sale(db, prepared.baseline_sale_id, prepared.units, PER_CUSTOMER_LIMIT, [])
    return {
        "orders_per_s": round(won / measured, 1) if measured > 0 else 0.0,
        "orders": won,
        "sold_out": sold_out,
        "seconds": round(measured, 3),
        "attempts": len(ordered),
        "attempts_per_s": round(len(ordered) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(ordered, 50) * 1000, 3),
        "p99_ms": round(percentile(ordered, 99) * 1000, 3),
        "outcomes": dict(sorted(outcomes.items())),
        "threads": threads,
        "max_seconds": max_seconds,
        "oversold": check["oversold"],
        "duplicate_winners": check["duplicate_winners"],
    }


# --------------------------------------------------------------------------------------------
# HTTP mode: ``fanbase serve`` and the load generator, each in its own process
# --------------------------------------------------------------------------------------------


def _issue_tokens(secret: str, clock: Clock, customer_ids: Sequence[int], progress: Progress) -> list[str]:
    from fanbase.accounts.models import User
    from fanbase.accounts.service import issue_token

    now = clock.now()
    task = progress.add_task(f"{len(customer_ids):,} bearer tokens", total=len(customer_ids))
    tokens: list[str] = []
    step = max(1, len(customer_ids) // 100)
    fan = User(id=0, kind="customer", role=None)  # one unsaved account object, given each fan's id in turn
    for i, customer_id in enumerate(customer_ids):
        fan.id = customer_id
        tokens.append(issue_token(secret, fan, now, TOKEN_TTL_SECONDS))
        if (i + 1) % step == 0:
            progress.advance(task, step)
    progress.update(task, completed=len(customer_ids))
    return tokens


def _run_loadgen_file(scenario: dict[str, Any], env: dict[str, str], directory: Path,
                      deadline: _Deadline, budget: float) -> dict[str, Any]:
    from fanbase.bench.loadgen import json_dumps

    path = directory / "flash-sale-scenario.json"
    path.write_bytes(json_dumps(scenario))
    timeout = deadline.remaining(budget)
    try:
        proc = subprocess.run([sys.executable, "-m", "fanbase.bench.loadgen", "--scenario", str(path)],
                              capture_output=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"the load generator (flash_sale) did not finish within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise BenchError(f"the load generator (flash_sale) failed (exit {proc.returncode}):\n"
                         + _tail(proc.stderr.decode(errors="replace")))
    try:
        result: dict[str, Any] = json.loads(proc.stdout)
    except ValueError as exc:
        raise BenchError(f"the load generator printed no JSON: {proc.stdout[:500]!r}") from exc
    return result


def _api_json(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise BenchError(f"{what}: expected HTTP {status}, got {response.status_code}: {response.text[:500]}")
    return response.json()


def run_http(units: int, customers: int, *, connections: int, seed: int, database_url: str | None,
             baseline_threads: int, baseline_seconds: float, console: Console,
             deadline: _Deadline) -> dict[str, Any]:
    """Serve in one process, drive it from another; then the baseline on the same database."""
    import httpx

    from fanbase.clock import SystemClock
    from fanbase.db import Database

    tmp = Path(tempfile.mkdtemp(prefix="fanbase-bench-flash-"))
    server: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    db: Database | None = None
    clock = SystemClock()
    try:
        env = _server_env(tmp, database_url)
        secret = secrets.token_urlsafe(48)
        env["FANBASE_SECRET_KEY"] = secret  # the tokens are issued here, with the server's key
        # Every fan comes from the load generator's one loopback address: the per-address limit stays on
        # (it is counted on every request) but high enough not to refuse them. The per-fan limit is as set.
        env["FANBASE_PURCHASE_RATE_PER_IP"] = str(10**9)
        console.print(f"[dim]bench: http: data dir {tmp}; creating staff user (migrates the database)[/dim]")
        tag = uuid.uuid4().hex[:8]
        staff_email = f"bench-flash-{tag}@fanbase.test"  # unique: a PostgreSQL database may be reused
        _run_cli(["create-staff", staff_email, "--password", STAFF_PASSWORD, "--role", "operator"], env,
                 timeout=deadline.remaining(120.0))
        db = Database(database_url or f"sqlite:///{(tmp / 'fanbase.sqlite3').resolve()}")
        sku, baseline_sku, level_id = create_catalogue(db, clock, tag, units)
        with _progress(console) as progress:
            customer_ids = insert_users(db, clock, tag, customers, progress)
            tokens = _issue_tokens(secret, clock, customer_ids, progress)

        port = _free_port()
        log_path = tmp / "server.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed in the finally block
        console.print(f"[dim]bench: http: starting fanbase serve on {HOST}:{port}[/dim]")
        server = subprocess.Popen([sys.executable, "-m", "fanbase", "serve", "--host", HOST, "--port", str(port)],
                                  env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        base_url = f"http://{HOST}:{port}"
        _wait_until_ready(server, base_url, log_path, deadline)

        with httpx.Client(base_url=base_url + API, timeout=60.0, trust_env=False) as client:
            login = _api_json(client.post("/auth/login", json={"email": staff_email, "password": STAFF_PASSWORD}),
                              200, "staff login")
            staff = {"Authorization": f"Bearer {login['token']}"}
            now = clock.now()
            starts_at = now + timedelta(seconds=1)
            body = {"sku": sku, "units": units, "price_fen": PRICE_FEN,
                    "reservations_open_at": now.isoformat(), "starts_at": starts_at.isoformat(),
                    "ends_at": (now + timedelta(days=1)).isoformat(), "per_customer_limit": PER_CUSTOMER_LIMIT,
                    "payment_window_seconds": 15 * 60}
            sale_id = int(_api_json(client.post("/admin/flash-sales", json=body, headers=staff), 201,
                                    "POST /admin/flash-sales")["id"])
            with _progress(console) as progress:
                insert_reservations(db, clock, sale_id, customer_ids, progress)
            _sleep_until(clock, starts_at)
            redis_url = env.get("FANBASE_REDIS_URL")
            if redis_url:  # the server's Redis gate: keys a former run left for a sale with this id go first
                _forget_sale_in_redis(redis_url, sale_id)
            # Staff are not reserved: this answers 403 and makes the server load the sale's gate from the
            # database (what the first purchase of a live sale does), outside the measured run.
            warm = client.post(f"/flash-sales/{sale_id}/purchase", json={"quantity": 1}, headers=staff)
            if warm.status_code != 403:
                raise BenchError(f"warming the gate: expected 403 not_reserved, got {warm.status_code}: "
                                 f"{warm.text[:300]}")
        prepared = Prepared(sale_id=sale_id, units=units, sku=sku,
                            baseline_sale_id=create_baseline_sale(db, clock, baseline_sku, units, None),
                            baseline_level_id=level_id, customer_ids=customer_ids)
        attempts = attempt_order(range(len(customer_ids)), seed)  # indices into tokens / customer_ids
        console.print(f"[dim]bench: http: {len(attempts):,} purchase attempts over {connections} connections[/dim]")
        max_time = max(120.0, len(attempts) / 500)
        scenario = {"scenario": "flash_sale", "host": HOST, "port": port, "base_path": API, "sale_id": sale_id,
                    "tokens": tokens, "attempts": attempts, "concurrency": connections,
                    "max_time": max_time}
        run = _run_loadgen_file(scenario, env, tmp, deadline, budget=max_time + 120.0)
        _check_alive(server, log_path, "during the flash sale")
        _stop_server(server)
        server = None
        if env.get("FANBASE_REDIS_URL"):
            _forget_sale_in_redis(env["FANBASE_REDIS_URL"], sale_id)

        sale = run["flash_sale"]
        route = run["routes"][FLASH_SALE_ROUTE]
        won_orders = [int(x) for x in sale["won_order_ids"]]
        check = check_sale(db, sale_id, units, PER_CUSTOMER_LIMIT, won_orders)
        sell_out_s = float(sale["last_win_s"])
        answered = int(sale["answered"])
        elapsed = float(run["duration_s"])
        result: dict[str, Any] = {
            "sell_out_s": round(sell_out_s, 3),
            "answered_s": round(elapsed, 3),
            "attempts": len(attempts),
            "answered": answered,
            "unanswered": len(attempts) - answered,
            "attempts_per_s": round(answered / elapsed, 1) if elapsed > 0 else 0.0,
            "orders_per_s": round(len(won_orders) / sell_out_s, 1) if sell_out_s > 0 else 0.0,
            "p50_ms": route["p50_ms"],
            "p99_ms": route["p99_ms"],
            "max_ms": route["max_ms"],
            "outcomes": sale["outcomes"],
            "won": len(won_orders),
            "connections": run["concurrency"],
            "connections_opened": run["connections_opened"],
            "gate": "redis" if env.get("FANBASE_REDIS_URL") else "in-process",
            "loadgen_cpu_util": run["client_cpu_util"],
            **check,
        }
        console.print(f"[dim]bench: http: baseline on the same database ({baseline_threads} threads, "
                      f"at most {baseline_seconds:g} s)[/dim]")
        result["baseline"] = run_baseline(db, clock, prepared, [customer_ids[i] for i in attempts],
                                          threads=baseline_threads, max_seconds=baseline_seconds)
        return result
    finally:
        if server is not None:
            _stop_server(server)
        if log is not None:
            log.close()
        if db is not None:
            db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def _forget_sale_in_redis(redis_url: str, sale_id: int) -> None:
    """Remove the server's Redis gate keys of ``sale_id`` (a fresh database numbers its sales from 1 again)."""
    from fanbase.flashsale.redis_gate import RedisGate

    gate = RedisGate(redis_url)
    for key in gate.redis.scan_iter(match=gate.keys(sale_id).prefix + "*"):
        gate.redis.delete(key)


def _sleep_until(clock: Clock, when: datetime) -> None:
    left = (when - clock.now()).total_seconds()
    if left > 0:
        time.sleep(left + 0.01)


# --------------------------------------------------------------------------------------------
# The whole benchmark
# --------------------------------------------------------------------------------------------


def run_engine_mode(units: int, customers: int, *, threads: int, in_flight: int, seed: int,
                    database_url: str | None, baseline_threads: int, baseline_seconds: float,
                    console: Console, redis_url: str | None = None) -> dict[str, Any]:
    from fanbase.clock import SystemClock

    clock = SystemClock()
    with bench_database(database_url, "fanbase-bench-flash-") as db:
        with _progress(console) as progress:
            prepared = prepare_engine_sale(db, clock, units, customers, progress)
        attempts = attempt_order(prepared.customer_ids, seed)
        console.print(f"[dim]bench: engine: {len(attempts):,} purchase attempts from {threads} threads, "
                      f"{in_flight} in flight, {'Redis' if redis_url else 'in-process'} gate[/dim]")
        with _setup_frozen():
            result = run_engine(db, clock, prepared, attempts, threads=threads, in_flight=in_flight,
                                redis_url=redis_url)
        result["threads"], result["in_flight"] = threads, in_flight
        result["gate"] = "redis" if redis_url else "in-process"
        console.print(f"[dim]bench: engine: baseline on the same database ({baseline_threads} threads, "
                      f"at most {baseline_seconds:g} s)[/dim]")
        with _setup_frozen():
            result["baseline"] = run_baseline(db, clock, prepared, attempts, threads=baseline_threads,
                                              max_seconds=baseline_seconds)
    return result


def _finish(mode: str, result: dict[str, Any], units: int, customers: int, database_url: str | None) -> dict[str, Any]:
    """The keys of issue 4 first, then the detail and the targets."""
    baseline = result.pop("baseline")
    base_rate = float(baseline["orders_per_s"])
    ratio = round(result["orders_per_s"] / base_rate, 1) if base_rate > 0 else None
    all_sold = result["units_sold"] == units
    targets: dict[str, Any] = {"ratio_min": MIN_RATIO, "ratio_met": ratio is not None and ratio >= MIN_RATIO}
    if mode == "engine":
        targets["answered_max_s"] = ENGINE_MAX_SECONDS
        targets["answered_met"] = result["answered_s"] <= ENGINE_MAX_SECONDS and all_sold
    else:
        targets["sell_out_max_s"] = HTTP_MAX_SELL_OUT_S
        targets["p99_max_ms"] = HTTP_MAX_P99_MS
        targets["sell_out_met"] = all_sold and result["sell_out_s"] <= HTTP_MAX_SELL_OUT_S
        targets["p99_met"] = result["p99_ms"] <= HTTP_MAX_P99_MS
    targets["note"] = ("targets are for units=100,000 and customers=1,000,000 on a 2-core machine"
                       if (units, customers) != (100_000, 1_000_000) else "")
    head = {key: result.pop(key) for key in ("sell_out_s", "attempts_per_s", "orders_per_s", "p50_ms", "p99_ms",
                                             "oversold", "duplicate_winners")}
    return {**head, "baseline_orders_per_s": base_rate, "ratio": ratio, "mode": mode, "units": units,
            "customers": customers, "all_units_sold": all_sold, **result, "baseline": baseline,
            "targets": targets, "machine": machine_info(database_url=database_url, workers=1)}


def sizes(mode: str, units: int | None, customers: int | None) -> tuple[int, int]:
    """The mode's default sizes when neither is given; else ten fans a unit for the one missing."""
    if units is None and customers is None:
        return DEFAULT_SIZES[mode]
    if customers is None:
        return int(units or 1), int(units or 1) * 10
    return (units if units is not None else max(1, customers // 10)), customers


def run_flash_sale_bench(*, units: int | None = None, customers: int | None = None, mode: str = "engine",
                         json_output: bool = False, database_url: str | None = None, threads: int = 2,
                         in_flight: int = 4000, connections: int = 256, baseline_threads: int = 8,
                         baseline_seconds: float = 10.0, seed: int = 1, redis_url: str | None = None,
                         overall_timeout: float | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and prints) the result: for ``engine`` or ``http`` one object, for
    ``both`` ``{"engine": {...}, "http": {...}}``. Each object starts with ``sell_out_s``,
    ``attempts_per_s``, ``orders_per_s``, ``p50_ms``, ``p99_ms``, ``oversold``, ``duplicate_winners``,
    ``baseline_orders_per_s``, ``ratio``, then the detail (``answered_s``, ``unanswered``,
    ``lost_winners``, ``units_sold``, ``outcomes``, ``baseline``, ``targets``, ``machine``...).
    Sizes: ``DEFAULT_SIZES`` of each mode when neither ``units`` nor ``customers`` is given. With
    ``redis_url`` the engine uses the Redis gate (the server chooses from its own FANBASE_REDIS_URL).

    Raises :class:`BenchError` when the benchmark cannot run; a missed target is reported, not raised."""
    if mode not in MODES:
        raise ValueError(f"mode is one of {', '.join(MODES)}")
    modes = ("engine", "http") if mode == "both" else (mode,)
    for each in modes:
        u, c = sizes(each, units, customers)
        if u < 1 or c < u:
            raise ValueError("units >= 1 and customers >= units")
    if threads < 1 or in_flight < 1 or connections < 1 or baseline_threads < 1:
        raise ValueError("threads, in_flight, connections and baseline_threads >= 1")
    console = _stderr_console()
    results: dict[str, Any] = {}
    if "engine" in modes:
        u, c = sizes("engine", units, customers)
        raw = run_engine_mode(u, c, threads=threads, in_flight=in_flight, seed=seed, database_url=database_url,
                              baseline_threads=baseline_threads, baseline_seconds=baseline_seconds, console=console,
                              redis_url=redis_url)
        results["engine"] = _finish("engine", raw, u, c, database_url)
    if "http" in modes:
        u, c = sizes("http", units, customers)
        deadline = _Deadline(overall_timeout or 600.0 + c / 200)
        raw = run_http(u, c, connections=connections, seed=seed, database_url=database_url,
                       baseline_threads=baseline_threads, baseline_seconds=baseline_seconds, console=console,
                       deadline=deadline)
        results["http"] = _finish("http", raw, u, c, database_url)
    result = results if mode == "both" else results[mode]
    emit(result, json_output, lambda: print_report(results))
    return result


def print_report(results: dict[str, dict[str, Any]]) -> None:
    from rich.table import Table

    console = report_console()

    for mode, r in results.items():
        b = r["baseline"]
        table = Table(title=f"Flash sale, {mode} mode: {r['units']:,} units, {r['customers']:,} reserved fans, "
                            f"{r['attempts']:,} attempts ({r['machine']['database']})")
        table.add_column("measure")
        table.add_column("Fanbase", justify="right")
        table.add_column("naive baseline", justify="right")
        table.add_row("sell-out time (last winner committed)", f"{r['sell_out_s']:.2f} s",
                      f"{b['seconds']:.2f} s" + ("" if b["sold_out"] else " (stopped, not sold out)"))
        table.add_row("all attempts answered", f"{r['answered_s']:.2f} s", "")
        table.add_row("attempts answered / s", f"{r['attempts_per_s']:,.0f}", f"{b['attempts_per_s']:,.0f}")
        table.add_row("durable orders / s", f"{r['orders_per_s']:,.0f}", f"{b['orders_per_s']:,.0f}")
        table.add_row("purchase call p50 / p99", f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms",
                      f"{b['p50_ms']:.2f} / {b['p99_ms']:.2f} ms")
        table.add_row("ratio (orders / s)", f"[bold]{r['ratio']}x[/bold]" if r["ratio"] else "-", "1x")
        table.add_row("units sold", f"{r['units_sold']:,} of {r['units']:,}", f"{b['orders']:,}")
        table.add_row("oversold", zero(r["oversold"]), zero(b["oversold"]))
        table.add_row("duplicate winners", zero(r["duplicate_winners"]), zero(b["duplicate_winners"]))
        table.add_row("winners without a committed order", zero(r["lost_winners"]), "")
        table.add_row("attempts not answered", zero(r["unanswered"]), "")
        console.print(table)
        console.print(f"outcomes: {r['outcomes']}; baseline: {b['outcomes']}")
        t = r["targets"]
        if mode == "engine":
            console.print(f"target: all answered, every winner committed in <= {t['answered_max_s']:g} s: "
                          f"{mark(t['answered_met'])}; >= {t['ratio_min']:g}x the baseline: {mark(t['ratio_met'])}")
        else:
            console.print(f"target: sold out in <= {t['sell_out_max_s']:g} s: {mark(t['sell_out_met'])}; "
                          f"p99 <= {t['p99_max_ms']:g} ms: {mark(t['p99_met'])}; "
                          f">= {t['ratio_min']:g}x the baseline: {mark(t['ratio_met'])}")
        if t["note"]:
            console.print(f"[dim]({t['note']})[/dim]")
    if results:
        m = next(iter(results.values()))["machine"]
        console.print(f"[dim]{m['cpu_model']} x {m['cpu_count']}, {m['memory_total_gib']} GiB, {m['platform']}, "
                      f"{m['python']}[/dim]")

