"""The ideas board's rules: posting, voting, comments, the status lifecycle, duplicates, releases, credits,
notifications and the weekly digest.

Rules chosen (the issue left them to us):
- Lifecycle: ``TRANSITIONS`` below. ``shipped`` is reached only through a release (``publish_release``), so
  that every shipped idea has a release that credits its fans; ``PATCH`` to ``shipped`` is a 409.
  ``declined`` may be reopened (back to ``open``); ``shipped`` and ``duplicate`` are final.
- Votes: one per fan per idea (the primary key of ``idea_votes``); a second is a 409 and writes nothing.
  Votes are cast and withdrawn only while the idea is ``ACTIVE`` (open, under review, planned, in
  progress): the votes of a shipped idea are its credits and stay as they were. The author's idea gets
  the author's vote when it is posted (it may be withdrawn like any other).
- Posting and voting are for fans (customers); anyone signed in may comment (staff answer there).
- ``duplicate`` needs ``duplicate_of``: another active idea of the same product. Its votes move to that
  idea (a fan who voted for both keeps one vote), the duplicate is closed with no votes left, and its
  fans are told where their vote went.
- Every status change notifies the idea's voters and its author, once each, in the same transaction.
- Credits of a release: the author and the voters of each idea it ships, once each; an author is
  credited as ``author`` even if they voted elsewhere in the release.
- The weekly digest covers the releases *published* from Monday 00:00 to the next Monday 00:00 in the
  store's zone; it is written once, the first time the job runs in the week after (normally Monday).

Concurrency: every write to an idea starts by locking its row (a conditional UPDATE of its vote count,
or SELECT ... FOR UPDATE for the operator's changes; SQLite writers are serialised anyway), so votes,
withdrawals, merges and status changes of one idea queue behind each other and never interleave.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, BigInteger, String, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from fanbase.accounts.service import names_of, record_audit
from fanbase.catalog import service as catalog
from fanbase.clock import Clock
from fanbase.community.ideas.models import (
    ACTIVE,
    AUTHOR,
    DECLINED,
    DUPLICATE,
    IN_PROGRESS,
    OPEN,
    PLANNED,
    SHIPPED,
    UNDER_REVIEW,
    VOTER,
    Idea,
    IdeaComment,
    IdeaDigest,
    IdeaNotification,
    IdeaVote,
    Release,
)
from fanbase.db import UTCDateTime, affected, insert_if_absent
from fanbase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from fanbase.i18n import N_, gettext
from fanbase.pagination import Page, PageRequest, make_page

TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({UNDER_REVIEW, PLANNED, DECLINED, DUPLICATE, SHIPPED}),
    UNDER_REVIEW: frozenset({OPEN, PLANNED, DECLINED, DUPLICATE, SHIPPED}),
    PLANNED: frozenset({IN_PROGRESS, DECLINED, SHIPPED}),
    IN_PROGRESS: frozenset({PLANNED, SHIPPED}),
    DECLINED: frozenset({OPEN}),  # reconsidered
    SHIPPED: frozenset(),
    DUPLICATE: frozenset(),
}
RELEASE_ONLY = frozenset({SHIPPED})  # reached only by publishing a release

STATUS_LABELS = {OPEN: N_("Open for votes"), UNDER_REVIEW: N_("Under review"), PLANNED: N_("Planned"),
                 IN_PROGRESS: N_("In progress"), SHIPPED: N_("Shipped in a release"), DECLINED: N_("Declined"),
                 DUPLICATE: N_("Duplicate")}

TITLE_MIN, TITLE_MAX = 3, 120
BODY_MAX = 5_000
COMMENT_MAX = 2_000
VERSION_MAX = 40
NOTES_MAX = 10_000
RELEASE_IDEAS_MAX = 200
DIGEST_VOTER_NAMES = 100  # names kept per idea in a digest (the count is always whole)

# notification kinds
STATUS_CHANGED = "idea_status"
MERGED = "idea_duplicate"
SHIPPED_IN = "idea_shipped"

StatusListener = Callable[[Session, Clock, Idea, str], None]
_LISTENERS: list[StatusListener] = []


def on_status(listener: StatusListener) -> None:
    """Let another domain act when an idea changes status, in the same transaction: ``listener(session,
    clock, idea, old_status)``, with ``idea.status`` already the new one (membership grants growth to the
    author when an idea becomes ``planned``). A listener that raises rolls the change back."""
    _LISTENERS.append(listener)


def remove_listener(listener: StatusListener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


# --- ideas ---------------------------------------------------------------------------------------------


def _clean_text(value: str, *, low: int, high: int, what: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if not low <= len(text) <= high:
        raise ValidationFailed(N_("{field} must be {low} to {high} characters long"), field=what, low=low,
                               high=high)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ValidationFailed(N_("{field} may not hold control characters"), field=what)
    return text


def clean_title(title: str) -> str:
    title = " ".join(title.split())  # one line
    return _clean_text(title, low=TITLE_MIN, high=TITLE_MAX, what=gettext("The title"))


def _product_slug(session: Session, slug: str) -> str:
    try:
        return catalog.get_product(session, slug).slug
    except NotFound:
        raise ValidationFailed(N_("No product {slug}"), slug=slug) from None


def _fans_only(is_staff: bool) -> None:
    if is_staff:
        raise Forbidden(N_("Ideas and votes are for fans; staff answer in the comments"))


def post_idea(session: Session, clock: Clock, *, customer_id: int, product_slug: str, title: str, body: str,
              is_staff: bool = False) -> Idea:
    """A new open idea, with its author's vote."""
    _fans_only(is_staff)
    title = clean_title(title)
    body = _clean_text(body, low=0, high=BODY_MAX, what=gettext("The description"))
    slug = _product_slug(session, product_slug)
    now = clock.now()
    idea = Idea(product_slug=slug, author_id=customer_id, title=title, body=body, status=OPEN, votes=1,
                created_at=now, updated_at=now)
    session.add(idea)
    session.flush()
    session.add(IdeaVote(idea_id=idea.id, customer_id=customer_id, created_at=now))
    session.flush()
    return idea


