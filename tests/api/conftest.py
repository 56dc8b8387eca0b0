from __future__ import annotations

from collections.abc import Iterator

import pytest

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
