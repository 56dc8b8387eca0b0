"""The Redis gate: the in-process gate's decisions, shared by several processes, and rebuilt from the
database when Redis forgets (a flush, a dead process) without ever selling a unit twice.

"Processes" here are separate ``RedisGate`` instances, each with its own Redis connections and its own
group-commit writer, as ``fanbase serve`` processes have. A "flush" unlinks every key of the test's prefix
in one command: the same as FLUSHDB for the gate, without touching keys of tests running beside it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant, rule
from redis.crc import key_slot
from sqlalchemy import func, select

from fanbase.clock import FixedClock
from fanbase.config import Settings
from fanbase.context import build_context
from fanbase.db import Database
from fanbase.errors import DomainError
from fanbase.flashsale import service as flash
from fanbase.flashsale.gate import Decision, Gate, InProcessGate, SaleState
from fanbase.flashsale.models import Purchase
from fanbase.flashsale.redis_gate import RedisGate, reconcile_gates
from fanbase.flashsale.writer import GroupCommitWriter
from fanbase.orders import service as orders
from fanbase.orders.models import Order
from fanbase.payments.gateway import SandboxGateway
from tests.services.test_flash_sale_engine import (
    LIMIT,
    SECRET,
    UNITS,
    FlashSaleMachine,
    live_units_by_customer,
    make_sale,
)

START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
OPEN = START + timedelta(minutes=1)


def flush(client: redis.Redis, prefix: str) -> int:
    """FLUSHDB for the keys of one test: all at once (one script), like the real thing."""
    return int(client.eval("local n = 0 for _, key in ipairs(redis.call('KEYS', ARGV[1])) do "
                           "n = n + redis.call('UNLINK', key) end return n", 0, f"{prefix}:*"))


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    name = f"test:fs:{uuid.uuid4().hex[:12]}"
    yield name
    flush(redis_client, name)


# --- the same decisions as the in-process gate (each test runs on both) -------------------------------


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
def new_gate(request: pytest.FixtureRequest) -> Callable[[], Gate]:
    """Makes a gate; for Redis each call is another process sharing the same keys."""
    if request.param == "in_process":
        return InProcessGate
    url, name = request.getfixturevalue("redis_url"), request.getfixturevalue("prefix")
    return lambda: RedisGate(url, prefix=name)


def sale(units: int = 10, limit: int = 1, reserved: range = range(1, 101)) -> SaleState:
    return SaleState(sale_id=7, units=units, starts_at=START, ends_at=START + timedelta(hours=2),
                     per_customer_limit=limit, remaining=units, reserved=set(reserved))


def test_only_inside_the_window(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale())
    assert gate.try_take(7, 1, 1, START - timedelta(seconds=1)) is Decision.SALE_NOT_STARTED
    assert gate.try_take(7, 1, 1, START + timedelta(hours=2)) is Decision.SALE_ENDED
    assert gate.try_take(7, 1, 1, START) is Decision.TAKEN
    assert gate.remaining(7) == 9


def test_sold_out_answers_everyone_before_any_other_check(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale(units=2, limit=2))
    assert gate.try_take(7, 1, 2, OPEN) is Decision.TAKEN
    assert gate.try_take(7, 1, 1, OPEN) is Decision.SOLD_OUT  # not "limit exceeded"
    assert gate.try_take(7, 999, 1, OPEN) is Decision.SOLD_OUT  # not "not reserved"
    assert gate.remaining(7) == 0


def test_more_than_what_is_left_is_sold_out_but_less_still_fits(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale(units=3, limit=3))
    assert gate.try_take(7, 1, 2, OPEN) is Decision.TAKEN
    assert gate.try_take(7, 2, 2, OPEN) is Decision.SOLD_OUT  # one left, not two: no oversell by one
    assert gate.try_take(7, 2, 1, OPEN) is Decision.TAKEN
    assert gate.remaining(7) == 0


def test_only_reserved_fans(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale(reserved=range(1, 3)))
    assert gate.try_take(7, 3, 1, OPEN) is Decision.NOT_RESERVED
    gate.add_reservation(7, 3)
    assert gate.try_take(7, 3, 1, OPEN) is Decision.TAKEN


def test_the_limit_per_customer_counts_every_unit(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale(limit=2))
    assert gate.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    assert gate.try_take(7, 1, 2, OPEN) is Decision.LIMIT_EXCEEDED
    assert gate.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    assert gate.try_take(7, 1, 1, OPEN) is Decision.LIMIT_EXCEEDED
    assert gate.remaining(7) == 8


def test_given_back_units_return_to_the_sale_and_the_fan_never_above_units(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale(units=1))
    assert gate.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    assert gate.try_take(7, 2, 1, OPEN) is Decision.SOLD_OUT
    gate.give_back(7, 1, 1)
    assert gate.remaining(7) == 1
    assert gate.try_take(7, 1, 1, OPEN) is Decision.TAKEN  # the fan's count went back too
    gate.give_back(7, 1, 1)
    gate.give_back(7, 2, 1)  # more than was taken (a bug elsewhere) never lifts it above the units
    assert gate.remaining(7) == 1


def test_a_sale_is_loaded_once(new_gate: Callable[[], Gate]) -> None:
    gate = new_gate()
    gate.load_once(sale(units=10))
    assert gate.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    gate.load_once(sale(units=10))  # a second load (another thread, another process) changes nothing
    assert gate.remaining(7) == 9
    assert gate.try_take(7, 1, 1, OPEN) is Decision.LIMIT_EXCEEDED


def test_concurrent_takes_never_exceed_the_units(new_gate: Callable[[], Gate]) -> None:
    gates = [new_gate(), new_gate()]  # two processes, for Redis; two loads of one gate in process
    gates = gates if isinstance(gates[0], RedisGate) else [gates[0], gates[0]]
    for gate in gates:
        gate.load_once(sale(units=50, reserved=range(1, 301)))

    def attempt(customer: int) -> Decision:
        return gates[customer % 2].try_take(7, customer, 1, OPEN)

    with ThreadPoolExecutor(16) as pool:
        decisions = list(pool.map(attempt, range(1, 301)))
    assert decisions.count(Decision.TAKEN) == 50
    assert decisions.count(Decision.SOLD_OUT) == 250
    assert gates[0].remaining(7) == gates[1].remaining(7) == 0


def test_twenty_concurrent_requests_of_one_fan_take_at_most_the_limit(new_gate: Callable[[], Gate]) -> None:
    gates = [new_gate(), new_gate()]
    gates = gates if isinstance(gates[0], RedisGate) else [gates[0], gates[0]]
    for gate in gates:
        gate.load_once(sale(units=10, limit=2))
    barrier = threading.Barrier(20)

    def attempt(index: int) -> Decision:
        barrier.wait()
        return gates[index % 2].try_take(7, 1, 1, OPEN)

    with ThreadPoolExecutor(20) as pool:
        decisions = list(pool.map(attempt, range(20)))
    assert decisions.count(Decision.TAKEN) == 2
    assert decisions.count(Decision.LIMIT_EXCEEDED) == 18
    assert gates[0].remaining(7) == 8


# --- Redis only ---------------------------------------------------------------------------------------


@pytest.mark.redis
def test_every_key_of_a_sale_is_in_one_cluster_slot(redis_url: str, prefix: str,
                                                    redis_client: redis.Redis) -> None:
    gate = RedisGate(redis_url, prefix=prefix)
    gate.load_once(sale(units=1))
    assert gate.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    keys = list(redis_client.scan_iter(f"{prefix}:*"))
    assert {key.rsplit(":", 1)[1] for key in keys} >= {"loaded", "remaining", "soldout", "reserved", "bought", "meta",
                                                       "pending", "progress"}
    assert all("{7}" in key for key in keys) and len({key_slot(key.encode()) for key in keys}) == 1
    assert redis_client.hgetall(f"{prefix}:{{7}}:meta") == {
        "units": "1", "limit": "1", "starts": str(int(START.timestamp())),
        "ends": str(int((START + timedelta(hours=2)).timestamp())),
        "expires": redis_client.hget(f"{prefix}:{{7}}:meta", "expires"), "reservations": "100"}
    assert all(redis_client.ttl(key) > 0 for key in keys)  # nothing stays behind for ever


@pytest.mark.redis
def test_a_second_process_needs_no_load_of_its_own(redis_url: str, prefix: str) -> None:
    first, second = RedisGate(redis_url, prefix=prefix), RedisGate(redis_url, prefix=prefix)
    first.load_once(sale(units=3))
    second.load_once(sale(units=3))  # once: the second load finds the sale and keeps it
    assert first.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    assert second.try_take(7, 1, 1, OPEN) is Decision.LIMIT_EXCEEDED
    assert second.try_take(7, 2, 1, OPEN) is Decision.TAKEN
    assert first.remaining(7) == 1


@pytest.mark.redis
def test_after_the_sell_out_a_process_answers_from_its_copy_of_the_flag_for_a_moment(redis_url: str,
                                                                                      prefix: str) -> None:
    one, two = RedisGate(redis_url, prefix=prefix, sold_out_memo_seconds=0.2), RedisGate(redis_url, prefix=prefix)
    one.load_once(sale(units=1))
    assert one.try_take(7, 1, 1, OPEN) is Decision.TAKEN
    assert one.try_take(7, 2, 1, OPEN) is Decision.SOLD_OUT
    two.give_back(7, 1, 1)  # another process: the first one sees it a moment later (an under-count)
    assert one.try_take(7, 2, 1, OPEN) is Decision.SOLD_OUT
    time.sleep(0.25)
    assert one.try_take(7, 2, 1, OPEN) is Decision.TAKEN
    one.give_back(7, 2, 1)  # its own give-back: at once
    assert one.try_take(7, 3, 1, OPEN) is Decision.TAKEN


# --- with the database: the writer, rebuilds, the timer -----------------------------------------------


class Process:
    """One ``fanbase serve`` process's share of a sale: its gate and its group-commit writer."""

    def __init__(self, redis_url: str, prefix: str, db: Database, clock: FixedClock, **options: float) -> None:
        self.gate = RedisGate(redis_url, db, prefix=prefix, **options)
        self.writer = GroupCommitWriter(db, clock, self.gate, orders.OrderPolicy)
        self.clock = clock

    def buy(self, sale_id: int, customer: int, quantity: int = 1) -> str:
        state = self.gate.state(sale_id)
        assert state is not None
        try:
            flash.attempt(self.gate, self.writer.submit, self.clock, SECRET, state, customer, quantity,
                          None).result(timeout=30)
            return "won"
        except DomainError as error:
            return error.code


