"""The load generator's HTTP/1.1 client and scenarios, against a tiny asyncio HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fanbase
from fanbase.bench import loadgen
from fanbase.bench.loadgen import (
    APPROVE_ROUTE,
    CART_ROUTE,
    CHECKOUT_BODY,
    CHECKOUT_ROUTE,
    PRODUCT_DETAIL_ROUTE,
    HTTPConnection,
    RouteStats,
    percentile,
)

SLUGS = {"xiaomi-14", "redmi-note-13", "mi-band-8"}
SLOW_SLUG = "slow-product"
SLOW_S = 0.03


class TinyServer:
    """A minimal HTTP/1.1 server on 127.0.0.1 in a background thread, recording what it saw."""

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self.paths: list[str] = []
        self.tokens_by_connection: dict[int, set[str]] = {}
        self.idempotency_keys: list[str] = []
        self.checkout_bodies: list[Any] = []
        self.payments: dict[str, str] = {}
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TinyServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn_id = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *header_lines = head[:-4].decode().split("\r\n")
                method, path, _version = request_line.split(" ")
                headers = {}
                for line in header_lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.paths.append(path)
                if "authorization" in headers:
                    self.tokens_by_connection.setdefault(conn_id, set()).add(headers["authorization"])
                keep_open = await self._respond(writer, method, path, headers, body)
                await writer.drain()
                if not keep_open:
                    return
        finally:
            writer.close()

    async def _respond(
        self, writer: asyncio.StreamWriter, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> bool:
        def send(status: int, payload: bytes, extra: str = "") -> None:
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
                f"Content-Length: {len(payload)}\r\n\r\n".encode()
                + payload
            )

        parts = path.split("/")
        if path.startswith("/cl/"):
            send(200, b"x" * int(parts[2]))
        elif path == "/chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n"
                b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"
            )
        elif path == "/early-hints":
            writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n")
            send(200, b"final")
        elif path.startswith("/status/"):
            send(int(parts[2]), b'{"status": %s}' % parts[2].encode())
        elif path == "/no-content":
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif path == "/echo":
            send(200, body, f"X-Method: {method}\r\n")
        elif path == "/close":
            send(200, b"bye", "Connection: close\r\n")
            return False
        elif path == "/until-eof":
            writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of this until the end")
            return False
        elif path == "/drop-after":  # answer, then close without saying so (idle keep-alive timeout)
            send(200, b"dropped")
            return False
        elif path.startswith("/api/v1/products/"):
            slug = parts[4]
            if slug == SLOW_SLUG:
                await asyncio.sleep(SLOW_S)
                send(200, b'{"slug": "slow"}')
            elif slug in SLUGS:
                send(200, json.dumps({"slug": slug, "variants": []}).encode())
            else:
                send(404, b'{"code": "not_found"}')
        elif method == "PUT" and path.startswith("/api/v1/cart/items/"):
            ok = "authorization" in headers and json.loads(body) == {"quantity": 1}
            send(200 if ok else 422, b'{"lines": [], "total_fen": 0}')
        elif method == "POST" and path == "/api/v1/checkout":
            self.idempotency_keys.append(headers.get("idempotency-key", ""))
            self.checkout_bodies.append(json.loads(body))
            payment_id = f"pay_{len(self.payments) + 1}"
            self.payments[payment_id] = "pending"
            payment = {"id": payment_id, "status": "pending", "pay_url": "/x"}
            order = {"id": len(self.payments), "payment": payment}
            send(201, json.dumps(order).encode())
        elif method == "POST" and path.startswith("/api/v1/sandbox-gateway/payments/"):
            payment_id = parts[5]
            if self.payments.get(payment_id) == "pending" and not body and "authorization" not in headers:
                self.payments[payment_id] = "approved"
                send(200, b'{"status": "approved"}')
            else:
                send(404, b'{"code": "not_found"}')
        else:
            send(404, b"{}")
        return True


@pytest.fixture
def server() -> Iterator[TinyServer]:
    with TinyServer() as srv:
        yield srv


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---------------------------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------------------------


def test_keep_alive_and_content_length(server: TinyServer) -> None:
    async def go() -> list[int]:
        conn = HTTPConnection("127.0.0.1", server.port)
        sizes = []
        for size in [0, 1, 17, 70_000, 3, 1_500_000, 0, 5]:
            response = await conn.request("GET", f"/cl/{size}")
            assert response.status == 200
            assert response.body == b"x" * size
            assert response.headers["content-length"] == str(size)
            sizes.append(len(response.body))
        assert conn.connections_opened == 1
        conn.close()
        return sizes

    assert run(go()) == [0, 1, 17, 70_000, 3, 1_500_000, 0, 5]
    assert server.connections == 1  # everything went over one keep-alive connection


def test_chunked_body_and_following_request(server: TinyServer) -> None:
    async def go() -> None:
        conn = HTTPConnection("127.0.0.1", server.port)
        response = await conn.request("GET", "/chunked")
        assert response.status == 200
        assert response.body == b"hello, world"
        assert response.headers["x-multi"] == "a, b"
        # The chunked framing (extensions, trailers) was consumed exactly: the next one parses.
        response = await conn.request("GET", "/cl/4")
        assert response.body == b"xxxx"
        response = await conn.request("GET", "/early-hints")
        assert (response.status, response.body) == (200, b"final")
        response = await conn.request("GET", "/no-content")
        assert (response.status, response.body) == (204, b"")
        response = await conn.request("GET", "/cl/2")
        assert response.body == b"xx"
        conn.close()

    run(go())
    assert server.connections == 1


def test_post_body_with_content_length(server: TinyServer) -> None:
    body = loadgen.json_dumps(CHECKOUT_BODY)

    async def go() -> None:
        conn = HTTPConnection("127.0.0.1", server.port)
        response = await conn.request("POST", "/echo", body=body, headers={"Idempotency-Key": "k"})
        assert response.status == 200
        assert response.headers["x-method"] == "POST"
        assert response.json() == CHECKOUT_BODY
        response = await conn.request("POST", "/echo")  # empty POST: Content-Length: 0
        assert (response.status, response.body) == (200, b"")
        conn.close()

    run(go())
    assert server.connections == 1


def test_build_request_framing() -> None:
    auth = [("Authorization", "Bearer t")]
    raw = loadgen.build_request("PUT", "/a", "h:1", body=b'{"quantity":1}', headers=auth)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "PUT /a HTTP/1.1"
    assert "Host: h:1" in lines and "Authorization: Bearer t" in lines
    assert "Content-Length: 14" in lines and "Content-Type: application/json" in lines
    assert body == b'{"quantity":1}'
    assert b"Content-Length" not in loadgen.build_request("GET", "/", "h")
    assert b"Content-Length: 0\r\n" in loadgen.build_request("POST", "/", "h")


def test_connection_close_and_read_until_eof(server: TinyServer) -> None:
    async def go() -> None:
        conn = HTTPConnection("127.0.0.1", server.port)
        response = await conn.request("GET", "/close")
        assert (response.status, response.body) == (200, b"bye")
        assert not conn.connected
        response = await conn.request("GET", "/until-eof")
        assert response.body == b"all of this until the end"
        assert not conn.connected
        response = await conn.request("GET", "/cl/1")
        assert response.body == b"x"
        assert conn.connections_opened == 3
        conn.close()

    run(go())
    assert server.connections == 3


def test_stale_keep_alive_connection_is_retried_once(server: TinyServer) -> None:
    async def go() -> None:
        conn = HTTPConnection("127.0.0.1", server.port)
        response = await conn.request("GET", "/drop-after")
        assert response.body == b"dropped"
        await asyncio.sleep(0.05)  # the server has closed it; the client doesn't know yet
        response = await conn.request("GET", "/cl/3")
        assert response.body == b"xxx"
        assert conn.connections_opened == 2
        conn.close()

    run(go())


def test_connection_refused_is_an_exception() -> None:
    async def go() -> None:
        conn = HTTPConnection("127.0.0.1", _closed_port())
        with pytest.raises(OSError):
            await conn.request("GET", "/")

    run(go())


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def test_percentiles_and_histogram() -> None:
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentile(values, 50) == 0.05
    assert percentile(values, 99) == 0.099
    assert percentile(values, 100) == 0.1
    assert percentile([], 50) == 0.0
    assert percentile([0.007], 99) == 0.007

    stats = RouteStats("GET /x")
    for i, latency in enumerate(values):
        stats.add(404 if i % 10 == 0 else 200, latency)
    stats.add(503, 0.2)
    stats.add_exception("ConnectionResetError")
    summary = stats.summary(elapsed=2.0)
    assert summary["count"] == 102
    assert summary["errors"] == 12
    assert summary["ok"] == 90
    assert summary["statuses"] == {"200": 90, "404": 10, "503": 1, "ConnectionResetError": 1}
    assert summary["req_per_s"] == 51.0
    assert summary["ok_per_s"] == 45.0
    assert summary["p50_ms"] == 51.0  # 101 latencies: 1..100 ms and 200 ms
    assert summary["p99_ms"] == 100.0
    assert summary["max_ms"] == 200.0


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def test_product_detail_round_robin_statuses_and_latency(server: TinyServer) -> None:
    slugs = ["xiaomi-14", "redmi-note-13", "missing-one"]
    scenario = {"scenario": "product_detail", "port": server.port, "slugs": slugs, "requests": 300}
    result = run(loadgen.run_scenario({**scenario, "concurrency": 4}))
    route = result["routes"][PRODUCT_DETAIL_ROUTE]
    assert route["count"] == 300
    assert route["statuses"] == {"200": 200, "404": 100}
    assert route["errors"] == 100
    assert route["ok"] == 200
    assert 0 < route["p50_ms"] <= route["p99_ms"] <= route["max_ms"]
    assert route["req_per_s"] > 0
    assert result["concurrency"] == 4
    assert result["connections_opened"] == 4
    assert server.connections == 4
    assert not result["timed_out"]
    assert result["totals"] == {"count": 300, "errors": 100, "req_per_s": route["req_per_s"]}
    # round-robin over the slugs
    counts = {slug: server.paths.count(f"/api/v1/products/{slug}") for slug in slugs}
    assert counts == {slug: 100 for slug in slugs}


def test_latency_is_measured_per_request(server: TinyServer) -> None:
    scenario = {"scenario": "product_detail", "port": server.port, "slugs": [SLOW_SLUG], "requests": 6}
    result = run(loadgen.run_scenario({**scenario, "concurrency": 2}))
    route = result["routes"][PRODUCT_DETAIL_ROUTE]
    assert route["count"] == 6
    assert route["p50_ms"] >= SLOW_S * 1000 * 0.9
    assert route["p50_ms"] < 1000
    assert result["duration_s"] >= 3 * SLOW_S * 0.9  # 2 connections, 3 sequential requests each


def test_duration_mode(server: TinyServer) -> None:
    scenario = {"scenario": "product_detail", "port": server.port, "slugs": ["xiaomi-14"], "duration": 0.3}
    result = run(loadgen.run_scenario({**scenario, "concurrency": 2, "warmup": 0.1}))
    assert 0.3 <= result["duration_s"] < 2
    route = result["routes"][PRODUCT_DETAIL_ROUTE]
    assert route["count"] > 10
    assert route["errors"] == 0
    assert result["warmup_s"] == 0.1


def test_exceptions_are_counted_as_errors() -> None:
    scenario = {"scenario": "product_detail", "port": _closed_port(), "slugs": ["a"], "requests": 3}
    result = run(loadgen.run_scenario({**scenario, "concurrency": 1}))
    route = result["routes"][PRODUCT_DETAIL_ROUTE]
    assert route["count"] == 3
    assert route["errors"] == 3
    assert route["statuses"] == {"ConnectionRefusedError": 3}


def test_checkout_flow_one_customer_per_connection(server: TinyServer) -> None:
    tokens = ["tok-a", "tok-b", "tok-c"]
    scenario = {
        "scenario": "checkout",
        "port": server.port,
        "tokens": tokens,
        "skus": ["XM14-BLK-256"],
        "requests": 12,
    }
    result = run(loadgen.run_scenario(scenario))
    assert result["concurrency"] == 3
    for name in (CART_ROUTE, CHECKOUT_ROUTE, APPROVE_ROUTE):
        route = result["routes"][name]
        assert route["count"] == 12, name
        assert route["errors"] == 0, name
    assert result["routes"][CART_ROUTE]["statuses"] == {"200": 12}
    assert result["routes"][CHECKOUT_ROUTE]["statuses"] == {"201": 12}
    assert result["checkouts"]["completed"] == 12
    assert result["checkouts"]["failed"] == 0
    assert result["checkouts_per_s"] > 0
    assert all(status == "approved" for status in server.payments.values())
    assert len(server.payments) == 12
    assert server.paths.count("/api/v1/cart/items/XM14-BLK-256") == 12
    # one token per connection, each token on its own connection
    assert sorted(len(seen) for seen in server.tokens_by_connection.values()) == [1, 1, 1]
    seen_tokens = {token for seen in server.tokens_by_connection.values() for token in seen}
    assert seen_tokens == {f"Bearer {t}" for t in tokens}
    # a fresh UUID Idempotency-Key per checkout, and the checkout body as specified
    assert len(set(server.idempotency_keys)) == 12
    assert all(str(uuid.UUID(key)) == key for key in server.idempotency_keys)
    assert all(body == CHECKOUT_BODY for body in server.checkout_bodies)


def test_checkout_counts_failed_steps(server: TinyServer) -> None:
    scenario = {
        "scenario": "checkout",
        "port": server.port,
        "base_path": "/nope",  # every step 404s: nothing completes, the first step fails
        "tokens": ["t"],
        "sku": "S",
        "requests": 4,
    }
    result = run(loadgen.run_scenario(scenario))
    assert result["routes"][CART_ROUTE]["statuses"] == {"404": 4}
    assert result["routes"][CHECKOUT_ROUTE]["count"] == 0
    expected = {"attempted": 4, "completed": 0, "failed": 4, "failures": {"cart": 4}, "per_s": 0.0}
    assert result["checkouts"] == expected


def test_invalid_scenarios() -> None:
    with pytest.raises(loadgen.ScenarioError):
        run(loadgen.run_scenario({"scenario": "nope", "port": 1}))
    with pytest.raises(loadgen.ScenarioError):
        run(loadgen.run_scenario({"scenario": "product_detail", "port": 1, "slugs": []}))
    with pytest.raises(loadgen.ScenarioError):
        run(loadgen.run_scenario({"scenario": "checkout", "port": 1, "tokens": ["t"]}))


def test_command_line_reads_stdin_and_prints_json(server: TinyServer) -> None:
    src = str(Path(fanbase.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    scenario = {"scenario": "product_detail", "port": server.port, "slugs": sorted(SLUGS), "duration": 30}
    proc = subprocess.run(
        [sys.executable, "-m", "fanbase.bench.loadgen", "--requests", "60", "--concurrency", "3"],
        input=json.dumps(scenario).encode(),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["scenario"] == "product_detail"
    assert result["concurrency"] == 3
    assert result["routes"][PRODUCT_DETAIL_ROUTE]["statuses"] == {"200": 60}

    command = [sys.executable, "-m", "fanbase.bench.loadgen"]
    bad = subprocess.run(command, input=b"[1]", capture_output=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert bad.stdout == b""


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
