"""Background jobs without a queue: asked for in a transaction, run once, retried with back-off."""

import threading
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from marketplace import jobs
from marketplace.extensions import db
from marketplace.jobs import runner
from marketplace.jobs.queue import schedule_periodic
from marketplace.mail import send_template
from marketplace.models import BackgroundJob, JobState, NeedStatus, Role, utcnow
from marketplace.services.listings.listings import expire_needs_job
from tests.factories import make_need, make_user
from tests.redis_server import free_port

RUNS: list[dict] = []


@jobs.task("tests.record", max_attempts=3, backoff_base=30)
def record_run(value: int, fail: bool = False, pause: float = 0.0) -> dict:
    """A task for these tests: notes each run, optionally slowly or failing."""
    time.sleep(pause)
    if fail:
        raise ConnectionError("mail server down")
    RUNS.append({"value": value})
    return {"value": value}


@pytest.fixture(autouse=True)
def no_runs():
    RUNS.clear()


def _job(app, job_id) -> BackgroundJob:
    with app.app_context():
        return db.session.get(BackgroundJob, job_id)


def _ask(app, **payload) -> int:
    """Commit one job without handing it over (as if the web process died right after)."""
    with app.app_context():
        job = jobs.enqueue("tests.record", payload)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    return job_id


def test_a_job_runs_after_its_transaction_commits(app):
    with app.app_context():
        jobs.enqueue("tests.record", {"value": 1})
        assert RUNS == []  # not before the commit
        db.session.commit()
        jobs.dispatch()
        assert RUNS == [{"value": 1}]
        job = db.session.scalar(select(BackgroundJob))
        assert (job.state, job.attempts, job.result) == (JobState.DONE, 1, {"value": 1})


def test_a_job_asked_for_by_a_rolled_back_write_never_exists(app):
    with app.app_context():
        jobs.enqueue("tests.record", {"value": 1})
        db.session.flush()
        db.session.rollback()
        jobs.dispatch()
        assert RUNS == []
        assert db.session.scalar(select(func.count()).select_from(BackgroundJob)) == 0


def test_a_job_delivered_twice_runs_once(app):
    job_id = _ask(app, value=7)
    with app.app_context():
        assert runner.run(job_id) == "done"
        assert runner.run(job_id) == "skipped"  # a second message (retry, second scheduler)
    assert RUNS == [{"value": 7}]


def test_two_workers_delivered_the_same_job_at_once_run_it_once(app):
    job_id = _ask(app, value=3, pause=0.5)
    outcomes = []

    def deliver():
        with app.app_context():
            outcomes.append(runner.run(job_id))
            db.session.remove()

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["done", "skipped"]
    assert RUNS == [{"value": 3}]


def test_a_failing_job_is_retried_with_back_off_then_given_up(app):
    job_id = _ask(app, value=1, fail=True)
    with app.app_context():
        before = utcnow()
        assert runner.run(job_id) == "retry"
        job = db.session.get(BackgroundJob, job_id)
        assert job.state == JobState.PENDING and job.attempts == 1
        assert "mail server down" in job.error
        assert timedelta(seconds=29) < job.run_after - before < timedelta(seconds=32)
        assert runner.run(job_id) == "skipped"  # not due yet
        for attempt, delay in ((2, 60), (3, None)):
            _make_due(job_id)
            outcome = runner.run(job_id)
            job = db.session.get(BackgroundJob, job_id)
            db.session.refresh(job)
            assert job.attempts == attempt
            if delay:
                assert outcome == "retry"
                assert job.run_after - utcnow() > timedelta(seconds=delay - 3)
        assert outcome == "failed" and job.state == JobState.FAILED
    assert RUNS == []


def _make_due(job_id: int) -> None:
    db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(run_after=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_worker_that_died_mid_job_leaves_it_to_be_run_again(app):
    job_id = _ask(app, value=5)
    with app.app_context():
        db.session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(state=JobState.RUNNING, attempts=1, lease_until=utcnow() + timedelta(hours=1))
        )
        db.session.commit()
        assert runner.run(job_id) == "skipped"  # its worker may still be at it
        db.session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        assert runner.run(job_id) == "done"  # the lease ran out: the worker died
    assert RUNS == [{"value": 5}]


def test_two_schedulers_ask_for_one_run_per_period(app):
    now = utcnow()
    with app.app_context():
        first = schedule_periodic("listings.expire", now)
        second = schedule_periodic("listings.expire", now)
        next_hour = schedule_periodic("listings.expire", now + timedelta(hours=1))
        assert first is not None and second is None and next_hour is not None
        keys = db.session.scalars(select(BackgroundJob.dedupe_key)).all()
        assert len(keys) == 2


def test_the_expiry_job_run_twice_expires_each_need_once(app):
    owner = make_user(app, role=Role.OWNER)
    make_need(
        app,
        owner,
        status=NeedStatus.PUBLISHED,
        published_at=utcnow() - timedelta(days=200),
        expires_at=utcnow() - timedelta(days=1),
    )
    with app.app_context():
        assert expire_needs_job() == {"expired": 1}
        assert expire_needs_job() == {"expired": 0}


def _outbox(app) -> list:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_an_email_is_retried_when_the_mail_server_fails(app):
    """Nothing listens on the mail server's port: the message waits and goes out later, once."""
    before = set(_outbox(app))
    with app.app_context():
        job = send_template(
            "someone@example.test",
            "en",
            "Hello",
            "reset_password",
            user=None,
            link="https://x.test/r",
        )
        db.session.commit()
        job_id, message_id = job.id, job.payload["message_id"]
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", free_port()
        try:
            assert runner.run(job_id) == "retry"
        finally:
            app.config["MAIL_SERVER"] = None
        assert set(_outbox(app)) == before
        _make_due(job_id)
        assert runner.run(job_id) == "done"
        job = db.session.get(BackgroundJob, job_id)
        db.session.refresh(job)
        assert job.payload == {}  # the body (and its single-use link) is not kept
    [sent] = set(_outbox(app)) - before
    message = message_from_bytes(sent.read_bytes())
    assert message["Message-ID"] == message_id and message["To"] == "someone@example.test"
