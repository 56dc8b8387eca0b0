"""Schemathesis over ``/openapi.json``: every documented operation, a bounded number of generated
requests each, signed in as a customer (and as staff for ``/admin``). No 5xx, and every answer matches
its documented status, media type and schema.

One app and one database (``module_db``) for the module: hypothesis runs many examples per test, and a
fresh database per example would be slow. The generated requests really change it (registrations, paid
and refunded orders, a clock moved forward); the ledger still has to balance after each test.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fanbase.accounts import service as accounts
from fanbase.app import create_app
from fanbase.clock import FixedClock
from fanbase.config import Settings
from fanbase.context import Context, build_context
from fanbase.db import Database
from tests.helpers import auth, place_order, seed_catalogue

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ADMIN = r"^/api/v1/admin/"
# Generated requests may move the sandbox clock forward by up to 400 days each: tokens must outlive that.
TOKEN_TTL = 1000 * 365 * 24 * 3600
BOUNDED = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))


class Fuzzed:
    """The module's app and the callers it sends requests as."""

    def __init__(self, database: Database, tmp: Path) -> None:
        self.settings = Settings(data_dir=tmp / "data", sandbox=True, secret_key="test-secret-key",
                                 run_jobs_in_process=False)
        self.ctx: Context = build_context(self.settings, db=database, clock=FixedClock())
        self.app = create_app(ctx=self.ctx, run_scheduler=False)
        seed_catalogue(database, self.ctx.clock)
        with database.uow() as s:
            self.customer_id = accounts.register_customer(s, self.ctx.clock, email="fan@example.com",
                                                          password="password-1", name="粉丝").id
            self.staff_id = accounts.create_staff(s, self.ctx.clock, email="ops@example.com",
                                                  password="password-1", name="员工", role="admin").id
        self.customer = self.token(self.customer_id)
        self.staff = self.token(self.staff_id)
        # Something real to find: generated ids start at 1, so orders 1 (unpaid) and 2 (paid) get
        # paid, cancelled, shipped and refunded; a cart line lets a generated checkout succeed.
        client = TestClient(self.app, raise_server_exceptions=False)
        place_order(client, self.customer, sku="BAND9")
        paid = place_order(client, self.customer, sku="BAND9")
        client.post(f"/api/v1/sandbox-gateway/payments/{paid['payment']['id']}/approve").raise_for_status()
        client.put("/api/v1/cart/items/XM15-256", json={"quantity": 1},
                   headers=auth(self.customer)).raise_for_status()

    def token(self, user_id: int) -> str:
        with self.ctx.db.read() as s:
            user = accounts.get_user(s, user_id)
            return accounts.issue_token(self.ctx.secret_key, user, self.ctx.clock.now(), TOKEN_TTL)


@pytest.fixture(scope="module")
def fuzzed(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> Fuzzed:
    return Fuzzed(module_db, tmp_path_factory.mktemp("schemathesis"))


@pytest.fixture
def db(module_db: Database) -> Database:
    """The autouse ledger check of conftest.py runs on the fuzzed database."""
    return module_db


def _openapi_document() -> dict[str, Any]:
    """The document depends on the routes only: an app over a database it never opens gives it."""
    unused = Database(f"sqlite:///{Path(tempfile.gettempdir()) / 'fanbase-openapi-unused.sqlite3'}")
    ctx = build_context(Settings(secret_key="unused"), db=unused, clock=FixedClock())
    document: dict[str, Any] = create_app(ctx=ctx, run_scheduler=False).openapi()
    unused.dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi_document())


def _headers(fuzzed: Fuzzed, case: schemathesis.Case) -> dict[str, str]:
    if case.operation.path.startswith("/api/v1/admin/"):
        return auth(fuzzed.staff)
    if case.operation.path == "/api/v1/auth/logout":  # it revokes the token it is sent with
        return auth(fuzzed.token(fuzzed.customer_id))
    return auth(fuzzed.customer)


@schema.exclude(path_regex=ADMIN).parametrize()
@BOUNDED
def test_customer_and_public_operations(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
    case.call_and_validate(app=fuzzed.app, headers=_headers(fuzzed, case), checks=CHECKS)


@schema.include(path_regex=ADMIN).parametrize()
@BOUNDED
def test_staff_operations(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
    case.call_and_validate(app=fuzzed.app, headers=_headers(fuzzed, case), checks=CHECKS)
