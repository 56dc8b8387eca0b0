"""Kill the serving process (SIGKILL) in the middle of a sale and start it again: no oversell, every fan
who got a 201 has a committed order, and units taken but never committed go back to the sale."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from fanbase.config import Settings
from fanbase.db import Database
from fanbase.flashsale.models import Purchase
from fanbase.migrations import upgrade
from fanbase.orders.models import Order
from tests.faults.support import free_port, fresh_database_name, fresh_postgresql, setup_sale, start_server, stop_server

UNITS, FANS = 40, 120


@contextmanager
def writes_held(database_url: str) -> Iterator[None]:
    """Hold the database's write lock (SQLite) or the orders table (PostgreSQL) from outside the server, so
    that its group-commit writer waits with wins it has taken: the kill then lands between take and commit
    whatever the machine's load."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE orders IN SHARE MODE"))
            yield
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sigkill_mid_sale(tmp_path: Path, engine: str, request: pytest.FixtureRequest, worker_id: str) -> None:
    database_url = None
    if engine == "postgresql":
        pg_url = request.getfixturevalue("pg_url")
        database_url = fresh_postgresql(pg_url, fresh_database_name(pg_url, "faults", worker_id))
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    upgrade(settings.resolved_database_url)
    db = Database.from_settings(settings)
    sale_id, tokens = setup_sale(db, units=UNITS, fans=FANS)
    port = free_port()
    env = {"FANBASE_DATABASE_URL": database_url} if database_url else None
    server = start_server(tmp_path, port, env)
    acknowledged: list[int] = []  # order ids of every 201
    lock = threading.Lock()

    def fan(token: str) -> None:
        try:
            reply = httpx.post(f"http://127.0.0.1:{port}/api/v1/flash-sales/{sale_id}/purchase",
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
        except httpx.HTTPError:
            return  # the server died under this request: no promise was made
        if reply.status_code == 201:
            with lock:
                acknowledged.append(reply.json()["id"])

    def wave(part: list[str]) -> list[threading.Thread]:
        threads = [threading.Thread(target=fan, args=(t,)) for t in part]
        for thread in threads:
            thread.start()
        return threads

    first_wave = wave(tokens[:FANS // 6])  # fewer fans than units: the sale cannot sell out before the kill
    deadline = time.monotonic() + 10
    while len(acknowledged) < 5 and time.monotonic() < deadline:
        time.sleep(0.001)
    with writes_held(settings.resolved_database_url):  # winners from now on wait for their commit...
        second_wave = wave(tokens[FANS // 6: FANS // 2])
        time.sleep(0.5)
        server.send_signal(signal.SIGKILL)  # ...when the server dies: told they won, or in flight
        killed_with = len(acknowledged)
        in_flight = sum(thread.is_alive() for thread in second_wave)
        server.wait()
    for thread in first_wave + second_wave:
        thread.join()

    server = start_server(tmp_path, port, env)
    try:
        for token in tokens[FANS // 2:]:
            fan(token)
        # the fans whose request died may try again
        for token in tokens[: FANS // 2]:
            fan(token)
    finally:
        stop_server(server)

    with db.read() as s:
        committed = set(s.scalars(select(Purchase.order_id).where(Purchase.sale_id == sale_id)))
        live = s.scalar(select(func.count()).select_from(Purchase).where(Purchase.sale_id == sale_id,
                                                                       Purchase.released_at.is_(None)))
        orders = s.scalar(select(func.count()).select_from(Order).where(Order.source == "flash_sale"))
        per_fan = s.execute(select(Purchase.customer_id, func.count()).where(Purchase.sale_id == sale_id)
                            .group_by(Purchase.customer_id).having(func.count() > 1)).all()
    assert set(acknowledged) <= committed, "a fan was told they won but has no committed order"
    assert live == UNITS, "every unit sold once the sale ran on: none lost, none oversold"
    assert orders == len(committed) == UNITS
    assert per_fan == []
    assert 5 <= killed_with < UNITS and in_flight > 0, ("the kill was meant to land mid-sale", killed_with,
                                                         in_flight)
    db.dispose()
