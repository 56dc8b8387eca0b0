"""Domain errors with a stable ``code``, rendered as RFC 9457 problem+json by the app.

Services raise these; routes never build error bodies themselves.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fanbase.i18n import gettext

# code -> (HTTP status, English title; translated at render time)
PROBLEMS: dict[str, tuple[int, str]] = {
    "validation_error": (422, "The request is not valid"),
    "bad_request": (400, "Bad request"),
    "unauthorized": (401, "Sign-in required"),
    "forbidden": (403, "Not allowed"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "out_of_stock": (409, "Out of stock"),
    "sold_out": (409, "Sold out"),
    "not_reserved": (403, "Not reserved"),
    "already_reserved": (409, "Already reserved"),
    "limit_exceeded": (409, "Limit exceeded"),
    "sale_not_started": (409, "The sale has not started"),
    "sale_ended": (409, "The sale has ended"),
    "insufficient_funds": (409, "Insufficient funds"),
    "payment_expired": (409, "Payment window expired"),
    "payload_too_large": (413, "Request too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "rate_limited": (429, "Too many requests"),
    "internal_error": (500, "Something went wrong"),
    "service_unavailable": (503, "Service temporarily unavailable"),
}


class DomainError(Exception):
    """A rule said no. ``detail`` is an English message id, translated when rendered."""

    code: ClassVar[str] = "conflict"

    def __init__(self, detail: str, code: str | None = None, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        super().__init__(detail.format(**params) if params else detail)
        self.detail = detail
        self.params = params
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return PROBLEMS[self.code][0]

    def problem(self) -> dict[str, Any]:
        return problem_body(self.code, gettext(self.detail, **self.params))


def problem_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    status, title = PROBLEMS[code]
    return {"type": f"https://fanbase.dev/problems/{code}", "title": gettext(title), "status": status,
            "detail": detail, "code": code, **extra}


class ValidationFailed(DomainError):
    code = "validation_error"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class OutOfStock(DomainError):
    code = "out_of_stock"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class PaymentExpired(DomainError):
    code = "payment_expired"


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
