"""The community forum's rules: boards, threads, replies, likes, mentions, reports, moderation, trust levels.

Markdown is rendered to safe HTML once, when a post is written (``markdown.render``; the source is kept
beside it in ``body``): raw HTML shows as text, only http(s) links survive, with ``rel="nofollow ugc
noopener"``.

Trust levels, in the spirit of Discourse, from counts (never time on a page) and the Clock; a level needs
all of its row and every row before it:

========  =============  ============  ===========  ==============  =====================================
level     threads read   posts made    likes got    days a member   may
========  =============  ============  ===========  ==============  =====================================
0 new     -              -             -            -               post 3 times a local day, no links
1 basic   5              1             0            0               post 30 times a day, links
2 member  20             10            5            7               post 100 times a day
3 regular 50             30            20           30              post 300 times a day
========  =============  ============  ===========  ==============  =====================================

Each of a member's posts with a confirmed report in the last ``PENALTY_DAYS`` days takes one level off
what the counts earn (not below 0). The level is recomputed whenever one of its inputs changes (a read,
a post, a like given or taken back, a confirmed report) and before every post, so time alone moves it
on the member's next action. Staff are not limited by levels and cannot be suspended.

Refusals: a suspended member writes nothing (403 ``forbidden``: no post, like or report); a new member's
link is refused (403 ``forbidden``); the daily post limit answers 429 ``rate_limited`` with Retry-After up
to the store's next local midnight (the count is taken in one conditional UPDATE, so two posts at once
cannot both slip past it); a locked thread refuses replies (409 ``conflict``). Hidden posts are shown to
others as "hidden by a moderator"; hiding a thread's opening post hides the thread. Every moderator
write records an audit entry.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.accounts.models import STAFF
from fanbase.clock import Clock
from fanbase.community.forum import markdown
from fanbase.community.forum.models import (
    CONFIRMED,
    DISMISSED,
    OPEN,
    Board,
    Like,
    Member,
    Mention,
    Post,
    Read,
    Report,
    Thread,
)
from fanbase.db import affected, insert_if_absent
from fanbase.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from fanbase.i18n import N_
from fanbase.pagination import Page, PageRequest, make_page


class RateLimited(DomainError):
    code = "rate_limited"


@dataclass(frozen=True)
class Threshold:
    threads_read: int
    posts_made: int
    likes_received: int
    days: int


THRESHOLDS: dict[int, Threshold] = {1: Threshold(5, 1, 0, 0), 2: Threshold(20, 10, 5, 7),
                                    3: Threshold(50, 30, 20, 30)}
LEVEL_NAMES = {0: N_("New member"), 1: N_("Basic member"), 2: N_("Member"), 3: N_("Regular")}
DAILY_POSTS = {0: 3, 1: 30, 2: 100, 3: 300}
LINK_LEVEL = 1  # the first level that may post links
PENALTY_DAYS = 180
MAX_MENTIONS = 10
MAX_TITLE = 150
MAX_BODY = 10_000
MAX_SUSPENSION = timedelta(days=100 * 365)
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"threads", "posts", "mentions", "new", "boards"})
# a moderator's action on a thread: the flag it sets, and to what
THREAD_ACTIONS = {"lock": ("locked", True), "unlock": ("locked", False), "pin": ("pinned", True),
                  "unpin": ("pinned", False)}


@dataclass(frozen=True)
class Viewer:
    """Who reads: hidden posts are shown in full only to their author and to staff."""

    user_id: int | None = None
    staff: bool = False

    def sees(self, post: Post) -> bool:
        return not post.hidden or self.staff or post.author_id == self.user_id


ANONYMOUS = Viewer()


@dataclass(frozen=True)
class Standing:
    """A member's place in the forum, as the member and the moderators see it."""

    user_id: int
    trust_level: int
    threads_read: int
    posts_made: int
    likes_received: int
    penalties: int
    suspended_until: datetime | None
    suspension_reason: str
    daily_posts: int | None  # None: no limit (staff)
    posts_left_today: int | None
    may_post_links: bool
    staff: bool


# --- boards ------------------------------------------------------------------------------------------


def _slug(value: str, field: str) -> str:
    if not SLUG.match(value):
        raise ValidationFailed(N_("{field} may use lower-case letters, digits and hyphens only"), field=field)
    return value


