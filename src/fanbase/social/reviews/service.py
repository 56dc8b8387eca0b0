"""Reviews: only a customer who received the product writes one, once per order line; rating 1-5 and plain
text up to 2,000 characters; other people vote them helpful, once each and never their own. Product
pages show the average, the count and the 1-5 distribution."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fanbase.accounts import service as accounts
from fanbase.catalog import service as catalog
from fanbase.catalog.models import Product
from fanbase.clock import Clock
from fanbase.db import insert_if_absent, set_loaded
from fanbase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from fanbase.membership import service as membership
from fanbase.orders import service as orders
from fanbase.orders.models import COMPLETED, DELIVERED, Order, OrderLine
from fanbase.pagination import Page, PageRequest, make_page
from fanbase.social.reviews.models import MAX_TEXT, HelpfulVote, Review

REVIEWABLE = (DELIVERED, COMPLETED)


def write_review(session: Session, clock: Clock, *, customer_id: int, slug: str, order_id: int, sku: str,
                 rating: int, text: str) -> Review:
    """Forbidden unless ``order_id`` is the customer's, delivered or completed, with a line of ``sku``;
    Conflict for a second review of that line. Grants the review's growth."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValidationFailed("The rating is a whole number from 1 to 5")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ValidationFailed("Write between 1 and {max} characters", max=MAX_TEXT)
    product = catalog.get_product(session, slug)
    if sku not in {v.sku for v in product.variants}:
        raise ValidationFailed("{sku} is not a version of this product", sku=sku)
    line = _received_line(session, customer_id, order_id, sku)
    author = accounts.get_user(session, customer_id).name
    if not insert_if_absent(session, Review, product_id=product.id, order_id=order_id, order_line_id=line.id,
                            customer_id=customer_id, sku=sku, rating=rating, text=text, author_name=author,
                            helpful=0, created_at=clock.now()):
        raise Conflict("You have already reviewed this item of the order")
    review = session.scalar(select(Review).where(Review.order_line_id == line.id))
    assert review is not None
    membership.add_growth(session, clock, customer_id, membership.REVIEW_GROWTH, "review", f"review:{review.id}")
    return review


def _received_line(session: Session, customer_id: int, order_id: int, sku: str) -> OrderLine:
    refused = Forbidden("Only a customer who received this product in that order may review it")
    try:
        order = orders.get_order(session, order_id, customer_id=customer_id)
    except NotFound:
        raise refused from None
    line = next((x for x in order.lines if x.sku == sku), None)
    if line is None or order.status not in REVIEWABLE:
        raise refused
    return line


def vote_helpful(session: Session, clock: Clock, *, review_id: int, customer_id: int) -> Review:
    review = get_review(session, review_id)
    if review.customer_id == customer_id:
        raise Forbidden("You cannot vote for your own review")
    if not insert_if_absent(session, HelpfulVote, review_id=review_id, customer_id=customer_id,
                            created_at=clock.now()):
        raise Conflict("You have already found this review helpful")
    helpful = session.execute(update(Review).where(Review.id == review_id).values(helpful=Review.helpful + 1)
                              .returning(Review.helpful).execution_options(synchronize_session=False)).scalar_one()
    set_loaded(review, helpful=helpful)
    return review


def get_review(session: Session, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound("No such review")
    return review


def list_reviews(session: Session, slug: str, page: PageRequest) -> Page[Review]:
    product = catalog.get_product(session, slug)
    query = select(Review).where(Review.product_id == product.id).order_by(Review.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(Review.id > page.after_id)
    return make_page(session.scalars(query).all(), page)


def recent_reviews(session: Session, product_id: int, limit: int = 20) -> list[Review]:
    """The newest first, for the product page."""
    return list(session.scalars(select(Review).where(Review.product_id == product_id)
                                .order_by(Review.id.desc()).limit(limit)))


def reviews_by(session: Session, customer_id: int, limit: int = 20) -> list[tuple[Review, Product]]:
    """A customer's reviews, newest first, with their products (the profile page)."""
    rows = session.scalars(select(Review).where(Review.customer_id == customer_id)
                           .order_by(Review.id.desc()).limit(limit)).all()
    return [(r, catalog.get_variant(session, r.sku).product) for r in rows]


@dataclass(frozen=True)
class Rating:
    count: int
    average: str | None  # one decimal, rounded half up ("4.3"); None without reviews
    distribution: dict[int, int]  # stars (1-5) -> reviews

    def share(self, stars: int) -> int:
        """Percent of the reviews with ``stars`` (for the page's bars)."""
        return round(100 * self.distribution[stars] / self.count) if self.count else 0


def rating_of(session: Session, product_id: int) -> Rating:
    counts = {int(stars): int(n) for stars, n in session.execute(
        select(Review.rating, func.count()).where(Review.product_id == product_id).group_by(Review.rating))}
    distribution = {stars: counts.get(stars, 0) for stars in range(1, 6)}
    count = sum(distribution.values())
    if not count:
        return Rating(0, None, distribution)
    total = sum(stars * n for stars, n in distribution.items())
    average = (Decimal(total) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rating(count, str(average), distribution)


def reviewable_lines(session: Session, order: Order) -> list[OrderLine]:
    """The lines of a delivered or completed order not reviewed yet (the order page offers a form)."""
    if order.status not in REVIEWABLE:
        return []
    done = set(session.scalars(select(Review.order_line_id).where(Review.order_id == order.id)))
    return [line for line in order.lines if line.id not in done]


def slug_of_sku(session: Session, sku: str) -> str:
    return catalog.get_variant(session, sku).product.slug
