"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fanbase.db import make_engine
from fanbase.migrations import upgrade
from fanbase.models import metadata


def _diff(url: str) -> list[object]:
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    return list(diff)


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    assert _diff(url) == []
    upgrade(url)  # running again is harmless


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(pg_url: str, worker_id: str) -> None:
    base = make_url(pg_url)
    name = f"{base.database}_migrations_{worker_id}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    assert _diff(base.set(database=name).render_as_string(hide_password=False)) == []