def committed_units(db: Database, sale_id: int) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                            .where(Purchase.sale_id == sale_id, Purchase.released_at.is_(None))) or 0)


@pytest.fixture
def processes(redis_url: str, prefix: str, db: Database, clock: FixedClock) -> Iterator[list[Process]]:
    made = [Process(redis_url, prefix, db, clock), Process(redis_url, prefix, db, clock)]
    yield made
    for process in made:
        process.writer.stop()


@pytest.mark.redis
def test_two_processes_sell_exactly_the_units_and_every_winner_has_an_order(db, clock, processes) -> None:  # type: ignore[no-untyped-def]
    sale_id, fans = make_sale(db, clock, units=30, limit=2, customers=40)

    def fan_tries(index: int) -> list[str]:
        return [processes[(index + n) % 2].buy(sale_id, fans[index]) for n in range(3)]

    with ThreadPoolExecutor(16) as pool:
        outcomes = [o for tries in pool.map(fan_tries, range(40)) for o in tries]
    assert outcomes.count("won") == 30 == committed_units(db, sale_id)
    assert set(outcomes) <= {"won", "sold_out", "limit_exceeded"}
    assert max(live_units_by_customer(db, sale_id).values()) <= 2
    assert processes[0].gate.remaining(sale_id) == 0


