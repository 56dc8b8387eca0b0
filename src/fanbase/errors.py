"""Domain errors with a stable ``code``, rendered as RFC 9457 problem+json by the app.

Services raise these; routes never build error bodies themselves.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fanbase.i18n import N_, gettext

# code -> (HTTP status, English title; translated at render time)
PROBLEMS: dict[str, tuple[int, str]] = {
    "validation_error": (422, N_("The request is not valid")),
    "bad_request": (400, N_("Bad request")),
    "unauthorized": (401, N_("Sign-in required")),
    "forbidden": (403, N_("Not allowed")),
    "not_found": (404, N_("Not found")),
    "method_not_allowed": (405, N_("Method not allowed")),
    "conflict": (409, N_("Conflict")),
    "out_of_stock": (409, N_("Out of stock")),
    "sold_out": (409, N_("Sold out")),
    "not_reserved": (403, N_("Not reserved")),
    "not_drawn": (403, N_("Not drawn")),
    "already_reserved": (409, N_("Already reserved")),
    "limit_exceeded": (409, N_("Limit exceeded")),
    "sale_not_started": (409, N_("The sale has not started")),
    "sale_ended": (409, N_("The sale has ended")),
    "insufficient_funds": (409, N_("Insufficient funds")),
    "payment_expired": (409, N_("Payment window expired")),
    "payload_too_large": (413, N_("Request too large")),
    "unsupported_media_type": (415, N_("Unsupported media type")),
    "rate_limited": (429, N_("Too many requests")),
    "internal_error": (500, N_("Something went wrong")),
    "service_unavailable": (503, N_("Service temporarily unavailable")),
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
