"""What the fault tests share: real ``fanbase serve`` processes on free ports, a fresh PostgreSQL database
named after the run's own base database (so that concurrent runs never meet), and a sale with its fans."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fanbase.accounts import service as accounts
from fanbase.accounts.models import User
from fanbase.clock import SystemClock
from fanbase.db import Database
from fanbase.flashsale import service as flash
from tests.helpers import seed_catalogue

SECRET = "fault-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_server(data_dir: Path, port: int, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``fanbase serve`` on ``port``, not waited for (see ``wait_ready``). Its stderr goes to a file in
    ``data_dir`` (a pipe nobody reads could fill up and stall the server)."""
    full_env = {**os.environ, "FANBASE_DATA_DIR": str(data_dir), "FANBASE_SECRET_KEY": SECRET,
                "FANBASE_PURCHASE_RATE_PER_IP": "0", "FANBASE_JOB_INTERVAL_SECONDS": "0.5", **(env or {})}
    with open(data_dir / f"server-{port}.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "fanbase", "serve", "--port", str(port)], env=full_env,
                                stdout=subprocess.DEVNULL, stderr=log)


def wait_ready(server: subprocess.Popen[bytes], data_dir: Path, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/products", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    server.kill()
    server.wait()
    log = (data_dir / f"server-{port}.log").read_text(errors="replace")
    raise AssertionError(f"server on port {port} did not start:\n{log[-4000:]}")


def start_server(data_dir: Path, port: int, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    server = spawn_server(data_dir, port, env)
    wait_ready(server, data_dir, port)
    return server


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not stop; nothing if it already has."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def fresh_database_name(base_url: str, purpose: str, worker_id: str) -> str:
    """``<base database>_<purpose>_<xdist worker>``: runs with different base databases never share it."""
    base = make_url(base_url).database or "fanbase"
    return f"{base}_{purpose}_{re.sub(r'[^a-z0-9]', '', worker_id.lower())}"


def fresh_postgresql(url: str, name: str) -> str:
    """A new, empty database (dropped first if a previous run left it) that the server migrates itself."""
    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def setup_sale(db: Database, *, units: int, fans: int) -> tuple[int, list[str]]:
    """A first-come sale of ``units`` (one per fan) that started a minute ago, and ``fans`` reserved fans'
    bearer tokens, on a migrated, empty database."""
    clock = SystemClock()
    seed_catalogue(db, clock, stock=1000)
    now = clock.now()
    with db.uow() as s:
        staff = accounts.create_staff(s, clock, email="ops@example.com", password="password-1", name="运营",
                                      role="operator").id
        sale = flash.create_sale(s, clock, flash.SaleSpec(
            sku="BAND9", units=units, price_fen=9900, reservations_open_at=now - timedelta(minutes=2),
            starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1), per_customer_limit=1,
            payment_window_seconds=600), staff)
        users = [User(email=f"fan{i}@example.com", name="粉丝", password_hash="x", kind="customer",
                      created_at=now) for i in range(fans)]
        s.add_all(users)
        s.flush()
        s.add_all([flash.Reservation(sale_id=sale.id, customer_id=u.id, created_at=now) for u in users])
        tokens = [accounts.issue_token(SECRET, u, now, 3600) for u in users]
        return sale.id, tokens