def get_idea(session: Session, idea_id: int) -> Idea:
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise NotFound(N_("No idea {id}"), id=idea_id)
    return idea


def _cursor(sort: str, idea: Idea) -> str:
    raw = f"{sort}:{idea.votes}:{idea.id}" if sort == "votes" else f"{sort}:{idea.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(sort: str, cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = text.split(":")
        if parts[0] != sort or len(parts) != (3 if sort == "votes" else 2):
            raise ValueError(text)
        numbers = [int(p) for p in parts[1:]]
        if not all(0 <= n < 2**62 for n in numbers):
            raise ValueError(text)
        return (numbers[0], numbers[1]) if sort == "votes" else (0, numbers[0])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("The cursor is not valid") from exc


def list_ideas(session: Session, *, limit: int, cursor: str | None = None, product: str | None = None,
               status: str | None = None, sort: str = "votes", author_id: int | None = None) -> Page[Idea]:
    """Ideas, most votes first (``votes``, then newest) or newest first (``new``)."""
    query = select(Idea)
    if product:
        query = query.where(Idea.product_slug == product)
    if status:
        query = query.where(Idea.status == status)
    if author_id is not None:
        query = query.where(Idea.author_id == author_id)
    if sort == "votes":
        query = query.order_by(Idea.votes.desc(), Idea.id.desc())
        if cursor:
            votes, after = _read_cursor(sort, cursor)
            query = query.where(or_(Idea.votes < votes, (Idea.votes == votes) & (Idea.id < after)))
    else:
        query = query.order_by(Idea.id.desc())
        if cursor:
            query = query.where(Idea.id < _read_cursor(sort, cursor)[1])
    rows = list(session.scalars(query.limit(limit + 1)))
    items = rows[:limit]
    return Page(items, _cursor(sort, items[-1]) if len(rows) > limit and items else None)


def vote(session: Session, clock: Clock, *, idea_id: int, customer_id: int, is_staff: bool = False) -> int:
    """One vote; a second is a 409 and nothing is written. Answers the idea's votes."""
    _fans_only(is_staff)
    _count_vote(session, idea_id, +1)
    if not insert_if_absent(session, IdeaVote, idea_id=idea_id, customer_id=customer_id, created_at=clock.now()):
        raise Conflict(N_("You have voted for this idea already"))  # the unit of work undoes the count
    return _votes(session, idea_id)


def withdraw_vote(session: Session, clock: Clock, *, idea_id: int, customer_id: int) -> int:
    _count_vote(session, idea_id, -1)
    gone = affected(session.execute(delete(IdeaVote).where(IdeaVote.idea_id == idea_id,
                                                            IdeaVote.customer_id == customer_id)))
    if not gone:
        raise NotFound(N_("You have not voted for this idea"))
    return _votes(session, idea_id)


