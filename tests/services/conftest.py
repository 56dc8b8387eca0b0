"""Fixtures for service tests: the real unit of work over SQLite or PostgreSQL, no HTTP in between."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fanbase.db import Database
from fanbase.orders.service import OrderPolicy
from fanbase.payments.gateway import SandboxGateway
from tests.helpers import assert_ledger_balanced, seed_catalogue


@pytest.fixture(autouse=True)
def ledger_balances_after_every_service_test(db: Database) -> Iterator[None]:
    """DESIGN.md: the sum of all balances is always zero; asserted after every scenario."""
    yield
    assert_ledger_balanced(db)


@pytest.fixture
def shop(db, clock):  # type: ignore[no-untyped-def]
    seed_catalogue(db, clock)


@pytest.fixture
def gateway() -> SandboxGateway:
    return SandboxGateway("test-webhook-secret", "http://testserver")


@pytest.fixture
def policy() -> OrderPolicy:
    return OrderPolicy()
