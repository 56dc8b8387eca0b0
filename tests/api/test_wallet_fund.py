"""The wallet and money-market routes of API.md, through the API: top-up at the sandbox bank, tiers,
subscriptions confirmed T+1, daily income, redemptions, paying at checkout, the statement."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.jobs import run_due_jobs
from fanbase.ledger.check import problems
from tests.helpers import ADDRESS, auth, customer_token

# Wednesday 2026-11-25 10:00 in Shanghai
WEDNESDAY_MORNING = datetime.fromisoformat("2026-11-25T10:00:00+08:00")


@pytest.fixture
def wednesday(clock: FixedClock) -> FixedClock:
    clock.set(WEDNESDAY_MORNING)
    return clock


def top_up(client: TestClient, token: str, amount_fen: int) -> dict[str, Any]:
    reply = client.post("/api/v1/wallet/top-ups", json={"amount_fen": amount_fen}, headers=auth(token))
    assert reply.status_code == 201, reply.text
    approved = client.post(f"/api/v1/sandbox-gateway/payments/{reply.json()['payment']['id']}/approve")
    assert approved.status_code == 200, approved.text
    return reply.json()  # type: ignore[no-any-return]


def set_tier(client: TestClient, admin: str, customer_id: int, tier: int) -> None:
    reply = client.put(f"/api/v1/admin/customers/{customer_id}/wallet-tier", json={"tier": tier},
                       headers=auth(admin))
    assert reply.status_code == 200 and reply.json() == {"customer_id": customer_id, "tier": tier}


def wallet(client: TestClient, token: str) -> dict[str, Any]:
    reply = client.get("/api/v1/wallet", headers=auth(token))
    assert reply.status_code == 200
    return reply.json()  # type: ignore[no-any-return]


def test_a_holder_tops_up_subscribes_earns_and_redeems(client: TestClient, ctx: Context, wednesday: FixedClock,
                                                       admin: str) -> None:
    customer_id, token = customer_token(ctx.db, ctx.secret_key, wednesday)
    assert wallet(client, token) == {"balance_fen": 0, "tier": 1, "fund": {
        "balance_fen": 0, "pending_fen": 0, "redeeming_fen": 0, "yesterday_income_fen": 0, "total_income_fen": 0,
        "seven_day_yield": None, "instant_left_fen": 1_000_000}}
    top_up(client, token, 3_000_000)
    assert wallet(client, token)["balance_fen"] == 3_000_000
    refused = client.post("/api/v1/fund/subscriptions", json={"amount_fen": 1_000_000}, headers=auth(token))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    set_tier(client, admin, customer_id, 3)
    sub = client.post("/api/v1/fund/subscriptions", json={"amount_fen": 2_000_000}, headers=auth(token))
    assert sub.status_code == 201 and sub.json()["confirms_on"] == "2026-11-26", sub.text
    shown = wallet(client, token)
    assert shown["balance_fen"] == 1_000_000 and shown["fund"]["pending_fen"] == 2_000_000

    wednesday.set(datetime.fromisoformat("2026-11-26T00:00:30+08:00"))  # Thursday: confirmed
    run_due_jobs(ctx)
    assert wallet(client, token)["fund"]["balance_fen"] == 2_000_000
    early = client.post("/api/v1/admin/fund/daily-income", json={"date": "2026-11-26", "income_per_10k": "0.6012"},
                        headers=auth(admin))
    assert early.status_code == 422  # Thursday is not over yet
    wednesday.set(datetime.fromisoformat("2026-11-27T09:00:00+08:00"))
    # Thursday's income: 20,000 units x 0.6012 / 10,000 = 1.2024 CNY -> 120 fen
    entered = client.post("/api/v1/admin/fund/daily-income", json={"date": "2026-11-26", "income_per_10k": "0.6012"},
                          headers=auth(admin))
    assert entered.status_code == 200, entered.text
    assert entered.json() | {} == {"date": "2026-11-26", "income_per_10k": "0.6012", "holders": 1,
                                   "units_fen": 2_000_000, "day_total_fen": 120, "distributed_fen": 120}
    again = client.post("/api/v1/admin/fund/daily-income", json={"date": "2026-11-26", "income_per_10k": "0.6012"},
                        headers=auth(admin))
    assert again.json() == entered.json()
    fund = wallet(client, token)["fund"]
    assert (fund["balance_fen"], fund["yesterday_income_fen"], fund["total_income_fen"]) == (2_000_120, 120, 120)

    instant = client.post("/api/v1/fund/redemptions", json={"amount_fen": 500_000, "mode": "instant"},
                          headers=auth(token))
    assert instant.status_code == 201 and instant.json()["credits_on"] == "2026-11-27"
    over = client.post("/api/v1/fund/redemptions", json={"amount_fen": 500_001, "mode": "instant"},
                       headers=auth(token))
    assert over.status_code == 409 and over.json()["code"] == "limit_exceeded"
    standard = client.post("/api/v1/fund/redemptions", json={"amount_fen": 600_000, "mode": "standard"},
                           headers=auth(token))
    assert standard.status_code == 201 and standard.json()["credits_on"] == "2026-11-30"  # Friday -> Monday
    assert wallet(client, token)["balance_fen"] == 1_500_000
    wednesday.set(datetime.fromisoformat("2026-11-30T08:00:00+08:00"))
    run_due_jobs(ctx)
    assert wallet(client, token)["balance_fen"] == 2_100_000
    assert wallet(client, token)["fund"]["balance_fen"] == 900_120

    lines = client.get("/api/v1/wallet/transactions", headers=auth(token)).json()["items"]
    assert [line["amount_fen"] for line in lines] == [600_000, 500_000, -2_000_000, 3_000_000]
    assert [line["balance_after_fen"] for line in lines] == [2_100_000, 1_500_000, 1_000_000, 3_000_000]
    with ctx.db.read() as session:
        assert problems(session) == []


def test_paying_at_checkout_from_the_wallet_and_the_fund(client: TestClient, ctx: Context, wednesday: FixedClock,
                                                          admin: str, shop: None) -> None:
    customer_id, token = customer_token(ctx.db, ctx.secret_key, wednesday)
    top_up(client, token, 5_000_000)
    client.put("/api/v1/cart/items/XM15-256", json={"quantity": 1}, headers=auth(token))
    over_tier = client.post("/api/v1/checkout", json={"payment_method": "wallet", "shipping_address": ADDRESS},
                            headers=auth(token))
    assert over_tier.status_code == 409 and over_tier.json()["code"] == "limit_exceeded"  # tier 1: 1,000 CNY
    set_tier(client, admin, customer_id, 3)
    paid = client.post("/api/v1/checkout", json={"payment_method": "wallet", "shipping_address": ADDRESS},
                       headers=auth(token))
    assert paid.status_code == 201 and paid.json()["status"] == "paid"
    assert wallet(client, token)["balance_fen"] == 5_000_000 - 449_900
    client.post("/api/v1/fund/subscriptions", json={"amount_fen": 4_000_000}, headers=auth(token))
    wednesday.advance(timedelta(days=1).total_seconds())
    run_due_jobs(ctx)
    client.put("/api/v1/cart/items/XM15-256", json={"quantity": 2}, headers=auth(token))
    by_fund = client.post("/api/v1/checkout", json={"payment_method": "fund", "shipping_address": ADDRESS},
                          headers=auth(token))
    assert by_fund.status_code == 201 and by_fund.json()["status"] == "paid", by_fund.text
    shown = wallet(client, token)
    assert shown["fund"]["balance_fen"] == 4_000_000 - 899_800
    assert shown["fund"]["instant_left_fen"] == 1_000_000 - 899_800  # fund payments use the instant allowance
    client.put("/api/v1/cart/items/XM15-256", json={"quantity": 1}, headers=auth(token))
    capped = client.post("/api/v1/checkout", json={"payment_method": "fund", "shipping_address": ADDRESS},
                         headers=auth(token))
    assert capped.status_code == 409 and capped.json()["code"] == "limit_exceeded"
    refunded = client.post(f"/api/v1/orders/{by_fund.json()['id']}/cancel", headers=auth(token))
    assert refunded.status_code == 200 and refunded.json()["status"] == "cancelled"
    assert wallet(client, token)["balance_fen"] == 5_000_000 - 449_900 - 4_000_000 + 899_800  # back to the wallet
    with ctx.db.read() as session:
        assert problems(session) == []


def test_withdrawals_leave_through_the_bank_and_count_toward_the_tier(client: TestClient, ctx: Context,
                                                                      wednesday: FixedClock) -> None:
    _, token = customer_token(ctx.db, ctx.secret_key, wednesday)
    top_up(client, token, 150_000)
    done = client.post("/api/v1/wallet/withdrawals", json={"amount_fen": 60_000}, headers=auth(token))
    assert done.status_code == 201 and done.json()["payout_id"].startswith("po_")
    short = client.post("/api/v1/wallet/withdrawals", json={"amount_fen": 100_000}, headers=auth(token))
    assert short.status_code == 409 and short.json()["code"] == "insufficient_funds"
    capped = client.post("/api/v1/wallet/withdrawals", json={"amount_fen": 40_001}, headers=auth(token))
    assert capped.status_code == 409 and capped.json()["code"] == "limit_exceeded"  # 1,000 CNY for life
    assert client.post("/api/v1/wallet/withdrawals", json={"amount_fen": 40_000},
                       headers=auth(token)).status_code == 201
    assert wallet(client, token)["balance_fen"] == 50_000


def test_the_operator_calendar_and_the_seven_day_yield(client: TestClient, ctx: Context, wednesday: FixedClock,
                                                       admin: str) -> None:
    customer_id, token = customer_token(ctx.db, ctx.secret_key, wednesday)
    set_tier(client, admin, customer_id, 3)
    top_up(client, token, 2_000_000)
    closed = client.put("/api/v1/admin/fund/calendar/2026-11-26", json={"trading": False, "note": "假日"},
                        headers=auth(admin))
    assert closed.status_code == 200 and closed.json() == {"date": "2026-11-26", "trading": False, "note": "假日"}
    listed = client.get("/api/v1/admin/fund/calendar", params={"from": "2026-11-01"}, headers=auth(admin))
    assert listed.json() == [closed.json()]
    sub = client.post("/api/v1/fund/subscriptions", json={"amount_fen": 1_000_000}, headers=auth(token))
    assert sub.json()["confirms_on"] == "2026-11-27"  # Thursday is a holiday now: Friday
    rates = ["0.6012", "0.5987", "0.6100", "0.6050", "0.5900", "0.6000", "0.6020"]
    wednesday.set(datetime.fromisoformat("2026-12-05T09:00:00+08:00"))
    run_due_jobs(ctx)
    for offset, rate in enumerate(rates):
        day = f"2026-11-{27 + offset}" if offset < 4 else f"2026-12-0{offset - 3}"
        reply = client.post("/api/v1/admin/fund/daily-income", json={"date": day, "income_per_10k": rate},
                            headers=auth(admin))
        assert reply.status_code == 200, reply.text
    history = client.get("/api/v1/fund/yields").json()
    assert history == [{"date": "2026-12-03", "seven_day_yield": "2.218"}]  # ((prod(1 + r/10^4))^(365/7) - 1) %
    assert wallet(client, token)["fund"]["seven_day_yield"] == "2.218"
    changed = client.post("/api/v1/admin/fund/daily-income", json={"date": "2026-11-27", "income_per_10k": "0.7"},
                          headers=auth(admin))
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"
    totals = client.get("/api/v1/admin/fund", headers=auth(admin)).json()
    assert totals["holders"] == 1 and totals["pending_fen"] == 0
    assert totals["pool_fen"] == totals["confirmed_fen"] > 1_000_000
    assert [entry["date"] for entry in totals["recent_incomes"]][:2] == ["2026-12-03", "2026-12-02"]


def test_money_moving_posts_are_idempotent_and_a_declined_top_up_credits_nothing(
        client: TestClient, ctx: Context, wednesday: FixedClock, admin: str) -> None:
    customer_id, token = customer_token(ctx.db, ctx.secret_key, wednesday)
    set_tier(client, admin, customer_id, 3)
    declined = client.post("/api/v1/wallet/top-ups", json={"amount_fen": 10_000}, headers=auth(token))
    client.post(f"/api/v1/sandbox-gateway/payments/{declined.json()['payment']['id']}/decline")
    assert wallet(client, token)["balance_fen"] == 0
    top_up(client, token, 500_000)
    for path, body in (("/api/v1/fund/subscriptions", {"amount_fen": 100_000}),
                       ("/api/v1/wallet/withdrawals", {"amount_fen": 50_000})):
        headers = auth(token) | {"Idempotency-Key": f"once-{path}"}
        first, second = (client.post(path, json=body, headers=headers) for _ in range(2))
        assert first.status_code == second.status_code == 201 and first.json() == second.json()
        assert second.headers["Idempotent-Replayed"] == "true"
    assert wallet(client, token)["balance_fen"] == 500_000 - 100_000 - 50_000
    statement = client.get("/api/v1/wallet/transactions", params={"limit": 2}, headers=auth(token)).json()
    assert [line["kind"] for line in statement["items"]] == ["withdrawal", "fund_subscription"]
    rest = client.get("/api/v1/wallet/transactions", params={"cursor": statement["next_cursor"]},
                      headers=auth(token)).json()
    assert [line["kind"] for line in rest["items"]] == ["top_up"] and rest["next_cursor"] is None
