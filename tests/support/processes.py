"""Real processes the end-to-end tests start on loopback: gunicorn, redis-server, the sandbox gateway,
localstripe (a Stripe-compatible server).

Every class here starts its process in a new process group and stops it (SIGTERM, then SIGKILL)
in ``stop()``; the fixtures call ``stop()`` in their teardown, so a failing test leaves nothing
running. The fault and scale-out suites take ports from 18850-18939; the browser and payment
suites name their own.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import redis
import requests
from django.conf import settings
from django.db import connection

from flashsale.embedded_redis import redis_server_binary
from tests.support.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_PORTS = range(18850, 18900)
REDIS_PORTS = range(18900, 18920)
SANDBOX_PORTS = range(18920, 18940)
LOCALSTRIPE_PORTS = range(18960, 18980)
POSTGRES_PORTS = range(18940, 18950)
# Starting gunicorn or a burst of requests takes longer than the default deadline on a busy machine.
DEADLINE_SECONDS = 30.0

wait_for = functools.partial(wait_until, timeout=DEADLINE_SECONDS)


_taken: set[int] = set()


def free_port(ports: Iterable[int]) -> int:
    """A port of ``ports`` nothing listens on (and this run has not handed out yet)."""
    for port in ports:
        if port in _taken:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in {ports}")


def release_port(port: int) -> None:
    _taken.discard(port)


def run_database_url() -> str:
    """The URL of the database pytest-django created for this run (``test_<name>``)."""
    db = connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def site_environment(*, redis_url: str, gateway_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a site process: this run's database, ``redis_url``, the test process's secrets.

    Rate limits are lifted (every request comes from 127.0.0.1) and DEBUG is off, so an error is a
    plain 500 as in production.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASHSALE_SALE_REDIS", "FLASHSALE_REDIS_MODE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="flashsale.settings",
        DATABASE_URL=run_database_url(),
        REDIS_URL=redis_url,
        FLASHSALE_SALE_REDIS_URL=redis_url,
        FLASHSALE_REDIS_MODE="standalone",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        SECRET_KEY=settings.SECRET_KEY,
        FLASHSALE_TOKEN_KEYS=",".join(f"{kid}:{secret}" for kid, secret in settings.FLASHSALE_TOKEN_KEYS.items()),
        FLASHSALE_TOKEN_SIGNING_KEY_ID=settings.FLASHSALE_TOKEN_SIGNING_KEY_ID,
        FLASHSALE_GATEWAY_WEBHOOK_SECRET=settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET,
        FLASHSALE_GATEWAY_API_KEY=settings.FLASHSALE_GATEWAY_API_KEY,
        FLASHSALE_GATEWAY_URL=gateway_url or settings.FLASHSALE_GATEWAY_URL,
        FLASHSALE_RESERVE_RATE_USER="1000000/s",
        FLASHSALE_RESERVE_RATE_IP="1000000/s",
        FLASHSALE_LOGIN_RATE_IP="1000000/s",
        FLASHSALE_LOGIN_RATE_USERNAME="1000000/s",
        FLASHSALE_SIGNUP_RATE_IP="1000000/s",
        CATALOG_PUSH_RATE="1000000/s",
        # Shoppers arrive with a CAPTCHA pass; test mode stays off as in production.
        FLASHSALE_CAPTCHA_TEST_MODE="0",
        FLASHSALE_WAITING_ROOM_ENABLED="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    )
    env.update(extra)
    return env


def spawn(command: list[str], *, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``command`` in the checkout, in a process group of its own (``stop_group`` ends it all),
    with stdout and stderr appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_group(process: subprocess.Popen, *, timeout: float = 10.0) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of the group (workers of a master that died first) goes too.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait(timeout=timeout)


def children(pid: int) -> set[int]:
    """Direct children of ``pid`` (Linux /proc), e.g. a gunicorn master's workers."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def serving(pid: int, port: int) -> bool:
    """True while ``pid`` holds an accepted (ESTABLISHED) connection to ``port``: it is mid-request."""
    inodes = _socket_inodes(pid)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                return True
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Gunicorn:
    """The site under gunicorn (sync workers), as the Procfile runs it, with a given environment."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int = 3,
        log_dir: Path,
        port: int | None = None,
        application: str = "flashsale.wsgi:application",
    ):
        self.env = env
        self.application = application
        self.workers = workers
        self.port = port or free_port(GUNICORN_PORTS)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        self.process = spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                self.application,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--graceful-timeout",
                "3",
                "--log-level",
                "warning",
            ],
            env=self.env,
            log_path=self.log_path,
        )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, what=f"gunicorn on {self.url} to answer /healthz")
        self.wait_workers()
        return self

    def worker_pids(self) -> set[int]:
        return {pid for pid in children(self.process.pid) if _alive(pid)}

    def wait_workers(self, *, other_than: set[int] = frozenset()) -> set[int]:
        """Await a full set of live workers (none of ``other_than``, e.g. one just killed)."""
        return wait_for(
            lambda: (pids := self.worker_pids()) and len(pids) == self.workers and not pids & other_than and pids,
            what=f"{self.workers} gunicorn workers",
        )

    def busy_worker(self) -> int:
        """Await a worker that is in the middle of a request and return its pid."""
        return wait_for(
            lambda: next((pid for pid in sorted(self.worker_pids()) if serving(pid, self.port)), None),
            what="a worker in the middle of a request",
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None
        release_port(self.port)


def stop_each(stoppables: Iterable) -> None:
    """``stop()`` every one of ``stoppables`` (``None`` skipped), even when one fails; then raise the first error."""
    errors = []
    for stoppable in stoppables:
        if stoppable is None:
            continue
        try:
            stoppable.stop()
        except Exception as exc:  # stop the others anyway, then report
            errors.append(exc)
    if errors:
        raise errors[0]


class PrivateRedis:
    """A redis-server of its own on a loopback port; ``aof`` turns on AOF with fsync on every write."""

    def __init__(self, *, workdir: Path, aof: bool, port: int | None = None):
        self.port = port or free_port(REDIS_PORTS)
        self.workdir = workdir
        self.aof = aof
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self) -> PrivateRedis:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                *persistence,
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited: {(self.workdir / 'redis.log').read_text()[-2000:]}")
            try:
                return self.client().ping()
            except redis.ConnectionError:
                return False
            except redis.BusyLoadingError:
                return False

        wait_for(answers, what=f"redis-server on {self.port}")
        return self

    def shutdown(self) -> None:
        """SHUTDOWN as an operator would (AOF is fsynced), and wait for the process to exit."""
        try:
            self.client().shutdown()
        except redis.ConnectionError:
            pass
        self.process.wait(timeout=DEADLINE_SECONDS)
        self.process = None

    def crash(self) -> None:
        """SIGKILL: no shutdown work at all, as when the machine or the process dies."""
        self.process.kill()
        self.process.wait(timeout=DEADLINE_SECONDS)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None
        release_port(self.port)


def postgres_binaries() -> Path | None:
    """The directory of PostgreSQL's ``initdb`` and ``postgres`` (Debian keeps them off PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


