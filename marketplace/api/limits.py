"""Rate limits of the API: per key (per client address without one), counted in the limiter's
store (Redis when configured, so every process and machine shares the count), announced in the
`RateLimit-*` headers of the IETF draft on every answer."""

from __future__ import annotations

import hashlib
import time

from flask import current_app
from flask_limiter.util import get_remote_address

from marketplace.api import bp
from marketplace.api.auth import bearer_token
from marketplace.extensions import limiter


def _counter() -> str:
    """Whose requests count together: one key's (by a digest, never the key itself)."""
    token = bearer_token()
    if token:
        return "api-key:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "api-ip:" + get_remote_address()


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_counter)(bp)


@bp.after_request
def rate_limit_headers(response):
    current = limiter.current_limit
    if current is not None:
        window = current.limit.get_expiry()
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(current.remaining)
        response.headers["RateLimit-Reset"] = str(max(0, int(current.reset_at - time.time())))
        response.headers["RateLimit-Policy"] = f"{current.limit.amount};w={window}"
    return response