def _count_vote(session: Session, idea_id: int, step: int) -> None:
    """Counts a vote in (or out of) an active idea, first of all: the row's lock orders every vote, withdrawal
    and merge of this idea. A closed idea is a 409 (404 for none)."""
    if not affected(session.execute(update(Idea).where(Idea.id == idea_id, Idea.status.in_(ACTIVE))
                                    .values(votes=Idea.votes + step))):
        idea = get_idea(session, idea_id)
        raise Conflict(N_("Votes are closed: the idea is {status}"), status=gettext(STATUS_LABELS[idea.status]))


def _votes(session: Session, idea_id: int) -> int:
    return int(session.scalar(select(Idea.votes).where(Idea.id == idea_id)) or 0)


def voted(session: Session, customer_id: int, idea_ids: Iterable[int]) -> set[int]:
    """Which of these ideas the fan has voted for."""
    ids = list(idea_ids)
    if not ids:
        return set()
    return set(session.scalars(select(IdeaVote.idea_id).where(IdeaVote.customer_id == customer_id,
                                                              IdeaVote.idea_id.in_(ids))))


def author_names(session: Session, ideas: Iterable[Idea]) -> dict[int, str]:
    return names_of(session, {idea.author_id for idea in ideas})


# --- comments --------------------------------------------------------------------------------------


def add_comment(session: Session, clock: Clock, *, idea_id: int, author_id: int, body: str) -> IdeaComment:
    get_idea(session, idea_id)
    text = _clean_text(body, low=1, high=COMMENT_MAX, what=gettext("The comment"))
    comment = IdeaComment(idea_id=idea_id, author_id=author_id, body=text, created_at=clock.now())
    session.add(comment)
    session.flush()
    return comment


def comments(session: Session, idea_id: int, page: PageRequest) -> Page[IdeaComment]:
    """Oldest first."""
    get_idea(session, idea_id)
    query = select(IdeaComment).where(IdeaComment.idea_id == idea_id).order_by(IdeaComment.id)
    if page.after_id is not None:
        query = query.where(IdeaComment.id > page.after_id)
    return make_page(list(session.scalars(query.limit(page.limit + 1))), page)


# --- the lifecycle -------------------------------------------------------------------------------------


def _locked(session: Session, ids: Iterable[int]) -> dict[int, Idea]:
    """The ideas' rows, fresh and locked until the commit (in id order: two operators never deadlock)."""
    wanted = sorted(set(ids))
    rows = session.scalars(select(Idea).where(Idea.id.in_(wanted)).order_by(Idea.id).with_for_update()
                           .execution_options(populate_existing=True))
    return {idea.id: idea for idea in rows}


def change_status(session: Session, clock: Clock, *, idea_id: int, status: str, duplicate_of: int | None,
                  actor_id: int) -> Idea:
    """An operator moves an idea along ``TRANSITIONS`` (``duplicate`` merges it into ``duplicate_of``)."""
    if status not in TRANSITIONS:
        raise ValidationFailed(N_("Unknown status {status}"), status=status)
    if status == DUPLICATE and duplicate_of is None:
        raise ValidationFailed(N_("A duplicate needs duplicate_of: the idea it repeats"))
    if status != DUPLICATE and duplicate_of is not None:
        raise ValidationFailed(N_("duplicate_of goes only with the status duplicate"))
    if duplicate_of == idea_id:
        raise ValidationFailed(N_("An idea cannot duplicate itself"))
    ideas = _locked(session, [idea_id] + ([duplicate_of] if duplicate_of is not None else []))
    idea = ideas.get(idea_id)
    if idea is None:
        raise NotFound(N_("No idea {id}"), id=idea_id)
    old = idea.status
    if status in RELEASE_ONLY:
        raise Conflict(N_("An idea ships with a release: publish one that links it"))
    if status not in TRANSITIONS[old]:
        raise Conflict(N_("An idea that is {old} cannot become {new}"), old=gettext(STATUS_LABELS[old]),
                       new=gettext(STATUS_LABELS[status]))
    now = clock.now()
    if status == DUPLICATE:
        assert duplicate_of is not None
        original = ideas.get(duplicate_of)
        if original is None:
            raise ValidationFailed(N_("duplicate_of: no idea {id}"), id=duplicate_of)
        if original.product_slug != idea.product_slug:
            raise ValidationFailed(N_("duplicate_of must be an idea of the same product"))
        if original.status not in ACTIVE:
            raise Conflict(N_("Only an open idea can take a duplicate's votes; that one is {status}"),
                           status=gettext(STATUS_LABELS[original.status]))
        _notify(session, now, idea, MERGED, {"original_id": original.id, "original_title": original.title},
                link=f"/ideas/{original.id}")
        _merge_votes(session, idea, original, now)
    else:
        _notify(session, now, idea, STATUS_CHANGED, {"status": status}, link=f"/ideas/{idea.id}")
    idea.status = status
    idea.duplicate_of = duplicate_of
    idea.updated_at = now
    record_audit(session, clock, actor_id=actor_id, action="idea.status", target=f"idea:{idea.id}",
                 detail={"from": old, "to": status, **({"duplicate_of": duplicate_of} if duplicate_of else {})})
    session.flush()
    _tell_listeners(session, clock, idea, old)
    return idea


