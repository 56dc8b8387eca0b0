"""``fanbase bench fund`` at a tiny size through the command line: the day's income distributed to the fen,
every line as the rule says, no wallet below zero under concurrent writers, payments equal to the revenue
gained, the books clean, both baselines measured and the ratios printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import fanbase
from fanbase.bench.fund import Holders, baseline_share, expected_income, plan_payments

HOLDERS, PAYMENTS, WRITERS = 300, 400, 8
KEYS = ("holders", "seconds", "holders_per_s", "day_total_fen", "distributed_fen", "ok", "baseline_holders_per_s",
        "ratio")


def test_the_expected_income_hands_the_leftover_fen_to_the_largest_remainders() -> None:
    # 0.6012 per 10,000 units: 11,300.00 CNY earn 67.9356 fen, 1.00 CNY 0.006012 fen; the day's total is
    # 135.8772 -> 135 fen, one more than the 134 truncated: to the larger remainder, of two equal ones to the
    # lower account id
    holders = Holders(customer_ids=[1, 2, 3], account_ids=[12, 11, 10], units=[1_130_000, 1_130_000, 100])
    assert expected_income(holders, 6012) == (135, {12: 67, 11: 68, 10: 0})


def test_every_customer_tries_to_spend_more_than_the_wallet_holds() -> None:
    plan = plan_payments(1000, 40, seed=3)
    spend = [0] * 40
    for who, amount in zip(plan.payer, plan.amounts, strict=True):
        spend[who] += amount
    assert all(balance < total for balance, total in zip(plan.balances, spend, strict=True))
    assert set(plan.tiers) == {2, 3} and plan == plan_payments(1000, 40, seed=3)
    share = baseline_share(plan, 250)  # every payment of the first 10 customers (25 each), in the plan's order
    assert len(share) == 250 and share == sorted(share) and {plan.payer[i] for i in share} == set(range(10))


def test_the_fund_bench_at_a_tiny_size(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("FANBASE_DATABASE_URL", None)  # SQLite in the benchmark's own temporary directory
    env["PYTHONPATH"] = os.pathsep.join([str(Path(fanbase.__file__).resolve().parents[1]),
                                         *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, "-m", "fanbase", "bench", "fund", "--holders", str(HOLDERS),
                           "--payments", str(PAYMENTS), "--writers", str(WRITERS), "--json"],
                          capture_output=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    r = json.loads(proc.stdout)
    assert list(r)[:len(KEYS)] == list(KEYS)
    assert r["holders"] == HOLDERS and r["seconds"] > 0 and r["holders_per_s"] > 0
    assert r["day_total_fen"] > 0 and r["leftover_fen"] > 0
    assert r["distributed_fen"] == r["day_total_fen"] == r["expected_day_total_fen"] == r["ledger_credited_fen"] \
        == r["pool_debited_fen"] == r["recorded_distributed_fen"], r
    assert r["mismatched_lines"] == 0 and r["income_lines"] == HOLDERS and r["ok"]
    baseline = r["baseline"]
    assert baseline["holders"] == HOLDERS and baseline["ok"]
    assert baseline["distributed_fen"] == baseline["day_total_fen"] == baseline["expected_day_total_fen"]
    assert r["ratio"] == round(r["holders_per_s"] / r["baseline_holders_per_s"], 1)

    p = r["payments"]
    assert p["payments"] == PAYMENTS and p["writers"] == WRITERS and p["errors"] == 0
    assert p["committed"] + p["refused"] + p["limit_refused"] == PAYMENTS
    assert p["refused"] >= p["customers"] > 0  # every customer tried to spend more than they had
    assert p["negative_wallets"] == 0 and p["paid_fen"] == p["revenue_gained_fen"] > 0
    assert p["transactions"] == p["committed"] and p["ok"]
    pb = p["baseline"]
    assert pb["payments"] == PAYMENTS and pb["writers"] == 1 and pb["ok"] and pb["negative_wallets"] == 0
    assert pb["refused"] >= pb["customers"] > 0
    assert pb["paid_fen"] == pb["revenue_gained_fen"] and pb["transactions"] == pb["committed"]
    assert p["ratio"] == round(p["payments_per_s"] / p["baseline_payments_per_s"], 1)

    assert r["book_problems"] == [] and r["book_problem_count"] == 0
    assert set(r["targets"]) >= {"distribution_met", "payments_met", "note"}
