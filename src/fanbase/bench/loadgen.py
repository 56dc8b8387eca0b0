"""A small, fast HTTP/1.1 load generator for ``fanbase bench api``.

It is meant to run in its own process, so that the client never competes with the code being
measured for the same interpreter::

    echo '{"scenario": "product_detail", "port": 8000, "slugs": ["a", "b"]}' \\
        | python -m fanbase.bench.loadgen --duration 10 --concurrency 64

and prints one JSON object with the results on stdout.

The client is a minimal keep-alive HTTP/1.1 client over asyncio streams: one connection per
virtual user, requests framed with ``Content-Length``, responses parsed as status line + headers +
``Content-Length`` body (``Transfer-Encoding: chunked`` and read-until-close are handled too). It
prebuilds the request bytes wherever it can, which makes it an order of magnitude cheaper per
request than a general-purpose client such as httpx. uvloop is used when it is installed (it comes
with ``uvicorn[standard]``); ``--loop asyncio`` forces the standard library loop.

Scenario (JSON object, from ``--scenario FILE`` or stdin; command-line options override it):

``scenario``
    ``"product_detail"``, ``"checkout"`` or ``"flash_sale"``.
``host`` / ``port`` / ``base_path``
    Where the API is; defaults ``127.0.0.1`` / (required) / ``/api/v1``.
``concurrency``
    Number of connections (virtual users). For ``checkout`` at most ``len(tokens)``; default: all
    tokens for ``checkout``, 32 for ``product_detail``.
``duration`` / ``requests``
    Run for that many seconds and/or stop after that many requests (``product_detail``) or
    checkouts started (``checkout``), whichever comes first. Neither given: 10 seconds.
``warmup``
    Seconds of the same load before measuring (results discarded). Default 0.
``max_time``
    Hard limit for the measured phase; requests still running then are cancelled and counted
    as errors (``"cancelled"``). Default ``duration + 30`` (or 600 with only ``requests``).
``slugs`` (``product_detail``)
    Product slugs, requested round-robin as ``GET {base_path}/products/{slug}``.
``tokens`` / ``skus`` (or ``sku``) (``checkout``)
    One bearer token per virtual user (one customer per connection), and the SKUs put in the
    cart (round-robin per user). A checkout is ``PUT /cart/items/{sku}`` -> ``POST /checkout``
    (with a fresh ``Idempotency-Key``) -> ``POST /sandbox-gateway/payments/{id}/approve``; it is
    completed when all three answered 2xx.
``sale_id`` / ``tokens`` / ``attempts`` (``flash_sale``)
    ``POST {base_path}/flash-sales/{sale_id}/purchase`` with ``{"quantity": 1}``, once per entry of
    ``attempts`` (indices into ``tokens``, one bearer token per fan; default: every token once), in that
    order, handed out to the virtual users as they become free; ``concurrency`` defaults to 256.
    Every attempt is sent once (no retry on an error): ``flash_sale.answered`` counts the ones that got
    an HTTP answer.

Output: ``{"scenario", "concurrency", "duration_s", "loop", "client_cpu_s", "client_cpu_util",
"connections_opened", "timed_out", "routes": {route: stats}, "totals": {...}}`` where each route's
stats are ``count`` (responses + exceptions), ``ok``, ``errors`` (non-2xx or exceptions),
``statuses`` (histogram: status code or exception name -> count), ``req_per_s``, ``ok_per_s``,
``mean_ms``, ``p50_ms``, ``p90_ms``, ``p99_ms``, ``max_ms``. Latencies cover every request that
got a response (whatever its status). The checkout scenario adds ``checkouts`` (``attempted``,
``completed``, ``failed``, ``per_s``) and ``checkouts_per_s``. The flash_sale scenario adds
``flash_sale``: ``attempts``, ``answered``, ``won``, ``won_order_ids`` (from the 201 bodies),
``outcomes`` (``won`` or the problem's ``code`` -> count), ``last_win_s`` and ``first_sold_out_s``
(seconds from the start of the run; 0 / null when there was none).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import socket
import sys
import time
import types
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

_orjson: types.ModuleType | None
try:
    import orjson

    _orjson = orjson
except ImportError:  # pragma: no cover - orjson is a dependency, this is only a fallback
    _orjson = None

PRODUCT_DETAIL_ROUTE = "GET /products/{slug}"
CART_ROUTE = "PUT /cart/items/{sku}"
CHECKOUT_ROUTE = "POST /checkout"
APPROVE_ROUTE = "POST /sandbox-gateway/payments/{id}/approve"
FLASH_SALE_ROUTE = "POST /flash-sales/{id}/purchase"

CHECKOUT_BODY: dict[str, Any] = {
    "payment_method": "gateway",
    "shipping_address": {
        "name": "张三",
        "phone": "13800138000",
        "line1": "朝阳区建国路 1 号",
        "city": "北京",
        "postcode": "100000",
    },
}

_perf_counter = time.perf_counter
_ERROR_BACKOFF_S = 0.01  # after an exception (refused, reset...), so a dead server isn't hammered


def json_dumps(obj: Any) -> bytes:
    if _orjson is not None:
        data: bytes = _orjson.dumps(obj)
        return data
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def json_loads(data: bytes | str) -> Any:
    if _orjson is not None:
        return _orjson.loads(data)
    return json.loads(data)


# --------------------------------------------------------------------------------------------
# HTTP/1.1 client
# --------------------------------------------------------------------------------------------


class ProtocolError(Exception):
    """The server sent something that is not a valid HTTP/1.1 response."""


class Response:
    __slots__ = ("status", "reason", "headers", "body", "http_version")

    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes, http_version: str):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case names; repeated headers joined with ", "
        self.body = body
        self.http_version = http_version

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json_loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]


def build_request(
    method: str,
    path: str,
    host_header: str,
    *,
    body: bytes | None = None,
    headers: HeaderItems | None = None,
    content_type: str = "application/json",
) -> bytes:
    """The bytes of one HTTP/1.1 request (keep-alive). ``path`` must already be percent-encoded.

    A body (even empty) is sent with ``Content-Length``; POST/PUT/PATCH always carry one so that
    an empty POST is framed as ``Content-Length: 0``."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host_header}"]
    names: set[str] = set()
    if headers is not None:
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            names.add(name.lower())
            lines.append(f"{name}: {value}")
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""
    if body is not None:
        if body and "content-type" not in names:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head + body if body else head


