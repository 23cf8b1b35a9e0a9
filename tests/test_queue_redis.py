"""Background jobs on the real queue: a throwaway redis-server and a `flask jobs worker` process.

The worker is the command operators run (`make worker`), on the test database, so these tests
see what a desk would: work asked for by a commit is done within seconds by another process,
work asked for while Redis is down is done once it is back, and two schedulers make one run.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from marketplace import create_app, jobs
from marketplace.extensions import db
from marketplace.jobs.queue import relay
from marketplace.mail import send_template
from marketplace.models import BackgroundJob, JobState, Match, NeedStatus, Role, utcnow
from marketplace.services.matching.suggestions import request_refresh
from tests.factories import make_need, make_product, make_user

ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 45


@pytest.fixture(scope="module")
def queue_app(app, redis_server):
    """The same database as `app`, with the job queue on the throwaway Redis."""
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_server.url,
        MAIL_OUTBOX_DIR=app.config["MAIL_OUTBOX_DIR"],
        MODEL_DIR=app.config["MODEL_DIR"],
        UPLOAD_DIR=app.config["UPLOAD_DIR"],
    )


@pytest.fixture(scope="module")
def worker(app, redis_server, tmp_path_factory):
    """`flask jobs worker` as operators run it, on the test database and the throwaway Redis."""
    instance = tmp_path_factory.mktemp("worker")
    env = {
        **os.environ,
        "APP_ENV": "development",
        "FLASK_APP": "wsgi",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "worker-test-secret",
        "INSTANCE_DIR": str(instance),
        "MAIL_OUTBOX_DIR": str(app.config["MAIL_OUTBOX_DIR"]),
        "MODEL_DIR": str(app.config["MODEL_DIR"]),
    }
    flask = Path(sys.executable).with_name("flask")
    log = (instance / "worker.log").open("w")
    process = subprocess.Popen(
        [str(flask), "jobs", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()


def _wait_for(check, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"not within {WAIT_S} s: {what}")


def _state(app, job_id) -> JobState:
    with app.app_context():
        state = db.session.get(BackgroundJob, job_id).state
        db.session.remove()
        return state


def _outbox(app) -> set:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return set(folder.glob("*.eml")) if folder.exists() else set()


def test_a_published_need_gets_its_suggestions_from_the_worker(app, queue_app, worker):
    owner, investor = make_user(app, role=Role.OWNER), make_user(app, role=Role.INVESTOR)
    make_product(app, investor)
    need = make_need(app, owner, status=NeedStatus.PUBLISHED, published_at=utcnow())
    with queue_app.app_context():
        request_refresh(db.session.get(type(need), need.id))
        db.session.commit()
        jobs.dispatch()
        job = db.session.scalar(select(BackgroundJob).where(BackgroundJob.task.like("sugg%")))
        assert job.state == JobState.ENQUEUED  # handed to Redis, not run by this process
        db.session.remove()

    def suggested():
        with app.app_context():
            count = db.session.scalar(
                select(func.count()).select_from(Match).where(Match.need_id == need.id)
            )
            db.session.remove()
            return count

    assert _wait_for(suggested, "the worker stores the need's suggestions") >= 1
    assert _wait_for(lambda: _state(app, job.id) == JobState.DONE, "the job is done")


def test_two_schedulers_asking_at_once_make_one_run(app, queue_app, worker):
    celery = queue_app.extensions["celery"]
    for _scheduler in range(2):
        celery.send_task("marketplace.jobs.periodic", ("listings.expire",))

    def runs():
        with app.app_context():
            rows = db.session.scalars(
                select(BackgroundJob).where(BackgroundJob.task == "listings.expire")
            ).all()
            db.session.remove()
            return rows if rows and all(row.finished for row in rows) else None

    rows = _wait_for(runs, "the scheduled expiry ran")
    time.sleep(1)  # the second message has had its chance
    assert len(runs()) == 1 and rows[0].state == JobState.DONE


def test_work_asked_for_while_redis_is_down_is_done_once_it_is_back(
    app, queue_app, worker, redis_server
):
    before = _outbox(app)
    redis_server.stop()
    try:
        with queue_app.app_context():
            started = time.monotonic()
            job = send_template(
                "desk@example.test",
                "en",
                "Hello",
                "reset_password",
                user=make_user(app, role=Role.OWNER),
                link="https://x.test/r",
            )
            db.session.commit()
            jobs.dispatch()  # Redis refuses: the job stays pending, the request is not held up
            assert time.monotonic() - started < 5
            job_id = job.id
            assert db.session.get(BackgroundJob, job_id).state == JobState.PENDING
            db.session.remove()
    finally:
        redis_server.start()
    with queue_app.app_context():
        db.session.execute(  # as the relay sees it a little later
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(created_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        assert relay() == 1
        db.session.remove()
    assert _wait_for(lambda: _state(app, job_id) == JobState.DONE, "the worker sends the mail")
    assert len(_outbox(app) - before) == 1
