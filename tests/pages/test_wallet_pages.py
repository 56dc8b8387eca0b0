"""The wallet and money-market pages through the ASGI app: top-up at the sandbox bank and back to the wallet,
withdrawal, the statement with its running balance and cursor links, subscription (tier III only) and
redemption, the console's fund page (daily income, trading calendar, wallet tier; every write audited),
CSRF refusals that write nothing, a customer refused by the console, escaping."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fanbase.accounts.service import user_id_by_email
from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.fund import income
from fanbase.fund import service as fund
from fanbase.fund.models import CalendarDay, Subscription
from fanbase.wallet import service as wallet
from fanbase.wallet.models import WalletAccount
from tests.helpers import table_counts
from tests.pages.test_console import audit, sign_in_as
from tests.pages.test_pages import csrf_of, post_form, register

FAN = "wallet-fan@example.com"


def user_id(db: Database, email: str) -> int:
    with db.read() as s:
        found = user_id_by_email(s, email)
        assert found is not None
        return found


def top_up(client: TestClient, amount: str) -> str:
    """A top-up approved at the sandbox bank; answers where the bank sent the fan back."""
    started = post_form(client, "/wallet", "/wallet/top-up", {"amount": amount})
    assert started.status_code == 303 and started.headers["location"].startswith("/sandbox-gateway/pay/"), \
        started.headers
    bank = started.headers["location"]
    assert "沙箱银行" in client.get(bank).text
    approved = post_form(client, bank, bank + "/approve", {})
    assert approved.status_code == 303
    return str(approved.headers["location"])


def shown(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, testid
    return found.group(1)


def operator_client(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> tuple[TestClient, int]:
    operator = TestClient(client.app, raise_server_exceptions=False)
    return operator, sign_in_as(operator, ctx, db, clock, "operator")


@pytest.mark.usefixtures("shop")
def test_a_fan_tops_up_at_the_bank_withdraws_and_reads_the_statement(client: TestClient, db: Database) -> None:
    assert client.get("/wallet", follow_redirects=False).headers["location"] == "/login?next=/wallet"
    assert 'href="/wallet"' not in client.get("/login").text
    register(client, FAN)
    page = client.get("/wallet").text
    assert 'href="/wallet"' in page and shown(page, "wallet-balance") == "¥0.00"
    assert "一类钱包" in page and "付款与提现累计不超过 ¥1,000.00" in page
    assert "只有三类钱包可以持有活期宝" in shown(page, "fund-tier-needed")

    assert top_up(client, "1,000.50") == "/wallet"
    page = client.get("/wallet").text
    assert "付款成功" in page and shown(page, "wallet-balance") == "¥1,000.50"

    withdrawn = post_form(client, "/wallet", "/wallet/withdraw", {"amount": "200"})
    assert withdrawn.status_code == 303 and withdrawn.headers["location"] == "/wallet"
    page = client.get("/wallet").text
    assert "¥200.00 正在提现到你的银行卡" in page and shown(page, "wallet-balance") == "¥800.50"
    for bad in ("12.345", "abc", "-1"):
        refused = post_form(client, "/wallet", "/wallet/withdraw", {"amount": bad})
        assert refused.status_code == 303 and "以元为单位" in client.get("/wallet").text, bad
    past_cap = post_form(client, "/wallet", "/wallet/withdraw", {"amount": "800.50"})  # tier I: 1,000 in all
    assert past_cap.status_code == 303 and "超出" in client.get("/wallet").text

    statement = client.get("/wallet/transactions").text
    rows = re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>",
                      statement)
    assert rows == [("提现到银行卡", "-¥200.00", "¥800.50"), ("充值", "+¥1,000.50", "¥1,000.50")]
    assert shown(statement, "statement-balance") == "¥800.50"

    post_form(client, "/products/xiaomi-15", "/cart/items", {"sku": "XM15-256", "quantity": "1"})
    checkout = client.get("/checkout").text
    assert shown(checkout, "available-wallet") == "可用 ¥800.50" and shown(checkout, "available-fund") == "可用 ¥0.00"


@pytest.mark.usefixtures("shop")
def test_the_statement_walks_back_in_pages(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    register(client, FAN)
    assert top_up(client, "500") == "/wallet"
    customer = user_id(db, FAN)
    for _ in range(21):
        with db.uow() as s:
            wallet.withdraw(s, clock, ctx.gateway, ctx.settings.zone, customer_id=customer, amount_fen=100)
    first = client.get("/wallet/transactions").text
    assert first.count('class="num in"') + first.count('class="num out"') == 20
    assert "¥479.00" in first and ">最新<" not in first
    older = re.search(r'href="(/wallet/transactions\?cursor=[^"]+)">更早<', first)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert second.count('class="num out"') == 1 and second.count('class="num in"') == 1
    assert "+¥500.00" in second and ">最新<" in second and ">更早<" not in second
    bad = client.get("/wallet/transactions?cursor=%3Cscript%3Ealert(1)%3C/script%3E")
    assert bad.status_code < 500 and "<script>alert" not in bad.text


@pytest.mark.usefixtures("shop")
def test_below_tier_three_a_fan_cannot_subscribe(client: TestClient, db: Database) -> None:
    register(client, FAN)
    top_up(client, "100")
    refused = post_form(client, "/wallet", "/wallet/subscribe", {"amount": "50"})
    assert refused.status_code == 303 and refused.headers["location"] == "/wallet"
    assert "只有三类钱包可以转入活期宝" in client.get("/wallet").text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Subscription)) == 0


@pytest.mark.usefixtures("shop")
def test_an_operator_sets_the_tier_the_fan_subscribes_earns_and_redeems(client: TestClient, ctx: Context,
                                                                        db: Database, clock: FixedClock) -> None:
    register(client, FAN)  # Wednesday 2026-11-25, 10:00 in Shanghai
    top_up(client, "20,000")
    operator, operator_id = operator_client(client, ctx, db, clock)
    set_tier = post_form(operator, "/console/fund", "/console/fund/wallet-tier", {"customer": FAN, "tier": "3"})
    assert set_tier.status_code == 303 and set_tier.headers["location"] == "/console/fund"
    customer = user_id(db, FAN)
    assert f"顾客 {customer} 的钱包已设为三类钱包" in operator.get("/console/fund").text
    unknown = post_form(operator, "/console/fund", "/console/fund/wallet-tier", {"customer": "nobody@x.cn",
                                                                                 "tier": "2"})
    assert unknown.status_code == 303 and "没有这位顾客" in operator.get("/console/fund").text
    assert [(e.actor_id, e.target) for e in audit(db, "wallet.tier")] == [(operator_id, f"customer:{customer}")]

    page = client.get("/wallet").text
    assert "你的钱包：三类钱包" in page and 'action="/wallet/subscribe"' in page
    subscribed = post_form(client, "/wallet", "/wallet/subscribe", {"amount": "10000"})
    assert subscribed.status_code == 303
    page = client.get("/wallet").text
    assert "¥10,000.00 已转入活期宝；份额将于 2026-11-26 确认并开始计算收益" in page
    assert shown(page, "fund-pending") == "¥10,000.00" and shown(page, "wallet-balance") == "¥10,000.00"

    # seven days of income before the fan held anything, so the yield and its chart are there
    with db.uow() as s:
        for day in range(18, 25):
            income.distribute(s, clock, ctx.settings.zone, day=date(2026, 11, day), rate_e4=6012)
    clock.advance(2 * 24 * 3600)  # Friday 2026-11-27
    with db.uow() as s:
        fund.settle_due(s, clock, ctx.settings.zone)
    entered = post_form(operator, "/console/fund", "/console/fund/daily-income",
                        {"day": "2026-11-26", "income_per_10k": "0.6012"})
    assert entered.status_code == 303
    console = operator.get("/console/fund").text
    assert "2026-11-26 的收益已录入：向 1 位持有人分配 ¥0.60" in console
    assert shown(console, "fund-holders") == "1" and shown(console, "fund-confirmed") == "¥10,000.60"
    assert shown(console, "fund-pool") == "¥10,000.60" and "0.6012" in console and "<svg" in console
    again = post_form(operator, "/console/fund", "/console/fund/daily-income",
                      {"day": "2026-11-26", "income_per_10k": "0.7"})
    assert again.status_code == 303 and "2026-11-26 的收益已录入为 0.6012" in operator.get("/console/fund").text
    future = post_form(operator, "/console/fund", "/console/fund/daily-income",
                       {"day": "2026-11-28", "income_per_10k": "0.6"})
    assert future.status_code == 303 and "该日结束后才能录入该日收益" in operator.get("/console/fund").text
    assert [e.actor_id for e in audit(db, "fund.daily_income")] == [None] * 7 + [operator_id]

    page = client.get("/wallet").text
    assert shown(page, "yesterday-income") == "¥0.60" and shown(page, "total-income") == "¥0.60"
    assert shown(page, "fund-balance") == "¥10,000.60" and shown(page, "fund-pending") == "¥0.00"
    assert shown(page, "seven-day-yield") == f"{fund.annualised_yield([6012] * 7)}%"
    assert 'aria-label="近 30 天七日年化收益率"' in page

    instant = post_form(client, "/wallet", "/wallet/redeem", {"amount": "100", "mode": "instant"})
    assert instant.status_code == 303
    page = client.get("/wallet").text
    assert "¥100.00 已到账钱包" in page and shown(page, "wallet-balance") == "¥10,100.00"
    assert "今日剩余额度 ¥9,900.00" in page
    standard = post_form(client, "/wallet", "/wallet/redeem", {"amount": "50", "mode": "standard"})
    assert standard.status_code == 303
    page = client.get("/wallet").text
    assert "¥50.00 将于 2026-11-30 到账钱包" in page and shown(page, "fund-redeeming") == "¥50.00"
    assert shown(page, "fund-balance") == "¥9,850.60"
    too_much = post_form(client, "/wallet", "/wallet/redeem", {"amount": "10000", "mode": "instant"})
    assert too_much.status_code == 303 and 'class="notice error"' in client.get("/wallet").text
    statement = client.get("/wallet/transactions").text
    assert "快速转出" in statement and "转入活期宝" in statement and "-¥10,000.00" in statement


@pytest.mark.usefixtures("shop")
def test_an_operator_marks_trading_days_and_the_note_is_shown_as_text(client: TestClient, ctx: Context,
                                                                      db: Database, clock: FixedClock) -> None:
    operator_id = sign_in_as(client, ctx, db, clock, "operator")
    saved = post_form(client, "/console/fund", "/console/fund/calendar",
                      {"day": "2026-12-01", "trading": "closed", "note": "<script>alert(1)</script>"})
    assert saved.status_code == 303
    page = client.get("/console/fund").text
    assert "交易日历已保存" in page and "2026-12-01" in page and "休市" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    bad = post_form(client, "/console/fund", "/console/fund/calendar", {"day": "2026-12-02", "trading": "maybe"})
    assert bad.status_code == 303 and "请选择该日为交易日还是休市日" in client.get("/console/fund").text
    not_a_day = post_form(client, "/console/fund", "/console/fund/calendar", {"day": "<b>x", "trading": "open"})
    assert not_a_day.status_code == 303 and "<b>x" not in client.get("/console/fund").text
    with db.read() as s:
        assert [(d.day, d.trading) for d in s.scalars(select(CalendarDay))] == [(date(2026, 12, 1), False)]
    assert [e.actor_id for e in audit(db, "fund.calendar")] == [operator_id]


@pytest.mark.usefixtures("shop")
def test_wallet_and_fund_forms_need_their_token(client: TestClient, ctx: Context, db: Database,
                                                clock: FixedClock) -> None:
    register(client, FAN)
    top_up(client, "100")
    operator, _ = operator_client(client, ctx, db, clock)
    assert post_form(operator, "/console/fund", "/console/fund/wallet-tier",
                     {"customer": FAN, "tier": "3"}).status_code == 303
    before = table_counts(db)
    for action, fields in (("/wallet/top-up", {"amount": "10"}), ("/wallet/withdraw", {"amount": "10"}),
                           ("/wallet/subscribe", {"amount": "10"}),
                           ("/wallet/redeem", {"amount": "10", "mode": "instant"})):
        refused = client.post(action, data=fields, follow_redirects=False)
        assert refused.status_code == 403 and "表单已过期" in refused.text, action
        wrong = client.post(action, data={"csrf": "0" * 64, **fields}, follow_redirects=False)
        assert wrong.status_code == 403, action
    for action, fields in (("/console/fund/daily-income", {"day": "2026-11-24", "income_per_10k": "0.5"}),
                           ("/console/fund/calendar", {"day": "2026-12-01", "trading": "closed"}),
                           ("/console/fund/wallet-tier", {"customer": FAN, "tier": "1"})):
        refused = operator.post(action, data=fields, follow_redirects=False)
        assert refused.status_code == 403 and "表单已过期" in refused.text, action
    assert table_counts(db) == before


@pytest.mark.usefixtures("shop")
def test_a_customer_is_refused_by_the_fund_console_and_a_clerk_only_reads_it(client: TestClient, ctx: Context,
                                                                             db: Database, clock: FixedClock) -> None:
    customer = sign_in_as(client, ctx, db, clock, None)
    page = client.get("/console/fund")
    assert page.status_code == 403 and "管理后台仅供商城员工使用" in page.text
    token = csrf_of(client.get("/wallet").text)
    for action, fields in (("/console/fund/wallet-tier", {"customer": str(customer), "tier": "3"}),
                           ("/console/fund/daily-income", {"day": "2026-11-24", "income_per_10k": "0.5"})):
        refused = client.post(action, data={"csrf": token, **fields}, follow_redirects=False)
        assert refused.status_code == 403, action
    with db.read() as s:
        assert wallet.tier_of(s, customer) == 1
        assert s.scalar(select(func.count()).select_from(WalletAccount).where(WalletAccount.tier == 3)) == 0

    sign_in_as(client, ctx, db, clock, "clerk")
    page = client.get("/console/fund")
    assert page.status_code == 200 and "活期宝" in page.text and 'href="/console/fund"' in page.text
    assert 'action="/console/fund/wallet-tier"' not in page.text  # no form a clerk could not use
    refused = post_form(client, "/console/fund", "/console/fund/wallet-tier", {"customer": str(customer),
                                                                               "tier": "3"})
    assert refused.status_code == 403
    assert audit(db, "wallet.tier") == []


@pytest.mark.usefixtures("shop")
def test_the_wallet_speaks_english_too(client: TestClient) -> None:
    register(client, FAN)
    post_form(client, "/wallet", "/language", {"locale": "en", "next": "/wallet"})
    page = client.get("/wallet").text
    assert "My wallet" in page and "Tier I" in page and "Only Tier III wallets" in page
    assert "Payments and withdrawals up to ¥1,000.00 in all" in page
