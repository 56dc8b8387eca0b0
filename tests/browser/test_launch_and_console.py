"""An operator and fans in Chromium: the operator creates a product and a flash sale in the console, fans
reserve on the launch page, the sale starts (the sandbox clock moves forward), a fan buys and pays at the
sandbox bank, and the operator watches the units go live; a customer is refused by the console.
Screenshots of the launch page and the console go to docs/screenshots/."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, STAFF, screenshot
from tests.browser.test_storefront import register


def staff_token(server: str) -> str:
    return str(httpx.post(server + "/api/v1/auth/login", json=STAFF).json()["token"])


def log_in_as_operator(page: Page) -> None:
    page.goto("/login?next=/console")
    page.get_by_label("邮箱").fill(STAFF["email"])
    page.get_by_label("密码").fill(STAFF["password"])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="今日")).to_be_visible()


def test_an_operator_launches_a_product_and_fans_buy_it(browser: Browser, server: str, page: Page) -> None:
    operator_context = browser.new_context(base_url=server, viewport=DESKTOP, locale="zh-CN")
    operator_context.set_default_timeout(10_000)
    operator = operator_context.new_page()
    log_in_as_operator(operator)

    sku = f"FB-BUDS-{time.time_ns() % 10**8}"
    operator.locator(".console-nav").get_by_role("link", name="商品").click()
    operator.get_by_label("网址名（slug）").fill(sku.lower())
    operator.get_by_label("商品名称").fill("Fanbase 降噪耳机")
    operator.get_by_label("分类").select_option("lifestyle")
    operator.get_by_label("SKU").fill(sku)
    operator.get_by_label("版本名称").fill("白色")
    operator.get_by_label("价格（元）").fill("399.00")
    operator.get_by_label("成本（元）").fill("210.00")
    operator.get_by_role("button", name="创建商品").click()
    expect(operator.get_by_text("商品已创建")).to_be_visible()
    operator.get_by_label("实际库存").fill("50")
    operator.get_by_role("button", name="设置库存").click()
    expect(operator.get_by_text("库存已保存")).to_be_visible()
    screenshot(operator, "console-product")

    operator.locator(".console-nav").get_by_role("link", name="秒杀活动").click()
    operator.get_by_label("SKU").fill(sku)
    operator.get_by_label("数量", exact=True).fill("10")
    operator.get_by_label("价格（元）").fill("299")
    operator.get_by_role("button", name="创建秒杀").click()  # starts in an hour (the form's default)
    expect(operator.get_by_text("秒杀已创建")).to_be_visible()
    sale_url = operator.url.replace("/console", "")
    sale_id = sale_url.rsplit("/", 1)[1]

    # a fan reserves on the launch page; a second fan reserves through the API
    register(page)
    page.goto(sale_url)
    expect(page.get_by_role("heading", name="Fanbase 降噪耳机")).to_be_visible()
    page.get_by_role("button", name="预约").click()
    expect(page.get_by_text("预约成功")).to_be_visible()
    expect(page.get_by_role("heading", name="你已预约")).to_be_visible()
    screenshot(page, "launch-reserved")
    other = httpx.post(server + "/api/v1/auth/register", json={"email": f"second-{time.time_ns()}@example.com",
                                                               "password": "password-1", "name": "二号"}).json()
    other_auth = {"Authorization": f"Bearer {other['token']}"}
    assert httpx.post(f"{server}/api/v1/flash-sales/{sale_id}/reservations", headers=other_auth).status_code == 201

    # the sale starts: the sandbox clock moves forward an hour
    moved = httpx.post(server + "/api/v1/admin/clock/advance", json={"seconds": 3601},
                       headers={"Authorization": f"Bearer {staff_token(server)}"})
    assert moved.status_code == 200, moved.text
    page.reload()
    page.get_by_role("button", name="立即抢购").click()
    expect(page.get_by_text("抢到了！请在截止时间前付款。")).to_be_visible()
    expect(page.get_by_test_id("launch-state").locator(".countdown")).to_have_text(re.compile(r"^00:1[45]:\d\d$"))
    expect(page.get_by_test_id("remaining").locator("[data-remaining]")).to_have_text("9")
    screenshot(page, "launch-won")

    # the operator watches it live: the second fan's buy arrives through server-sent events
    operator.goto(f"/console/flash-sales/{sale_id}")
    panel = operator.get_by_test_id("live-panel")
    expect(panel.locator("[data-remaining]")).to_have_text("9")
    bought = httpx.post(f"{server}/api/v1/flash-sales/{sale_id}/purchase", json={}, headers=other_auth)
    assert bought.status_code == 201, bought.text
    expect(panel.locator("[data-remaining]")).to_have_text("8")  # no reload
    expect(panel.locator("[data-sold]")).to_have_text("2")
    expect(panel.locator("[data-share]")).to_have_text("20%")
    screenshot(operator, "console-sale")

    # the fan pays at the sandbox bank
    page.get_by_role("button", name="立即付款").click()
    expect(page.get_by_role("heading", name="沙箱银行")).to_be_visible()
    expect(page.get_by_test_id("bank-amount")).to_have_text("¥299.00")
    page.get_by_role("button", name="确认付款").click()
    expect(page.get_by_text("付款成功")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("已付款")

    # and the operator sees the paid order
    operator.goto("/console/orders?status=paid")
    screenshot(operator, "console-orders")
    operator.goto("/console")
    expect(operator.get_by_test_id("sales-today")).not_to_have_text("¥0.00")
    screenshot(operator, "console-dashboard")
    operator.goto("/console/audit")
    expect(operator.get_by_text("flash_sale.create").first).to_be_visible()
    screenshot(operator, "console-audit")
    operator_context.close()


def test_a_customer_is_refused_by_the_console(page: Page) -> None:
    register(page)
    expect(page.get_by_role("link", name="管理后台")).to_have_count(0)
    reply = page.goto("/console")
    assert reply is not None and reply.status == 403
    expect(page.get_by_text("管理后台仅供商城员工使用")).to_be_visible()
    expect(page.get_by_role("link", name="返回商城")).to_be_visible()
    page.set_viewport_size(PHONE)