_RETRYABLE = (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection; requests on it are sequential (no pipelining).

    The connection is (re)opened lazily. If a reused connection turns out to have been closed by
    the server before it answered anything (an idle keep-alive timeout), the request is sent
    once more on a fresh connection."""

    __slots__ = (
        "host",
        "port",
        "host_header",
        "connect_timeout",
        "connections_opened",
        "_reader",
        "_writer",
        "_received",
    )

    def __init__(self, host: str, port: int, *, connect_timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.host_header = host if port == 80 else f"{host}:{port}"
        self.connect_timeout = connect_timeout
        self.connections_opened = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._received = False

    @property
    def connected(self) -> bool:
        return self._writer is not None

    async def connect(self) -> None:
        self.close()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), self.connect_timeout
        )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):  # not a TCP socket
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader, self._writer = reader, writer
        self.connections_opened += 1

    def close(self) -> None:
        writer = self._writer
        self._reader = self._writer = None
        if writer is not None:
            with contextlib.suppress(Exception):  # closing a broken transport
                writer.close()

    def build(
        self, method: str, path: str, *, body: bytes | None = None, headers: HeaderItems | None = None
    ) -> bytes:
        return build_request(method, path, self.host_header, body=body, headers=headers)

    async def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: HeaderItems | None = None
    ) -> Response:
        raw = build_request(method, path, self.host_header, body=body, headers=headers)
        return await self.send(raw, head=method == "HEAD")

    async def send(self, raw: bytes, *, head: bool = False, retry: bool = True) -> Response:
        """Send prebuilt request bytes and read the response."""
        reused = self._writer is not None
        if not reused:
            await self.connect()
        writer = self._writer
        assert writer is not None
        self._received = False
        try:
            writer.write(raw)
            if len(raw) > 65536:
                await writer.drain()
            return await self._read_response(head)
        except _RETRYABLE as exc:
            self.close()
            nothing_received = not self._received and not (
                isinstance(exc, asyncio.IncompleteReadError) and exc.partial
            )
            if reused and retry and nothing_received:
                return await self.send(raw, head=head, retry=False)
            raise
        except BaseException:
            self.close()  # the stream position is unknown now
            raise

    async def _read_response(self, head: bool) -> Response:
        reader = self._reader
        assert reader is not None
        while True:
            raw_head = await reader.readuntil(b"\r\n\r\n")
            self._received = True
            text = raw_head[:-4].decode("latin-1")
            status_line, _, header_block = text.partition("\r\n")
            version, _, rest = status_line.partition(" ")
            code, _, reason = rest.partition(" ")
            if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
                raise ProtocolError(f"bad status line: {status_line[:100]!r}")
            status = int(code)
            headers: dict[str, str] = {}
            if header_block:
                for line in header_block.split("\r\n"):
                    name, sep, value = line.partition(":")
                    if not sep:
                        raise ProtocolError(f"bad header line: {line[:100]!r}")
                    key = name.strip().lower()
                    value = value.strip()
                    previous = headers.get(key)
                    headers[key] = value if previous is None else f"{previous}, {value}"
            if 100 <= status < 200 and status != 101:
                continue  # interim response (100 Continue, 103 Early Hints): the real one follows
            break

        connection = headers.get("connection", "").lower()
        close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        transfer_encoding = headers.get("transfer-encoding")
        if head or status in (204, 304) or status < 200:
            body = b""
        elif transfer_encoding is not None and "chunked" in transfer_encoding.lower():
            body = await self._read_chunked(reader)
        else:
            length = headers.get("content-length")
            if length is not None:
                try:
                    n = int(length.split(",")[0])
                except ValueError as exc:
                    raise ProtocolError(f"bad Content-Length: {length!r}") from exc
                if n < 0:
                    raise ProtocolError(f"bad Content-Length: {length!r}")
                body = await reader.readexactly(n) if n else b""
            else:
                body = await reader.read()  # delimited by the end of the connection
                close = True
        if close:
            self.close()
        return Response(status, reason, headers, body, version)

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        while True:
            line = await reader.readuntil(b"\r\n")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise ProtocolError(f"bad chunk size: {line[:100]!r}") from exc
            if size == 0:
                break
            chunk = await reader.readexactly(size + 2)
            if chunk[-2:] != b"\r\n":
                raise ProtocolError("chunk not terminated by CRLF")
            chunks.append(chunk[:-2])
        while True:  # trailers, up to the empty line
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
        return b"".join(chunks)


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class RouteStats:
    """Latencies (seconds) and a status histogram for one route."""

    __slots__ = ("name", "latencies", "statuses", "exceptions", "errors")

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.exceptions: dict[str, int] = {}
        self.errors = 0

    def add(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            self.errors += 1

    def add_exception(self, kind: str) -> None:
        self.exceptions[kind] = self.exceptions.get(kind, 0) + 1
        self.errors += 1

    @property
    def count(self) -> int:
        return len(self.latencies) + sum(self.exceptions.values())

    def summary(self, elapsed: float) -> dict[str, Any]:
        values = sorted(self.latencies)
        count = self.count
        ok = count - self.errors
        histogram: dict[str, int] = {str(code): n for code, n in sorted(self.statuses.items())}
        histogram.update(sorted(self.exceptions.items()))
        per_s = (lambda n: round(n / elapsed, 1)) if elapsed > 0 else (lambda n: 0.0)
        return {
            "count": count,
            "ok": ok,
            "errors": self.errors,
            "statuses": histogram,
            "req_per_s": per_s(count),
            "ok_per_s": per_s(ok),
            "mean_ms": round(sum(values) / len(values) * 1000, 3) if values else 0.0,
            "p50_ms": round(percentile(values, 50) * 1000, 3),
            "p90_ms": round(percentile(values, 90) * 1000, 3),
            "p99_ms": round(percentile(values, 99) * 1000, 3),
            "max_ms": round(values[-1] * 1000, 3) if values else 0.0,
        }


async def timed_send(conn: HTTPConnection, raw: bytes, stats: RouteStats) -> Response | None:
    """Send ``raw`` on ``conn`` and record the outcome in ``stats``; ``None`` on an exception."""
    start = _perf_counter()
    try:
        response = await conn.send(raw)
    except asyncio.CancelledError:
        stats.add_exception("cancelled")
        raise
    except Exception as exc:
        stats.add_exception(type(exc).__name__)
        await asyncio.sleep(_ERROR_BACKOFF_S)
        return None
    stats.add(response.status, _perf_counter() - start)
    return response


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


class _Control:
    """Hands out work until the deadline or the request budget is reached (single event loop)."""

    __slots__ = ("deadline", "limit", "issued")

    def __init__(self, deadline: float | None, limit: int | None) -> None:
        self.deadline = deadline
        self.limit = limit
        self.issued = 0

    def take(self) -> bool:
        if self.deadline is not None and _perf_counter() >= self.deadline:
            return False
        if self.limit is not None and self.issued >= self.limit:
            return False
        self.issued += 1
        return True


class _CheckoutTotals:
    __slots__ = ("attempted", "completed", "failures")

    def __init__(self) -> None:
        self.attempted = 0
        self.completed = 0
        self.failures: dict[str, int] = {}

    def fail(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1


async def _product_detail_worker(
    conn: HTTPConnection, requests: Sequence[bytes], stats: RouteStats, control: _Control
) -> None:
    n = len(requests)
    while control.take():
        await timed_send(conn, requests[(control.issued - 1) % n], stats)


async def _checkout_worker(
    conn: HTTPConnection,
    token: str,
    skus: Sequence[str],
    base_path: str,
    stats: Mapping[str, RouteStats],
    totals: _CheckoutTotals,
    control: _Control,
) -> None:
    auth = [("Authorization", f"Bearer {token}")]
    cart_body = b'{"quantity":1}'
    cart_requests = [
        conn.build("PUT", f"{base_path}/cart/items/{quote(sku, safe='')}", body=cart_body, headers=auth)
        for sku in skus
    ]
    # The Idempotency-Key is always a 36-character UUID: build once, splice the key in per request.
    placeholder = "00000000-0000-0000-0000-000000000000"
    checkout_template = conn.build(
        "POST",
        f"{base_path}/checkout",
        body=json_dumps(CHECKOUT_BODY),
        headers=[*auth, ("Idempotency-Key", placeholder)],
    )
    before, after = checkout_template.split(placeholder.encode(), 1)
    cart_stats, checkout_stats, approve_stats = stats[CART_ROUTE], stats[CHECKOUT_ROUTE], stats[APPROVE_ROUTE]
    i = 0
    while control.take():
        totals.attempted += 1
        response = await timed_send(conn, cart_requests[i % len(cart_requests)], cart_stats)
        i += 1
        if response is None or not response.ok:
            totals.fail("cart")
            continue
        key = str(uuid.uuid4()).encode()
        response = await timed_send(conn, before + key + after, checkout_stats)
        if response is None or not response.ok:
            totals.fail("checkout")
            continue
        try:
            payment_id = str(response.json()["payment"]["id"])
        except Exception:
            totals.fail("checkout: no payment id in response")
            continue
        approve_path = f"{base_path}/sandbox-gateway/payments/{quote(payment_id, safe='')}/approve"
        approve = conn.build("POST", approve_path)
        response = await timed_send(conn, approve, approve_stats)
        if response is None or not response.ok:
            totals.fail("approve")
            continue
        totals.completed += 1


class _FlashSaleTotals:
    __slots__ = ("start", "answered", "won_order_ids", "outcomes", "last_win", "first_sold_out")

    def __init__(self) -> None:
        self.start = _perf_counter()
        self.answered = 0
        self.won_order_ids: list[int] = []
        self.outcomes: dict[str, int] = {}
        self.last_win = 0.0
        self.first_sold_out: float | None = None

    def summary(self, attempts: int) -> dict[str, Any]:
        return {
            "attempts": attempts,
            "answered": self.answered,
            "won": len(self.won_order_ids),
            "won_order_ids": self.won_order_ids,
            "outcomes": dict(sorted(self.outcomes.items())),
            "last_win_s": round(self.last_win - self.start, 4) if self.won_order_ids else 0.0,
            "first_sold_out_s": None if self.first_sold_out is None else round(self.first_sold_out - self.start, 4),
        }


async def _flash_sale_worker(
    conn: HTTPConnection,
    template: tuple[bytes, bytes],
    tokens: Sequence[bytes],
    attempts: Sequence[int],
    stats: RouteStats,
    totals: _FlashSaleTotals,
    control: _Control,
) -> None:
    before, after = template
    outcomes = totals.outcomes
    while control.take():
        token = tokens[attempts[control.issued - 1]]
        response = await timed_send(conn, before + token + after, stats)
        if response is None:
            continue  # not answered (the exception is in stats)
        totals.answered += 1
        if response.status == 201:
            totals.won_order_ids.append(int(response.json()["id"]))
            totals.last_win = _perf_counter()
            code = "won"
        else:
            try:
                code = str(response.json().get("code") or response.status)
            except Exception:
                code = str(response.status)
            if code == "sold_out" and totals.first_sold_out is None:
                totals.first_sold_out = _perf_counter()
        outcomes[code] = outcomes.get(code, 0) + 1


class ScenarioError(ValueError):
    """The scenario description is invalid."""


def _positive_number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ScenarioError(f"{name} must be a non-negative number, not {value!r}")
    return number


async def _run_phase(
    make_workers: Callable[[_Control], list[Coroutine[Any, Any, None]]],
    *,
    duration: float | None,
    limit: int | None,
    max_time: float,
) -> tuple[float, bool]:
    """Run the workers until done (or cancel them after ``max_time``); elapsed seconds, timed out."""
    start = _perf_counter()
    control = _Control(start + duration if duration is not None else None, limit)
    tasks = [asyncio.ensure_future(coro) for coro in make_workers(control)]
    try:
        done, pending = await asyncio.wait(tasks, timeout=max_time)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = _perf_counter() - start
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error  # a bug in a worker, not a failed request (those are recorded)
    return elapsed, bool(pending)


async def run_scenario(scenario: Mapping[str, Any], *, loop_name: str = "asyncio") -> dict[str, Any]:
    """Run one scenario (see the module docstring) in the current event loop; the result dict."""
    kind = scenario.get("scenario")
    if kind not in ("product_detail", "checkout", "flash_sale"):
        raise ScenarioError(f"scenario must be 'product_detail', 'checkout' or 'flash_sale', not {kind!r}")
    host = str(scenario.get("host") or "127.0.0.1")
    if "port" not in scenario:
        raise ScenarioError("port is required")
    port = int(scenario["port"])
    base_path = "/" + str(scenario.get("base_path", "/api/v1")).strip("/")
    base_path = "" if base_path == "/" else base_path
    duration = _positive_number(scenario.get("duration"), "duration")
    requests = scenario.get("requests")
    limit = int(requests) if requests is not None else None
    if limit is not None and limit < 0:
        raise ScenarioError("requests must be >= 0")
    if duration is None and limit is None:
        duration = 10.0
    warmup = _positive_number(scenario.get("warmup"), "warmup") or 0.0
    max_time = _positive_number(scenario.get("max_time"), "max_time")
    if max_time is None:
        max_time = duration + 30.0 if duration is not None else 600.0

    tokens: list[str] = []
    skus: list[str] = []
    slugs: list[str] = []
    paths: list[str] = []
    attempts: list[int] = []
    if kind == "flash_sale":
        tokens = [str(t) for t in scenario.get("tokens") or []]
        if not tokens or "sale_id" not in scenario:
            raise ScenarioError("flash_sale needs a sale_id and a non-empty list of tokens")
        attempts = [int(i) for i in scenario.get("attempts") or range(len(tokens))]
        if attempts and not 0 <= min(attempts) <= max(attempts) < len(tokens):
            raise ScenarioError("flash_sale attempts are indices into tokens")
        limit = len(attempts) if limit is None else min(limit, len(attempts))
        if scenario.get("duration") is None:  # every attempt, however long it takes (up to max_time)
            duration = None
            if scenario.get("max_time") is None:
                max_time = 600.0
        warmup = 0.0  # a warm-up would spend the sale
        concurrency = int(scenario.get("concurrency") or 256)
    elif kind == "product_detail":
        slugs = [str(s) for s in scenario.get("slugs") or []]
        # or whole paths (the HTML pages), reported under a route name of the caller's
        paths = [str(p) for p in scenario.get("paths") or []]
        if not slugs and not paths:
            raise ScenarioError("product_detail needs a non-empty list of slugs (or paths)")
        concurrency = int(scenario.get("concurrency") or 32)
    else:
        tokens = [str(t) for t in scenario.get("tokens") or []]
        raw_skus = scenario.get("skus") or ([scenario["sku"]] if scenario.get("sku") else [])
        skus = [str(s) for s in raw_skus]
        if not tokens or not skus:
            raise ScenarioError("checkout needs a non-empty list of tokens and a sku (or skus)")
        concurrency = min(int(scenario.get("concurrency") or len(tokens)), len(tokens))
    if concurrency < 1:
        raise ScenarioError("concurrency must be >= 1")

    connections = [HTTPConnection(host, port) for _ in range(concurrency)]
    # Open the connections up front so that the handshakes are not part of the measurement;
    # a failure here shows up as an exception on the first request of that connection.
    await asyncio.gather(*(conn.connect() for conn in connections), return_exceptions=True)

    product_requests = [connections[0].build("GET", path) for path in paths] or [
        connections[0].build("GET", f"{base_path}/products/{quote(slug, safe='')}") for slug in slugs
    ]
    detail_route = str(scenario.get("route") or PRODUCT_DETAIL_ROUTE)

    flash_tokens = [t.encode() for t in tokens] if kind == "flash_sale" else []
    flash_template = (b"", b"")
    if kind == "flash_sale":
        placeholder = "\x00token\x00"
        raw = connections[0].build(
            "POST",
            f"{base_path}/flash-sales/{int(scenario['sale_id'])}/purchase",
            body=b'{"quantity":1}',
            headers=[("Authorization", f"Bearer {placeholder}")],
        )
        before, after = raw.split(placeholder.encode(), 1)
        flash_template = (before, after)
    flash_totals = _FlashSaleTotals()

    def new_stats() -> dict[str, RouteStats]:
        if kind == "product_detail":
            names = [detail_route]
        elif kind == "flash_sale":
            names = [FLASH_SALE_ROUTE]
        else:
            names = [CART_ROUTE, CHECKOUT_ROUTE, APPROVE_ROUTE]
        return {name: RouteStats(name) for name in names}

    def workers_for(
        stats: dict[str, RouteStats], totals: _CheckoutTotals
    ) -> Callable[[_Control], list[Coroutine[Any, Any, None]]]:
        def make(control: _Control) -> list[Coroutine[Any, Any, None]]:
            if kind == "flash_sale":
                flash_totals.start = _perf_counter()
                return [
                    _flash_sale_worker(
                        conn, flash_template, flash_tokens, attempts, stats[FLASH_SALE_ROUTE], flash_totals, control
                    )
                    for conn in connections
                ]
            if kind == "product_detail":
                return [
                    _product_detail_worker(conn, product_requests, stats[detail_route], control)
                    for conn in connections
                ]
            return [
                _checkout_worker(conn, token, skus, base_path, stats, totals, control)
                for conn, token in zip(connections, tokens, strict=False)
            ]

        return make

    try:
        if warmup > 0:
            warm = workers_for(new_stats(), _CheckoutTotals())
            await _run_phase(warm, duration=warmup, limit=None, max_time=warmup + 30.0)
        stats = new_stats()
        totals = _CheckoutTotals()
        cpu_start = time.process_time()
        elapsed, timed_out = await _run_phase(
            workers_for(stats, totals), duration=duration, limit=limit, max_time=max_time
        )
        cpu = time.process_time() - cpu_start
    finally:
        for conn in connections:
            conn.close()
        await asyncio.sleep(0)  # let the transports close

    routes = {name: s.summary(elapsed) for name, s in stats.items()}
    total_count = sum(r["count"] for r in routes.values())
    total_errors = sum(r["errors"] for r in routes.values())
    result: dict[str, Any] = {
        "scenario": kind,
        "concurrency": concurrency,
        "duration_s": round(elapsed, 3),
        "warmup_s": warmup,
        "loop": loop_name,
        "client_cpu_s": round(cpu, 3),
        "client_cpu_util": round(cpu / elapsed, 3) if elapsed > 0 else 0.0,
        "connections_opened": sum(conn.connections_opened for conn in connections),
        "timed_out": timed_out,
        "routes": routes,
        "totals": {
            "count": total_count,
            "errors": total_errors,
            "req_per_s": round(total_count / elapsed, 1) if elapsed > 0 else 0.0,
        },
    }
    if kind == "checkout":
        per_s = round(totals.completed / elapsed, 2) if elapsed > 0 else 0.0
        result["checkouts"] = {
            "attempted": totals.attempted,
            "completed": totals.completed,
            "failed": totals.attempted - totals.completed,
            "failures": dict(sorted(totals.failures.items())),
            "per_s": per_s,
        }
        result["checkouts_per_s"] = per_s
    if kind == "flash_sale":
        result["flash_sale"] = flash_totals.summary(len(attempts))
    return result


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _loop_factory(name: str) -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    if name in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if name == "uvloop":
                raise
        else:
            factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
            return factory, "uvloop"
    return None, "asyncio"


def run(scenario: Mapping[str, Any], *, loop: str = "auto") -> dict[str, Any]:
    """Run a scenario in a fresh event loop (uvloop if ``loop`` is auto/uvloop and it is installed)."""
    factory, loop_name = _loop_factory(loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(run_scenario(scenario, loop_name=loop_name))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fanbase.bench.loadgen",
        description="HTTP/1.1 keep-alive load generator; JSON scenario in (file or stdin), JSON results out.",
    )
    parser.add_argument("--scenario", default="-", help="scenario JSON file, '-' for stdin (default)")
    parser.add_argument("--duration", type=float, help="seconds to run (overrides the scenario)")
    parser.add_argument("--requests", type=int, help="stop after this many requests / checkouts")
    parser.add_argument("--concurrency", type=int, help="connections (virtual users)")
    parser.add_argument("--warmup", type=float, help="seconds of unmeasured load first")
    parser.add_argument("--host", help="server host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="server port")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.scenario == "-":
            text = sys.stdin.read()
        else:
            with open(args.scenario, encoding="utf-8") as fh:
                text = fh.read()
        scenario = json_loads(text) if text.strip() else {}
        if not isinstance(scenario, dict):
            raise ScenarioError("the scenario must be a JSON object")
    except (OSError, ValueError) as exc:
        print(f"loadgen: cannot read the scenario: {exc}", file=sys.stderr)
        return 2
    for option in ("duration", "requests", "concurrency", "warmup", "host", "port"):
        value = getattr(args, option)
        if value is not None:
            scenario[option] = value
    gc.disable()  # short-lived process: skip cyclic GC pauses during the measurement
    try:
        result = run(scenario, loop=args.loop)
    except ScenarioError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    output = json.dumps(result, ensure_ascii=False, indent=2 if args.pretty else None)
    # The event loop may have left stdout non-blocking; into a full pipe a long result was cut at 64 KiB.
    os.set_blocking(sys.stdout.fileno(), True)
    sys.stdout.write(output + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
