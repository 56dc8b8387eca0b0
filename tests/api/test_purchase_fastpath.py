"""The lean purchase path answers exactly as the FastAPI route it stands in front of: the same status,
headers and body for wins, every refusal, bad tokens, malformed bodies and paths, in both languages
(two identical stores, one of them without the lean path)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fanbase import models
from fanbase.accounts import service as accounts
from fanbase.accounts.models import User
from fanbase.app import create_app
from fanbase.clock import FixedClock
from fanbase.config import Settings
from fanbase.context import build_context
from fanbase.db import Database
from fanbase.flashsale import fastpath
from tests.helpers import seed_catalogue

SECRET = "test-secret-key"
FANS = "abcdefg"


class Store:
    def __init__(self, directory: Path, *, lean: bool) -> None:
        self.db = Database(f"sqlite:///{directory / 'db.sqlite3'}")
        models.metadata.create_all(self.db.engine)
        self.clock = FixedClock()
        settings = Settings(data_dir=directory, sandbox=True, secret_key=SECRET, run_jobs_in_process=False,
                            product_cache_seconds=0, purchase_rate_per_customer=0, purchase_rate_per_ip=0)
        self.app = create_app(ctx=build_context(settings, db=self.db, clock=self.clock), run_scheduler=False)
        if not lean:
            del self.app.build_middleware_stack  # FastAPI's own stack: no lean path in front of it
        seed_catalogue(self.db, self.clock)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.tokens: dict[str, str] = {}
        with self.db.uow() as s:
            for name in FANS + "h":
                self.tokens[name] = self._token(accounts.register_customer(
                    s, self.clock, email=f"{name}@example.com", password="password-1", name=name))
            self.tokens["admin"] = self._token(accounts.create_staff(
                s, self.clock, email="ops@example.com", password="password-1", name="运营", role="admin"))

    def _token(self, user: User) -> str:
        return accounts.issue_token(SECRET, user, self.clock.now(), 10**8)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    pair = Store(tmp_path / "old", lean=False), Store(tmp_path / "new", lean=True)
    with pair[0].client, pair[1].client:
        yield pair
    for store in pair:
        store.db.dispose()


def test_the_lean_path_answers_as_fastapi_would(stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch) -> None:
    differences: list[str] = []
    lean_calls: list[object] = []  # the lean path really stands in front of one store only
    original = fastpath.PurchaseFastPath.__call__

    async def counted(self: fastpath.PurchaseFastPath, scope: Any, receive: Any, send: Any) -> None:
        lean_calls.append(scope.get("app"))
        await original(self, scope, receive, send)

    monkeypatch.setattr(fastpath.PurchaseFastPath, "__call__", counted)

    def both(method: str, path: str, who: str | None = "a", **options: Any) -> Any:
        answers = []
        for store in stores:
            headers = dict(options.get("headers") or {})
            if who is not None:
                headers.setdefault("Authorization", f"Bearer {store.tokens.get(who, who)}")
            answers.append(store.client.request(method, path, **(options | {"headers": headers})))
        old, new = answers
        if (old.status_code, _headers(old), _comparable(old)) != (new.status_code, _headers(new), _comparable(new)):
            differences.append(f"{method} {path} {who} {options}: {old.status_code} {old.content[:200]!r} "
                               f"!= {new.status_code} {new.content[:200]!r}")
        return new

    now = stores[0].clock.now()
    body = {"sku": "XM15-256", "units": 3, "price_fen": 399900, "reservations_open_at": now.isoformat(),
            "starts_at": (now + timedelta(seconds=3600)).isoformat(),
            "ends_at": (now + timedelta(seconds=4200)).isoformat(), "per_customer_limit": 2}
    sale = both("POST", "/api/v1/admin/flash-sales", who="admin", json=body).json()["id"]
    for fan in FANS:
        both("POST", f"/api/v1/flash-sales/{sale}/reservations", who=fan)
    url = f"/api/v1/flash-sales/{sale}/purchase"
    json_type, english = {"Content-Type": "application/json"}, {"Accept-Language": "en"}
    bodies = [b'{"quantity": 1}', b"{}", b"null", b"[]", b'"x"', b'{"quantity": "1"}', b'{"quantity": true}',
              b'{"quantity": 1.0}', b'{"quantity": 0}', b'{"quantity": 1001}', b'{"quantity": 1, "extra": 5}',
              b'{"purchase_token": "a\\u0000b"}', b'{"purchase_token": 5}', b'{"quantity": 1', b"{\xff}",
              b'{"purchase_token": "\\ud800"}', b"[" * 3000 + b"]" * 3000]

    def battery(fan: str) -> None:
        both("POST", url, who=fan)
        for content in bodies:
            both("POST", url, who=fan, content=content, headers=json_type)
            both("POST", url, who=None, content=content, headers=json_type | english)
        for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/json; charset=utf-8"}):
            both("POST", url, who=fan, content=b'{"quantity": 1}', headers=headers | english)

    battery("a")  # before the start
    for path in ["/api/v1/flash-sales/0/purchase", "/api/v1/flash-sales/abc/purchase",
                 f"/api/v1/flash-sales/00{sale}/purchase", f"/api/v1/flash-sales/{2**62 + 1}/purchase",
                 "/api/v1/flash-sales/999/purchase", f"/api/v1/flash-sales/{sale}/purchase?x=%00"]:
        for who in ("a", None, "garbage"):
            both("POST", path, who=who)
    for method in ("GET", "PUT", "DELETE"):
        both(method, url)
    for stores_clock in (s.clock for s in stores):
        stores_clock.advance(3600)
    battery("b")  # live: wins up to the limit, then refusals
    both("POST", url, who="h")  # not reserved
    both("POST", url, who="c", headers={"Idempotency-Key": "k1"})
    both("POST", url, who="c", headers={"Idempotency-Key": "k1"})  # replayed
    both("POST", url, who="c", headers={"Idempotency-Key": "k1"}, json={"quantity": 1})  # reused differently
    both("POST", url, who="d", headers=english)  # sold out
    assert differences == []
    assert len(lean_calls) > 50 and all(app is stores[1].app for app in lean_calls)


def _headers(reply: Any) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in reply.headers.multi_items() if k not in ("date", "content-length"))


def _comparable(reply: Any) -> Any:
    """The body, with what differs between two stores by nature (times of day) taken out."""
    if reply.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
        data = reply.json()
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in ("created_at", "updated_at", "payment_due_at")}
        return data
    return reply.content