def create_board(session: Session, clock: Clock, *, slug: str, name: str, description: str = "",
                 product_line: str | None = None, actor_id: int) -> Board:
    slug = _slug(slug.strip(), "slug")
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(N_("The address {slug} is reserved"), slug=slug)
    name, description = name.strip(), description.strip()
    if not name:
        raise ValidationFailed(N_("The board needs a name"))
    if product_line is not None:
        product_line = _slug(product_line.strip(), "product_line")
    if not insert_if_absent(session, Board, slug=slug, name=name, description=description,
                            product_line=product_line, created_at=clock.now()):
        raise Conflict(N_("A board with the address {slug} exists already"), slug=slug)
    board = get_board(session, slug)
    accounts.record_audit(session, clock, actor_id=actor_id, action="forum.board.create", target=f"board:{board.id}",
                          detail={"slug": slug, "product_line": product_line})
    return board


def get_board(session: Session, slug: str) -> Board:
    board = session.scalar(select(Board).where(Board.slug == slug))
    if board is None:
        raise NotFound(N_("No such board"))
    return board


def list_boards(session: Session, viewer: Viewer = ANONYMOUS) -> list[tuple[Board, int]]:
    """Every board (general ones first, then by product line) with its number of threads."""
    counts = select(Thread.board_id, func.count().label("n")).group_by(Thread.board_id)
    if not viewer.staff:
        counts = counts.where(Thread.hidden.is_(False))
    sub = counts.subquery()
    rows = session.execute(select(Board, func.coalesce(sub.c.n, 0)).outerjoin(sub, sub.c.board_id == Board.id)
                           .order_by(Board.product_line.is_not(None), Board.product_line, Board.id))
    return [(board, int(n)) for board, n in rows]


# --- threads and posts --------------------------------------------------------------------------------


def _thread_cursor(thread: Thread) -> str:
    return base64.urlsafe_b64encode(f"th:{int(thread.pinned)}:{thread.last_post_id}".encode()).decode().rstrip("=")


