"""Two ``fanbase serve`` processes share one sale through PostgreSQL and the Redis gate; one of them is
killed (SIGKILL) in the middle of the sale while it holds takes that it has not written yet. The survivor
keeps selling, the dead one is started again, and the fans whose requests died try again: no oversell,
no fan over the limit, every 201 has a committed order, and the dead process's takes come back to the
sale (the reconcile job rebuilds it once they are older than ``flash_gate_stale_after_seconds``), so
every unit ends up sold.

The kill is timed so that it cannot miss: once a few fans were answered 201, the test takes the sale's
row ``FOR UPDATE``, which parks both writers before ``admit`` (they take it ``FOR SHARE`` first) -- a
slow commit, as a stalled database would make it. Takes pile up in Redis as ``pending`` for both
processes; then one process is killed and the row let go. (Holding the row also keeps the kill out of
the window between a batch's ``admit`` and its commit: units admitted by a process that dies there are
in neither ``pending`` nor a committed row, and nothing gives them back today.)
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, func, select, text

from fanbase.db import Database
from fanbase.flashsale.models import Purchase
from fanbase.orders.models import Order
from tests.faults.support import (
    free_port,
    fresh_database_name,
    fresh_postgresql,
    setup_sale,
    spawn_server,
    start_server,
    stop_server,
    wait_ready,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

UNITS, FANS = 40, 120
FIRST, STALLED = 10, 20  # fans answered before the kill; fans whose takes are pending when it lands
STALE_AFTER_SECONDS = 1.0  # the dead process's takes come back this long after it took them (plus a job round)
DEADLINE_SECONDS = 30  # for the whole sale, from the first request (a restart included)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """Keys of this test only (the servers' FANBASE_FLASH_GATE_KEY_PREFIX); unlinked afterwards."""
    name = f"test:faults:{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        client.unlink(*keys)
    client.close()


class Fans:
    """Fans buying one unit each over HTTP, from many threads; remembers who was answered 201."""

    def __init__(self, sale_id: int, tokens: list[str]) -> None:
        self.sale_id = sale_id
        self.tokens = tokens
        self.won: dict[int, int] = {}  # fan -> order id of the 201
        self.answers: dict[int, int] = {}  # port -> answers received (any status)
        self.statuses: Counter[int] = Counter()
        self.second_wins: list[int] = []  # fans answered 201 twice (must stay empty)
        self.lock = threading.Lock()

    def buy(self, fan: int, port: int) -> None:
        try:
            reply = httpx.post(f"http://127.0.0.1:{port}/api/v1/flash-sales/{self.sale_id}/purchase",
                               headers={"Authorization": f"Bearer {self.tokens[fan]}"}, timeout=10)
        except httpx.HTTPError:
            return  # the server died under this request: no promise was made, the fan tries again later
        with self.lock:
            self.answers[port] = self.answers.get(port, 0) + 1
            self.statuses[reply.status_code] += 1
            if reply.status_code == 201:
                if fan in self.won:
                    self.second_wins.append(fan)
                self.won[fan] = reply.json()["id"]

    def start(self, fans: range, ports: list[int]) -> list[tuple[threading.Thread, int]]:
        threads = [(threading.Thread(target=self.buy, args=(fan, ports[fan % len(ports)])), ports[fan % len(ports)])
                   for fan in fans]
        for thread, _port in threads:
            thread.start()
        return threads


def live_units(db: Database, sale_id: int) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                            .where(Purchase.sale_id == sale_id, Purchase.released_at.is_(None))) or 0)


