"""``fanbase bench api``: end-to-end HTTP benchmark of a real ``fanbase serve`` process.

Importing this module has no side effects; everything happens in :func:`run_api_bench`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from fanbase.bench.bulk import mark, report_console
from fanbase.bench.loadgen import APPROVE_ROUTE, CART_ROUTE, CHECKOUT_ROUTE, PRODUCT_DETAIL_ROUTE

if TYPE_CHECKING:
    from rich.console import Console

_T = TypeVar("_T")

HOST = "127.0.0.1"
API = "/api/v1"
STAFF_EMAIL = "bench@fanbase.test"
STAFF_PASSWORD = "bench-password-1"
CUSTOMER_PASSWORD = "bench-password-1"
STOCK_LOCATION = "main"
STOCK_ON_HAND = 10_000_000

#: Targets, checked and printed with every run.
PRODUCT_DETAIL_MIN_RPS = 2000.0
PRODUCT_DETAIL_MAX_P99_MS = 20.0
CHECKOUT_MIN_PER_S = 300.0
# the storefront's pages (issue 5): server time p99 on the demo catalogue
HOME_PAGE_ROUTE = "GET / (page)"
PRODUCT_PAGE_ROUTE = "GET /products/{slug} (page)"
PAGE_MAX_P99_MS = 30.0

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 10.0


class BenchError(RuntimeError):
    """The benchmark could not be run (setup failed, server died, timeout...)."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self, cap: float | None = None) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BenchError(f"the benchmark exceeded its overall timeout of {self.seconds:.0f} s")
        return left if cap is None else min(left, cap)


