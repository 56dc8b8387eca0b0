"""Group-buy pages through the ASGI app: the operator's offer form in the console (audited), the offer on the
product page, starting a group at the sandbox bank, the group page (members, countdown, share link) and a
second fan joining through it until the group is complete."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from fanbase.clock import FixedClock
from fanbase.context import Context
from fanbase.db import Database
from fanbase.social.groupbuys.models import GroupBuy, GroupOffer
from tests.pages.test_console import audit, sign_in_as
from tests.pages.test_pages import ADDRESS, post_form, register
from tests.pages.test_wallet_pages import shown


def pay_at_bank(client: TestClient, placed: object) -> str:
    location = placed.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/sandbox-gateway/pay/"), location
    approved = post_form(client, location, location + "/approve", {})
    assert approved.status_code == 303
    return str(approved.headers["location"])


def test_an_offer_is_made_started_shared_and_filled(client: TestClient, ctx: Context, db: Database,
                                                    clock: FixedClock, shop: None) -> None:
    operator = TestClient(client.app, raise_server_exceptions=False)
    sign_in_as(operator, ctx, db, clock, "operator")
    made = post_form(operator, "/console/group-offers", "/console/group-offers",
                     {"sku": "BAND9", "price": "199", "group_size": "2", "time_limit_minutes": "60"})
    assert made.status_code == 303 and made.headers["location"] == "/console/group-offers"
    assert "¥199.00" in operator.get("/console/group-offers").text
    assert len(audit(db, "group_offer.create")) == 1
    refused = post_form(operator, "/console/group-offers", "/console/group-offers",
                        {"sku": "BAND9", "price": "249", "group_size": "2", "time_limit_minutes": "60"})
    assert refused.status_code == 303  # back with the reason: the price is not below the SKU's
    with db.read() as s:
        offer_id = s.scalars(select(GroupOffer.id)).one()

    product = client.get("/products/mi-band-9")
    assert 'data-testid="group-offers"' in product.text and "¥199.00" in product.text
    assert f"/group-buys/new?offer={offer_id}" in product.text

    register(client, "starter@example.com")
    form = client.get(f"/group-buys/new?offer={offer_id}")
    assert form.status_code == 200 and 'name="payment_method"' in form.text
    bad = post_form(client, f"/group-buys/new?offer={offer_id}", "/group-buys",
                    {**ADDRESS, "phone": "x", "offer_id": str(offer_id), "payment_method": "gateway", "key": "g0"})
    assert bad.status_code == 422
    placed = post_form(client, f"/group-buys/new?offer={offer_id}", "/group-buys",
                       {**ADDRESS, "offer_id": str(offer_id), "payment_method": "gateway", "key": "g1"})
    order_page = pay_at_bank(client, placed)
    assert order_page.startswith("/orders/")
    with db.read() as s:
        group_id = s.scalars(select(GroupBuy.id)).one()
    # back from the bank on the order's page, the starter finds the group to share
    assert f'href="/group-buys/{group_id}" data-testid="order-group"' in client.get(order_page).text
    page = client.get(f"/group-buys/{group_id}")
    assert page.status_code == 200
    assert "1" in shown(page.text, "group-members") and "2" in shown(page.text, "group-members")
    assert "data-countdown" in page.text
    assert f"/group-buys/{group_id}" in page.text and "/group-buys/" + str(group_id) + "/join" not in page.text

    visitor = TestClient(client.app, raise_server_exceptions=False)
    assert f"/login?next=/group-buys/{group_id}" in visitor.get(f"/group-buys/{group_id}").text
    register(visitor, "friend@example.com")
    joined = post_form(visitor, f"/group-buys/{group_id}", f"/group-buys/{group_id}/join",
                       {**ADDRESS, "payment_method": "gateway", "key": "j1"})
    pay_at_bank(visitor, joined)
    done = visitor.get(f"/group-buys/{group_id}").text
    assert shown(done, "group-members").count("2") == 2 and "/join" not in done
    with db.read() as s:
        found = s.get(GroupBuy, group_id)
        assert found is not None and found.status == "complete" and found.paid_count == 2
    again = post_form(visitor, f"/group-buys/{group_id}", f"/group-buys/{group_id}/join",
                      {**ADDRESS, "payment_method": "gateway", "key": "j2"})
    assert again.status_code == 303 and again.headers["location"] == f"/group-buys/{group_id}"
