"""Fixtures for service tests: the real unit of work over SQLite or PostgreSQL, no HTTP in between."""

from __future__ import annotations

import pytest

from fanbase.orders.service import OrderPolicy
from fanbase.payments.gateway import SandboxGateway


@pytest.fixture
def gateway() -> SandboxGateway:
    return SandboxGateway("test-webhook-secret", "http://testserver")


@pytest.fixture
def policy() -> OrderPolicy:
    return OrderPolicy()
