from __future__ import annotations

from collections.abc import Iterator

import pytest

from fanbase.db import Database
from tests.conftest import fresh_database
from tests.helpers import customer_token, staff_token


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
    yield from fresh_database(tmp_path_factory.mktemp("module-db"), pg_database)
