"""The weekly ideas digest over the real database with a frozen clock: written on the Monday after a week of
releases (store zone), once per week however often the job runs, listing what shipped and who asked for it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from fanbase.clock import FixedClock
from fanbase.community.ideas import service
from fanbase.community.ideas.models import IdeaDigest
from fanbase.config import Settings
from fanbase.context import Context
from fanbase.db import Database
from fanbase.jobs import JOBS, run_due_jobs
from tests.helpers import customer_token, staff_token

ZONE = Settings().zone


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def publish(db: Database, clock: FixedClock, staff_id: int, version: str, idea_ids: list[int]) -> int:
    with db.uow() as s:
        return service.publish_release(s, clock, product_slug="xiaomi-15", version=version,
                                       released_on=clock.now().astimezone(ZONE).date(), notes="", idea_ids=idea_ids,
                                       actor_id=staff_id).id


def digests(db: Database) -> list[IdeaDigest]:
    with db.read() as s:
        found = service.digests(s, limit=100)
        s.expunge_all()
        return found


@pytest.mark.usefixtures("shop")
def test_the_digest_lists_last_weeks_releases_once(db: Database, clock: FixedClock, ctx: Context) -> None:
    clock.set(at("2026-11-23T09:00:00"))  # Monday
    author_id, _ = customer_token(db, ctx.secret_key, clock, name="作者")
    voter_id, _ = customer_token(db, ctx.secret_key, clock, name="投票者")
    staff_id, _ = staff_token(db, ctx.secret_key, clock)
    with db.uow() as s:
        ideas = [service.post_idea(s, clock, customer_id=author_id, product_slug="xiaomi-15", title=title, body="")
                 for title in ("更长续航", "更好相机", "下周再做")]
        service.vote(s, clock, idea_id=ideas[0].id, customer_id=voter_id)
        ids = [i.id for i in ideas]

    # nothing to write yet for the week before: an empty digest of 16-22 November
    with db.uow() as s:
        assert service.record_weekly_digest(s, clock, ZONE) == 1
        assert service.record_weekly_digest(s, clock, ZONE) == 0
    clock.set(at("2026-11-25T10:00:00"))  # Wednesday
    first = publish(db, clock, staff_id, "1.1", ids[:1])
    clock.set(at("2026-11-29T23:59:00"))  # Sunday, last minute of the week
    second = publish(db, clock, staff_id, "1.2", ids[1:2])
    with db.uow() as s:  # still the same week: nothing new
        assert service.record_weekly_digest(s, clock, ZONE) == 0
    clock.set(at("2026-11-30T00:00:00"))  # Monday 00:00 in Shanghai (Sunday 16:00 UTC)
    third = publish(db, clock, staff_id, "1.3", ids[2:])  # belongs to the new week
    for _ in range(3):
        with db.uow() as s:
            service.record_weekly_digest(s, clock, ZONE)
    found = digests(db)
    assert [d.week_start for d in found] == [date(2026, 11, 23), date(2026, 11, 16)]
    assert found[1].content["releases"] == []
    content = found[0].content
    assert content["week_start"] == "2026-11-23" and content["week_end"] == "2026-11-29"
    assert [r["id"] for r in content["releases"]] == [first, second]
    battery = content["releases"][0]["ideas"][0]
    assert battery == {"id": ids[0], "title": "更长续航", "author": {"customer_id": author_id, "name": "作者"},
                       "votes": 2, "voters": [{"customer_id": voter_id, "name": "投票者"}]}
    assert content["releases"][1]["ideas"][0]["voters"] == [] and third

    # the job, as the scheduler runs it: idempotent; next Monday picks up release 1.3
    run_due_jobs(ctx)
    assert len(digests(db)) == 2
    clock.set(at("2026-12-07T08:00:00"))
    assert run_due_jobs(ctx)["record_ideas_digest"] == 1
    assert run_due_jobs(ctx)["record_ideas_digest"] == 0
    latest = digests(db)[0]
    assert latest.week_start == date(2026, 11, 30) and [r["id"] for r in latest.content["releases"]] == [third]
    assert "record_ideas_digest" in JOBS


@pytest.mark.usefixtures("shop")
def test_a_week_the_job_missed_on_monday_is_written_later_that_week(db: Database, clock: FixedClock) -> None:
    clock.set(at("2026-12-03T12:00:00"))  # Thursday: the scheduler was down on Monday
    with db.uow() as s:
        assert service.record_weekly_digest(s, clock, ZONE) == 1
        assert service.latest_digest(s).week_start == date(2026, 11, 23)