@pytest.mark.redis
def test_redis_flushed_again_and_again_mid_sale_never_oversells_nor_loses_a_unit(  # type: ignore[no-untyped-def]
        db, clock, processes, redis_client, prefix) -> None:
    sale_id, fans = make_sale(db, clock, units=40, limit=1, customers=71)
    assert processes[0].buy(sale_id, fans[0]) == "won"  # loaded, then flushed while fans keep buying
    outcomes: list[str] = []
    stop = threading.Event()

    def flusher() -> None:
        while not stop.wait(0.015):
            flush(redis_client, prefix)

    def fan_buys(index: int) -> None:
        for n in range(30):  # a fan keeps trying while the answer is 503
            outcome = processes[(index + n) % 2].buy(sale_id, fans[index])
            outcomes.append(outcome)
            if outcome != "service_unavailable":
                return

    thread = threading.Thread(target=flusher)
    thread.start()
    try:
        with ThreadPoolExecutor(12) as pool:
            list(pool.map(fan_buys, range(1, 70)))
    finally:
        stop.set()
        thread.join()
    assert set(outcomes) <= {"won", "sold_out", "service_unavailable"}
    assert committed_units(db, sale_id) == 1 + outcomes.count("won")  # a 201 always has its order
    assert committed_units(db, sale_id) <= 40  # the point: never oversold
    assert all(units == 1 for units in live_units_by_customer(db, sale_id).values())
    # and nothing was lost: the last generation holds exactly what the database says is left
    processes[0].gate.rebuild(sale_id)  # only if the last flush came after the last rebuild
    assert processes[0].gate.remaining(sale_id) == 40 - committed_units(db, sale_id)


