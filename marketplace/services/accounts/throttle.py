"""Sign-in throttling per (account, client address), with growing back-off.

Why not per account alone: then anyone who knows an e-mail address locks its owner out with five
wrong passwords. Keyed by account *and* address, an attacker's failures slow down only the
attacker; the per-address limit on the login view (LOGIN_LIMIT_PER_IP) stops one address from
trying many accounts. The counters live in the Flask-Limiter storage (RATELIMIT_STORAGE_URI, Redis
in production), so every worker and process sees the same counts: no guessing in parallel.

After LOGIN_FREE_FAILURES failures within LOGIN_FAILURE_WINDOW seconds, each further failure blocks
that pair for LOGIN_BACKOFF_BASE seconds, doubled every time, up to LOGIN_BACKOFF_MAX. While
blocked, the password is not even checked. A success clears the pair's failures.

When the shared store is unreachable (Redis stopped), the counters live in each process's memory
until it answers again, exactly as Flask-Limiter's in-memory fallback does for the per-address
limits: sign-in keeps working and guessing stays bounded, by the number of processes times the
limit (each process counts alone), instead of failing open or refusing every sign-in.
"""

import hashlib
import logging
import threading
import time

from flask import current_app
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage

from marketplace.extensions import limiter

log = logging.getLogger(__name__)
# Seconds between attempts to reach the shared store again once it failed.
RECHECK_SECONDS = 5.0


class _Fallback:
    """This process's own counters, used while the shared store does not answer."""

    def __init__(self):
        self.storage: Storage | None = None
        self.down = False
        self.retry_at = 0.0
        self.lock = threading.Lock()

    def local(self) -> Storage:
        with self.lock:
            if self.storage is None:
                self.storage = MemoryStorage()
            return self.storage

    def went_down(self, error: Exception) -> None:
        if not self.down:  # one line per outage, not one per sign-in
            log.warning("sign-in counters: shared store unreachable, counting locally: %s", error)
        self.down, self.retry_at = True, time.monotonic() + RECHECK_SECONDS

    def came_back(self) -> None:
        if self.down:
            log.warning("sign-in counters: shared store answers again")
        self.down = False


_fallback = _Fallback()


def _store(operation: str, *args):
    """Run one counter operation on the shared store, or on this process's while it is down."""
    shared = limiter.storage
    if time.monotonic() >= _fallback.retry_at:
        try:
            result = getattr(shared, operation)(*args)
        except (StorageError, *_errors_of(shared)) as error:
            _fallback.went_down(error)
        else:
            _fallback.came_back()
            return result
    return getattr(_fallback.local(), operation)(*args)


def _errors_of(storage: Storage) -> tuple[type[Exception], ...]:
    errors = storage.base_exceptions
    return errors if isinstance(errors, tuple) else (errors,)


def _key(kind: str, email: str, address: str) -> str:
    # The address and a hash of the e-mail: no personal data in the shared store.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"signin/{kind}/{digest}/{address or '-'}"


def retry_after(email: str, address: str) -> int:
    """Seconds this address must wait before trying this account again (0: it may try now)."""
    key = _key("blocked", email, address)
    if _store("get", key) <= 0:
        return 0
    return max(1, int(_store("get_expiry", key) - time.time()) + 1)


def record_failure(email: str, address: str) -> None:
    config = current_app.config
    failures = _store("incr", _key("failures", email, address), config["LOGIN_FAILURE_WINDOW"])
    beyond = failures - config["LOGIN_FREE_FAILURES"]
    if beyond > 0:
        delay = min(config["LOGIN_BACKOFF_BASE"] * 2 ** (beyond - 1), config["LOGIN_BACKOFF_MAX"])
        _store("incr", _key("blocked", email, address), int(delay))


def record_success(email: str, address: str) -> None:
    _store("clear", _key("failures", email, address))