def run_api_bench(
    *,
    duration: float,
    concurrency: int,
    checkout_users: int,
    workers: int,
    json_output: bool,
    database_url: str | None,
    overall_timeout: float | None = None,
) -> dict[str, Any]:
    """Benchmark the HTTP API of a freshly started server; returns (and prints) the results.

    Signature::

        run_api_bench(*, duration: float, concurrency: int, checkout_users: int, workers: int,
                      json_output: bool, database_url: str | None,
                      overall_timeout: float | None = None) -> dict

    - ``duration``: seconds of each measured scenario (product detail, then checkout); a short
      warm-up (``min(2, duration / 5)`` s) precedes each one.
    - ``concurrency``: keep-alive connections for ``GET /products/{slug}``.
    - ``checkout_users``: customers registered for the checkout scenario; one connection each.
    - ``workers``: ``fanbase serve --workers``.
    - ``json_output``: print one JSON object on stdout instead of a rich table (progress messages
      always go to stderr).
    - ``database_url``: ``FANBASE_DATABASE_URL`` for the server (e.g. PostgreSQL); ``None`` for
      SQLite in the temporary data dir.
    - ``overall_timeout``: hard limit for the whole run in seconds (default: generous, scaled
      with ``duration`` and ``checkout_users``); :class:`BenchError` when exceeded.

    Steps: a temporary ``FANBASE_DATA_DIR``; ``python -m fanbase create-staff`` (migrates the
    database); ``python -m fanbase serve --demo`` on 127.0.0.1 and a free port; over HTTP a staff
    login, the product list, one product's SKU whose stock is raised, ``checkout_users``
    registered customers; then the load generator (``python -m fanbase.bench.loadgen``, its own
    process) runs the ``product_detail`` scenario, the same against the storefront's HTML home page and
    product pages, and the ``checkout`` scenario. The server is always stopped
    (SIGTERM, then SIGKILL) and the temporary directory removed.

    The result is keyed by route, each ``{count, ok, errors, statuses, req_per_s, ok_per_s,
    mean_ms, p50_ms, p90_ms, p99_ms, max_ms}``::

        {"GET /products/{slug}": {...}, "PUT /cart/items/{sku}": {...}, "POST /checkout": {...},
         "POST /sandbox-gateway/payments/{id}/approve": {...}, "GET / (page)": {...},
         "GET /products/{slug} (page)": {...},
         "checkout": {"completed_per_s", "completed", "attempted", "failures", "users"},
         "targets": {"product_detail": {..., "met"}, "checkout": {..., "met"}, "pages": {..., "met"},
                     "all_met"},
         "config": {...}, "loadgen": {...}, "machine": {...}}

    Raises :class:`BenchError` when the benchmark cannot run (it does not raise because a target
    was missed: see ``result["targets"]["all_met"]``).
    """
    if duration <= 0 or concurrency < 1 or checkout_users < 1 or workers < 1:
        raise ValueError("duration must be > 0 and concurrency, checkout_users, workers >= 1")
    if workers > 1 and not os.environ.get("FANBASE_REDIS_URL"):
        raise ValueError("several workers need FANBASE_REDIS_URL (fanbase serve refuses to run them without it)")
    warmup = round(min(2.0, duration / 5), 3)
    if overall_timeout is None:
        overall_timeout = 300.0 + 2 * (duration + warmup) + checkout_users * 1.0
    deadline = _Deadline(overall_timeout)
    console = _stderr_console()

    tmp = Path(tempfile.mkdtemp(prefix="fanbase-bench-"))
    server: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    try:
        env = _server_env(tmp, database_url)
        console.print(f"[dim]bench: data dir {tmp}; creating staff user[/dim]")
        _run_cli(
            ["create-staff", STAFF_EMAIL, "--password", STAFF_PASSWORD, "--role", "admin"],
            env,
            timeout=deadline.remaining(120.0),
        )
        port = _free_port()
        log_path = tmp / "server.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed in the finally block
        console.print(
            f"[dim]bench: starting fanbase serve --demo on {HOST}:{port} ({workers} worker(s))[/dim]"
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fanbase",
                "serve",
                "--demo",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the uvicorn workers are stopped with it
        )
        base_url = f"http://{HOST}:{port}"
        _wait_until_ready(server, base_url, log_path, deadline)

        console.print(f"[dim]bench: setting up (staff login, stock, {checkout_users} customers)[/dim]")
        setup = asyncio.run(_bounded(_setup(base_url, checkout_users, deadline), deadline, "the setup"))

        common = {
            "host": HOST,
            "port": port,
            "base_path": API,
            "warmup": warmup,
            "duration": duration,
            "max_time": duration + 30.0,
        }
        console.print(f"[dim]bench: product_detail for {duration:g} s over {concurrency} connections[/dim]")
        product = _run_loadgen(
            {**common, "scenario": "product_detail", "slugs": setup["slugs"], "concurrency": concurrency},
            env,
            deadline,
        )
        _check_alive(server, log_path, "during the product detail run")
        pages = {}
        for route, paths in ((HOME_PAGE_ROUTE, ["/"]),
                             (PRODUCT_PAGE_ROUTE, [f"/products/{slug}" for slug in setup["slugs"]])):
            console.print(f"[dim]bench: {route} for {duration:g} s over {concurrency} connections[/dim]")
            run = _run_loadgen({**common, "scenario": "product_detail", "paths": paths, "route": route,
                                "concurrency": concurrency}, env, deadline)
            pages[route] = run["routes"][route]
        _check_alive(server, log_path, "during the page runs")
        console.print(f"[dim]bench: checkout for {duration:g} s with {checkout_users} customers[/dim]")
        checkout = _run_loadgen(
            {
                **common,
                "scenario": "checkout",
                "tokens": setup["tokens"],
                "skus": [setup["sku"]],
                "concurrency": checkout_users,
            },
            env,
            deadline,
        )
        _check_alive(server, log_path, "during the checkout run")
    finally:
        if server is not None:
            _stop_server(server)
        if log is not None:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    result = _assemble(
        product,
        checkout,
        pages,
        config={
            "duration_s": duration,
            "warmup_s": warmup,
            "concurrency": concurrency,
            "checkout_users": checkout_users,
            "workers": workers,
            "sku": setup["sku"],
            "slugs": len(setup["slugs"]),
        },
        machine=machine_info(database_url=database_url, workers=workers),
    )
    emit(result, json_output, lambda: print_report(result))
    return result


def emit(result: Any, json_output: bool, report: Callable[[], None]) -> None:
    """One JSON document on stdout (``--json``), else the human report."""
    if json_output:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    else:
        report()


# --------------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------------


