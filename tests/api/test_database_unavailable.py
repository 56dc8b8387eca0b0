"""The database briefly unavailable: a clear 503 problem, never a 500, nothing half-written."""

from __future__ import annotations

from sqlalchemy import event

from tests.helpers import ADDRESS, auth, table_counts


def test_checkout_answers_503_when_the_database_fails(client, db, shop, fan):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    client.put("/api/v1/cart/items/XM15-256", json={"quantity": 1}, headers=auth(fan))
    before = table_counts(db)

    def fail_on_order_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO orders"):
            raise OperationalError(statement, parameters, Exception("server closed the connection"))

    event.listen(db.engine, "before_cursor_execute", fail_on_order_insert)
    try:
        reply = client.post("/api/v1/checkout", json={"payment_method": "gateway", "shipping_address": ADDRESS},
                            headers=auth(fan) | {"Idempotency-Key": "during-outage"})
    finally:
        event.remove(db.engine, "before_cursor_execute", fail_on_order_insert)
    assert reply.status_code == 503
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["code"] == "service_unavailable" and reply.headers["Retry-After"] == "1"
    assert table_counts(db) == before
    # once it is back, the same key goes through (a 503 is not remembered as the answer)
    reply = client.post("/api/v1/checkout", json={"payment_method": "gateway", "shipping_address": ADDRESS},
                        headers=auth(fan) | {"Idempotency-Key": "during-outage"})
    assert reply.status_code == 201, reply.text


def test_docs_are_served_without_a_cdn(client):  # type: ignore[no-untyped-def]
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
