"""Kill the serving process (SIGKILL) in the middle of a sale and start it again: no oversell, every fan
who got a 201 has a committed order, and units taken but never committed go back to the sale."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from fanbase.accounts import service as accounts
from fanbase.accounts.models import User
from fanbase.clock import SystemClock
from fanbase.config import Settings
from fanbase.db import Database
from fanbase.flashsale import service as flash
from fanbase.flashsale.models import Purchase
from fanbase.migrations import upgrade
from fanbase.orders.models import Order
from tests.helpers import seed_catalogue

SECRET = "fault-test-secret"
UNITS, FANS = 40, 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, port: int, database_url: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FANBASE_DATA_DIR": str(data_dir), "FANBASE_SECRET_KEY": SECRET,
           "FANBASE_PURCHASE_RATE_PER_IP": "0", "FANBASE_JOB_INTERVAL_SECONDS": "0.5"}
    if database_url:
        env["FANBASE_DATABASE_URL"] = database_url
    server = subprocess.Popen([sys.executable, "-m", "fanbase", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/products", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"server did not start: {server.stderr.read() if server.stderr else b''!r}")


def _setup(db: Database) -> tuple[int, list[str]]:
    clock = SystemClock()
    seed_catalogue(db, clock, stock=1000)
    now = clock.now()
    with db.uow() as s:
        staff = accounts.create_staff(s, clock, email="ops@example.com", password="password-1", name="运营",
                                      role="operator").id
        sale = flash.create_sale(s, clock, flash.SaleSpec(
            sku="BAND9", units=UNITS, price_fen=9900, reservations_open_at=now - timedelta(minutes=2),
            starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1), per_customer_limit=1,
            payment_window_seconds=600), staff)
        fans = [User(email=f"fan{i}@example.com", name="粉丝", password_hash="x", kind="customer",
                     created_at=now) for i in range(FANS)]
        s.add_all(fans)
        s.flush()
        s.add_all([flash.Reservation(sale_id=sale.id, customer_id=f.id, created_at=now) for f in fans])
        tokens = [accounts.issue_token(SECRET, f, now, 3600) for f in fans]
        return sale.id, tokens


def _fresh_postgresql(url: str, name: str) -> str:
    """A new, empty database that the server itself migrates (as in production)."""
    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sigkill_mid_sale(tmp_path: Path, engine: str, request: pytest.FixtureRequest, worker_id: str) -> None:
    database_url = None
    if engine == "postgresql":
        database_url = _fresh_postgresql(request.getfixturevalue("pg_url"), f"fanbase_faults_{worker_id}")
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    upgrade(settings.resolved_database_url)
    db = Database.from_settings(settings)
    sale_id, tokens = _setup(db)
    port = _free_port()
    server = _start(tmp_path, port, database_url)
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

    first_wave = [threading.Thread(target=fan, args=(t,)) for t in tokens[: FANS // 2]]
    for thread in first_wave:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 5 and time.monotonic() < deadline:
        time.sleep(0.001)
    server.send_signal(signal.SIGKILL)  # mid-sale: some fans were told they won, others are in flight
    killed_with = len(acknowledged)
    in_flight = sum(thread.is_alive() for thread in first_wave)
    server.wait()
    for thread in first_wave:
        thread.join()

    server = _start(tmp_path, port, database_url)
    try:
        for token in tokens[FANS // 2:]:
            fan(token)
        # the fans whose request died may try again
        for token in tokens[: FANS // 2]:
            fan(token)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)

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
