"""Tables of the ideas board: ideas, votes, comments, releases and the ideas they ship, the notifications
sent to authors and voters, and the weekly digests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fanbase.db import Base, BigId, UTCDateTime

OPEN = "open"
UNDER_REVIEW = "under_review"
PLANNED = "planned"
IN_PROGRESS = "in_progress"
SHIPPED = "shipped"
DECLINED = "declined"
DUPLICATE = "duplicate"
STATUSES = (OPEN, UNDER_REVIEW, PLANNED, IN_PROGRESS, SHIPPED, DECLINED, DUPLICATE)
# where fans may still vote (and withdraw a vote), and where a release may ship an idea from
ACTIVE = frozenset({OPEN, UNDER_REVIEW, PLANNED, IN_PROGRESS})

AUTHOR = "author"
VOTER = "voter"


class Idea(Base):
    """A fan's idea for a product. ``votes`` counts the rows of ``idea_votes`` (kept by the same conditional
    UPDATEs that add and remove them)."""

    __tablename__ = "ideas"
    __table_args__ = (Index("ix_ideas_product_status", "product_slug", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_slug: Mapped[str] = mapped_column(String(100), ForeignKey("products.slug"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of: Mapped[int | None] = mapped_column(BigId, ForeignKey("ideas.id"), default=None)
    release_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("releases.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdeaVote(Base):
    """One vote per fan per idea: the primary key refuses a second one."""

    __tablename__ = "idea_votes"

    idea_id: Mapped[int] = mapped_column(BigId, ForeignKey("ideas.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdeaComment(Base):
    """Plain text, shown escaped."""

    __tablename__ = "idea_comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idea_id: Mapped[int] = mapped_column(BigId, ForeignKey("ideas.id"), index=True)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Release(Base):
    """A product version an operator published; the ideas it ships point at it (``Idea.release_id``)."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("product_slug", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_slug: Mapped[str] = mapped_column(String(100), ForeignKey("products.slug"))
    version: Mapped[str] = mapped_column(String(40))
    released_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IdeaNotification(Base):
    """News for one fan (an idea they wrote or voted for changed status). ``kind`` and ``params`` are turned
    into text in the reader's language when shown; ``link`` is the page it is about."""

    __tablename__ = "idea_notifications"
    __table_args__ = (Index("ix_idea_notifications_customer_id_id", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdeaDigest(Base):
    """What shipped in one week (Monday ``week_start`` to Sunday, store zone) and who asked for it: a
    snapshot written once, on the Monday after."""

    __tablename__ = "idea_digests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