@pytest.mark.redis
def test_a_win_taken_before_a_rebuild_is_refused_and_its_unit_sold_again(  # type: ignore[no-untyped-def]
        db, clock, processes, redis_client, prefix) -> None:
    sale_id, fans = make_sale(db, clock, units=2, limit=1, customers=3)
    one, two = processes
    assert one.buy(sale_id, fans[0]) == "won"
    assert one.gate.try_take(sale_id, fans[1], 1, clock.now()) is Decision.TAKEN  # on its way to the writer...
    flush(redis_client, prefix)  # ...when Redis forgets, and the next attempt rebuilds from the database
    assert two.buy(sale_id, fans[2]) == "won"  # the unit fans[1] took is for sale again
    late = one.writer.submit(flash.Win(sale_id=sale_id, customer_id=fans[1], quantity=1))
    with pytest.raises(DomainError) as refused:
        late.result(timeout=30)
    assert refused.value.code == "service_unavailable"
    assert committed_units(db, sale_id) == 2 and fans[1] not in live_units_by_customer(db, sale_id)
    assert one.gate.remaining(sale_id) == 0


@pytest.mark.redis
def test_a_rebuild_waits_for_a_batch_being_committed_and_counts_it(  # type: ignore[no-untyped-def]
        db, clock, processes, redis_client, prefix, monkeypatch) -> None:
    sale_id, fans = make_sale(db, clock, units=3, limit=1, customers=3)
    one, two = processes
    assert one.buy(sale_id, fans[0]) == "won"
    writing, go_on = threading.Event(), threading.Event()
    real_write = flash.write_wins

    def slow_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        writing.set()
        assert go_on.wait(10)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(flash, "write_wins", slow_write)
    won = flash.attempt(one.gate, one.writer.submit, clock, SECRET, one.gate.state(sale_id), fans[1], 1, None)  # type: ignore[arg-type]
    assert writing.wait(10)  # admitted, inside its transaction
    flush(redis_client, prefix)
    answers: list[Decision] = []
    rebuild = threading.Thread(target=lambda: answers.append(two.gate.try_take(sale_id, fans[2], 1, clock.now())))
    rebuild.start()
    rebuild.join(0.3)
    assert rebuild.is_alive()  # the rebuild waits on the sale's row until the batch has committed
    go_on.set()
    assert won.result(timeout=30).customer_id == fans[1]
    rebuild.join(10)
    assert answers == [Decision.TAKEN]
    assert two.gate.remaining(sale_id) == 0  # 3 units: the first win, the batch it waited for, its own take