def _tell_listeners(session: Session, clock: Clock, idea: Idea, old: str) -> None:
    for listener in list(_LISTENERS):
        listener(session, clock, idea, old)


def _merge_votes(session: Session, duplicate: Idea, original: Idea, now: datetime) -> None:
    """The duplicate's votes go to the original (one per fan); both rows are locked by the caller."""
    theirs = aliased(IdeaVote)
    session.execute(insert(IdeaVote).from_select(
        ["idea_id", "customer_id", "created_at"],
        select(literal(original.id, BigInteger()), IdeaVote.customer_id, IdeaVote.created_at)
        .where(IdeaVote.idea_id == duplicate.id,
               ~exists().where(theirs.idea_id == original.id, theirs.customer_id == IdeaVote.customer_id))))
    session.execute(delete(IdeaVote).where(IdeaVote.idea_id == duplicate.id))
    # nobody else can add or remove a vote of either idea while their rows are locked
    original.votes = int(session.scalar(select(func.count()).select_from(IdeaVote)
                                        .where(IdeaVote.idea_id == original.id)) or 0)
    original.updated_at = now
    duplicate.votes = 0


def _notify(session: Session, now: datetime, idea: Idea, kind: str, extra: dict[str, Any], *, link: str) -> None:
    """One notification to each voter and the author of ``idea``, in one INSERT ... SELECT."""
    params = {"idea_id": idea.id, "title": idea.title, **extra}
    fans = select(IdeaVote.customer_id.label("customer_id")).where(IdeaVote.idea_id == idea.id).union(
        select(literal(idea.author_id, BigInteger()).label("customer_id"))).subquery()
    session.execute(insert(IdeaNotification).from_select(
        ["customer_id", "kind", "params", "link", "created_at"],
        select(fans.c.customer_id, literal(kind, String()), literal(params, JSON()), literal(link, String()),
               literal(now, UTCDateTime()))))


# --- releases ---------------------------------------------------------------------------------------


def publish_release(session: Session, clock: Clock, *, product_slug: str, version: str, released_on: date,
                    notes: str, idea_ids: Sequence[int], actor_id: int | None) -> Release:
    """A release of a product that ships ``idea_ids`` (each active, of that product): they become
    ``shipped`` and their fans are told."""
    version = _clean_text(" ".join(version.split()), low=1, high=VERSION_MAX, what=gettext("The version"))
    notes = _clean_text(notes, low=0, high=NOTES_MAX, what=gettext("The release notes"))
    if len(set(idea_ids)) != len(idea_ids) or len(idea_ids) > RELEASE_IDEAS_MAX:
        raise ValidationFailed(N_("List each idea once, at most {max}"), max=RELEASE_IDEAS_MAX)
    slug = _product_slug(session, product_slug)
    ideas = _locked(session, idea_ids)
    for idea_id in idea_ids:
        idea = ideas.get(idea_id)
        if idea is None:
            raise ValidationFailed(N_("idea_ids: no idea {id}"), id=idea_id)
        if idea.product_slug != slug:
            raise ValidationFailed(N_("Idea {id} is about another product"), id=idea_id)
        if idea.status not in ACTIVE:
            raise Conflict(N_("Idea {id} is {status} and cannot ship"), id=idea_id,
                           status=gettext(STATUS_LABELS[idea.status]))
    now = clock.now()
    release = Release(product_slug=slug, version=version, released_on=released_on, notes=notes,
                      published_by=actor_id, created_at=now)
    session.add(release)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(N_("{product} {version} is published already"), product=slug, version=version) from exc
    for idea_id in idea_ids:
        idea = ideas[idea_id]
        old = idea.status
        _notify(session, now, idea, SHIPPED_IN, {"release_id": release.id, "version": version,
                                                 "product": slug}, link=f"/releases/{release.id}")
        idea.status, idea.release_id, idea.updated_at = SHIPPED, release.id, now
        session.flush()
        _tell_listeners(session, clock, idea, old)
    record_audit(session, clock, actor_id=actor_id, action="release.publish", target=f"release:{release.id}",
                 detail={"product": slug, "version": version, "ideas": list(idea_ids)})
    return release