def _server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["FANBASE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["FANBASE_DATABASE_URL"] = database_url
    # Make `python -m fanbase` importable in the children exactly as it is here.
    package_root = str(Path(__file__).resolve().parents[2])
    paths = [package_root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _run_cli(args: list[str], env: dict[str, str], *, timeout: float) -> None:
    command = [sys.executable, "-m", "fanbase", *args]
    try:
        proc = subprocess.run(
            command, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"`fanbase {args[0]}` did not finish within {timeout:.0f} s") from exc
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).decode(errors="replace")
        raise BenchError(f"`fanbase {args[0]}` failed (exit {proc.returncode}):\n{_tail(output)}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _log_tail(log_path: Path) -> str:
    try:
        return _tail(log_path.read_bytes().decode(errors="replace"))
    except OSError:
        return "(no server output)"


def _check_alive(server: subprocess.Popen[bytes], log_path: Path, when: str) -> None:
    if server.poll() is not None:
        raise BenchError(f"the server exited (code {server.returncode}) {when}:\n{_log_tail(log_path)}")


def _wait_until_ready(
    server: subprocess.Popen[bytes], base_url: str, log_path: Path, deadline: _Deadline
) -> None:
    import httpx

    limit = time.monotonic() + deadline.remaining(SERVER_START_TIMEOUT)
    last_error = "no answer"
    with httpx.Client(base_url=base_url, timeout=5.0, trust_env=False) as client:
        while True:
            _check_alive(server, log_path, "while starting")
            try:
                response = client.get(f"{API}/products")
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= limit:
                raise BenchError(
                    f"the server did not answer GET {API}/products with 200 within "
                    f"{SERVER_START_TIMEOUT:.0f} s (last: {last_error}); its output:\n{_log_tail(log_path)}"
                )
            time.sleep(0.2)


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it was started in its own session), then SIGKILL."""
    if server.poll() is not None:
        return

    def signal_group(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if hasattr(os, "killpg"):
                os.killpg(server.pid, sig)
            else:  # pragma: no cover - Windows
                server.send_signal(sig)

    signal_group(signal.SIGTERM)
    try:
        server.wait(SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(SERVER_STOP_TIMEOUT)


# --------------------------------------------------------------------------------------------
# Setup over HTTP
# --------------------------------------------------------------------------------------------


def _expect(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise BenchError(f"{what}: expected HTTP {status}, got {response.status_code}: {response.text[:500]}")
    return response.json()


async def _bounded(coro: Coroutine[Any, Any, _T], deadline: _Deadline, what: str) -> _T:
    try:
        return await asyncio.wait_for(coro, timeout=deadline.remaining())
    except TimeoutError as exc:
        raise BenchError(f"{what} exceeded the overall timeout of {deadline.seconds:.0f} s") from exc


async def _setup(base_url: str, checkout_users: int, deadline: _Deadline) -> dict[str, Any]:
    import httpx

    timeout = httpx.Timeout(30.0)
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(
        base_url=base_url + API, timeout=timeout, limits=limits, trust_env=False
    ) as client:
        login = _expect(
            await client.post("/auth/login", json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD}),
            200,
            "staff login",
        )
        staff = {"Authorization": f"Bearer {login['token']}"}

        response = await client.get("/products", params={"limit": 100})
        if response.status_code == 422:  # a smaller page-size cap: take the default page
            response = await client.get("/products")
        listing = _expect(response, 200, "GET /products")
        slugs = [str(item["slug"]) for item in listing.get("items", [])]
        if not slugs:
            raise BenchError("the demo catalogue has no products")

        sku: str | None = None
        for slug in slugs[:10]:
            detail = _expect(await client.get(f"/products/{slug}"), 200, f"GET /products/{slug}")
            variants = detail.get("variants") or []
            if variants:
                sku = str(variants[0]["sku"])
                break
        if sku is None:
            raise BenchError("no product of the demo catalogue has a variant")
        _expect(
            await client.put(
                f"/admin/stock/{sku}",
                json={"location": STOCK_LOCATION, "on_hand": STOCK_ON_HAND},
                headers=staff,
            ),
            200,
            f"PUT /admin/stock/{sku}",
        )

        run_id = uuid.uuid4().hex[:8]  # unique e-mails, also against a reused PostgreSQL database
        semaphore = asyncio.Semaphore(16)

        async def register(i: int) -> str:
            async with semaphore:
                body = {
                    "email": f"bench-{run_id}-{i}@fanbase.test",
                    "password": CUSTOMER_PASSWORD,
                    "name": f"Bench Fan {i}",
                }
                data = _expect(await client.post("/auth/register", json=body), 201, "POST /auth/register")
                return str(data["token"])

        try:
            tokens = await asyncio.wait_for(
                asyncio.gather(*(register(i) for i in range(checkout_users))),
                timeout=deadline.remaining(max(60.0, checkout_users * 2.0)),
            )
        except TimeoutError as exc:
            raise BenchError(f"registering {checkout_users} customers timed out") from exc
    return {"slugs": slugs, "sku": sku, "tokens": list(tokens)}


# --------------------------------------------------------------------------------------------
# Load generator process
# --------------------------------------------------------------------------------------------


def _run_loadgen(scenario: dict[str, Any], env: dict[str, str], deadline: _Deadline) -> dict[str, Any]:
    budget = float(scenario["duration"]) + float(scenario.get("warmup") or 0) + 90.0
    timeout = deadline.remaining(budget)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "fanbase.bench.loadgen"],
            input=json.dumps(scenario).encode(),
            capture_output=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(
            f"the load generator ({scenario['scenario']}) did not finish within {timeout:.0f} s"
        ) from exc
    if proc.returncode != 0:
        raise BenchError(
            f"the load generator ({scenario['scenario']}) failed (exit {proc.returncode}):\n"
            + _tail(proc.stderr.decode(errors="replace"))
        )
    try:
        result: dict[str, Any] = json.loads(proc.stdout)
    except ValueError as exc:
        raise BenchError(f"the load generator printed no JSON: {proc.stdout[:500]!r}") from exc
    return result


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _assemble(
    product: dict[str, Any], checkout: dict[str, Any], pages: dict[str, dict[str, Any]], *, config: dict[str, Any],
    machine: dict[str, Any]
) -> dict[str, Any]:
    detail = product["routes"][PRODUCT_DETAIL_ROUTE]
    checkouts = checkout.get("checkouts", {})
    completed_per_s = float(checkout.get("checkouts_per_s", 0.0))
    product_met = (
        detail["ok_per_s"] >= PRODUCT_DETAIL_MIN_RPS and detail["p99_ms"] <= PRODUCT_DETAIL_MAX_P99_MS
    )
    checkout_met = completed_per_s >= CHECKOUT_MIN_PER_S
    pages_met = all(stats["errors"] == 0 and stats["p99_ms"] <= PAGE_MAX_P99_MS for stats in pages.values())
    return {
        PRODUCT_DETAIL_ROUTE: detail,
        **pages,
        CART_ROUTE: checkout["routes"][CART_ROUTE],
        CHECKOUT_ROUTE: checkout["routes"][CHECKOUT_ROUTE],
        APPROVE_ROUTE: checkout["routes"][APPROVE_ROUTE],
        "checkout": {
            "completed_per_s": completed_per_s,
            "completed": checkouts.get("completed", 0),
            "attempted": checkouts.get("attempted", 0),
            "failures": checkouts.get("failures", {}),
            "users": checkout.get("concurrency"),
        },
        "targets": {
            "product_detail": {
                "min_ok_per_s": PRODUCT_DETAIL_MIN_RPS,
                "max_p99_ms": PRODUCT_DETAIL_MAX_P99_MS,
                "ok_per_s": detail["ok_per_s"],
                "p99_ms": detail["p99_ms"],
                "met": product_met,
            },
            "checkout": {
                "min_completed_per_s": CHECKOUT_MIN_PER_S,
                "completed_per_s": completed_per_s,
                "met": checkout_met,
            },
            "pages": {"max_p99_ms": PAGE_MAX_P99_MS,
                      "p99_ms": {route: stats["p99_ms"] for route, stats in pages.items()}, "met": pages_met},
            "all_met": product_met and checkout_met and pages_met,
        },
        "config": config,
        "loadgen": {
            name: {
                key: run.get(key)
                for key in (
                    "duration_s",
                    "concurrency",
                    "loop",
                    "client_cpu_util",
                    "connections_opened",
                    "timed_out",
                )
            }
            for name, run in (("product_detail", product), ("checkout", checkout))
        },
        "machine": machine,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_total_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def database_kind(database_url: str | None) -> str:
    """``sqlite`` / ``postgresql`` / the URL's dialect, never the URL itself (it may hold a password)."""
    if not database_url:
        return "sqlite"
    dialect = database_url.split(":", 1)[0].split("+", 1)[0].lower()
    return "postgresql" if dialect in ("postgres", "postgresql") else dialect


def machine_info(*, database_url: str | None, workers: int) -> dict[str, Any]:
    memory = _memory_total_bytes()
    return {
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_total_bytes": memory,
        "memory_total_gib": round(memory / 2**30, 1) if memory else None,
        "database": database_kind(database_url),
        "workers": workers,
    }


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def print_report(result: dict[str, Any]) -> None:
    """Print the result of :func:`run_api_bench` as rich tables on stdout."""
    from rich.table import Table

    console = report_console()
    table = Table(title="Fanbase HTTP API benchmark")
    for column in ("Route", "Requests", "Errors", "Statuses", "req/s", "p50 ms", "p99 ms", "max ms"):
        if column == "Route":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, justify="left" if column == "Statuses" else "right")
    for route in (PRODUCT_DETAIL_ROUTE, CART_ROUTE, CHECKOUT_ROUTE, APPROVE_ROUTE, HOME_PAGE_ROUTE,
                  PRODUCT_PAGE_ROUTE):
        stats = result[route]
        statuses = ", ".join(f"{k}: {v}" for k, v in stats["statuses"].items())
        table.add_row(
            route,
            str(stats["count"]),
            str(stats["errors"]) if stats["errors"] else "0",
            statuses,
            f"{stats['req_per_s']:,.0f}",
            f"{stats['p50_ms']:.2f}",
            f"{stats['p99_ms']:.2f}",
            f"{stats['max_ms']:.2f}",
        )
    console.print(table)

    checkout = result["checkout"]
    targets = result["targets"]
    goals = Table(title="Targets")
    goals.add_column("Target")
    goals.add_column("Measured", justify="right")
    goals.add_column("Met", justify="center")

    pd = targets["product_detail"]
    goals.add_row(
        f"{PRODUCT_DETAIL_ROUTE} >= {pd['min_ok_per_s']:,.0f} req/s (2xx), p99 <= {pd['max_p99_ms']:g} ms",
        f"{pd['ok_per_s']:,.0f} req/s, p99 {pd['p99_ms']:.2f} ms",
        mark(pd["met"]),
    )
    co = targets["checkout"]
    goals.add_row(
        f"completed checkouts >= {co['min_completed_per_s']:,.0f}/s",
        f"{co['completed_per_s']:,.1f}/s ({checkout['completed']} of {checkout['attempted']})",
        mark(co["met"]),
    )
    pg = targets["pages"]
    goals.add_row(
        f"pages (home, product) p99 <= {pg['max_p99_ms']:g} ms",
        ", ".join(f"{route.split(' (')[0]} {p99:.2f} ms" for route, p99 in pg["p99_ms"].items()),
        mark(pg["met"]),
    )
    console.print(goals)
    if checkout["failures"]:
        console.print(f"checkout failures by step: {checkout['failures']}")

    machine = result["machine"]
    config = result["config"]
    loadgen = result["loadgen"]
    console.print(
        f"[dim]{machine['cpu_model']} x {machine['cpu_count']}, {machine['memory_total_gib']} GiB, "
        f"{machine['platform']}, {machine['python']}; database {machine['database']}, "
        f"{machine['workers']} worker(s); {config['duration_s']:g} s per scenario, "
        f"{config['concurrency']} connections, {config['checkout_users']} checkout users; "
        f"load generator ({loadgen['product_detail']['loop']}) CPU "
        f"{loadgen['product_detail']['client_cpu_util']:.0%} / {loadgen['checkout']['client_cpu_util']:.0%} "
        f"(near 100% means the client, not the server, was the limit)[/dim]"
    )
