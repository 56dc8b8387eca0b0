"""The command line refuses what would go wrong, before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fanbase.cli import app


def test_several_workers_without_redis_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each process would hold its own flash-sale gate and sell the same units again."""
    monkeypatch.delenv("FANBASE_REDIS_URL", raising=False)
    monkeypatch.setenv("FANBASE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "FANBASE_REDIS_URL" in result.output
    assert not any(tmp_path.iterdir())  # nothing started: not even the database was created