def get_release(session: Session, release_id: int) -> Release:
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(N_("No release {id}"), id=release_id)
    return release


def release_ideas(session: Session, release_id: int) -> list[Idea]:
    return list(session.scalars(select(Idea).where(Idea.release_id == release_id).order_by(Idea.id)))


def list_releases(session: Session, page: PageRequest, *, product: str | None = None) -> Page[Release]:
    """Newest first."""
    query = select(Release).order_by(Release.id.desc())
    if product:
        query = query.where(Release.product_slug == product)
    if page.after_id is not None:
        query = query.where(Release.id < page.after_id)
    return make_page(list(session.scalars(query.limit(page.limit + 1))), page)


@dataclass(frozen=True)
class Credit:
    customer_id: int
    name: str
    role: str  # author | voter


def credits(session: Session, release_id: int) -> list[Credit]:
    """Every author and voter of the release's ideas, once each (an author is credited as the author);
    authors first, then voters in the order they voted."""
    shipped = select(Idea.id).where(Idea.release_id == release_id)
    authors: list[int] = list(dict.fromkeys(session.scalars(
        select(Idea.author_id).where(Idea.release_id == release_id).order_by(Idea.id))))
    voters: list[int] = list(dict.fromkeys(session.scalars(
        select(IdeaVote.customer_id).where(IdeaVote.idea_id.in_(shipped))
        .order_by(IdeaVote.created_at, IdeaVote.customer_id))))
    seen = set(authors)
    voters = [v for v in voters if v not in seen]
    names = names_of(session, set(authors) | set(voters))
    return ([Credit(a, names.get(a, ""), AUTHOR) for a in authors]
            + [Credit(v, names.get(v, ""), VOTER) for v in voters])


def shipped_idea_authors(session: Session, customer_ids: Iterable[int]) -> set[int]:
    """Which of these customers wrote an idea that shipped (the "idea shipped" badge)."""
    ids = list(set(customer_ids))
    if not ids:
        return set()
    return set(session.scalars(select(Idea.author_id).where(Idea.author_id.in_(ids), Idea.status == SHIPPED)
                               .distinct()))


def has_shipped_idea(session: Session, customer_id: int) -> bool:
    """The "idea shipped" badge's test (membership's badges)."""
    return bool(shipped_idea_authors(session, [customer_id]))


def ideas_by(session: Session, customer_id: int, limit: int = 20) -> list[Idea]:
    """The customer's own ideas, newest first (their profile page)."""
    return list(session.scalars(select(Idea).where(Idea.author_id == customer_id)
                                .order_by(Idea.id.desc()).limit(limit)))


def shipped_ideas_by(session: Session, customer_id: int) -> list[Idea]:
    """The customer's ideas that shipped, newest first (for a profile page)."""
    return list(session.scalars(select(Idea).where(Idea.author_id == customer_id, Idea.status == SHIPPED)
                                .order_by(Idea.updated_at.desc(), Idea.id.desc())))


# --- notifications ----------------------------------------------------------------------------------


def notifications(session: Session, customer_id: int, page: PageRequest) -> Page[IdeaNotification]:
    """Newest first."""
    query = (select(IdeaNotification).where(IdeaNotification.customer_id == customer_id)
             .order_by(IdeaNotification.id.desc()))
    if page.after_id is not None:
        query = query.where(IdeaNotification.id < page.after_id)
    return make_page(list(session.scalars(query.limit(page.limit + 1))), page)


def unread_count(session: Session, customer_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(IdeaNotification).where(
        IdeaNotification.customer_id == customer_id, IdeaNotification.read_at.is_(None))) or 0)