def decode_thread_cursor(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, pinned, last = text.split(":")
        if kind != "th" or pinned not in ("0", "1") or not 0 <= int(last) < 2**63:
            raise ValueError(text)
        return int(pinned), int(last)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(N_("The cursor is not valid")) from exc


def list_threads(session: Session, board: Board, viewer: Viewer, *, limit: int,
                 after: tuple[int, int] | None) -> Page[Thread]:
    """Pinned threads first, then the most recently answered; ``after``: ``decode_thread_cursor``'s."""
    query = select(Thread).where(Thread.board_id == board.id)
    if not viewer.staff:
        query = query.where(Thread.hidden.is_(False))
    if after is not None:
        pinned, last = after
        same = Thread.pinned.is_(bool(pinned)) & (Thread.last_post_id < last)
        query = query.where(or_(Thread.pinned.is_(False), same) if pinned else same)
    rows = list(session.scalars(query.order_by(Thread.pinned.desc(), Thread.last_post_id.desc()).limit(limit + 1)))
    items = rows[:limit]
    return Page(items=items, next_cursor=_thread_cursor(items[-1]) if len(rows) > limit and items else None)


def get_thread(session: Session, thread_id: int, viewer: Viewer = ANONYMOUS) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None or (thread.hidden and not viewer.staff and thread.author_id != viewer.user_id):
        raise NotFound(N_("No such thread"))
    return thread


def board_of(session: Session, thread: Thread) -> Board:
    board = session.get(Board, thread.board_id)
    assert board is not None
    return board


def list_posts(session: Session, thread: Thread, page: PageRequest) -> Page[Post]:
    """The thread's posts, oldest first (hidden ones too: ``Viewer.sees`` decides what is shown of them)."""
    query = select(Post).where(Post.thread_id == thread.id)
    if page.after_id is not None:
        query = query.where(Post.id > page.after_id)
    return make_page(list(session.scalars(query.order_by(Post.id).limit(page.limit + 1))), page)


def _text(value: str, limit: int, empty: str, too_long: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(empty)
    if len(value) > limit:
        raise ValidationFailed(too_long, limit=limit)
    return value


def _title(value: str) -> str:
    return _text(value, MAX_TITLE, N_("Give the thread a title"), N_("A title may be at most {limit} characters"))


def _body(value: str) -> str:
    return _text(value, MAX_BODY, N_("Write something first"), N_("A post may be at most {limit} characters"))


def start_thread(session: Session, clock: Clock, zone: ZoneInfo, *, board_slug: str, author_id: int,
                 title: str, body: str) -> tuple[Thread, Post]:
    title, body = _title(title), _body(body)
    board = get_board(session, board_slug)
    rendered = markdown.render(body)
    _may_post(session, clock, zone, author_id, rendered)
    now = clock.now()
    thread = Thread(board_id=board.id, author_id=author_id, title=title, pinned=False, locked=False, hidden=False,
                    reply_count=0, last_post_id=0, created_at=now, last_posted_at=now)
    session.add(thread)
    session.flush()
    post = _add_post(session, clock, thread, author_id, body, rendered, opening=True)
    return thread, post


def reply(session: Session, clock: Clock, zone: ZoneInfo, *, thread_id: int, author_id: int, body: str) -> Post:
    staff = _is_staff(session, author_id)
    thread = get_thread(session, thread_id, Viewer(author_id, staff))
    body = _body(body)
    if thread.locked:
        raise Conflict(N_("This thread is locked: it takes no more replies"))
    rendered = markdown.render(body)
    _may_post(session, clock, zone, author_id, rendered)
    # the lock is checked again in the UPDATE itself: a lock that lands meanwhile wins
    if not affected(session.execute(update(Thread).where(Thread.id == thread.id, Thread.locked.is_(False))
                                    .values(reply_count=Thread.reply_count + 1)
                                    .execution_options(synchronize_session=False))):
        raise Conflict(N_("This thread is locked: it takes no more replies"))
    return _add_post(session, clock, thread, author_id, body, rendered, opening=False)


def _add_post(session: Session, clock: Clock, thread: Thread, author_id: int, body: str,
              rendered: markdown.Rendered, *, opening: bool) -> Post:
    now = clock.now()
    post = Post(thread_id=thread.id, author_id=author_id, body=body, html=rendered.html, opening=opening,
                hidden=False, like_count=0, created_at=now)
    session.add(post)
    session.flush()
    session.execute(update(Thread).where(Thread.id == thread.id).values(last_post_id=post.id, last_posted_at=now)
                    .execution_options(synchronize_session=False))
    session.expire(thread)
    for handle in rendered.mentions[:MAX_MENTIONS]:
        named = accounts.user_ids_by_handle(session, handle)
        if len(named) == 1 and named[0] != author_id:  # one person by that handle, not oneself
            insert_if_absent(session, Mention, post_id=post.id, mentioned_id=named[0], author_id=author_id,
                             read=False, created_at=now)
    recompute_trust(session, clock, author_id)
    return post


# --- members and trust ----------------------------------------------------------------------------------


def _member(session: Session, user_id: int) -> Member:
    """The member's row, made on first use, read fresh (conditional UPDATEs change it behind the ORM)."""
    insert_if_absent(session, Member, user_id=user_id, trust_level=0, threads_read=0, posts_made=0,
                     likes_received=0, posts_on_day=0, suspension_reason="")
    return session.execute(select(Member).where(Member.user_id == user_id)
                           .execution_options(populate_existing=True)).scalar_one()


def _is_staff(session: Session, user_id: int) -> bool:
    return accounts.get_user(session, user_id).kind == STAFF


def _penalties(session: Session, clock: Clock, user_ids: set[int]) -> dict[int, int]:
    """Each member's posts with a confirmed report in the last ``PENALTY_DAYS`` days (absent: none)."""
    since = clock.now() - timedelta(days=PENALTY_DAYS)
    return {uid: int(n) for uid, n in session.execute(
        select(Post.author_id, func.count()).where(Post.author_id.in_(user_ids), Post.penalised_at >= since)
        .group_by(Post.author_id))}


def earned_level(*, threads_read: int, posts_made: int, likes_received: int, days: int, penalties: int) -> int:
    """The trust level the counts give (see the table above), less one per recent confirmed report."""
    level = 0
    for candidate in sorted(THRESHOLDS):
        need = THRESHOLDS[candidate]
        if (threads_read < need.threads_read or posts_made < need.posts_made
                or likes_received < need.likes_received or days < need.days):
            break
        level = candidate
    return max(0, level - penalties)


def _level_of(session: Session, clock: Clock, member: Member, penalties: int) -> int:
    joined = accounts.get_user(session, member.user_id).created_at
    return earned_level(threads_read=member.threads_read, posts_made=member.posts_made,
                        likes_received=member.likes_received, days=(clock.now() - joined).days,
                        penalties=penalties)


def recompute_trust(session: Session, clock: Clock, user_id: int) -> int:
    return _recompute(session, clock, _member(session, user_id))


def _recompute(session: Session, clock: Clock, member: Member) -> int:
    """``member`` freshly read (``_member``)."""
    level = _level_of(session, clock, member, _penalties(session, clock, {member.user_id}).get(member.user_id, 0))
    if level != member.trust_level:
        member.trust_level = level
        session.flush()
    return level


def _suspended(member: Member, now: datetime) -> bool:
    return member.suspended_until is not None and member.suspended_until > now


def _refuse_if_suspended(member: Member, clock: Clock, zone: ZoneInfo) -> None:
    if _suspended(member, clock.now()):
        assert member.suspended_until is not None
        raise Forbidden(N_("You are suspended from the community until {until}"),
                        until=member.suspended_until.astimezone(zone).strftime("%Y-%m-%d %H:%M"))


def _may_post(session: Session, clock: Clock, zone: ZoneInfo, author_id: int, rendered: markdown.Rendered) -> None:
    """Suspension, links and the daily limit for the author's level; counts the post (one UPDATE)."""
    staff = _is_staff(session, author_id)
    member = _member(session, author_id)
    _refuse_if_suspended(member, clock, zone)
    level = _recompute(session, clock, member)
    if not staff and level < LINK_LEVEL and rendered.has_links:
        raise Forbidden(N_("New members cannot post links yet: read a few threads and take part first"))
    now = clock.now()
    today = now.astimezone(zone).date()
    counted = update(Member).where(Member.user_id == author_id).values(
        posts_on_day=case((Member.posts_day == today, Member.posts_on_day + 1), else_=1), posts_day=today,
        posts_made=Member.posts_made + 1).execution_options(synchronize_session=False)
    if not staff:
        limit = DAILY_POSTS[level]
        counted = counted.where(or_(Member.posts_day.is_(None), Member.posts_day != today,
                                    Member.posts_on_day < limit))
    if not affected(session.execute(counted)):
        wait = _next_midnight(now, zone) - now
        raise RateLimited(N_("You have posted {limit} times today, the most your trust level allows; "
                             "try again tomorrow"), limit=DAILY_POSTS[level],
                          headers={"Retry-After": str(max(1, math.ceil(wait.total_seconds())))})


def _next_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone)


def standing(session: Session, clock: Clock, zone: ZoneInfo, user_id: int) -> Standing:
    """Read only: a member without a row yet stands at level 0 with nothing counted."""
    return standings(session, clock, zone, {user_id})[user_id]


def standings(session: Session, clock: Clock, zone: ZoneInfo, user_ids: set[int]) -> dict[int, Standing]:
    """``standing`` of each of these people (NotFound if one has no account), rows read once for all."""
    if not user_ids:
        return {}
    users = {uid: accounts.get_user(session, uid) for uid in user_ids}
    members = {m.user_id: m for m in session.scalars(select(Member).where(Member.user_id.in_(user_ids)))}
    penalties = _penalties(session, clock, user_ids)
    now = clock.now()
    today: date = now.astimezone(zone).date()
    found: dict[int, Standing] = {}
    for uid, user in users.items():
        staff = user.kind == STAFF
        member = members.get(uid) or Member(user_id=uid, trust_level=0, threads_read=0, posts_made=0,
                                            likes_received=0, posts_on_day=0, suspension_reason="")
        level = _level_of(session, clock, member, penalties.get(uid, 0))
        used = member.posts_on_day if member.posts_day == today else 0
        daily = None if staff else DAILY_POSTS[level]
        suspended = _suspended(member, now)
        found[uid] = Standing(user_id=uid, trust_level=level, threads_read=member.threads_read,
                              posts_made=member.posts_made, likes_received=member.likes_received,
                              penalties=penalties.get(uid, 0),
                              suspended_until=member.suspended_until if suspended else None,
                              suspension_reason=member.suspension_reason if suspended else "", daily_posts=daily,
                              posts_left_today=None if daily is None else max(0, daily - used),
                              may_post_links=staff or level >= LINK_LEVEL, staff=staff)
    return found


def has_read(session: Session, thread_id: int, user_id: int) -> bool:
    return session.get(Read, (thread_id, user_id)) is not None


def record_read(session: Session, clock: Clock, *, thread_id: int, user_id: int) -> bool:
    """The member opened the thread; True the first time (it counts towards the trust level)."""
    get_thread(session, thread_id, Viewer(user_id, _is_staff(session, user_id)))
    if not insert_if_absent(session, Read, thread_id=thread_id, user_id=user_id, read_at=clock.now()):
        return False
    _member(session, user_id)
    session.execute(update(Member).where(Member.user_id == user_id)
                    .values(threads_read=Member.threads_read + 1).execution_options(synchronize_session=False))
    recompute_trust(session, clock, user_id)
    return True


# --- likes and reports ------------------------------------------------------------------------------------


def get_post(session: Session, post_id: int, viewer: Viewer = ANONYMOUS) -> Post:
    """A post the viewer may act on: hidden posts, and posts of hidden threads, are not found."""
    post = session.get(Post, post_id)
    if post is None or post.hidden:
        raise NotFound(N_("No such post"))
    get_thread(session, post.thread_id, viewer)
    return post


def _participant(session: Session, clock: Clock, zone: ZoneInfo, user_id: int) -> Member:
    member = _member(session, user_id)
    _refuse_if_suspended(member, clock, zone)
    return member


def _count_likes(session: Session, clock: Clock, post: Post, step: int) -> None:
    session.execute(update(Post).where(Post.id == post.id).values(like_count=Post.like_count + step)
                    .execution_options(synchronize_session=False))
    _member(session, post.author_id)
    session.execute(update(Member).where(Member.user_id == post.author_id)
                    .values(likes_received=Member.likes_received + step).execution_options(synchronize_session=False))
    session.expire(post)
    recompute_trust(session, clock, post.author_id)


def like(session: Session, clock: Clock, zone: ZoneInfo, *, post_id: int, user_id: int) -> Post:
    post = get_post(session, post_id, Viewer(user_id, _is_staff(session, user_id)))
    if post.author_id == user_id:
        raise Forbidden(N_("You cannot like your own post"))
    _participant(session, clock, zone, user_id)
    if not insert_if_absent(session, Like, post_id=post.id, user_id=user_id, created_at=clock.now()):
        raise Conflict(N_("You like this post already"))
    _count_likes(session, clock, post, +1)
    return post


def unlike(session: Session, clock: Clock, *, post_id: int, user_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(N_("No such post"))
    gone = session.execute(delete(Like).where(Like.post_id == post_id, Like.user_id == user_id))
    if not affected(gone):
        raise NotFound(N_("You do not like this post"))
    _count_likes(session, clock, post, -1)
    return post


def liked_by(session: Session, user_id: int | None, post_ids: list[int]) -> set[int]:
    if user_id is None or not post_ids:
        return set()
    return set(session.scalars(select(Like.post_id).where(Like.user_id == user_id, Like.post_id.in_(post_ids))))


def report(session: Session, clock: Clock, zone: ZoneInfo, *, post_id: int, reporter_id: int, reason: str) -> Report:
    post = get_post(session, post_id, Viewer(reporter_id, _is_staff(session, reporter_id)))
    reason = _text(reason, 500, N_("Say what is wrong with the post"),
                   N_("A reason may be at most {limit} characters"))
    if post.author_id == reporter_id:
        raise Forbidden(N_("You cannot report your own post"))
    _participant(session, clock, zone, reporter_id)
    if not insert_if_absent(session, Report, post_id=post.id, reporter_id=reporter_id, reason=reason, status=OPEN,
                            created_at=clock.now()):
        raise Conflict(N_("You have reported this post already"))
    found = session.scalar(select(Report).where(Report.post_id == post.id, Report.reporter_id == reporter_id))
    assert found is not None
    return found


# --- mentions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionView:
    id: int
    post_id: int
    thread_id: int
    thread_title: str
    author_id: int
    read: bool
    created_at: datetime


def mentions(session: Session, user_id: int, page: PageRequest, *, unread_only: bool = False) -> Page[MentionView]:
    """Newest first; the cursor goes to older ones."""
    query = (select(Mention, Post.thread_id, Thread.title).join(Post, Post.id == Mention.post_id)
             .join(Thread, Thread.id == Post.thread_id).where(Mention.mentioned_id == user_id))
    if unread_only:
        query = query.where(Mention.read.is_(False))
    if page.after_id is not None:
        query = query.where(Mention.id < page.after_id)
    rows = [MentionView(m.id, m.post_id, thread_id, title, m.author_id, m.read, m.created_at)
            for m, thread_id, title in session.execute(query.order_by(Mention.id.desc()).limit(page.limit + 1))]
    return make_page(rows, page)


def unread_mentions(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Mention)
                              .where(Mention.mentioned_id == user_id, Mention.read.is_(False))) or 0)


