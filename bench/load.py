"""Page throughput under gunicorn: the marketplace's main pages against a bare Flask hello-world.

    python bench/load.py                                  # 100,000 needs, 10,000 products
    python bench/load.py --needs 10000 --products 1000    # a quicker try

Starts a throwaway PostgreSQL 15 and Redis, seeds them (`flask seed-demo`, broker history and
ranker included), serves the app with gunicorn (2 workers, APP_ENV=production) and measures
each page for --duration seconds at --connections connections with wrk; then serves
bench/hello_app.py with the same gunicorn settings and measures it the same way. Signed-in pages
are measured with the session cookie of a demo log-in (signed in through the CSRF-protected
form, the broker after setting up MFA as production requires).

Why wrk and not locust: on a 2-core machine the load generator shares the CPU with gunicorn;
wrk (C, event loop) costs a few percent of one core at thousands of requests/s, where locust's
Python clients would themselves be the bottleneck and understate the hello-world figure.

Errors are socket errors and HTTP statuses of 400 and above (wrk_report.lua); every page is
first fetched once and must answer 200 with the expected content, so a lost sign-in (a 302 to
the sign-in page) cannot pass as a fast page. The last line printed is one JSON object.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pyotp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Gunicorn, Postgres, Redis, free_port, prepare_database, production_env  # noqa: E402

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_report.lua"
PASSWORD = "demo-password-1"  # the demo log-ins of `flask seed-demo`
TARGETS = {"visitor": 0.3, "signed-in": 0.1}
TARGET_P95_MS = 100
USERS = ("investor", "owner", "broker")


def pages(need_id: int) -> list[tuple[str, str | None, str]]:
    """(path, who is signed in, text the page must contain)."""
    return [
        ("/", None, "/needs/"),
        ("/needs", None, "/needs/"),
        ("/search/needs?sector=solar", "investor", "/needs/"),
        ("/search/needs?q=wind", "investor", "/needs/"),
        (f"/needs/{need_id}", "investor", f"/needs/{need_id}"),
        ("/owner/", "owner", "/owner/needs/"),
        ("/broker/queue", "broker", "/broker/queue"),
    ]


def sign_in(base_url: str, who: str, secrets_dir: Path) -> requests.Session:
    """A session signed in as a demo log-in through the sign-in form (and MFA, for staff).

    The TOTP secret set up on a first sign-in is kept in secrets_dir for the next run on the
    same database (--database-url)."""
    client = requests.Session()
    form = client.get(f"{base_url}/auth/login")
    answer = client.post(
        f"{base_url}/auth/login",
        data={"csrf_token": _csrf(form.text), "email": f"{who}@demo.test", "password": PASSWORD},
    )
    secret_file = secrets_dir / f"bench-{who}-totp.txt"
    if "/auth/mfa/enrol" in answer.url:
        secret_file.write_text(_enrol_mfa(client, answer))
    elif answer.url.endswith("/auth/mfa"):
        answer = _second_step(client, answer, pyotp.TOTP(secret_file.read_text()))
    if "/auth/login" in answer.url or answer.url.endswith("/auth/mfa"):
        raise RuntimeError(f"could not sign in as {who}@demo.test")
    return client


def _second_step(client: requests.Session, page: requests.Response, totp: pyotp.TOTP):
    """Type the current code; a code is accepted once, so after a run less than 30 s ago wait
    for the next one."""
    for _attempt in range(2):
        data = {"csrf_token": _csrf(page.text), "code": totp.now()}
        page = client.post(page.url, data=data)
        if not page.url.endswith("/auth/mfa"):
            break
        time.sleep(totp.interval - time.time() % totp.interval + 1)
    return page


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _enrol_mfa(client: requests.Session, page: requests.Response) -> str:
    """Staff must set up an authenticator app in production: do it with the shown secret."""
    secret = re.search(r'id="mfa-secret"[^>]*>([^<]+)<', page.text).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    done = client.post(page.url, data={"csrf_token": _csrf(page.text), "code": code})
    if done.status_code != 200 or 'id="mfa-secret"' in done.text:  # else: the recovery codes
        raise RuntimeError("MFA set-up of the broker failed")
    return secret


def cookie_header(client: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies)


def check(base_url: str, path: str, client, expected: str) -> None:
    """The page answers 200 with its content, not an error or the sign-in page."""
    answer = (client or requests).get(base_url + path, allow_redirects=False)
    if answer.status_code != 200 or expected not in answer.text:
        raise RuntimeError(f"{path}: {answer.status_code}, not the page expected")


def wrk(url: str, seconds: int, connections: int, threads: int, cookie: str | None) -> dict:
    """Run wrk once; returns requests/s, p50 and p95 in ms, errors."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    args += ["-s", str(LUA), *(["-H", f"Cookie: {cookie}"] if cookie else []), url]
    output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT "))
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "errors": raw["errors"],
    }


