"""A fan's wallet and money-market balance in Chromium: the fan tops up at the sandbox bank, an operator sets
the wallet to tier III in the console, the fan subscribes, time passes (the sandbox clock), the operator
enters the day's income, and the fan sees yesterday's income and redeems. Screenshots of the wallet and
the console's fund page go to docs/screenshots/."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_launch_and_console import log_in_as_operator, staff_token
from tests.browser.test_storefront import register

PAST_DAYS = 36  # income entered before the fan held anything: the seven-day yield has 30 days to chart


def _advance_to(server: str, token: str, day: date) -> None:
    """The sandbox clock forward to 10:00 on ``day`` in the store's zone."""
    auth = {"Authorization": f"Bearer {token}"}
    now = datetime.fromisoformat(httpx.get(server + "/api/v1/admin/clock", headers=auth).json()["now"])
    target = datetime.combine(day, time(10, 0), tzinfo=now.tzinfo)
    moved = httpx.post(server + "/api/v1/admin/clock/advance", json={"seconds": int((target - now).total_seconds())},
                       headers=auth, timeout=30)
    assert moved.status_code == 200, moved.text


def _enter_past_income(server: str, token: str, before: date) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    for back in range(PAST_DAYS, 0, -1):
        rate = f"{0.59 + 0.015 * math.sin(back / 5):.4f}"  # a gentle wave
        reply = httpx.post(server + "/api/v1/admin/fund/daily-income", headers=auth,
                           json={"date": (before - timedelta(days=back)).isoformat(), "income_per_10k": rate})
        assert reply.status_code == 200, reply.text


def test_a_fan_tops_up_subscribes_earns_and_redeems(browser: Browser, server: str, page: Page) -> None:
    email = register(page)
    page.get_by_role("link", name="钱包", exact=True).click()
    expect(page.get_by_role("heading", name="我的钱包")).to_be_visible()
    expect(page.get_by_test_id("fund-tier-needed")).to_contain_text("只有三类钱包可以持有活期宝")

    # a top-up, paid at the sandbox bank, lands back on the wallet with the money
    page.get_by_label("充值金额（元）").fill("20000")
    page.get_by_role("button", name="充值", exact=True).click()
    expect(page.get_by_role("heading", name="沙箱银行")).to_be_visible()
    expect(page.get_by_test_id("bank-amount")).to_have_text("¥20,000.00")
    page.get_by_role("button", name="确认付款").click()
    expect(page.get_by_text("付款成功")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/wallet$"))
    expect(page.get_by_test_id("wallet-balance")).to_have_text("¥20,000.00")

    # an operator moves the wallet to tier III
    operator_context = browser.new_context(base_url=server, viewport=DESKTOP, locale="zh-CN")
    operator_context.set_default_timeout(10_000)
    operator = operator_context.new_page()
    log_in_as_operator(operator)
    operator.locator(".console-nav").get_by_role("link", name="活期宝").click()
    operator.get_by_label("顾客邮箱或编号").fill(email)
    operator.get_by_label("等级", exact=True).select_option(label="三类钱包")
    operator.get_by_role("button", name="设置等级").click()
    expect(operator.get_by_text(re.compile(r"的钱包已设为三类钱包"))).to_be_visible()

    # the fan subscribes; the units are confirmed on the next trading day
    page.reload()
    expect(page.get_by_role("heading", name="你的钱包：三类钱包")).to_be_visible()
    page.get_by_label("转入金额（元）").fill("10000")
    page.get_by_role("button", name="转入", exact=True).click()
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("¥10,000.00 已转入活期宝")
    found = re.search(r"份额将于 (\d{4}-\d{2}-\d{2}) 确认", notice.inner_text())
    assert found, notice.inner_text()
    confirmed_on = date.fromisoformat(found.group(1))
    expect(page.get_by_test_id("fund-pending")).to_have_text("¥10,000.00")

    # time passes: the day after the confirmation day, when that day's income can be entered
    token = staff_token(server)
    _advance_to(server, token, confirmed_on + timedelta(days=1))
    _enter_past_income(server, token, confirmed_on)
    operator.goto("/console/fund")
    expect(operator.locator("#iday")).to_have_value(confirmed_on.isoformat())  # yesterday, by default
    operator.get_by_label("万份收益（元）").fill("0.6012")
    operator.get_by_role("button", name="录入收益").click()
    expect(operator.get_by_text(f"{confirmed_on.isoformat()} 的收益已录入：向 1 位持有人分配 ¥0.60")).to_be_visible()
    expect(operator.get_by_test_id("fund-confirmed")).to_have_text("¥10,000.60")
    screenshot(operator, "console-fund")
    operator_context.close()

    # the fan sees yesterday's income and redeems
    page.reload()
    expect(page.get_by_test_id("yesterday-income")).to_have_text("¥0.60")
    expect(page.get_by_test_id("total-income")).to_have_text("¥0.60")
    expect(page.get_by_test_id("fund-balance")).to_have_text("¥10,000.60")
    expect(page.get_by_test_id("seven-day-yield")).to_have_text(re.compile(r"^\d+\.\d{3}%$"))
    expect(page.locator("svg.chart")).to_be_visible()
    page.get_by_label("转出金额（元）").fill("100")
    page.get_by_label(re.compile("快速转出")).check()
    page.get_by_role("button", name="转出", exact=True).click()
    expect(page.get_by_text("¥100.00 已到账钱包")).to_be_visible()
    expect(page.get_by_test_id("wallet-balance")).to_have_text("¥10,100.00")
    expect(page.get_by_test_id("fund-balance")).to_have_text("¥9,900.60")
    screenshot(page, "wallet")

    page.get_by_role("link", name="收支明细").click()
    expect(page.get_by_role("heading", name="钱包明细")).to_be_visible()
    expect(page.get_by_test_id("statement-balance")).to_have_text("¥10,100.00")
    first_row = page.locator("tbody tr").first
    expect(first_row).to_contain_text("快速转出")
    expect(first_row).to_contain_text("+¥100.00")
