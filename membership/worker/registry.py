"""The periodic job registry: what the worker runs, and how often.

Adding a job takes a function and one line:

    from datetime import timedelta
    from membership.worker.registry import JobContext, periodic_job

    @periodic_job("lapsed_supporter_emails", every=timedelta(days=1))
    def lapsed_supporter_emails(ctx: JobContext) -> str:
        queued = queue_lapsed_emails(ctx.session, config=ctx.config, now=ctx.now)
        return f"{queued} email(s) queued"          # the summary in the job's log line

and the module's name in `JOB_MODULES` below, so the worker imports it.

The rules a job follows:
- It runs once per period (`every`, aligned to the epoch in UTC: a daily job runs soon after
  00:00 UTC), in whichever worker claims it first; a lease row in `job_lease` makes that so.
- It takes everything from `ctx`: the session, the configuration, the Stripe gateway and `now`
  (the worker's clock; tests move it). It flushes; the worker commits after it returns and
  rolls back if it raises. A job that must commit in steps calls `ctx.commit()` itself and says
  why in one line.
- Raising marks the run failed: it is logged and retried in the same period after a backoff
  (1 minute, doubling, at most an hour). So a job must be safe to run again: queue emails with a
  dedupe key, apply Stripe events through the ledger.
- `lease` (default: the period, at most 30 minutes) is how long a run may take before another
  worker assumes this one died and runs the period again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from membership.config import Config
from membership.payments.gateway import StripeGateway

# Modules whose import registers jobs. Later issues add theirs here.
JOB_MODULES: tuple[str, ...] = ("membership.worker.builtin_jobs",)

MAX_DEFAULT_LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class JobContext:
    session: Session
    config: Config
    gateway: StripeGateway
    now: datetime
    commit: Callable[[], None]
    rollback: Callable[[], None]


JobFunction = Callable[[JobContext], str]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: JobFunction
    lease: timedelta


_JOBS: dict[str, Job] = {}


def periodic_job(
    name: str, *, every: timedelta, lease: timedelta | None = None
) -> Callable[[JobFunction], JobFunction]:
    """Register `function` to run once every `every`; see the module docstring."""
    if every < timedelta(minutes=1) or every.total_seconds() % 60:
        raise ValueError(f"job {name}: run at most once a minute, in whole minutes")
    if not name or len(name) > 80:
        raise ValueError("a job name has 1 to 80 characters")

    def register(function: JobFunction) -> JobFunction:
        if name in _JOBS and _JOBS[name].run is not function:
            raise ValueError(f"two jobs are called {name}")
        _JOBS[name] = Job(name, every, function, lease or min(every, MAX_DEFAULT_LEASE))
        return function

    return register


def registered_jobs() -> list[Job]:
    """Every job of every module in `JOB_MODULES`, by name."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return [_JOBS[name] for name in sorted(_JOBS)]