def measure(base_url: str, path: str, cookie: str | None, options) -> dict:
    """A short unrecorded warm-up (every worker loads its caches), then the measured run."""
    wrk(base_url + path, options.warmup, options.connections, options.threads, cookie)
    return wrk(base_url + path, options.duration, options.connections, options.threads, cookie)


def some_published_need(database_url: str) -> int:
    """A published need of another sponsor than the demo owner (a typical need page)."""
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        row = conn.execute(
            "SELECT id FROM financing_needs WHERE status = 'published' ORDER BY id OFFSET 100"
        ).fetchone()
    return row[0]


def measure_app(database_url: str, instance_dir: str, redis: Redis, options) -> dict:
    """Every page of pages(), each signed in as its user, on one gunicorn."""
    port = free_port()
    env = production_env(_Db(database_url, instance_dir), redis, port=port)
    results = {}
    with Gunicorn(env, workers=options.workers, port=port) as web:
        secrets_dir = Path(instance_dir or tempfile.gettempdir())
        clients = {who: sign_in(web.base_url, who, secrets_dir) for who in USERS}
        for path, who, expected in pages(some_published_need(database_url)):
            client = clients.get(who)
            check(web.base_url, path, client, expected)
            cookie = cookie_header(client) if client else None
            results[path] = measure(web.base_url, path, cookie, options)
            print(f"{path:<32} {_row(results[path])}", file=sys.stderr, flush=True)
    return results


class _Db:
    """What production_env needs of a database given by URL."""

    def __init__(self, url: str, instance_dir: str):
        self.url, self.instance_dir = url, instance_dir


def measure_hello(redis: Redis, options) -> dict:
    with Gunicorn({}, workers=options.workers, app="bench.hello_app:app") as web:
        result = measure(web.base_url, "/", None, options)
    print(f"{'hello-world':<32} {_row(result)}", file=sys.stderr, flush=True)
    return result


def _row(result: dict) -> str:
    return (
        f"{result['rps']:>8.1f} req/s  p50 {result['p50_ms']:>6.1f} ms  "
        f"p95 {result['p95_ms']:>6.1f} ms  errors {result['errors']}"
    )


def verdict(results: dict, hello_rps: float) -> list[str]:
    """Which pages miss the issue's targets (throughput share, p95, errors)."""
    misses = []
    for path, result in results.items():
        share = TARGETS["visitor" if path in ("/", "/needs") else "signed-in"]
        if result["rps"] < share * hello_rps:
            misses.append(f"{path}: {result['rps']} req/s < {share} x hello-world")
        if result["p95_ms"] > TARGET_P95_MS or result["errors"]:
            misses.append(f"{path}: p95 {result['p95_ms']} ms, {result['errors']} errors")
    return misses


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds per page")
    parser.add_argument("--warmup", type=int, default=3, help="unrecorded seconds per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--database-url",
        help="an already seeded PostgreSQL database to use instead of a throwaway one",
    )
    parser.add_argument("--instance-dir", help="with --database-url: where its ranker model is")
    return parser.parse_args()


def run(options) -> dict:
    with Redis() as redis:
        if options.database_url:
            results = measure_app(options.database_url, options.instance_dir or "", redis, options)
        else:
            with Postgres() as pg:
                started = time.monotonic()
                env = {"INSTANCE_DIR": pg.instance_dir}
                prepare_database(pg.url, options.needs, options.products, env=env)
                print(f"prepared in {time.monotonic() - started:.0f} s", file=sys.stderr)
                results = measure_app(pg.url, pg.instance_dir, redis, options)
        hello = measure_hello(redis, options)
    return {"pages": results, "hello_rps": hello["rps"]}


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (as root)")
    report = run(parse_args())
    for miss in verdict(report["pages"], report["hello_rps"]):
        print(f"target missed: {miss}", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
