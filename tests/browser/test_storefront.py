"""A fan in Chromium: register, browse, add to cart, check out, pay at the sandbox bank, see the order
paid; the language switch. Screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

import itertools
import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

_fans = itertools.count(1)


def register(page: Page) -> str:
    email = f"fan{next(_fans)}-{time.time_ns()}@example.com"
    page.goto("/register")
    page.get_by_label("姓名").fill("米粉")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码（至少 8 位）").fill("password-1")
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_text("欢迎来到 Fanbase！")).to_be_visible()
    return email


def test_a_fan_registers_buys_and_pays(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_title(re.compile("Fanbase"))
    expect(page.get_by_text("下一场首发")).to_be_visible()  # the launch scheduled by the fixture, with its countdown
    screenshot(page, "home")
    register(page)

    page.get_by_role("link", name="手机").first.click()  # a category on the home page
    expect(page.get_by_role("heading", level=1)).to_have_text("手机")
    screenshot(page, "listing")
    page.locator(".card a").first.click()
    expect(page.locator(".price.big")).to_contain_text("¥")
    page.locator("input[name=sku]:not([disabled])").last.check()
    chosen_price = page.locator(".price.big").inner_text()
    screenshot(page, "product")
    page.get_by_role("button", name="加入购物车").click()

    expect(page.get_by_text("已加入购物车")).to_be_visible()
    expect(page.get_by_test_id("cart-total")).to_have_text(chosen_price)
    screenshot(page, "cart")
    page.get_by_role("link", name="去结算").click()
    page.get_by_label("收货人").fill("张三")
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_label("详细地址").fill("朝阳区建国路 1 号")
    page.get_by_label("城市").fill("北京")
    page.get_by_label("邮编").fill("100000")
    expect(page.get_by_label("银行卡（沙箱网关）")).to_be_checked()
    screenshot(page, "checkout")
    page.get_by_role("button", name="提交订单").click()

    expect(page.get_by_role("heading", name="沙箱银行")).to_be_visible()
    expect(page.get_by_test_id("bank-amount")).to_have_text(chosen_price)
    screenshot(page, "sandbox-bank")
    page.get_by_role("button", name="确认付款").click()

    expect(page.get_by_text("付款成功")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("已付款")
    expect(page.locator(".timeline li")).to_have_count(2)  # placed, paid
    screenshot(page, "order")
    page.get_by_role("link", name="我的订单").first.click()
    expect(page.locator("tbody tr")).to_have_count(1)


def test_a_declined_payment_leaves_the_order_waiting(page: Page) -> None:
    register(page)
    page.goto("/products/redmi-buds-6")
    page.get_by_role("button", name="加入购物车").click()
    page.goto("/checkout")
    for label, value in (("收货人", "李四"), ("手机号", "13900139000"), ("详细地址", "徐汇区 2 号"), ("城市", "上海"),
                         ("邮编", "200000")):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="提交订单").click()
    page.get_by_role("button", name="拒绝").click()
    expect(page.get_by_text("付款被拒绝").first).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("待付款")
    expect(page.get_by_role("button", name="立即付款")).to_be_visible()


def test_the_language_switch(page: Page) -> None:
    page.goto("/products")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile("/products$"))
    expect(page.get_by_role("link", name="Products", exact=True)).to_be_visible()
    page.goto("/")  # remembered on the next page
    expect(page.get_by_role("link", name="Cart")).to_be_visible()
    screenshot(page, "home-en")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("link", name="购物车")).to_be_visible()


def test_the_store_works_without_javascript(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, java_script_enabled=False, viewport={"width": 390, "height": 844},
                                  locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    register(page)
    page.goto("/products")
    page.locator(".card a").first.click()
    page.get_by_role("button", name="加入购物车").click()
    expect(page.get_by_text("已加入购物车")).to_be_visible()
    context.close()