def test_sigkill_one_of_two_servers_mid_sale(tmp_path: Path, pg_url: str, redis_url: str, prefix: str,
                                             worker_id: str) -> None:
    database_url = fresh_postgresql(pg_url, fresh_database_name(pg_url, "faults_shared", worker_id))
    env = {"FANBASE_DATABASE_URL": database_url, "FANBASE_REDIS_URL": redis_url,
           "FANBASE_FLASH_GATE_KEY_PREFIX": prefix, "FANBASE_FLASH_GATE_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
           "FANBASE_JOB_INTERVAL_SECONDS": "0.2", "FANBASE_PURCHASE_RATE_PER_CUSTOMER": "0"}
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    victim_port, survivor_port = free_port(), free_port()
    servers: list[subprocess.Popen[bytes]] = []
    db = Database(database_url)
    locker = create_engine(database_url)  # holds the sale's row to stall the writers
    try:
        # the first server migrates the empty database (as in production); the second one boots while the
        # test seeds the sale (two servers migrating an empty database at once would race)
        servers.append(start_server(tmp_path, victim_port, env))
        servers.append(spawn_server(tmp_path, survivor_port, env))
        sale_id, tokens = setup_sale(db, units=UNITS, fans=FANS)
        wait_ready(servers[1], tmp_path, survivor_port)
        victim = servers[0]
        keys = f"{prefix}:{{{sale_id}}}:"
        fans = Fans(sale_id, tokens)
        ports = [victim_port, survivor_port]
        deadline = time.monotonic() + DEADLINE_SECONDS

        # 1. a few fans, on both servers at once, are told they won
        for thread, _port in fans.start(range(FIRST), ports):
            thread.join()

        # 2. the next fans take units on both servers, whose writers stall before `admit` (the test holds the
        #    sale's row); once the takes are pending in Redis, one server is killed and the row let go
        with locker.connect() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text("SELECT id FROM flash_sales WHERE id = :id FOR UPDATE"), {"id": sale_id})
            stalled = fans.start(range(FIRST, FIRST + STALLED), ports)
            pending: dict[str, int] = {}
            while sum(pending.values()) < STALLED and time.monotonic() < deadline:
                time.sleep(0.005)
                pending = {str(p): int(n) for p, n in client.hgetall(keys + "pending").items() if int(n) > 0}
            generation_at_kill = client.get(keys + "loaded")
            killed_with = len(fans.won)
            in_flight = sum(thread.is_alive() for thread, port in stalled if port == victim_port)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            answered_before_restart = fans.answers.get(victim_port, 0)
            conn.rollback()
        for thread, _port in stalled:
            thread.join()

        # 3. the survivor sells to all the other fans while the killed server starts again
        servers[0] = spawn_server(tmp_path, victim_port, env)
        for thread, _port in fans.start(range(FIRST + STALLED, FANS), [survivor_port]):
            thread.join()
        wait_ready(servers[0], tmp_path, victim_port)

        # 4. whoever has no order tries again, on both servers, until every unit is sold (the dead process's
        #    takes come back when the reconcile job finds them stale)
        with ThreadPoolExecutor(max_workers=32) as pool:
            while True:  # at least one round, so that the restarted server answers too
                losers = [fan for fan in range(FANS) if fan not in fans.won]
                list(pool.map(lambda fan: fans.buy(fan, ports[fan % 2]), losers))
                if live_units(db, sale_id) >= UNITS or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        generation_after = client.get(keys + "loaded")
        pending_after = {p: n for p, n in client.hgetall(keys + "pending").items() if int(n) > 0}
    finally:
        for server in servers:
            stop_server(server)
        locker.dispose()
        client.close()

    with db.read() as s:
        committed = set(s.scalars(select(Purchase.order_id).where(Purchase.sale_id == sale_id)))
        live = s.scalar(select(func.count()).select_from(Purchase).where(Purchase.sale_id == sale_id,
                                                                       Purchase.released_at.is_(None)))
        orders = s.scalar(select(func.count()).select_from(Order).where(Order.source == "flash_sale"))
        over_limit = s.execute(select(Purchase.customer_id, func.sum(Purchase.quantity))
                               .where(Purchase.sale_id == sale_id, Purchase.released_at.is_(None))
                               .group_by(Purchase.customer_id).having(func.sum(Purchase.quantity) > 1)).all()
    db.dispose()
    assert fans.second_wins == []
    assert set(fans.won.values()) <= committed, "a fan was told they won but has no committed order"
    assert live == UNITS, ("every unit sold once the sale ran on: none lost, none oversold", live, fans.statuses)
    assert orders == len(committed) == UNITS
    assert over_limit == []
    # the kill landed mid-sale: some fans had won, others were waiting on the victim with units taken
    assert 5 <= killed_with < UNITS and in_flight > 0, ("the kill was meant to land mid-sale", killed_with, in_flight)
    assert len(pending) == 2 and sum(pending.values()) == STALLED, ("both processes were meant to hold takes not "
                                                                    "yet written", pending)
    # ... and those takes came back through a rebuild under a new generation; the restarted server served
    assert generation_after != generation_at_kill and pending_after == {}, (generation_at_kill, generation_after,
                                                                            pending_after)
    assert fans.answers.get(victim_port, 0) > answered_before_restart, "the restarted server answered fans"
