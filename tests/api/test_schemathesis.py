"""Schemathesis over ``/openapi.json``: every documented operation, a bounded number of generated
requests each, signed in as a customer (and as staff for ``/admin``). No 5xx, and every answer matches
its documented status, media type and schema.

One app and one database for the module (hypothesis runs many examples per test; a fresh database per
example would be slow and a function-scoped one shared across examples is what hypothesis warns about).
The ``db`` fixture is overridden so that the ledger check of ``tests/api/conftest.py`` looks at it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy import text

from fanbase import models
from fanbase.accounts import service as accounts
from fanbase.app import create_app
from fanbase.clock import FixedClock
from fanbase.config import Settings
from fanbase.context import Context, build_context
from fanbase.db import Database
from tests.helpers import auth, seed_catalogue

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
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
        self.customer = self._token("fan@example.com", staff=False)
        self.staff = self._token("ops@example.com", staff=True)

    def _token(self, email: str, *, staff: bool) -> str:
        with self.ctx.db.uow() as s:
            if staff:
                user = accounts.create_staff(s, self.ctx.clock, email=email, password="password-1", name="员工",
                                             role="admin")
            else:
                user = accounts.register_customer(s, self.ctx.clock, email=email, password="password-1", name="粉丝")
            return accounts.issue_token(self.ctx.secret_key, user, self.ctx.clock.now(), TOKEN_TTL)

    def fresh_customer_token(self) -> str:
        """``POST /auth/logout`` revokes the token it is sent with: give it one of its own."""
        with self.ctx.db.read() as s:
            user = accounts.get_user(s, 1)
        return accounts.issue_token(self.ctx.secret_key, user, self.ctx.clock.now(), TOKEN_TTL)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, pg_database: Database | None) -> Iterator[Fuzzed]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    if pg_database is not None:
        tables = ", ".join(f'"{t.name}"' for t in models.metadata.sorted_tables)
        with pg_database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield Fuzzed(pg_database, tmp)
        return
    database = Database(f"sqlite:///{tmp / 'test.sqlite3'}")
    models.metadata.create_all(database.engine)
    yield Fuzzed(database, tmp)
    database.dispose()


@pytest.fixture
def db(fuzzed: Fuzzed) -> Database:
    """Overrides the conftest ``db``: the autouse ledger check runs on the fuzzed database."""
    return fuzzed.ctx.db


def _openapi_document() -> dict[str, Any]:
    """The document depends on the routes only: an app over a database it never opens gives it."""
    unused = Database(f"sqlite:///{Path(tempfile.gettempdir()) / 'fanbase-openapi-unused.sqlite3'}")
    ctx = build_context(Settings(secret_key="unused", run_jobs_in_process=False), db=unused, clock=FixedClock())
    document: dict[str, Any] = create_app(ctx=ctx, run_scheduler=False).openapi()
    unused.dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi_document())


def _headers(fuzzed: Fuzzed, case: schemathesis.Case) -> dict[str, str]:
    if case.operation.path.startswith("/api/v1/admin/"):
        return auth(fuzzed.staff)
    if case.operation.path == "/api/v1/auth/logout":
        return auth(fuzzed.fresh_customer_token())
    return auth(fuzzed.customer)


@schema.exclude(path_regex=ADMIN).parametrize()
@BOUNDED
def test_customer_and_public_operations(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
    case.call_and_validate(app=fuzzed.app, headers=_headers(fuzzed, case), checks=CHECKS)


@schema.include(path_regex=ADMIN).parametrize()
@BOUNDED
def test_staff_operations(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
    case.call_and_validate(app=fuzzed.app, headers=_headers(fuzzed, case), checks=CHECKS)
