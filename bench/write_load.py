"""Write load with faults: simulated users write over HTTP, then every acknowledged write is
counted in the database (present exactly once, none twice) and the server errors are counted.

    .venv/bin/python bench/write_load.py --users 50 --seconds 60 --fault postgres-restart

Starts a throwaway PostgreSQL 15 and Redis, seeds `--needs` needs, serves the app with gunicorn
(APP_ENV=production, 2 workers) and, when `flask jobs` exists, a job worker with its scheduler.
Owners create and edit needs, investors express interest, brokers (signing in with a TOTP code)
decide on the review queue, and parties of a deal send messages. `--fault postgres-restart`
restarts PostgreSQL halfway; `--fault redis-stop` stops Redis for `--down` seconds (10 by default).
Progress goes to stderr; the last line is one JSON object with the figures.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import (  # noqa: E402
    ROOT,
    VENV_BIN,
    Gunicorn,
    Postgres,
    Redis,
    free_port,
    prepare_database,
    production_env,
)
from bench.write_check import count_writes, job_figures, wait_for_jobs  # noqa: E402
from bench.write_setup import make_accounts  # noqa: E402
from bench.write_users import Ledger, User  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--needs", type=int, default=300, help="needs seeded before the load")
    parser.add_argument("--products", type=int, default=60, help="products seeded")
    parser.add_argument(
        "--fault", choices=["none", "postgres-restart", "redis-stop"], default="none"
    )
    parser.add_argument("--down", type=float, default=None, help="seconds the service stays down")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    return parser.parse_args()


def log(message: str) -> None:
    print(f"[write_load] {message}", file=sys.stderr, flush=True)


def has_job_queue(env: dict) -> bool:
    """True once the app has `flask jobs` (the background queue of #13 §1)."""
    probe = subprocess.run(
        [str(VENV_BIN / "flask"), "jobs", "--help"],
        cwd=ROOT,
        env={**os.environ, "FLASK_APP": "wsgi", **env},
        capture_output=True,
    )
    return probe.returncode == 0


class JobWorker:
    """`flask jobs worker --with-scheduler` in its own process group, stopped on exit."""

    def __init__(self, env: dict):
        self.env = {**os.environ, "FLASK_APP": "wsgi", **env}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "JobWorker":
        args = [str(VENV_BIN / "flask"), "jobs", "worker", "--with-scheduler"]
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def inject_fault(args, pg: Postgres, redis: Redis, at: float, marks: dict) -> None:
    """Wait until `at` (monotonic), then break the chosen service and bring it back."""
    time.sleep(max(0.0, at - time.monotonic()))
    marks["down_at"], marks["down_utc"] = time.monotonic(), datetime.now(UTC)
    if args.fault == "postgres-restart":
        log("restarting PostgreSQL")
        pg.restart(down_seconds=args.down or 0)
    elif args.fault == "redis-stop":
        log(f"stopping Redis for {args.down or 10:.0f} s")
        redis.stop()
        time.sleep(args.down or 10)
        redis.start()
    marks["up_at"], marks["up_utc"] = time.monotonic(), datetime.now(UTC)
    log(f"{args.fault}: back after {marks['up_at'] - marks['down_at']:.1f} s")


def run_load(args, accounts, base_url: str, pg: Postgres, redis: Redis) -> tuple[Ledger, dict]:
    """All users at once for args.seconds, with the fault halfway; returns the ledger."""
    ledger = Ledger(run=uuid.uuid4().hex[:8])
    started = time.monotonic()
    deadline = started + args.seconds
    users = [User(n, account, base_url, ledger) for n, account in enumerate(accounts)]
    threads = [threading.Thread(target=user.run, args=(deadline,)) for user in users]
    marks: dict = {"started": started, "started_utc": datetime.now(UTC)}
    if args.fault != "none":
        at = started + args.seconds / 2
        threads.append(threading.Thread(target=inject_fault, args=(args, pg, redis, at, marks)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    marks["finished"] = time.monotonic()
    return ledger, marks


def unavailable_window(ledger: Ledger) -> float:
    """The longest run of 503 answers (first to last), runs split by 5 s without a 503."""
    times = sorted(at for at, status in ledger.responses if status == 503)
    longest, first = 0.0, None
    for previous, current in zip([None, *times], times, strict=False):
        if previous is None or current - previous > 5:
            first = current
        longest = max(longest, current - first)
    return round(longest, 2)


def figures(args, ledger: Ledger, marks: dict, counted: dict, jobs: dict) -> dict:
    statuses = [status for _at, status in ledger.responses]
    elapsed = marks["finished"] - marks["started"]
    result = {
        "scenario": args.fault,
        "users": args.users,
        "seconds": args.seconds,
        "requests": len(statuses),
        "requests_per_s": round(len(statuses) / elapsed, 1),
        **counted,
        "refused_with_reason": ledger.refused,
        "server_errors": sum(1 for s in statuses if s >= 500 and s != 503),
        "http_503": statuses.count(503),
        "no_answer": statuses.count(0),
        "max_503_window_s": unavailable_window(ledger),
    }
    if "up_at" in marks:
        result["fault_down_s"] = round(marks["up_at"] - marks["down_at"], 2)
    return {**result, **jobs}


def main() -> None:
    args = parse_args()
    with Postgres() as pg, Redis() as redis:
        env = {"INSTANCE_DIR": pg.instance_dir}
        prepare_database(pg.url, needs=args.needs, products=args.products, env=env)
        accounts = make_accounts(pg.url, args.users)
        log(f"{len(accounts)} accounts ready")
        port = free_port()
        # Every user signs in from 127.0.0.1: the per-address sign-in limit would refuse most.
        web_env = production_env(pg, redis, port=port, LOGIN_LIMIT_PER_IP="100000 per minute")
        queue = has_job_queue(web_env)
        with Gunicorn(web_env, workers=args.workers, port=port, extra_args=_threads(args)) as web:
            worker = JobWorker(web_env) if queue else None
            with worker or _Nothing():
                log(f"load: {args.users} users for {args.seconds:.0f} s on {web.base_url}")
                ledger, marks = run_load(args, accounts, web.base_url, pg, redis)
                jobs = wait_for_jobs(pg.url) if queue else {}
                server_log = tracebacks(web.log())
        counted = count_writes(pg.url, ledger)
        jobs = {**jobs, **(job_figures(pg.url, marks) if queue else {"job_queue": "absent"})}
    result = figures(args, ledger, marks, counted, jobs)
    if result["server_errors"]:
        log("server errors: " + ", ".join(ledger.errors[:10]))
        log("tracebacks:\n" + "\n\n".join(server_log[:3]))
    print(json.dumps(result))


def tracebacks(server_log: str) -> list[str]:
    """Each traceback gunicorn or the app printed (40 lines each), but the queue's hand-over."""
    lines = server_log.splitlines()
    found = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    blocks = ["\n".join(lines[i : i + 40]) for i in found]
    return [block for block in blocks if "could not hand over" not in block]


def _threads(args) -> list[str]:
    return ["--threads", str(args.threads)] if args.threads > 1 else []


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


if __name__ == "__main__":
    main()
