"""The launch page ``/flash-sales/{id}`` through the ASGI app: reserve, buy at the start, the result, and
every refusal shown as a message on the page (never JSON)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.flashsale import service as flashsale
from fanbase.flashsale.models import LOTTERY, Purchase
from tests.helpers import customer_token
from tests.pages.test_pages import post_form


def new_sale(db: Database, clock: FixedClock, *, units: int = 2, mode: str = "first_come",
             token: bool = False) -> int:
    now = clock.now()
    with db.uow() as s:
        sale = flashsale.create_sale(s, clock, flashsale.SaleSpec(
            sku="XM15-256", units=units, price_fen=299900, reservations_open_at=now,
            starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2), mode=mode,
            require_purchase_token=token), actor_id=None)  # type: ignore[arg-type]
        return sale.id


def fan(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> TestClient:
    other = TestClient(client.app, raise_server_exceptions=False)
    other.cookies.set("fb_session", customer_token(db, ctx.secret_key, clock)[1])
    return other


def notice(client: TestClient, url: str) -> str:
    html = client.get(url).text
    start = html.find('class="notice')
    return html[start:html.find("</p>", start)]


@pytest.mark.usefixtures("shop")
@pytest.mark.parametrize("token", [False, True])
def test_reserve_then_buy_at_the_start_then_pay(client: TestClient, ctx: Context, db: Database, clock: FixedClock,
                                                token: bool) -> None:
    sale = new_sale(db, clock, token=token)
    page = f"/flash-sales/{sale}"
    visitor = client.get(page)
    assert visitor.status_code == 200 and "¥2,999.00" in visitor.text and "登录后预约" in visitor.text
    buyer = fan(client, ctx, db, clock)
    assert "预约" in buyer.get(page).text
    forged = buyer.post(f"{page}/reserve", data={}, follow_redirects=False)
    assert forged.status_code == 403 and "表单已过期" in forged.text
    with db.read() as s:
        assert not flashsale.is_reserved(s, sale, 1) and flashsale.reservation_count(s, sale) == 0
    reserved = post_form(buyer, page, f"{page}/reserve", {})
    assert reserved.status_code == 303 and "预约成功" in notice(buyer, page)
    assert "你已预约" in buyer.get(page).text and "1 位粉丝已预约" in buyer.get(page).text
    again = post_form(buyer, page, f"{page}/reserve", {})
    assert again.status_code == 303 and 'notice error' in notice(buyer, page)

    early = post_form(buyer, page, f"{page}/buy", {})
    assert early.status_code == 303 and "活动尚未开始" in notice(buyer, page)
    clock.advance(3600)
    assert "立即抢购" in buyer.get(page).text
    won = post_form(buyer, page, f"{page}/buy", {})
    assert won.status_code == 303 and "抢到了" in notice(buyer, page)
    result = buyer.get(page).text
    assert "请在" in result and "data-countdown" in result and "/pay" in result
    twice = post_form(buyer, page, f"{page}/buy", {})
    assert twice.status_code == 303 and "限购" in notice(buyer, page)

    pay = re.search(r'action="(/orders/\d+/pay)"', result)
    assert pay
    paying = post_form(buyer, page, pay.group(1), {})
    bank = paying.headers["location"]
    assert bank.startswith("/sandbox-gateway/pay/") and "¥2,999.00" in buyer.get(bank).text
    approved = post_form(buyer, bank, bank + "/approve", {})
    assert "已付款" in buyer.get(approved.headers["location"]).text
    assert "查看订单" in buyer.get(page).text


@pytest.mark.usefixtures("shop")
def test_refusals_are_messages_on_the_page(client: TestClient, ctx: Context, db: Database, clock: FixedClock) -> None:
    sale = new_sale(db, clock, units=1)
    page = f"/flash-sales/{sale}"
    first, second, late = (fan(client, ctx, db, clock) for _ in range(3))
    for who in (first, second):
        post_form(who, page, f"{page}/reserve", {})
    clock.advance(3600)
    closed = post_form(late, page, f"{page}/reserve", {})
    assert closed.status_code == 303 and 'notice error' in notice(late, page)
    assert "你没有预约" in late.get(page).text
    refused = post_form(late, page, f"{page}/buy", {})
    assert refused.status_code == 303 and "仅限已预约" in notice(late, page)
    post_form(first, page, f"{page}/buy", {})
    sold_out = post_form(second, page, f"{page}/buy", {})
    reply = second.get(sold_out.headers["location"])
    assert "已售罄" in reply.text and reply.headers["content-type"].startswith("text/html")
    clock.advance(3600)
    assert "活动已结束" in second.get(page).text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Purchase)) == 1


@pytest.mark.usefixtures("shop")
def test_a_lottery_sale_tells_the_fan_whether_they_were_drawn(client: TestClient, ctx: Context, db: Database,
                                                              clock: FixedClock) -> None:
    sale = new_sale(db, clock, units=1, mode=LOTTERY)
    page = f"/flash-sales/{sale}"
    fans = [fan(client, ctx, db, clock) for _ in range(3)]
    for who in fans:
        post_form(who, page, f"{page}/reserve", {})
    clock.advance(3600)
    with db.uow() as s:
        assert flashsale.open_due_rounds(s, clock, ctx.flash_gate) == 1
    pages = [who.get(page).text for who in fans]
    drawn = [i for i, html in enumerate(pages) if "你已中签" in html]
    assert len(drawn) == 1 and sum("暂未中签" in html for html in pages) == 2
    loser = fans[next(i for i in range(3) if i not in drawn)]
    refused = post_form(loser, page, f"{page}/buy", {})
    assert refused.status_code == 303 and "未中签" in notice(loser, page)
    winner = fans[drawn[0]]
    post_form(winner, page, f"{page}/buy", {})
    assert "抢到了" in winner.get(page).text


@pytest.mark.usefixtures("shop")
def test_an_unknown_sale_is_a_404_page(client: TestClient) -> None:
    for url in ("/flash-sales/999", "/flash-sales/abc"):
        reply = client.get(url)
        assert reply.status_code in (404, 422) and reply.headers["content-type"].startswith("text/html"), url
