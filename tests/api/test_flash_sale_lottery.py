"""Lottery sales through the API: the draw at the start, rounds of one payment window, unclaimed units
going to the next fans drawn, and a draw anyone can repeat from the published seed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from fanbase.flashsale import service
from fanbase.flashsale.models import LotteryWinner, Reservation
from tests.helpers import auth, customer_token

START, WINDOW = 3600, 900


@pytest.fixture
def lottery_body(clock):  # type: ignore[no-untyped-def]
    now = clock.now()
    return {"sku": "XM15-256", "units": 3, "price_fen": 399900, "mode": "lottery",
            "reservations_open_at": now.isoformat(), "starts_at": (now + timedelta(seconds=START)).isoformat(),
            "ends_at": (now + timedelta(seconds=START + 4 * WINDOW)).isoformat(), "per_customer_limit": 1,
            "payment_window_seconds": WINDOW}


def reserved_fans(client, db, ctx, clock, sale, n):  # type: ignore[no-untyped-def]
    fans = {}
    for _ in range(n):
        customer_id, token = customer_token(db, ctx.secret_key, clock)
        assert client.post(f"/api/v1/flash-sales/{sale['id']}/reservations", headers=auth(token)).status_code == 201
        fans[customer_id] = token
    return fans


def advance(client, admin, seconds):  # type: ignore[no-untyped-def]
    """The sandbox clock: moves time and runs the jobs that fell due (the draw among them)."""
    reply = client.post("/api/v1/admin/clock/advance", json={"seconds": seconds}, headers=auth(admin))
    assert reply.status_code == 200, reply.text
    return reply.json()["jobs"]


def buy(client, sale, token):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/flash-sales/{sale['id']}/purchase", headers=auth(token))


def draw_of(client, sale, token):  # type: ignore[no-untyped-def]
    reply = client.get(f"/api/v1/flash-sales/{sale['id']}/draw", headers=auth(token))
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_only_drawn_fans_buy_and_unclaimed_units_go_to_the_next_drawn(client, db, ctx, clock, shop, admin,
                                                                        lottery_body):  # type: ignore[no-untyped-def]
    sale = client.post("/api/v1/admin/flash-sales", json=lottery_body, headers=auth(admin)).json()
    assert sale["mode"] == "lottery" and sale["lottery"] == {"seed": None, "drawn_at": None, "rounds": []}
    fans = reserved_fans(client, db, ctx, clock, sale, 10)
    stranger = customer_token(db, ctx.secret_key, clock)[1]
    assert not draw_of(client, sale, next(iter(fans.values())))["drawn"]  # nobody is drawn before the start

    assert advance(client, admin, START)["open_lottery_rounds"] == 1
    view = client.get(f"/api/v1/flash-sales/{sale['id']}").json()
    assert view["status"] == "live" and view["lottery"]["seed"]
    assert view["lottery"]["rounds"] == [{"number": 0, "opens_at": view["starts_at"], "closes_at": view["lottery"][
        "rounds"][0]["closes_at"], "free_units": 3, "winners": 3}]
    draws = {customer: draw_of(client, sale, token) for customer, token in fans.items()}
    first = sorted((d["position"], c) for c, d in draws.items() if d["drawn"])
    assert [p for p, _ in first] == [0, 1, 2] and all(draws[c]["round"] == 0 for _, c in first)
    losers = [fans[c] for c, d in draws.items() if not d["drawn"]]

    refused = buy(client, sale, losers[0])
    assert refused.status_code == 403 and refused.json()["code"] == "not_drawn"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert buy(client, sale, stranger).json()["code"] == "not_reserved"
    winner, idle, payer = (fans[c] for _, c in first)
    unpaid = buy(client, sale, winner)
    assert unpaid.status_code == 201 and unpaid.json()["total_fen"] == 399900
    assert buy(client, sale, winner).json()["code"] == "limit_exceeded"
    paid = buy(client, sale, payer).json()
    pay = client.post(f"/api/v1/orders/{paid['id']}/pay", json={"payment_method": "gateway"}, headers=auth(payer))
    client.post(f"/api/v1/sandbox-gateway/payments/{pay.json()['payment']['id']}/approve")

    # round 1: the unit the idle winner left goes to the next fan drawn; the idle winner's turn has passed
    assert advance(client, admin, WINDOW)["open_lottery_rounds"] == 1
    assert buy(client, sale, idle).json()["code"] == "not_drawn"
    assert client.get(f"/api/v1/orders/{unpaid.json()['id']}", headers=auth(winner)).json()["status"] == \
        "cancelled"  # unpaid at the end of its window: its unit is free again, for round 1 as well
    second = [c for c, t in fans.items() if draw_of(client, sale, t)["round"] == 1]
    assert len(second) == 2 and {draw_of(client, sale, fans[c])["position"] for c in second} == {3, 4}
    assert buy(client, sale, fans[second[0]]).status_code == 201
    assert buy(client, sale, fans[second[1]]).status_code == 201
    assert buy(client, sale, losers[-1]).json()["code"] == "sold_out"
    view = client.get(f"/api/v1/flash-sales/{sale['id']}").json()
    assert view["status"] == "sold_out" and [r["winners"] for r in view["lottery"]["rounds"]] == [3, 2]


def test_a_round_without_free_units_lets_nobody_in(client, db, ctx, clock, shop, admin, lottery_body):  # type: ignore[no-untyped-def]
    sale = client.post("/api/v1/admin/flash-sales", json=lottery_body | {"units": 2, "per_customer_limit": 2},
                       headers=auth(admin)).json()
    fans = reserved_fans(client, db, ctx, clock, sale, 3)
    advance(client, admin, START)
    (winner,) = [t for t in fans.values() if draw_of(client, sale, t)["drawn"]]  # 2 units at 2 a fan: one fan
    order = client.post(f"/api/v1/flash-sales/{sale['id']}/purchase", json={"quantity": 2},
                        headers=auth(winner)).json()
    pay = client.post(f"/api/v1/orders/{order['id']}/pay", json={"payment_method": "gateway"}, headers=auth(winner))
    client.post(f"/api/v1/sandbox-gateway/payments/{pay.json()['payment']['id']}/approve")
    advance(client, admin, WINDOW)  # both units paid for: nothing is free for round 1
    rounds = client.get(f"/api/v1/flash-sales/{sale['id']}").json()["lottery"]["rounds"]
    assert [(r["free_units"], r["winners"]) for r in rounds] == [(2, 1), (0, 0)]


def test_the_draw_repeats_from_the_published_seed(client, db, ctx, clock, shop, admin, lottery_body):  # type: ignore[no-untyped-def]
    sale = client.post("/api/v1/admin/flash-sales", json=lottery_body | {"units": 5}, headers=auth(admin)).json()
    reserved_fans(client, db, ctx, clock, sale, 12)
    advance(client, admin, START)
    seed = client.get(f"/api/v1/flash-sales/{sale['id']}").json()["lottery"]["seed"]
    with db.read() as session:
        customers = list(session.scalars(select(Reservation.customer_id).where(Reservation.sale_id == sale["id"])))
        recorded = dict(session.execute(select(LotteryWinner.position, LotteryWinner.customer_id)
                                        .where(LotteryWinner.sale_id == sale["id"])).all())
    order = service.draw_order(seed, list(reversed(customers)))  # whatever order the list comes in
    assert recorded == {position: order[position] for position in range(5)}


def test_draw_errors(client, fan, shop, admin, lottery_body):  # type: ignore[no-untyped-def]
    first_come = client.post("/api/v1/admin/flash-sales", json=lottery_body | {"mode": "first_come"},
                             headers=auth(admin)).json()
    reply = client.get(f"/api/v1/flash-sales/{first_come['id']}/draw", headers=auth(fan))
    assert reply.status_code == 409 and reply.json()["code"] == "conflict"
    assert client.get("/api/v1/flash-sales/999/draw", headers=auth(fan)).json()["code"] == "not_found"
    assert client.get(f"/api/v1/flash-sales/{first_come['id']}/draw").status_code == 401


def test_the_draw_is_uniform() -> None:
    """Every fan is equally likely to be drawn first (a loose bound: 6,000 draws of 6 fans)."""
    firsts = Counter(service.draw_order(f"seed-{n}", [11, 22, 33, 44, 55, 66])[0] for n in range(6000))
    assert set(firsts) == {11, 22, 33, 44, 55, 66}
    assert all(850 <= count <= 1150 for count in firsts.values()), firsts
