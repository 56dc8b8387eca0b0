"""Engine, sessions and the unit of work.

SQLite (WAL) by default, PostgreSQL by URL. Write transactions on SQLite start with ``BEGIN IMMEDIATE``
so that two writers queue on the lock instead of failing to upgrade a read lock half-way; reads use a
plain deferred ``BEGIN`` and run beside the writer (WAL). Concurrency rules in services are written as
conditional ``UPDATE ... WHERE`` statements (checked by rowcount), which are correct on both engines.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Result,
    Table,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

from fanbase.config import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias) on SQLite
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the Clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def affected(result: Result[Any]) -> int:
    """Rows matched by an UPDATE/DELETE: how a conditional write says whether it won."""
    return int(cast(CursorResult[Any], result).rowcount)


def insert_if_absent(session: Session, table: type[Base], **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING in one statement (no savepoint); True if this call inserted.
    A concurrent twin waits on the unique index and then does nothing."""
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql_insert if dialect == "postgresql" else sqlite_insert
    core_table = cast(Table, table.__table__)
    statement = (insert_fn(core_table).values(**values).on_conflict_do_nothing()
                 .returning(*core_table.primary_key.columns))  # rowcount is -1 here on psycopg
    return session.execute(statement).first() is not None


def next_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys of ``table``, for bulk inserts whose rows refer to each other (no
    RETURNING, no read-back). PostgreSQL: drawn from the id column's sequence. SQLite: the ids after the
    largest one, which is safe only inside a write transaction (``Database.uow``: ``BEGIN IMMEDIATE``
    holds the database's single write lock until the commit, so nobody else can take them)."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = session.scalar(text("SELECT array_agg(nextval(pg_get_serial_sequence(:table, 'id'))) "
                                  "FROM generate_series(1, :count)"), {"table": table.name, "count": count})
        return [int(i) for i in ids or ()]
    last = int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)
    return list(range(last + 1, last + 1 + count))


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT ``rows`` in as few statements as the database takes: multi-row ``VALUES`` on SQLite, one
    ``INSERT ... SELECT ... FROM unnest(arrays)`` on PostgreSQL. Each row is a sequence whose first
    ``len(columns)`` items are the values of ``columns`` (a NamedTuple of the row will do); each value is
    converted by its column's type as SQLAlchemy would, but a column whose values are all equal (one
    ``now``, the same ``{}``) is converted once.

    For hot batch writes (the flash-sale group commit): SQLAlchemy's executemany converts every value of
    every row in Python, and SQLite's executemany runs, and gives up the GIL, once per row, so the writer
    thread would queue for the GIL behind the request threads hundreds of times per batch, not once."""
    if not rows:
        return
    session.flush()  # rows pending in the session first: ours may refer to them
    connection = session.connection()
    dialect = connection.dialect
    placeholder = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if placeholder is None:  # pragma: no cover - SQLite and psycopg are the engines we run on
        connection.execute(table.insert(), [dict(zip(columns, row, strict=False)) for row in rows])
        return
    by_column = list(zip(*rows, strict=True))[:len(columns)]
    shared: list[int] = []  # columns holding one converted value for every row
    for i, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = by_column[i]
        if process is None:
            continue
        first = values[0]
        if values.count(first) == len(values):  # one value for every row: convert it once
            by_column[i] = (process(first),) * len(values)
            shared.append(i)
        else:
            by_column[i] = tuple(map(process, values))
    preparer = dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(table.c[name].name) for name in columns)})"
    if dialect.name == "postgresql":
        # One statement whatever the number of rows: a column's values as one array parameter, a value
        # shared by every row as one scalar (psycopg would parse thousands of placeholders very slowly).
        select_list: list[str] = []
        names: list[str] = []
        scalars: list[Any] = []
        arrays: list[tuple[str, list[Any]]] = []
        for i, name in enumerate(columns):
            sql_type = table.c[name].type.compile(dialect)
            values = by_column[i]
            if i and (i in shared or values.count(values[0]) == len(values)):
                select_list.append(f"%s::{sql_type}")
                scalars.append(values[0])
            else:
                select_list.append(f"u.c{i}")
                names.append(f"c{i}")
                arrays.append((f"%s::{sql_type}[]", list(values)))
        connection.exec_driver_sql(
            f"INSERT INTO {target} SELECT {', '.join(select_list)} "
            f"FROM unnest({', '.join(cast_ for cast_, _ in arrays)}) AS u({', '.join(names)})",
            (*scalars, *(values for _, values in arrays)))
        return
    per_statement = max(1, min(5000, _max_parameters(dialect.name) // len(columns)))
    head = f"INSERT INTO {target} VALUES "
    one_row = "(" + ", ".join([placeholder] * len(columns)) + ")"
    for start in range(0, len(rows), per_statement):
        stop = min(len(rows), start + per_statement)
        values = tuple(chain.from_iterable(zip(*(column[start:stop] for column in by_column), strict=True)))
        connection.exec_driver_sql(head + ", ".join([one_row] * (stop - start)), values)


def _max_parameters(dialect_name: str) -> int:
    if dialect_name == "sqlite":
        import sqlite3

        return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
    return 65535  # PostgreSQL's protocol limit


def set_loaded(instance: Any, **values: Any) -> None:
    """Tell the ORM what a conditional UPDATE just wrote, instead of reading the row back."""
    for key, value in values.items():
        set_committed_value(instance, key, value)


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=20)
        _configure_sqlite(engine, sqlite_synchronous)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # The default page cache is 2 MB: with a million customers every foreign-key check and index insert of
        # a flash sale's orders missed it and went to the OS. 64 MB of cache per connection and reads through a
        # memory map keep the hot pages at hand.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One per process: the engine and the unit-of-work factory."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_engine = self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        self._writer = sessionmaker(bind=write_engine, expire_on_commit=False)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Queue this process's writers on a lock instead of letting
        # them meet SQLite's busy handler, which sleeps in steps of up to 100 ms (measured: p99 of
        # seconds under 32 concurrent checkouts). Other processes still wait on busy_timeout.
        self._write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous)

    @contextmanager
    def uow(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back on any exception."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        session = self._writer()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if lock is not None:
                lock.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (no commit)."""
        session = self._reader()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
