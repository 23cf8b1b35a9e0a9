"""Sign-in throttling per (account, client address), with growing back-off.

Why not per account alone: then anyone who knows an e-mail address locks its owner out with five
wrong passwords. Keyed by account *and* address, an attacker's failures slow down only the
attacker; the per-address limit on the login view (LOGIN_LIMIT_PER_IP) stops one address from
trying many accounts. The counters live in the Flask-Limiter storage (RATELIMIT_STORAGE_URI, Redis
in production), so every worker and process sees the same counts: no guessing in parallel.

After LOGIN_FREE_FAILURES failures within LOGIN_FAILURE_WINDOW seconds, each further failure blocks
that pair for LOGIN_BACKOFF_BASE seconds, doubled every time, up to LOGIN_BACKOFF_MAX. While
blocked, the password is not even checked. A success clears the pair's failures.
"""

import hashlib
import time

from flask import current_app

from marketplace.extensions import limiter


def _key(kind: str, email: str, address: str) -> str:
    # The address and a hash of the e-mail: no personal data in the shared store.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"signin/{kind}/{digest}/{address or '-'}"


def retry_after(email: str, address: str) -> int:
    """Seconds this address must wait before trying this account again (0: it may try now)."""
    key = _key("blocked", email, address)
    if limiter.storage.get(key) <= 0:
        return 0
    return max(1, int(limiter.storage.get_expiry(key) - time.time()) + 1)


def record_failure(email: str, address: str) -> None:
    config = current_app.config
    failures = limiter.storage.incr(
        _key("failures", email, address), config["LOGIN_FAILURE_WINDOW"]
    )
    beyond = failures - config["LOGIN_FREE_FAILURES"]
    if beyond > 0:
        delay = min(config["LOGIN_BACKOFF_BASE"] * 2 ** (beyond - 1), config["LOGIN_BACKOFF_MAX"])
        limiter.storage.incr(_key("blocked", email, address), int(delay))


def record_success(email: str, address: str) -> None:
    limiter.storage.clear(_key("failures", email, address))
