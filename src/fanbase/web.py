"""Shared plumbing for the JSON API: context, auth dependencies, problem+json, idempotent POSTs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fanbase import idempotency
from fanbase.accounts.service import Principal, require_staff, verify_token
from fanbase.context import Context
from fanbase.errors import DomainError, Unauthorized, problem_body
from fanbase.i18n import gettext

PROBLEM_JSON = "application/problem+json"


class InputModel(BaseModel):
    """Base of every JSON request body: no silent coercion (``true`` or ``"1"`` is not a quantity) and no
    NUL characters (PostgreSQL cannot store them; nobody types them)."""

    model_config = ConfigDict(strict=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        return value


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is the stable machine-readable reason."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str


# Every JSON route may answer with a problem (documented once, in the OpenAPI document).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description,
             "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for status, description in (("4XX", "The request was refused: see `code`"),
                                ("5XX", "The service failed or is unavailable"))
}


class FastJSONResponse(JSONResponse):
    """orjson: several times faster than the standard encoder on our payloads."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def iso(ctx: Context, when: datetime | None) -> str | None:
    """ISO 8601 in the store's zone, with its offset (``2026-11-25T10:00:00+08:00``)."""
    return None if when is None else when.astimezone(ctx.settings.zone).isoformat(timespec="seconds")


def principal(request: Request) -> Principal:
    """The caller proved by the bearer token: signature, expiry and revocation, without a database read."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Sign in and send Authorization: Bearer <token>")
    ctx = ctx_of(request)
    if ctx.revocations.due():
        with ctx.db.read() as session:
            ctx.revocations.refresh(session)
    return verify_token(ctx.secret_key, token.strip(), ctx.clock.now(), ctx.revocations)


async def principal_on_loop(ctx: Context, request: Request) -> Principal:
    """``principal`` for a route without dependency injection: checked on the event loop (pure CPU, a
    thread hop costs more than the check); only the periodic refresh of the revocation list, a database
    read, goes to the threadpool, where FastAPI runs ``principal`` for every request."""
    if ctx.revocations.due():
        return await run_in_threadpool(principal, request)
    return principal(request)


def customer(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    return caller


def staff(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    require_staff(caller)
    return caller


CurrentCaller = Annotated[Principal, Depends(principal)]
Staff = Annotated[Principal, Depends(staff)]
Ctx = Annotated[Context, Depends(ctx_of)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def problem_response(code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = problem_body(code, detail, **extra)
    return Response(orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def domain_error_response(error: DomainError) -> Response:
    return problem_response(error.code, gettext(error.detail, **error.params), headers=error.headers)


async def idempotent_post(request: Request, caller: Principal, key: str | None,
                          action: Callable[[Session], tuple[int, Any]]) -> Response:
    """Run a creating POST once per Idempotency-Key (see ``fanbase.idempotency``)."""
    ctx = ctx_of(request)
    body = await request.body()
    request_fingerprint = idempotency.fingerprint(request.method, request.url.path, body)
    stored = await run_in_threadpool(idempotency.run_once, ctx.db, ctx.clock, caller=f"user:{caller.user_id}",
                                     key=key, request_fingerprint=request_fingerprint, action=action)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    if isinstance(stored.body, dict) and "__problem__" in stored.body:
        return problem_response(stored.body["__problem__"],
                                gettext(stored.body["detail"], **(stored.body.get("params") or {})), headers=headers)
    return FastJSONResponse(stored.body, status_code=stored.status_code, headers=headers)
