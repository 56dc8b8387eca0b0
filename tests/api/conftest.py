from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from fanbase import models
from fanbase.db import Database
from tests.helpers import assert_ledger_balanced, customer_token, seed_catalogue, staff_token


@pytest.fixture(autouse=True)
def ledger_balances_after_every_api_test(db: Database) -> Iterator[None]:
    """DESIGN.md: the sum of all balances is always zero; asserted after every API test."""
    yield
    assert_ledger_balanced(db)


@pytest.fixture
def shop(db, clock):  # type: ignore[no-untyped-def]
    seed_catalogue(db, clock)


@pytest.fixture
def fan(db, ctx, clock) -> str:  # type: ignore[no-untyped-def]
    return customer_token(db, ctx.secret_key, clock)[1]


@pytest.fixture
def admin(db, ctx, clock) -> str:  # type: ignore[no-untyped-def]
    return staff_token(db, ctx.secret_key, clock)[1]


@pytest.fixture(scope="module")
def module_db(tmp_path_factory: pytest.TempPathFactory, pg_database: Database | None) -> Iterator[Database]:
    """One database for a whole module, for tests that share a setup they must not change (tables of
    refused requests, hypothesis runs): a SQLite file of its own, or the worker's PostgreSQL database,
    emptied first. A module using it overrides ``db`` with it, so the ledger check above looks at it."""
    if pg_database is not None:
        tables = ", ".join(f'"{t.name}"' for t in models.metadata.sorted_tables)
        with pg_database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield pg_database
        return
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('module-db') / 'test.sqlite3'}")
    models.metadata.create_all(database.engine)
    yield database
    database.dispose()
