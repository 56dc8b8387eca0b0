"""Every staff write is written to the audit log: who, what, which thing."""

from __future__ import annotations

from sqlalchemy import select

from fanbase.accounts.models import AuditEntry
from tests.helpers import auth, place_order


def test_every_staff_write_is_audited(client, db, shop, fan, admin):  # type: ignore[no-untyped-def]
    order = place_order(client, fan)
    fan_id = client.get("/api/v1/me", headers=auth(fan)).json()["id"]
    client.post(f"/api/v1/sandbox-gateway/payments/{order['payment']['id']}/approve")
    product = {"slug": "redmi-note-14", "name": "红米 Note 14", "brand": "redmi", "category": "phones",
               "description": "", "variants": [{"sku": "RN14-128", "name": "8+128GB", "price_fen": 119900,
                                                "cost_fen": 90000}]}
    forum = forum_setup(client, fan, admin)
    idea_id = client.post("/api/v1/ideas", json={"title": "更长续航", "body": "", "product_slug": "xiaomi-15"},
                          headers=auth(fan)).json()["id"]
    writes = [
        ("POST", "/api/v1/admin/products", product, "product.create"),
        ("PUT", "/api/v1/admin/stock/RN14-128", {"location": "main", "on_hand": 10}, "stock.set"),
        ("POST", f"/api/v1/admin/orders/{order['id']}/ship", None, "order.ship"),
        ("POST", f"/api/v1/admin/orders/{order['id']}/deliver", None, "order.deliver"),
        ("POST", f"/api/v1/admin/orders/{order['id']}/refund", None, "order.refund"),
        ("POST", "/api/v1/admin/clock/advance", {"seconds": 60}, "clock.advance"),
        ("POST", "/api/v1/admin/flash-sales", {"sku": "BAND9", "units": 2, "price_fen": 19900,
                                              "reservations_open_at": "2027-01-01T10:00:00+08:00",
                                              "starts_at": "2027-01-02T10:00:00+08:00",
                                              "ends_at": "2027-01-02T12:00:00+08:00"}, "flash_sale.create"),
        ("PUT", f"/api/v1/admin/customers/{fan_id}/wallet-tier", {"tier": 2}, "wallet.tier"),
        ("POST", "/api/v1/admin/group-offers", {"sku": "BAND9", "group_price_fen": 19900, "group_size": 3},
         "group_offer.create"),
        ("PUT", "/api/v1/admin/fund/calendar/2026-12-01", {"trading": False, "note": "假日"}, "fund.calendar"),
        ("PUT", "/api/v1/admin/commission-rates/phones", {"rate": "0.05"}, "commission.rate"),
        ("POST", "/api/v1/admin/festivals", {"name": "米粉节", "starts_at": "2027-01-01T00:00:00+08:00",
                                             "ends_at": "2027-01-02T00:00:00+08:00",
                                             "discounts": [{"category": "phones", "percent_off": 10}]},
         "festival.create"),
        ("POST", "/api/v1/admin/fund/daily-income", {"date": "2026-11-24", "income_per_10k": "0.6012"},
         "fund.daily_income"),
        ("PATCH", f"/api/v1/admin/ideas/{idea_id}", {"status": "planned"}, "idea.status"),
        ("POST", "/api/v1/admin/releases", {"product_slug": "xiaomi-15", "version": "1.1", "released_on": "2026-11-25",
                                            "notes": "", "idea_ids": [idea_id]}, "release.publish"),
        ("POST", "/api/v1/admin/forum/boards", {"slug": "general", "name": "综合"}, "forum.board.create"),
        ("POST", f"/api/v1/admin/forum/posts/{forum['reply']}/hide", None, "forum.post.hide"),
        ("POST", f"/api/v1/admin/forum/posts/{forum['reply']}/unhide", None, "forum.post.unhide"),
        ("POST", f"/api/v1/admin/forum/threads/{forum['thread']}/lock", None, "forum.thread.lock"),
        ("POST", f"/api/v1/admin/forum/threads/{forum['thread']}/unlock", None, "forum.thread.unlock"),
        ("POST", f"/api/v1/admin/forum/threads/{forum['thread']}/pin", None, "forum.thread.pin"),
        ("POST", f"/api/v1/admin/forum/threads/{forum['thread']}/unpin", None, "forum.thread.unpin"),
        ("PUT", f"/api/v1/admin/forum/members/{fan_id}/suspension", {"until": "2027-01-01T00:00:00+08:00"},
         "forum.member.suspend"),
        ("DELETE", f"/api/v1/admin/forum/members/{fan_id}/suspension", None, "forum.member.unsuspend"),
        ("POST", f"/api/v1/admin/forum/reports/{forum['reply_report']}/dismiss", None, "forum.report.dismiss"),
        ("POST", f"/api/v1/admin/forum/reports/{forum['report']}/confirm", None, "forum.report.confirm"),
    ]
    for method, path, body, action in writes:
        reply = client.request(method, path, json=body, headers=auth(admin))
        assert reply.status_code in (200, 201), (path, reply.text)
        with db.read() as s:
            last_action, actor = s.execute(select(AuditEntry.action, AuditEntry.actor_id)
                                           .order_by(AuditEntry.id.desc()).limit(1)).one()
        assert last_action == action and actor is not None, (path, last_action)
        if action == "flash_sale.create":
            writes.append(("POST", f"/api/v1/admin/flash-sales/{reply.json()['id']}/end", None, "flash_sale.end"))


