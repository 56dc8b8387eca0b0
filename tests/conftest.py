"""Shared fixtures. Services and API tests run on a real database: SQLite in a temp dir by default,
PostgreSQL when FANBASE_TEST_DATABASE_URL is set (CI runs the whole suite both ways)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fanbase import models
from fanbase.accounts import service as accounts
from fanbase.app import create_app
from fanbase.clock import FixedClock
from fanbase.config import Settings
from fanbase.context import Context, build_context
from fanbase.db import Database
from tests.helpers import assert_ledger_balanced, seed_catalogue

# argon2 at full strength costs ~50 ms a hash: tests use the cheapest parameters
accounts.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

PG_URL = os.environ.get("FANBASE_TEST_DATABASE_URL")


def _worker_pg_url(worker: str) -> str:
    """One database per xdist worker, created on first use."""
    base = make_url(PG_URL or "")
    name = f"{base.database or 'fanbase'}_{re.sub(r'[^a-z0-9]', '', worker)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[Database | None]:
    if not PG_URL:
        yield None
        return
    database = Database(_worker_pg_url(worker_id))
    models.metadata.drop_all(database.engine)
    models.metadata.create_all(database.engine)
    yield database
    database.dispose()


def fresh_database(directory: Path, pg_database: Database | None) -> Iterator[Database]:
    """An empty database: the worker's PostgreSQL database truncated, or a new SQLite file."""
    if pg_database is not None:
        tables = ", ".join(f'"{t.name}"' for t in models.metadata.sorted_tables)
        with pg_database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield pg_database
        return
    database = Database(f"sqlite:///{directory / 'test.sqlite3'}")
    models.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def db(tmp_path: Path, pg_database: Database | None) -> Iterator[Database]:
    yield from fresh_database(tmp_path, pg_database)


@pytest.fixture(autouse=True)
def ledger_balanced_after_every_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """DESIGN.md: the sum of all balances is always zero; asserted after every test that used a database."""
    # asked for here, at set-up, so that the database outlives this check
    database = request.getfixturevalue("db") if "db" in request.fixturenames else None
    yield
    if database is not None:
        assert_ledger_balanced(database)


@pytest.fixture
def shop(db: Database, clock: FixedClock) -> None:
    seed_catalogue(db, clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # product_cache_seconds=0: tests read stock right after changing it (test_product_cache.py covers the cache)
    return Settings(data_dir=tmp_path / "data", sandbox=True, secret_key="test-secret-key",
                    run_jobs_in_process=False, product_cache_seconds=0)


@pytest.fixture
def ctx(settings: Settings, db: Database, clock: FixedClock) -> Context:
    return build_context(settings, db=db, clock=clock)


@pytest.fixture
def app(ctx: Context):  # type: ignore[no-untyped-def]
    return create_app(ctx=ctx, run_scheduler=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (FANBASE_REQUIRE_SERVICES=1) a skipped test is a failure: nothing may hide there."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("FANBASE_REQUIRE_SERVICES") and reporter and reporter.stats.get("skipped"):
        reporter.write_line(f"{len(reporter.stats['skipped'])} test(s) skipped: not allowed in CI", red=True)
        session.exitstatus = 1


@pytest.fixture
def redis_url() -> str:
    """For tests marked `redis` (deselected when FANBASE_TEST_REDIS_URL is not set)."""
    url = os.environ.get("FANBASE_TEST_REDIS_URL")
    if not url:
        pytest.skip("FANBASE_TEST_REDIS_URL is not set")
    return url


@pytest.fixture
def pg_url() -> str:
    """For tests marked `postgres`: the server's URL (they are deselected when it is not set)."""
    if not PG_URL:
        pytest.skip("FANBASE_TEST_DATABASE_URL is not set")
    return PG_URL
