"""`flask jobs …`: the worker and the scheduler of the background jobs, and what operators check."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.jobs import in_process
from marketplace.jobs.queue import due_job_ids, push
from marketplace.jobs.runner import run
from marketplace.models import BackgroundJob

jobs_cli = AppGroup("jobs", help="Background jobs: worker, scheduler and their state.")


def _celery():
    if in_process():
        raise click.ClickException(
            "REDIS_URL is not set: without a queue, jobs run in the web process after each "
            "commit, and `flask jobs run-due` runs retries (README: Background jobs)."
        )
    return current_app.extensions["celery"]


def _schedule_file() -> str:
    folder = current_app.config["INSTANCE_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "celerybeat-schedule")


@jobs_cli.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--with-scheduler", is_flag=True, help="Also run the scheduler (one machine only).")
def worker(concurrency: int, with_scheduler: bool) -> None:
    """Run a Celery worker on REDIS_URL (and, with --with-scheduler, the scheduler beside it)."""
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--without-gossip"]
    if with_scheduler:
        argv += ["--beat", f"--schedule={_schedule_file()}"]
    _celery().worker_main(argv)


@jobs_cli.command("scheduler")
def scheduler() -> None:
    """Run Celery beat: asks for the nightly, hourly and relay work (run exactly one)."""
    _celery().start(["beat", "--loglevel=INFO", f"--schedule={_schedule_file()}"])


@jobs_cli.command("run-due")
def run_due() -> None:
    """Run (no queue) or re-send (queue) every job that is due and was never finished."""
    ids = due_job_ids()
    if in_process():
        outcomes = [run(job_id) for job_id in ids]
        click.echo(
            f"Due jobs: {len(ids)}; done: {outcomes.count('done')}; "
            f"to retry: {outcomes.count('retry')}; failed: {outcomes.count('failed')}."
        )
    else:
        click.echo(f"Due jobs: {len(ids)}; sent to the queue: {push(ids)}.")


@jobs_cli.command("status")
def status() -> None:
    """How many jobs are in each state, per task."""
    rows = db.session.execute(
        select(BackgroundJob.task, BackgroundJob.state, func.count())
        .group_by(BackgroundJob.task, BackgroundJob.state)
        .order_by(BackgroundJob.task, BackgroundJob.state)
    ).all()
    for task, state, count in rows:
        click.echo(f"{task:32} {state:10} {count}")
    if not rows:
        click.echo("No jobs yet.")
