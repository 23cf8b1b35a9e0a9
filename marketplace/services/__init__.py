"""Use-cases: each public function is one transaction and checks its own rules."""

from functools import wraps

from marketplace.extensions import db


class ServiceError(Exception):
    """A rule refused the action; the message is shown to the user (already translated)."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.status = status


def transactional(func):
    """Roll back everything the use-case did when it fails, so no half-written record remains."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise

    return wrapper
