"""Pruning the job table: finished jobs are kept for a month, for operators to look back on."""

from datetime import timedelta

from sqlalchemy import delete

from marketplace.extensions import db
from marketplace.jobs.registry import task
from marketplace.models import BackgroundJob, JobState, utcnow

KEEP = timedelta(days=30)


@task("jobs.prune", max_attempts=3)
def prune_finished_jobs() -> dict:
    """Delete jobs that finished more than 30 days ago; running it twice deletes nothing twice."""
    deleted = db.session.execute(
        delete(BackgroundJob)
        .where(
            BackgroundJob.state.in_((JobState.DONE, JobState.FAILED)),
            BackgroundJob.finished_at < utcnow() - KEEP,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return {"deleted": deleted}
