"""The ``fanbase`` command: serve, demo, migrate, create-staff, worker, bench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Annotated

import typer
from rich.console import Console

from fanbase.config import Settings

app = typer.Typer(help="Fanbase: direct-to-fan commerce platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
bench_app = typer.Typer(help="Benchmarks, each with its baseline measured in the same run.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
ledger_app = typer.Typer(help="The books: double-entry ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
console = Console()


def _migrate(settings: Settings) -> None:
    from fanbase.migrations import upgrade

    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = Settings()
    _migrate(settings)
    console.print(f"[green]Database is up to date[/green] ({_safe_url(settings)})")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _seed(settings: Settings) -> None:
    from fanbase.clock import SystemClock
    from fanbase.db import Database
    from fanbase.demo.seed import seed_demo

    db = Database.from_settings(settings)
    with db.uow() as session:
        result = seed_demo(session, SystemClock())
    db.dispose()
    console.print(f"[green]Demo store ready[/green]: {result.products_created} products added.")
    console.print(f"Staff login: [bold]{result.staff_email}[/bold] / [bold]{result.staff_password}[/bold]")


@app.command()
def demo() -> None:
    """Seed a realistic demo catalogue (idempotent) and print a staff login."""
    settings = Settings()
    _migrate(settings)
    _seed(settings)


@app.command("create-staff")
def create_staff(email: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
                 role: Annotated[str, typer.Option(help="admin | operator | clerk")] = "admin",
                 name: Annotated[str, typer.Option()] = "") -> None:
    """Create a staff account that can sign in at /api/v1/auth/login."""
    from fanbase.accounts.service import create_staff as create
    from fanbase.clock import SystemClock
    from fanbase.db import Database
    from fanbase.errors import DomainError

    settings = Settings()
    _migrate(settings)
    db = Database.from_settings(settings)
    try:
        with db.uow() as session:
            user = create(session, SystemClock(), email=email, password=password, name=name or email.split("@")[0],
                          role=role)
    except DomainError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"[green]Staff account {user.email} ({role}) created.[/green]")


@app.command()
def serve(demo: Annotated[bool, typer.Option("--demo", help="Seed the demo store, sandbox mode on")] = False,
          host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(min=1, max=64)] = 1) -> None:
    """Run the store. One process runs the scheduled jobs itself; with --workers > 1 a separate
    `fanbase worker` process is started for them."""
    import uvicorn

    if demo:
        os.environ.setdefault("FANBASE_SANDBOX", "1")
    settings = Settings()
    if workers > 1 and not settings.redis_url:
        # each process would keep its own flash-sale gate and sell the same units again
        console.print("[red]Several workers share flash sales, rate limits and news through Redis: set "
                      "FANBASE_REDIS_URL, or run one worker.[/red]")
        raise typer.Exit(2)
    _migrate(settings)
    if demo:
        _seed(settings)
    settings.resolved_secret_key()  # create it once, before the workers race for it
    worker_process = None
    if workers > 1:
        os.environ["FANBASE_RUN_JOBS_IN_PROCESS"] = "0"
        worker_process = subprocess.Popen([sys.executable, "-m", "fanbase", "worker"])
    console.print(f"Fanbase on [bold]http://{host}:{port}[/bold]  (API docs: /docs)")
    try:
        uvicorn.run("fanbase.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                    access_log=False, loop="uvloop", http="httptools")
    finally:
        if worker_process:
            worker_process.send_signal(signal.SIGTERM)
            worker_process.wait(10)


@app.command()
def worker(interval: Annotated[float, typer.Option(help="Seconds between rounds")] = 5.0,
           once: Annotated[bool, typer.Option("--once", help="Run one round and exit")] = False) -> None:
    """Run scheduled jobs (order expiry, completion, webhook retries) for a multi-process deployment."""
    from fanbase.context import build_context
    from fanbase.jobs import refresh_shared_state, run_due_jobs

    ctx = build_context(Settings())
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        refresh_shared_state(ctx)
        done = run_due_jobs(ctx)
        if any(done.values()):
            console.print(done)
        if once:
            break
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)


@ledger_app.command("check")
def ledger_check() -> None:
    """Recompute every balance from its postings, check that all balances sum to zero and that every paid
    order, gateway capture and refund, withdrawal, commission and fund operation has its transaction.
    Exits 1 with a report if not."""
    from fanbase.db import Database
    from fanbase.ledger import check

    settings = Settings()
    _migrate(settings)
    db = Database.from_settings(settings)
    try:
        with db.read() as session:
            found = check.problems(session)
    finally:
        db.dispose()
    if found:
        console.print(f"[red]The books are off: {len(found)} problem(s)[/red]")
        for line in found:
            console.print(f"  - {line}")
        raise typer.Exit(1)
    console.print("[green]The books balance: every balance matches its postings, all sum to zero, and every "
                  "movement of money recorded elsewhere has its transaction.[/green]")


@bench_app.command("api")
def bench_api(duration: Annotated[float, typer.Option(help="Seconds per scenario")] = 10.0,
              concurrency: Annotated[int, typer.Option(help="Connections for product detail")] = 32,
              checkout_users: Annotated[int, typer.Option(help="Customers doing checkouts")] = 32,
              workers: Annotated[int, typer.Option(help="Server processes")] = 1,
              json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """Start the server and drive it over loopback from a second process."""
    from fanbase.bench.api import run_api_bench

    run_api_bench(duration=duration, concurrency=concurrency, checkout_users=checkout_users, workers=workers,
                  json_output=json_output, database_url=os.environ.get("FANBASE_DATABASE_URL"))


@bench_app.command("flash-sale")
def bench_flash_sale(
        units: Annotated[int | None, typer.Option(min=1, help="Units for sale (default: engine 10,000, "
                                                  "http 2,000)")] = None,
        customers: Annotated[int | None, typer.Option(min=1, help="Reserved fans, each trying once, 10% twice "
                                                      "(default: ten a unit)")] = None,
        mode: Annotated[str, typer.Option(help="engine (in-process) | http (server + load generator) | both")]
        = "engine",
        threads: Annotated[int, typer.Option(min=1, help="engine: caller threads")] = 2,
        in_flight: Annotated[int, typer.Option(min=1, help="engine: purchase calls in flight at once")] = 4000,
        connections: Annotated[int, typer.Option(min=1, help="http: load generator connections")] = 256,
        baseline_threads: Annotated[int, typer.Option(min=1, help="naive baseline: concurrent callers")] = 8,
        baseline_seconds: Annotated[float, typer.Option(min=0.1, help="naive baseline: at most this long")] = 10.0,
        seed: Annotated[int, typer.Option(help="Seed of the attempt order")] = 1,
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """A whole flash sale through the production code path, and the same workload through a naive
    one-transaction-per-attempt baseline on the same database (FANBASE_DATABASE_URL, else SQLite; with
    FANBASE_REDIS_URL the Redis gate)."""
    from fanbase.bench.api import BenchError
    from fanbase.bench.flashsale import MODES, run_flash_sale_bench

    if mode not in MODES:
        raise typer.BadParameter(f"one of {', '.join(MODES)}", param_hint="--mode")
    if units is not None and customers is not None and customers < units:
        raise typer.BadParameter("at least as many customers as units", param_hint="--customers")
    try:
        run_flash_sale_bench(units=units, customers=customers, mode=mode, json_output=json_output,
                             database_url=os.environ.get("FANBASE_DATABASE_URL"), threads=threads,
                             in_flight=in_flight, connections=connections, baseline_threads=baseline_threads,
                             baseline_seconds=baseline_seconds, seed=seed,
                             redis_url=os.environ.get("FANBASE_REDIS_URL"))
    except BenchError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error


@bench_app.command("fund")
def bench_fund(
        holders: Annotated[int, typer.Option(min=1, help="Fund holders given one day's income")] = 1_000_000,
        payments: Annotated[int, typer.Option(min=0, help="Wallet payments (0: none)")] = 20_000,
        writers: Annotated[int, typer.Option(min=1, help="Threads making the wallet payments")] = 8,
        seed: Annotated[int, typer.Option(help="Seed of the units, amounts and payment order")] = 1,
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """One day's money-market income distributed to N holders (set-based SQL) and wallet payments from
    concurrent writers, each against a naive baseline measured in the same run on the same database
    (FANBASE_DATABASE_URL, which must hold no fund holders yet, else SQLite in a temporary directory)."""
    from fanbase.bench.api import BenchError
    from fanbase.bench.fund import run_fund_bench

    try:
        run_fund_bench(holders=holders, payments=payments, writers=writers, seed=seed, json_output=json_output,
                       database_url=os.environ.get("FANBASE_DATABASE_URL"))
    except BenchError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error


def main() -> None:
    app()
