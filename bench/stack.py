"""Throwaway services for benchmarks and fault scripts: PostgreSQL 15, Redis and gunicorn.

    with Postgres() as pg, Redis() as redis:
        prepare_database(pg.url, needs=1000, products=100, env={"INSTANCE_DIR": pg.instance_dir})
        with Gunicorn(production_env(pg, redis)) as web:
            requests.get(web.base_url + "/")

Each one starts on a random port of 127.0.0.1, is stopped and removed on exit, and never touches
the machine's own services on 5432/6379. The PostgreSQL server binaries refuse to run as root,
so as root they run as the `postgres` system user (created when missing), as
scripts/with-postgres.sh does.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None):
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if _is_root() else args


class Postgres:
    """A throwaway PostgreSQL 15 cluster with one database; `.url` is SQLAlchemy's URL for it."""

    def __init__(self, database: str = "gsr_bench", port: int | None = None):
        self.database = database
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="gsr-pg."))
        self.data = self.dir / "data"
        # Model files and uploads of the app that uses this database, removed with it.
        self.instance_dir = str(self.dir / "instance")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> "Postgres":
        try:
            self._init_cluster()
            self.start()
            self._run(
                [str(PGBIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)]
                + ["-U", "postgres", self.database]
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            _as_postgres(args), check=check, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run(
            [str(PGBIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args], check=check
        )

    def _init_cluster(self) -> None:
        if not (PGBIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 server binaries not found in {PGBIN}")
        os.chmod(self.dir, 0o755)  # mkdtemp makes 0700, which would hide the socket
        Path(self.instance_dir).mkdir()
        if _is_root():
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.dir, "postgres")
        self._run(
            [str(PGBIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
            + ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        )

    def start(self) -> None:
        """Start the server (again) on the same data directory and port."""
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._pg_ctl("-l", str(self.dir / "server.log"), "start", "-o", options)

    def stop(self) -> None:
        """Stop the server; clients see their connections refused until start()."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self, down_seconds: float = 0) -> None:
        """Stop, stay down for down_seconds, start again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


class Redis:
    """A throwaway redis-server that keeps nothing on disk; `.url` is its database 0."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Redis":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server (again) on the same port, empty."""
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        """Stop the server; clients see their connections refused until start()."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Gunicorn:
    """The app (or another WSGI app) served by .venv/bin/gunicorn on 127.0.0.1; `.base_url`."""

    def __init__(
        self,
        env: dict,
        workers: int = 2,
        app: str = "wsgi:app",
        port: int | None = None,
        extra_args=(),
    ):
        self.env, self.workers, self.app = dict(env), workers, app
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="gsr-gunicorn.", suffix=".log")[1])

    def __enter__(self) -> "Gunicorn":
        args = [str(VENV_BIN / "gunicorn"), "--workers", str(self.workers)]
        args += ["--bind", f"127.0.0.1:{self.port}", *self.extra_args, self.app]
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_answering()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        """What gunicorn and the app printed so far."""
        return self.log_path.read_text(errors="replace")

    def _wait_until_answering(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(self.base_url + "/", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return  # it answered, if not with a 2xx
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log()}")


def production_env(postgres: Postgres, redis: Redis, port: int | None = None, **extra) -> dict:
    """Environment for APP_ENV=production on these services (plain HTTP on 127.0.0.1)."""
    env = {
        "APP_ENV": "production",
        "DATABASE_URL": postgres.url,
        "SECRET_KEY": "bench-only-secret-key-not-for-use",
        "SITE_URL": f"http://127.0.0.1:{port}" if port else "http://127.0.0.1",
        "TRUSTED_HOSTS": "127.0.0.1,localhost",
        "SESSION_COOKIE_SECURE": "false",
        "RATELIMIT_STORAGE_URI": redis.url,
        "REDIS_URL": redis.url,
        "INSTANCE_DIR": postgres.instance_dir,
        "LOG_LEVEL": "WARNING",
    }
    return {**env, **{key: str(value) for key, value in extra.items()}}


def flask(args: list[str], env: dict, quiet: bool = False) -> None:
    """Run one `flask …` command of the app with this environment; raise when it fails."""
    full_env = {**os.environ, "FLASK_APP": "wsgi", **env}
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(
        [str(VENV_BIN / "flask"), *args], cwd=ROOT, env=full_env, check=True, stdout=output
    )


def prepare_database(database_url: str, needs: int, products: int, env: dict | None = None):
    """Migrate, load reference data, seed the demo (with broker history) and train the ranker.

    Pass INSTANCE_DIR in env (e.g. Postgres.instance_dir) to keep the ranker's model files out
    of the repository's instance/ folder.
    """
    env = {"APP_ENV": "development", **(env or {}), "DATABASE_URL": database_url}
    steps = [
        ["db", "upgrade"],
        ["reference", "load"],
        ["seed-demo", "--needs", str(needs), "--products", str(products)],
        ["ranker", "train"],
    ]
    for step in steps:
        started = time.monotonic()
        flask(step, env)
        print(f"flask {' '.join(step)}: {time.monotonic() - started:.1f} s", file=sys.stderr)