def mark_read(session: Session, clock: Clock, *, customer_id: int, notification_id: int | None = None) -> int:
    """One notification (404 unless it is the customer's) or all of them; answers how many were unread."""
    query = update(IdeaNotification).where(IdeaNotification.customer_id == customer_id,
                                           IdeaNotification.read_at.is_(None))
    if notification_id is not None:
        owned = session.scalar(select(IdeaNotification.id).where(IdeaNotification.id == notification_id,
                                                                 IdeaNotification.customer_id == customer_id))
        if owned is None:
            raise NotFound(N_("No notification {id}"), id=notification_id)
        query = query.where(IdeaNotification.id == notification_id)
    return affected(session.execute(query.values(read_at=clock.now())))


def notification_text(note: IdeaNotification) -> str:
    """The notification in the current language."""
    p = note.params
    if note.kind == MERGED:
        return gettext("“{title}” was merged into “{original}”; your vote counts there", title=p.get("title", ""),
                       original=p.get("original_title", ""))
    if note.kind == SHIPPED_IN:
        return gettext("“{title}” shipped in {product} {version}", title=p.get("title", ""),
                       product=p.get("product", ""), version=p.get("version", ""))
    status = p.get("status", "")
    return gettext("“{title}” is now {status}", title=p.get("title", ""),
                   status=gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status)


# --- the weekly digest -----------------------------------------------------------------------------


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def record_weekly_digest(session: Session, clock: Clock, zone: ZoneInfo) -> int:
    """The previous week's digest (releases published Monday to Sunday, store zone), written once: run it
    as often as you like; it writes on the first run of a week (normally Monday) and then does nothing."""
    today = clock.now().astimezone(zone).date()
    start = week_of(today) - timedelta(days=7)
    if session.scalar(select(IdeaDigest.id).where(IdeaDigest.week_start == start)) is not None:
        return 0
    content = digest_content(session, start, zone)
    return int(insert_if_absent(session, IdeaDigest, week_start=start, content=content, created_at=clock.now()))


def digest_content(session: Session, week_start: date, zone: ZoneInfo) -> dict[str, Any]:
    begin = datetime.combine(week_start, time(0), tzinfo=zone)
    end = begin + timedelta(days=7)  # a calendar week in the zone (no daylight saving in Asia/Shanghai)
    releases = list(session.scalars(select(Release).where(Release.created_at >= begin, Release.created_at < end)
                                    .order_by(Release.created_at, Release.id)))
    shipped = list(session.scalars(select(Idea).where(Idea.release_id.in_([r.id for r in releases]))
                                   .order_by(Idea.id))) if releases else []
    votes: dict[int, list[int]] = {}
    for idea_id, customer_id in session.execute(
            select(IdeaVote.idea_id, IdeaVote.customer_id).where(IdeaVote.idea_id.in_([i.id for i in shipped]))
            .order_by(IdeaVote.created_at, IdeaVote.customer_id)):
        votes.setdefault(idea_id, []).append(customer_id)
    people = {i.author_id for i in shipped} | {c for ids in votes.values() for c in ids[:DIGEST_VOTER_NAMES]}
    names = names_of(session, people)

    def idea_entry(idea: Idea) -> dict[str, Any]:
        voters = [c for c in votes.get(idea.id, []) if c != idea.author_id]
        return {"id": idea.id, "title": idea.title,
                "author": {"customer_id": idea.author_id, "name": names.get(idea.author_id, "")},
                "votes": len(votes.get(idea.id, [])),
                "voters": [{"customer_id": c, "name": names.get(c, "")} for c in voters[:DIGEST_VOTER_NAMES]]}

    return {"week_start": week_start.isoformat(), "week_end": (week_start + timedelta(days=6)).isoformat(),
            "releases": [{"id": r.id, "product_slug": r.product_slug, "version": r.version,
                          "released_on": r.released_on.isoformat(),
                          "ideas": [idea_entry(i) for i in shipped if i.release_id == r.id]} for r in releases]}


def latest_digest(session: Session) -> IdeaDigest:
    digest = session.scalar(select(IdeaDigest).order_by(IdeaDigest.week_start.desc()).limit(1))
    if digest is None:
        raise NotFound(N_("No digest yet: the first is written on the Monday after a week of releases"))
    return digest


def digests(session: Session, limit: int = 10) -> list[IdeaDigest]:
    return list(session.scalars(select(IdeaDigest).order_by(IdeaDigest.week_start.desc()).limit(limit)))
