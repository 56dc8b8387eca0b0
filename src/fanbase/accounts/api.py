from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fanbase.accounts import service
from fanbase.accounts.service import Principal
from fanbase.broadcast import TOKEN_REVOKED
from fanbase.web import Ctx, CurrentCaller, InputModel, principal

router = APIRouter(tags=["accounts"])

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class RegisterIn(InputModel):
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=100)


class RegisterOut(BaseModel):
    id: int
    token: str


class LoginIn(InputModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)


class TokenOut(BaseModel):
    token: str


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    kind: str
    role: str | None = None


@router.post("/auth/register", status_code=201, response_model=RegisterOut)
async def register(body: RegisterIn, ctx: Ctx) -> RegisterOut:
    def work() -> RegisterOut:
        with ctx.db.uow() as session:
            user = service.register_customer(session, ctx.clock, email=body.email, password=body.password,
                                             name=body.name)
            token = service.issue_token(ctx.secret_key, user, ctx.clock.now(), ctx.settings.token_ttl_seconds)
            return RegisterOut(id=user.id, token=token)

    return await run_in_threadpool(work)  # argon2 is CPU work: keep it off the event loop


@router.post("/auth/login", response_model=TokenOut)
async def login(body: LoginIn, ctx: Ctx) -> TokenOut:
    def work() -> TokenOut:
        with ctx.db.read() as session:
            user = service.authenticate(session, email=body.email, password=body.password)
            return TokenOut(token=service.issue_token(ctx.secret_key, user, ctx.clock.now(),
                                                      ctx.settings.token_ttl_seconds))

    return await run_in_threadpool(work)


@router.post("/auth/logout", status_code=204)
def logout(caller: CurrentCaller, ctx: Ctx) -> None:
    """Revoke the token this request was made with."""
    with ctx.db.uow() as session:
        service.revoke_token(session, ctx.clock, caller, ctx.revocations)
    ctx.broadcast.publish(TOKEN_REVOKED, caller.jti)  # after the commit: every process refuses it now


@router.get("/me", response_model=MeOut)
def me(caller: Annotated[Principal, Depends(principal)], ctx: Ctx) -> MeOut:
    with ctx.db.read() as session:
        user = service.get_user(session, caller.user_id)
        return MeOut(id=user.id, email=user.email, name=user.name, kind=user.kind, role=user.role)
