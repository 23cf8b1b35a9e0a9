"""Named background tasks: a use-case registers its function here, the runner looks it up.

Registration by name keeps the jobs package below the services: a service imports `task` and
`enqueue`, never the other way round, and a queued message names a task, not a Python path.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable
    max_attempts: int
    # How long a worker owns a claimed job before another may take it over (it crashed).
    lease: timedelta
    # Retry delays double from backoff_base up to backoff_max (seconds).
    backoff_base: int
    backoff_max: int
    # The function takes the running job (for progress) as its first argument.
    wants_job: bool
    # Clear the payload once done (a mail body carries single-use links).
    forget_payload: bool

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(
            seconds=min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)
        )


TASKS: dict[str, TaskSpec] = {}


def task(
    name: str,
    *,
    max_attempts: int = 5,
    lease: timedelta = timedelta(minutes=15),
    backoff_base: int = 30,
    backoff_max: int = 3600,
    wants_job: bool = False,
    forget_payload: bool = False,
):
    """Register the decorated function as the background task `name`; returns it unchanged."""

    def register(func: Callable) -> Callable:
        if name in TASKS and TASKS[name].func is not func:
            raise RuntimeError(f"background task {name!r} is registered twice")
        TASKS[name] = TaskSpec(
            name, func, max_attempts, lease, backoff_base, backoff_max, wants_job, forget_payload
        )
        return func

    return register


def spec(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise LookupError(f"no background task named {name!r}") from None