def forum_setup(client, fan, admin) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A board, a fan's thread with a reply, and a report of each post (for the forum's moderator writes)."""
    assert client.post("/api/v1/admin/forum/boards", json={"slug": "phones", "name": "手机"},
                       headers=auth(admin)).status_code == 201
    thread = client.post("/api/v1/boards/phones/threads", json={"title": "标题", "body": "正文"}, headers=auth(fan))
    opening = thread.json()["posts"][0]["id"]
    reply = client.post(f"/api/v1/threads/{thread.json()['id']}/posts", json={"body": "回复"}, headers=auth(fan))
    reports = [client.post(f"/api/v1/posts/{post}/reports", json={"reason": "广告"}, headers=auth(admin)).json()["id"]
               for post in (opening, reply.json()["id"])]
    return {"thread": thread.json()["id"], "reply": reply.json()["id"], "report": reports[0],
            "reply_report": reports[1]}


def test_admin_write_routes_are_all_covered(app) -> None:  # type: ignore[no-untyped-def]
    """A new staff write route must be added to the test above (and audited)."""
    paths = app.openapi()["paths"]
    writes = {(method.upper(), path) for path, operations in paths.items() if path.startswith("/api/v1/admin")
              for method in operations if method != "get"}
    assert writes == {("POST", "/api/v1/admin/products"), ("PUT", "/api/v1/admin/stock/{sku}"),
                      ("POST", "/api/v1/admin/orders/{order_id}/ship"),
                      ("POST", "/api/v1/admin/orders/{order_id}/deliver"),
                      ("POST", "/api/v1/admin/orders/{order_id}/refund"), ("POST", "/api/v1/admin/clock/advance"),
                      ("POST", "/api/v1/admin/flash-sales"), ("POST", "/api/v1/admin/flash-sales/{sale_id}/end"),
                      ("PUT", "/api/v1/admin/customers/{customer_id}/wallet-tier"),
                      ("PUT", "/api/v1/admin/fund/calendar/{day}"), ("POST", "/api/v1/admin/fund/daily-income"),
                      ("POST", "/api/v1/admin/forum/boards"), ("POST", "/api/v1/admin/forum/posts/{post_id}/hide"),
                      ("POST", "/api/v1/admin/forum/posts/{post_id}/unhide"),
                      ("POST", "/api/v1/admin/forum/threads/{thread_id}/lock"),
                      ("POST", "/api/v1/admin/forum/threads/{thread_id}/unlock"),
                      ("POST", "/api/v1/admin/forum/threads/{thread_id}/pin"),
                      ("POST", "/api/v1/admin/forum/threads/{thread_id}/unpin"),
                      ("PUT", "/api/v1/admin/forum/members/{user_id}/suspension"),
                      ("DELETE", "/api/v1/admin/forum/members/{user_id}/suspension"),
                      ("POST", "/api/v1/admin/forum/reports/{report_id}/confirm"),
                      ("POST", "/api/v1/admin/forum/reports/{report_id}/dismiss"),
                      ("PATCH", "/api/v1/admin/ideas/{idea_id}"), ("POST", "/api/v1/admin/releases"),
                      ("POST", "/api/v1/admin/group-offers"), ("PUT", "/api/v1/admin/commission-rates/{category}"),
                      ("POST", "/api/v1/admin/festivals")}