def mark_mention_read(session: Session, *, mention_id: int, user_id: int) -> None:
    done = session.execute(update(Mention).where(Mention.id == mention_id, Mention.mentioned_id == user_id)
                           .values(read=True).execution_options(synchronize_session=False))
    if not affected(done):
        raise NotFound(N_("No such mention"))


# --- moderation ---------------------------------------------------------------------------------------------


def set_post_hidden(session: Session, clock: Clock, *, post_id: int, hidden: bool, actor_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(N_("No such post"))
    _hide(session, post, hidden)
    action = "forum.post.hide" if hidden else "forum.post.unhide"
    accounts.record_audit(session, clock, actor_id=actor_id, action=action,
                          target=f"post:{post.id}", detail={"thread_id": post.thread_id, "author_id": post.author_id})
    return post


def _hide(session: Session, post: Post, hidden: bool) -> None:
    changed = session.execute(update(Post).where(Post.id == post.id, Post.hidden.is_(not hidden))
                              .values(hidden=hidden).execution_options(synchronize_session=False))
    if not affected(changed):
        raise Conflict(N_("The post is hidden already") if hidden else N_("The post is not hidden"))
    if post.opening:
        session.execute(update(Thread).where(Thread.id == post.thread_id).values(hidden=hidden)
                        .execution_options(synchronize_session=False))
    session.expire(post)


def set_thread_flag(session: Session, clock: Clock, *, thread_id: int, action: str, actor_id: int) -> Thread:
    """Lock, unlock, pin or unpin a thread (``action``: a key of ``THREAD_ACTIONS``)."""
    if action not in THREAD_ACTIONS:
        raise ValidationFailed(N_("Unknown moderation action"))
    flag, value = THREAD_ACTIONS[action]
    column = getattr(Thread, flag)
    changed = session.execute(update(Thread).where(Thread.id == thread_id, column.is_(not value))
                              .values({flag: value}).execution_options(synchronize_session=False))
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(N_("No such thread"))
    if not affected(changed):
        raise Conflict(N_("The thread is that way already"))
    session.refresh(thread)
    accounts.record_audit(session, clock, actor_id=actor_id, action=f"forum.thread.{action}",
                          target=f"thread:{thread_id}", detail={"board_id": thread.board_id})
    return thread


def suspend(session: Session, clock: Clock, zone: ZoneInfo, *, user_id: int, until: datetime, reason: str,
            actor_id: int) -> Standing:
    now = clock.now()
    if until <= now:
        raise ValidationFailed(N_("A suspension must end in the future"))
    if until - now > MAX_SUSPENSION:
        raise ValidationFailed(N_("A suspension may last at most 100 years"))
    if _is_staff(session, user_id):  # raises NotFound for nobody
        raise Conflict(N_("Staff members cannot be suspended"))
    _member(session, user_id)
    session.execute(update(Member).where(Member.user_id == user_id)
                    .values(suspended_until=until, suspension_reason=reason.strip()[:500])
                    .execution_options(synchronize_session=False))
    accounts.record_audit(session, clock, actor_id=actor_id, action="forum.member.suspend", target=f"user:{user_id}",
                          detail={"until": until.isoformat(), "reason": reason.strip()[:200]})
    return standing(session, clock, zone, user_id)


def lift_suspension(session: Session, clock: Clock, zone: ZoneInfo, *, user_id: int, actor_id: int) -> Standing:
    accounts.get_user(session, user_id)
    lifted = session.execute(update(Member).where(Member.user_id == user_id, Member.suspended_until > clock.now())
                             .values(suspended_until=None, suspension_reason="")
                             .execution_options(synchronize_session=False))
    if not affected(lifted):
        raise Conflict(N_("This member is not suspended"))
    accounts.record_audit(session, clock, actor_id=actor_id, action="forum.member.unsuspend",
                          target=f"user:{user_id}")
    return standing(session, clock, zone, user_id)


def list_reports(session: Session, page: PageRequest, *, status: str | None = OPEN) -> Page[Report]:
    """Oldest first: the queue in the order it arrived."""
    query = select(Report)
    if status:
        query = query.where(Report.status == status)
    if page.after_id is not None:
        query = query.where(Report.id > page.after_id)
    return make_page(list(session.scalars(query.order_by(Report.id).limit(page.limit + 1))), page)


def resolve_report(session: Session, clock: Clock, *, report_id: int, confirm: bool, actor_id: int) -> Report:
    """Confirm (the post broke the rules: it is hidden, every open report of it is confirmed with it, and it
    counts once against its author's trust level) or dismiss (this report only)."""
    found = session.get(Report, report_id)
    if found is None:
        raise NotFound(N_("No such report"))
    now = clock.now()
    status = CONFIRMED if confirm else DISMISSED
    scope = Report.post_id == found.post_id if confirm else Report.id == report_id
    done = session.execute(update(Report).where(scope, Report.status == OPEN)
                           .values(status=status, resolved_at=now, resolved_by=actor_id)
                           .execution_options(synchronize_session=False))
    if not affected(done) or (session.scalar(select(Report.status).where(Report.id == report_id)) != status):
        raise Conflict(N_("This report has been handled already"))
    session.refresh(found)
    post = session.get(Post, found.post_id)
    assert post is not None
    detail: dict[str, object] = {"post_id": post.id, "author_id": post.author_id}
    if confirm:
        if not post.hidden:
            _hide(session, post, True)
        session.execute(update(Post).where(Post.id == post.id, Post.penalised_at.is_(None)).values(penalised_at=now)
                        .execution_options(synchronize_session=False))
        detail["trust_level"] = recompute_trust(session, clock, post.author_id)
    action = "forum.report.confirm" if confirm else "forum.report.dismiss"
    accounts.record_audit(session, clock, actor_id=actor_id, action=action,
                          target=f"report:{report_id}", detail=detail)
    return found


def posts_by_id(session: Session, post_ids: set[int]) -> dict[int, Post]:
    if not post_ids:
        return {}
    return {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(post_ids)))}


def threads_by_id(session: Session, thread_ids: set[int]) -> dict[int, Thread]:
    if not thread_ids:
        return {}
    return {t.id: t for t in session.scalars(select(Thread).where(Thread.id.in_(thread_ids)))}


def levels_of(session: Session, user_ids: set[int]) -> dict[int, int]:
    """Stored trust levels (as of each member's last action); 0 for people without a row."""
    if not user_ids:
        return {}
    found = {uid: level for uid, level in session.execute(select(Member.user_id, Member.trust_level)
                                                           .where(Member.user_id.in_(user_ids)))}
    return {uid: int(found.get(uid, 0)) for uid in user_ids}


def seed_demo_boards(session: Session, clock: Clock) -> int:
    """A few boards for ``fanbase demo`` (idempotent); answers how many were made."""
    made = 0
    for slug, name, description, line in (
            ("general", "综合讨论", "关于品牌、商城和社区的一切", None),
            ("phones", "手机", "小米与红米手机：使用心得、问题与建议", "phones"),
            ("smart-home", "智能家居", "米家设备、联动与场景", "smart-home")):
        if insert_if_absent(session, Board, slug=slug, name=name, description=description, product_line=line,
                            created_at=clock.now()):
            made += 1
    return made
