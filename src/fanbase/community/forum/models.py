"""The forum's tables: boards, threads, posts (Markdown source and its safe HTML), likes, reports, reads,
mentions, and each member's standing (trust level, counters, daily posts, suspension)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

# report statuses
OPEN = "open"
CONFIRMED = "confirmed"
DISMISSED = "dismissed"


class Board(Base):
    """A board: general (``product_line`` null) or about one product line (a catalogue slug)."""

    __tablename__ = "forum_boards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    product_line: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Thread(Base):
    """Listed pinned first, then by its newest post (``last_post_id``: ids ascend, so it orders by time and
    is unique, which makes it a stable cursor)."""

    __tablename__ = "forum_threads"
    __table_args__ = (Index("ix_forum_threads_listing", "board_id", "pinned", "last_post_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    board_id: Mapped[int] = mapped_column(BigId, ForeignKey("forum_boards.id"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # its opening post was hidden
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_id: Mapped[int] = mapped_column(BigId, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_posted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Post(Base):
    """``body`` is what the member typed (Markdown); ``html`` its safe rendering, made once when written."""

    __tablename__ = "forum_posts"
    __table_args__ = (Index("ix_forum_posts_author_day", "author_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("forum_threads.id"), index=True)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    opening: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    # when a report against it was confirmed: counts against the author's trust level for a while
    penalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Like(Base):
    __tablename__ = "forum_likes"

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("forum_posts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Report(Base):
    __tablename__ = "forum_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"), Index("ix_forum_reports_status", "status", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("forum_posts.id"))
    reporter_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), default=None)


class Read(Base):
    """A member opened a thread (counted once per thread, for the trust level)."""

    __tablename__ = "forum_reads"

    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("forum_threads.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Mention(Base):
    """``@name`` in a post: a notice for the member named, until they mark it read."""

    __tablename__ = "forum_mentions"
    __table_args__ = (UniqueConstraint("post_id", "mentioned_id"),
                      Index("ix_forum_mentions_inbox", "mentioned_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("forum_posts.id"))
    mentioned_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """A person's standing in the forum, made on their first action there."""

    __tablename__ = "forum_members"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    trust_level: Mapped[int] = mapped_column(Integer, default=0)
    threads_read: Mapped[int] = mapped_column(Integer, default=0)
    posts_made: Mapped[int] = mapped_column(Integer, default=0)
    likes_received: Mapped[int] = mapped_column(Integer, default=0)
    posts_day: Mapped[date | None] = mapped_column(Date, default=None)  # the local day ``posts_on_day`` counts
    posts_on_day: Mapped[int] = mapped_column(Integer, default=0)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    suspension_reason: Mapped[str] = mapped_column(String(500), default="")
