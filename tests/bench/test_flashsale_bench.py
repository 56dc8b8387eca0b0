"""``fanbase bench flash-sale`` at a tiny size, both modes, through the command line: every attempt
answered, every unit sold, nothing oversold, nobody twice, the baseline measured and the ratio printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import fanbase
from fanbase.bench.flashsale import attempt_order

UNITS, CUSTOMERS = 50, 500
KEYS = ("sell_out_s", "attempts_per_s", "orders_per_s", "p50_ms", "p99_ms", "oversold", "duplicate_winners",
        "baseline_orders_per_s", "ratio")


def test_the_attempt_order_is_every_fan_once_plus_ten_percent_retries() -> None:
    attempts = attempt_order(list(range(1000, 2000)), seed=7)
    counts = Counter(attempts)
    assert set(counts) == set(range(1000, 2000)) and len(attempts) == 1100
    assert sorted(Counter(counts.values()).items()) == [(1, 900), (2, 100)]
    assert attempts == attempt_order(list(range(1000, 2000)), seed=7) != sorted(attempts)


def test_both_modes_at_a_tiny_size(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("FANBASE_DATABASE_URL", None)  # SQLite in the benchmark's own temporary directories
    env["PYTHONPATH"] = os.pathsep.join([str(Path(fanbase.__file__).resolve().parents[1]),
                                         *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, "-m", "fanbase", "bench", "flash-sale", "--units", str(UNITS),
                           "--customers", str(CUSTOMERS), "--mode", "both", "--json"],
                          capture_output=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    result = json.loads(proc.stdout)
    assert set(result) == {"engine", "http"}
    for mode, r in result.items():
        assert list(r)[:len(KEYS)] == list(KEYS), mode
        assert r["oversold"] == 0 and r["duplicate_winners"] == 0 and r["lost_winners"] == 0, (mode, r)
        assert r["units_sold"] == UNITS and r["all_units_sold"], (mode, r)
        assert r["attempts"] == CUSTOMERS + CUSTOMERS // 10
        assert r["answered"] == r["attempts"] and r["unanswered"] == 0, (mode, r)
        assert r["outcomes"]["won"] == UNITS and sum(r["outcomes"].values()) == r["attempts"], (mode, r)
        assert r["sell_out_s"] > 0 and r["orders_per_s"] > 0 and r["attempts_per_s"] > 0
        assert 0 <= r["p50_ms"] <= r["p99_ms"]
        baseline = r["baseline"]
        assert baseline["orders"] > 0 and baseline["oversold"] == 0 and baseline["duplicate_winners"] == 0
        assert r["baseline_orders_per_s"] > 0 and r["ratio"] is not None and r["ratio"] > 0
        assert r["ratio"] == round(r["orders_per_s"] / r["baseline_orders_per_s"], 1)
