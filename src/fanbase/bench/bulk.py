"""What the benchmarks share to set up large workloads fast: accounts inserted in bulk with Core statements
and a dummy password hash (no argon2, so a million fans take seconds), and the progress bars."""

from __future__ import annotations

import gc
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from fanbase.clock import Clock
    from fanbase.db import Database

DUMMY_PASSWORD_HASH = "!bench: no password opens this account"  # not an argon2 hash: sign-in always fails
CHUNK = 50_000  # rows per set-up transaction


def progress_bar(console: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[dim]bench:[/dim] {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def insert_users(db: Database, clock: Clock, tag: str, count: int, progress: Progress | None, *,
                 kind: str = "customer", role: str | None = None) -> list[int]:
    """``count`` accounts by multi-row Core ``INSERT`` in chunks, with a dummy password hash; their ids.
    E-mail addresses carry ``tag``, so a reused database is fine."""
    from sqlalchemy import Table

    from fanbase.accounts.models import User
    from fanbase.db import insert_rows, next_ids

    table: Table = User.__table__  # type: ignore[assignment]
    now = clock.now()
    task = progress.add_task(f"{count:,} {kind} accounts", total=count) if progress else None
    ids: list[int] = []
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        with db.uow() as s:
            chunk = next_ids(s, table, n)
            insert_rows(s, table, ("id", "email", "name", "password_hash", "kind", "role", "created_at"), [
                (user_id, f"{kind}-{tag}-{start + k}@bench.fanbase.test", f"Fan {start + k}", DUMMY_PASSWORD_HASH,
                 kind, role, now) for k, user_id in enumerate(chunk)])
        ids.extend(chunk)
        if progress is not None and task is not None:
            progress.advance(task, n)
    return ids


@contextmanager
def setup_frozen() -> Iterator[None]:
    """Keep the benchmark's own millions of set-up objects (attempt lists, ids) out of the garbage
    collector's way during a measured run (``gc.freeze``, as servers do after start-up), so that the run
    pays for the collections its own allocations cause, not for scanning the harness."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def bench_database(database_url: str | None, prefix: str) -> Iterator[Database]:
    """The database at ``database_url`` (migrated), else a SQLite file in a temporary directory removed
    afterwards."""
    from fanbase.db import Database
    from fanbase.migrations import upgrade

    tmp = None if database_url else Path(tempfile.mkdtemp(prefix=prefix))
    url = database_url or f"sqlite:///{(tmp / 'fanbase.sqlite3').resolve()}"  # type: ignore[operator]
    upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


# --- the reports' small pieces ----------------------------------------------------------------------


def report_console() -> Console:
    """Rich's console; piped or in CI logs, wide enough that the tables are not squeezed into 80 columns."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 140))


def mark(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def zero(value: int) -> str:
    """A count that must be zero: green when it is."""
    return f"[green]{value}[/green]" if value == 0 else f"[red]{value}[/red]"