@pytest.mark.redis
def test_takes_of_a_dead_process_come_back_on_the_timer(db, clock, redis_url, prefix) -> None:  # type: ignore[no-untyped-def]
    sale_id, fans = make_sale(db, clock, units=3, limit=2, customers=2)
    dead, alive = Process(redis_url, prefix, db, clock), Process(redis_url, prefix, db, clock,
                                                              stale_after_seconds=0.3)
    try:
        assert alive.buy(sale_id, fans[0]) == "won"
        assert dead.gate.try_take(sale_id, fans[1], 2, clock.now()) is Decision.TAKEN  # ...and the process dies
        assert alive.gate.remaining(sale_id) == 0
        with db.uow() as s:
            assert reconcile_gates(s, alive.gate, clock) == 0  # its takes are still young
        time.sleep(0.35)
        with db.uow() as s:
            assert reconcile_gates(s, alive.gate, clock) == 1  # rebuilt from the database
        assert alive.gate.remaining(sale_id) == 2
        with db.uow() as s:
            assert reconcile_gates(s, alive.gate, clock) == 0
        assert alive.buy(sale_id, fans[1], 2) == "won"  # its limit was rebuilt too
        late = dead.writer.submit(flash.Win(sale_id=sale_id, customer_id=fans[1], quantity=2))
        with pytest.raises(DomainError):
            late.result(timeout=30)  # if it was only stuck, its late win is refused: no oversell
        assert committed_units(db, sale_id) == 3
    finally:
        dead.writer.stop()
        alive.writer.stop()


@pytest.mark.redis
def test_units_admitted_by_a_process_that_died_before_its_commit_come_back(db, clock, redis_url, prefix) -> None:  # type: ignore[no-untyped-def]
    sale_id, fans = make_sale(db, clock, units=3, limit=2, customers=2)
    dead, alive = Process(redis_url, prefix, db, clock), Process(redis_url, prefix, db, clock,
                                                              stale_after_seconds=0.3)

    class Died(Exception):
        pass

    try:
        assert alive.buy(sale_id, fans[0]) == "won"
        assert dead.gate.try_take(sale_id, fans[1], 2, clock.now()) is Decision.TAKEN
        ticket = dead.gate.ticket(sale_id, fans[1], 2)
        with pytest.raises(Died), db.uow() as s:  # its writer admitted the win, then the process died
            assert dead.gate.admit(s, [ticket]) == [True]
            raise Died
        with db.uow() as s:
            assert reconcile_gates(s, alive.gate, clock) == 0  # nothing pending, but 2 units are nowhere
        assert alive.gate.remaining(sale_id) == 0
        time.sleep(0.35)
        with db.uow() as s:
            assert reconcile_gates(s, alive.gate, clock) == 1  # the shortfall lasted: rebuilt
        assert alive.gate.remaining(sale_id) == 2
        assert alive.buy(sale_id, fans[1], 2) == "won"
        assert committed_units(db, sale_id) == 3
        with db.uow() as s:
            assert reconcile_gates(s, alive.gate, clock) == 0
    finally:
        dead.writer.stop()
        alive.writer.stop()


@pytest.mark.redis
@pytest.mark.parametrize("lost", ["bought", "reserved", "remaining", "meta"])
def test_a_key_lost_on_its_own_is_noticed_and_the_sale_rebuilt(  # type: ignore[no-untyped-def]
        db, clock, processes, redis_client, lost) -> None:
    sale_id, fans = make_sale(db, clock, units=3, limit=1, customers=3)
    one, two = processes
    assert one.buy(sale_id, fans[0]) == "won"
    redis_client.delete(getattr(one.gate.keys(sale_id), lost))
    assert two.buy(sale_id, fans[0]) == "limit_exceeded"  # rebuilt from the database, not from what is left
    assert two.buy(sale_id, fans[1]) == "won"
    assert one.gate.remaining(sale_id) == 1


@pytest.mark.redis
def test_the_timer_lowers_a_count_that_is_too_high_and_never_raises_one(  # type: ignore[no-untyped-def]
        db, clock, processes, redis_client, prefix) -> None:
    sale_id, fans = make_sale(db, clock, units=5, limit=1, customers=2)
    one = processes[0]
    assert one.buy(sale_id, fans[0]) == "won"
    remaining_key = one.gate.keys(sale_id).remaining
    redis_client.set(remaining_key, 5)  # counts a committed unit as free: would oversell
    with db.uow() as s:
        assert reconcile_gates(s, one.gate, clock) == 1
    assert one.gate.remaining(sale_id) == 4
    redis_client.set(remaining_key, 2)  # under-counts: allowed, the timer leaves it
    with db.uow() as s:
        assert reconcile_gates(s, one.gate, clock) == 0
    assert one.gate.remaining(sale_id) == 2
    with db.uow() as s:  # an in-process gate has nothing to reconcile
        assert reconcile_gates(s, InProcessGate(), clock) == 0


