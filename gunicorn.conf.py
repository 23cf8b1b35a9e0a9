"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app` (what `make serve`
and deploy/Dockerfile run). Every number comes from the environment (README: Configuration);
docs/deploy.md adds them up across machines against PostgreSQL's max_connections.

gunicorn also reads this file by itself when started from the repository's folder; options given
on its command line win over the values here.
"""

import json
import os
import re
from datetime import UTC, datetime, timedelta

from gunicorn import glogging

# Without WEB_CONCURRENCY: 2 x cores + 1 processes, but no more than this many. A container sees
# every core of its host, and each process holds its own copy of the search index and the ranker
# and up to DB_POOL_SIZE + DB_MAX_OVERFLOW PostgreSQL connections.
MAX_DEFAULT_WORKERS = 8

# One math-library thread per process, set before the app (numpy, scikit-learn) is imported:
# the worker processes already use every core; a BLAS pool per worker would only oversubscribe.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# E-mailed single-use links carry their secret in the path; it never reaches the access log.
_SECRET_IN_PATH = re.compile(r"^(/auth/(?:confirm|reset)/)[^/]+")


def _int_env(name: str, default: int) -> int:
    """A whole number from the environment; a malformed one stops gunicorn, naming the variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def _cores() -> int:
    """The cores this process may run on (its CPU affinity, where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _bind() -> list[str]:
    """BIND (comma-separated addresses) wins; PORT alone listens on every interface, as a
    container or platform expects; neither: localhost only, behind a proxy on the same host."""
    if os.environ.get("BIND", "").strip():
        return [address.strip() for address in os.environ["BIND"].split(",") if address.strip()]
    if os.environ.get("PORT", "").strip():
        return [f"0.0.0.0:{_int_env('PORT', 8000)}"]
    return ["127.0.0.1:8000"]


def redact_path(path: str) -> str:
    """The request path with any e-mailed token replaced."""
    return _SECRET_IN_PATH.sub(r"\1[token]", path)


def _request_id(resp, environ) -> str | None:
    """The X-Request-ID the app answered with, else the one the load balancer sent, else None."""
    for name, value in resp.headers:
        if name.lower() == "x-request-id":
            return value
    return environ.get("HTTP_X_REQUEST_ID")


def access_entry(resp, environ, request_time: timedelta) -> dict:
    """One request as a JSON-ready dict. remote_addr is the client as the app sees it: the
    app's ProxyFix (PROXY_COUNT) has already replaced the proxy's address in the environ."""
    raw_path = environ.get("RAW_URI") or environ.get("PATH_INFO") or ""
    return {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "logger": "gunicorn.access",
        "method": environ.get("REQUEST_METHOD"),
        "path": redact_path(raw_path.split("?", 1)[0]),  # no query: it may hold personal data
        "status": int(str(resp.status).split(None, 1)[0]),
        "bytes": resp.sent or 0,
        "duration_ms": round(request_time.total_seconds() * 1000, 2),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "request_id": _request_id(resp, environ),
        "user_agent": environ.get("HTTP_USER_AGENT"),
    }


class JsonLogger(glogging.Logger):
    """gunicorn's logger in JSON lines: one object per request on stdout; its own messages on
    stderr in the app's format (marketplace/logs.py), so one parser reads every line."""

    def setup(self, cfg):
        super().setup(cfg)
        from marketplace.logs import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            entry = access_entry(resp, environ, request_time)
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:
            self.exception("could not write the access log entry")


def post_fork(server, worker):
    """No database connection crosses the fork: each worker opens its own (preload_app)."""
    if not server.cfg.preload_app:
        return
    app = worker.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # another app served with these settings (a benchmark's bare page)
    from marketplace.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # forget the parent's pool; leave its sockets alone


wsgi_app = "wsgi:app"
bind = _bind()

# Processes for what needs a CPU (templates, numpy), threads to overlap waits on PostgreSQL,
# Redis, Stripe and SMTP. Each busy thread holds one database connection (DB_POOL_SIZE).
worker_class = "gthread"
workers = _int_env("WEB_CONCURRENCY", min(2 * _cores() + 1, MAX_DEFAULT_WORKERS))
threads = _int_env("GUNICORN_THREADS", 4)

# A request still running after `timeout` seconds gets its worker restarted; on a stop or a
# deploy, workers get `graceful_timeout` seconds to finish what they serve. Keep-alive: set it
# above the load balancer's idle timeout so it never reuses a connection we just closed.
timeout = _int_env("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int_env("GUNICORN_KEEPALIVE", 5)

# Recycle a worker after this many requests (plus up to the jitter, so they do not all restart
# at once) in case something leaks. Rare on purpose: a new worker reloads the search index.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = _int_env("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)

# Load the app once in the master: workers start in milliseconds and share its memory, and a
# broken configuration stops gunicorn before it forks. The factory opens no connection;
# post_fork (above) makes sure none is inherited anyway.
preload_app = True

# Which X-Forwarded-* headers to believe is decided in one place, the app's ProxyFix
# (PROXY_COUNT: only the values our own proxies appended). gunicorn believes none, so it cannot
# disagree with it (and a client cannot switch the scheme by sending the header itself).
forwarded_allow_ips = ""
secure_scheme_headers = {}

# Access log: JSON lines on stdout; gunicorn's and the app's own logs: JSON lines on stderr.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = JsonLogger

# The heartbeat file lives in memory: on a container's overlay disk it can stall workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicornc's socket defaults to one path per user, shared by every gunicorn on the host;
# workers are managed with signals and by the container runtime instead.
control_socket_disable = True
