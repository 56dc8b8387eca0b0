from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fanbase.accounts.service import require_staff
from fanbase.errors import NotFound
from fanbase.jobs import run_due_jobs
from fanbase.sandbox import service
from fanbase.web import Ctx, InputModel, Staff, iso

router = APIRouter(tags=["sandbox"])


class ClockOut(BaseModel):
    now: str
    sandbox: bool


class AdvanceIn(InputModel):
    seconds: int = Field(ge=1, le=service.MAX_ADVANCE_SECONDS)


class AdvanceOut(BaseModel):
    now: str
    jobs: dict[str, int]


@router.get("/admin/clock", response_model=ClockOut)
def get_clock(caller: Staff, ctx: Ctx) -> ClockOut:
    return ClockOut(now=iso(ctx, ctx.clock.now()) or "", sandbox=ctx.sandbox_clock is not None)


@router.post("/admin/clock/advance", response_model=AdvanceOut)
async def advance_clock(body: AdvanceIn, caller: Staff, ctx: Ctx) -> AdvanceOut:
    require_staff(caller, "operator")
    clock = ctx.sandbox_clock
    if clock is None:
        raise NotFound("Sandbox mode is off")

    def work() -> AdvanceOut:
        assert clock is not None
        with ctx.db.uow() as session:
            service.advance(session, clock, body.seconds, caller.user_id)
        jobs = run_due_jobs(ctx)  # what fell due in between runs before we answer
        return AdvanceOut(now=iso(ctx, ctx.clock.now()) or "", jobs=jobs)

    return await run_in_threadpool(work)