@pytest.mark.redis
def test_units_of_an_expired_order_come_back_once_across_a_flush(  # type: ignore[no-untyped-def]
        db, clock, processes, redis_client, prefix) -> None:
    sale_id, fans = make_sale(db, clock, units=2, limit=1, customers=2)
    one, two = processes
    assert one.buy(sale_id, fans[0]) == "won"
    clock.advance(301)
    with db.uow() as s:
        assert orders.expire_unpaid(s, clock, SandboxGateway("secret", "http://test")) == 1
    flush(redis_client, prefix)  # before the job hands the unit back
    assert two.buy(sale_id, fans[1]) == "won"  # rebuilt: the released unit still counts until returned
    assert two.gate.remaining(sale_id) == 0
    with db.uow() as s:
        assert flash.take_back_released(s, one.gate) == 1
    with db.uow() as s:
        assert flash.take_back_released(s, one.gate) == 0
    assert two.gate.remaining(sale_id) == 1
    assert one.buy(sale_id, fans[0]) == "won"  # the fan whose order expired may buy again
    assert committed_units(db, sale_id) == 2


@pytest.mark.redis
def test_the_context_uses_redis_when_it_is_configured(db, redis_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = build_context(Settings(data_dir=tmp_path, secret_key="k", redis_url=None), db=db)
    shared = build_context(Settings(data_dir=tmp_path, secret_key="k", redis_url=redis_url), db=db)
    assert isinstance(plain.flash_gate, InProcessGate)
    assert isinstance(shared.flash_gate, RedisGate) and shared.flash_writer.gate is shared.flash_gate
    assert shared.flash_gate.prefix == "fanbase:fs" and shared.flash_gate.stale_after_ms == 15_000
    tuned = build_context(Settings(data_dir=tmp_path, secret_key="k", redis_url=redis_url,
                                   flash_gate_key_prefix="test:ctx", flash_gate_stale_after_seconds=0.5), db=db)
    assert isinstance(tuned.flash_gate, RedisGate)
    assert tuned.flash_gate.prefix == "test:ctx" and tuned.flash_gate.stale_after_ms == 500


# --- the engine's property test, against the Redis gate ---------------------------------------------


class RedisFlashSaleMachine(FlashSaleMachine):
    """The same random interleavings, plus Redis forgetting everything and the timer."""

    redis_url: str

    def _restart(self) -> None:
        if not hasattr(self, "prefix"):
            self.prefix = f"test:fs:{uuid.uuid4().hex[:12]}"
            self.client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        self.gate = RedisGate(self.redis_url, self.db, prefix=self.prefix)  # type: ignore[assignment]
        self.writer = GroupCommitWriter(self.db, self.clock, self.gate, orders.OrderPolicy, max_wait_seconds=0)
        state = self.gate.state(self.sale_id)
        assert state is not None
        self.state = state

    @rule()
    def redis_forgets(self) -> None:
        flush(self.client, self.prefix)

    @rule()
    def timer(self) -> None:
        with self.db.uow() as s:
            reconcile_gates(s, self.gate, self.clock)

    @invariant()
    def never_oversold_never_over_the_limit(self) -> None:
        live = live_units_by_customer(self.db, self.sale_id)
        assert sum(live.values()) <= UNITS and all(units <= LIMIT for units in live.values())
        remaining = self.gate.remaining(self.sale_id)
        assert remaining is None or remaining + sum(live.values()) <= UNITS  # may under-count, never over
        with self.db.read() as s:
            assert s.scalar(select(Order.id).where(Order.id.not_in(select(Purchase.order_id)))) is None

    def teardown(self) -> None:
        super().teardown()
        flush(self.client, self.prefix)
        self.client.close()


@pytest.mark.redis
def test_random_interleavings_with_redis_never_oversell(tmp_path_factory, pg_database, redis_url) -> None:  # type: ignore[no-untyped-def]
    RedisFlashSaleMachine.tmp_factory = tmp_path_factory
    RedisFlashSaleMachine.pg_database = pg_database
    RedisFlashSaleMachine.redis_url = redis_url
    RedisFlashSaleMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=20, deadline=None,
                                                       suppress_health_check=list(HealthCheck))
    RedisFlashSaleMachine.TestCase().runTest()