class PrivatePostgres:
    """A PostgreSQL server of its own (``initdb`` in a fresh directory, trust auth, loopback port).

    PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user, in a directory
    outside the test's (root-only) temporary tree.
    """

    def __init__(self, *, port: int | None = None):
        self.port = port or free_port(POSTGRES_PORTS)
        self.bin = postgres_binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL's initdb is not installed")
        self.workdir = Path(tempfile.mkdtemp(prefix="flashsale-pg-"))
        self.datadir = self.workdir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.process: subprocess.Popen | None = None
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.workdir, user="postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def init(self) -> PrivatePostgres:
        subprocess.run(
            [*self._as_user, str(self.bin / "initdb"), "-D", str(self.datadir), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return self

    def start(self) -> PrivatePostgres:
        self.process = subprocess.Popen(
            [
                *self._as_user,
                str(self.bin / "postgres"),
                "-D",
                str(self.datadir),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.workdir}",
                "-c",
                "fsync=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError("postgres exited")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
            except OSError:
                return False
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            )
            return ready.returncode == 0

        wait_for(answers, what=f"postgres on {self.port}")
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster, which ends its whole process tree)."""
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGINT)
                try:
                    self.process.wait(timeout=DEADLINE_SECONDS)
                except subprocess.TimeoutExpired:
                    stop_group(self.process)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
        release_port(self.port)


class _HealthCheckedServer:
    """A server process of ours on a loopback port that answers a health path with its own pid
    (only our own process counts: a leftover one on the port would answer for the wrong site)."""

    name = "the server"
    port: int
    url: str
    log_path: Path
    process: subprocess.Popen | None

    def _spawn(self, command: list[str], *, env: dict[str, str], health_path: str) -> None:
        self.process = process = spawn(command, env=env, log_path=self.log_path)

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log_tail(2000)}")
            try:
                response = requests.get(f"{self.url}{health_path}", timeout=1)
            except requests.RequestException:
                return False
            return response.status_code == 200 and response.json().get("pid") == process.pid

        wait_for(healthy, what=f"{self.name} to answer {health_path}")

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None
        release_port(self.port)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class SandboxGateway(_HealthCheckedServer):
    """The sandbox payment gateway process (``python -m sandbox_gateway``), posting its webhooks to
    ``site_url`` with our site's secrets, and an authenticated session on its operator API."""

    def __init__(
        self,
        *,
        port: int,
        db_path: Path,
        site_url: str,
        retry_max_seconds: float = 1,
        delivery_timeout_seconds: float | None = None,
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.db_path = db_path
        self.site_url = site_url
        self.retry_max_seconds = retry_max_seconds
        self.delivery_timeout_seconds = delivery_timeout_seconds
        self.log_path = db_path.with_suffix(".log")
        self.process: subprocess.Popen | None = None
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {settings.FLASHSALE_GATEWAY_API_KEY}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "FLASHSALE_GATEWAY"))}
        env.update(
            SANDBOX_TOKEN_KEYS=",".join(f"{kid}:{secret}" for kid, secret in settings.FLASHSALE_TOKEN_KEYS.items()),
            SANDBOX_WEBHOOK_SECRET=settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET,
            SANDBOX_API_KEY=settings.FLASHSALE_GATEWAY_API_KEY,
            SANDBOX_SITE_URL=self.site_url,
            SANDBOX_DB_PATH=str(self.db_path),
            # Quick retries so "the site came back" is noticed within a second or two.
            SANDBOX_RETRY_BASE_SECONDS="0.2",
            SANDBOX_RETRY_MAX_SECONDS=f"{self.retry_max_seconds:g}",
        )
        if self.delivery_timeout_seconds is not None:
            env["SANDBOX_DELIVERY_TIMEOUT_SECONDS"] = f"{self.delivery_timeout_seconds:g}"
        return env

    name = "the sandbox gateway"

    def start(self) -> SandboxGateway:
        self._spawn(
            [sys.executable, "-m", "sandbox_gateway", "--port", str(self.port)], env=self.env(), health_path="/healthz"
        )
        return self

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- the gateway's operator API, as the tests use it -----------------------------------

    def add_fault(self, kind: str, **params) -> dict:
        response = self.api.post(f"{self.url}/api/faults", json={"kind": kind, **params}, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, order_id: str) -> dict:
        response = self.api.get(f"{self.url}/api/orders/{order_id}", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def orders_on(self, day) -> list[dict]:
        response = self.api.get(
            f"{self.url}/api/orders", params={"date": day.isoformat(), "page_size": 1000}, timeout=5
        )
        assert response.status_code == 200, response.text
        return response.json()["orders"]

    def deliveries(self) -> list[dict]:
        response = self.api.get(f"{self.url}/api/deliveries", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()["deliveries"]


class LocalStripe(_HealthCheckedServer):
    """localstripe as its own process (``tests/support/localstripe_server.py``: loopback, in memory,
    started from scratch), the settings that point our site at it, and the calls Stripe.js makes."""

    SECRET_KEY = "sk_test_flashsale_localstripe"
    PUBLISHABLE_KEY = "pk_test_flashsale_localstripe"
    WEBHOOK_SECRET = "whsec_flashsale_localstripe"
    # Stripe's documented test cards, which localstripe treats the same way.
    CARD = "4242424242424242"
    DECLINED_CARD = "4000000000000341"

    def __init__(self, *, log_dir: Path, port: int | None = None):
        self.port = port or free_port(LOCALSTRIPE_PORTS)
        self.url = f"http://127.0.0.1:{self.port}"
        self.js_url = f"{self.url}/js.stripe.com/v3/"
        self.log_path = log_dir / f"localstripe-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.api = requests.Session()
        self.api.auth = (self.SECRET_KEY, "")

    def settings(self) -> dict[str, str]:
        """Our site's settings (or environment) for taking payments through this server."""
        return {
            "FLASHSALE_GATEWAY": "stripe",
            "STRIPE_SECRET_KEY": self.SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": self.PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": self.WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.url,
            "STRIPE_JS_URL": self.js_url,
        }

    name = "localstripe"

    def start(self) -> LocalStripe:
        self._spawn(
            [sys.executable, "-m", "tests.support.localstripe_server", "--port", str(self.port), "--from-scratch"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            health_path="/_harness/healthz",
        )
        return self

    def flush(self) -> None:
        """Forget every object (intents, charges, refunds, events): the next test starts from scratch."""
        response = requests.delete(f"{self.url}/_config/data", timeout=5)
        assert response.status_code == 200, response.text

    def send_webhooks_to(self, url: str) -> None:
        """Register our webhook endpoint (localstripe signs with ``WEBHOOK_SECRET`` and sends each event once)."""
        response = requests.post(
            f"{self.url}/_config/webhooks/flashsale", data={"url": url, "secret": self.WEBHOOK_SECRET}, timeout=5
        )
        assert response.status_code == 200, response.text

    def send_no_webhooks(self) -> None:
        """localstripe cannot forget an endpoint: point it at a closed loopback port (its deliveries fail there)."""
        self.send_webhooks_to("http://127.0.0.1:9/")

    def confirm_card(self, client_secret: str, *, card: str = CARD) -> requests.Response:
        """What Stripe.js's ``confirmCardPayment`` sends from the shopper's browser: the card, the
        publishable key and the PaymentIntent's client secret (no secret key)."""
        intent_id = client_secret.split("_secret_")[0]
        return requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}/confirm",
            json={
                "key": self.PUBLISHABLE_KEY,
                "client_secret": client_secret,
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": card, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
                },
            },
            timeout=5,
        )

    def intents(self) -> list[dict]:
        response = self.api.get(f"{self.url}/v1/payment_intents", params={"limit": 100}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def intent(self, intent_id: str) -> dict:
        response = self.api.get(f"{self.url}/v1/payment_intents/{intent_id}", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()


def run_manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """``python manage.py <args>`` in its own process with ``env``."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Processes:
    """Starts processes for one test and stops every one of them, last started first."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.started: list = []

    def gunicorn(
        self,
        *,
        redis_url: str,
        workers: int = 3,
        gateway_url: str | None = None,
        port: int | None = None,
        application: str = "flashsale.wsgi:application",
        **env,
    ) -> Gunicorn:
        server = Gunicorn(
            env=site_environment(redis_url=redis_url, gateway_url=gateway_url, **env),
            workers=workers,
            log_dir=self.tmp_path,
            port=port,
            application=application,
        )
        self.started.append(server)
        return server.start()

    def redis(self, *, aof: bool, name: str = "redis") -> PrivateRedis:
        server = PrivateRedis(workdir=self.tmp_path / name, aof=aof)
        self.started.append(server)
        return server.start()

    def postgres(self) -> PrivatePostgres:
        server = PrivatePostgres()
        self.started.append(_Removed(server))
        return server.init().start()

    def sandbox(self, *, site_url: str) -> SandboxGateway:
        gateway = SandboxGateway(
            port=free_port(SANDBOX_PORTS),
            db_path=self.tmp_path / "sandbox.sqlite3",
            site_url=site_url,
            delivery_timeout_seconds=5,
        )
        self.started.append(gateway)
        return gateway.start()

    def localstripe(self) -> LocalStripe:
        server = LocalStripe(log_dir=self.tmp_path)
        self.started.append(server)
        return server.start()

    def popen(self, command: list[str], *, env: dict[str, str], name: str) -> subprocess.Popen:
        """Any other process (a drainer, a command), stopped with its group in teardown."""
        process = spawn(command, env=env, log_path=self.tmp_path / f"{name}.log")
        self.started.append(_Plain(process))
        return process

    def stop_all(self) -> None:
        stop_each(reversed(self.started))


class _Removed:
    """Stops a server and removes its files (one whose directory lives outside the test's)."""

    def __init__(self, server):
        self.server = server

    def stop(self) -> None:
        self.server.remove()


class _Plain:
    def __init__(self, process: subprocess.Popen):
        self.process = process

    def stop(self) -> None:
        stop_group(self.process)
