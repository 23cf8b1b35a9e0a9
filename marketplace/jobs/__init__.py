"""Background jobs: ask for work inside a transaction (`enqueue`), run it after the commit.

With REDIS_URL set, Celery workers run the jobs (`make worker`) and Celery beat asks for the
periodic ones; without it (`make run`, the tests) each job runs in the process that committed
it, right after the commit. See queue.py for why Celery, runner.py for why a job that is
delivered twice runs once.
"""

import logging

from flask import Flask

from marketplace.jobs.outbox import dispatch, enqueue, in_process
from marketplace.jobs.queue import celery_init_app
from marketplace.jobs.registry import TASKS, task
from marketplace.jobs.tracking import register_session_hooks

__all__ = ["TASKS", "dispatch", "enqueue", "in_process", "init_app", "task"]

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Bind Celery to the app and hand each request's committed jobs over after it."""
    celery_init_app(app)
    register_session_hooks()

    @app.after_request
    def dispatch_committed_jobs(response):
        try:
            dispatch()
        except Exception:  # the request's own write is committed; the relay retries the jobs
            log.exception("could not hand over the request's background jobs")
        return response
