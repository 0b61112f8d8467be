"""Where a Redis-based transport under test finds its Redis: an in-memory fake or a real server.

Stack-neutral: nothing here imports a stack library, and ``redis`` / ``fakeredis`` are imported
only inside the functions that need them. Three ways to get a :class:`RedisTarget`:

* :func:`fake` - a fresh ``fakeredis.FakeServer`` (no socket, no process; needs ``fakeredis[lua]``
  because PySOA sends through a Lua script);
* :func:`real` - a shared server named by a URL or ``$RPCTEST_REDIS_URL``; under pytest-xdist each
  worker gets its own database unless the URL names one, so parallel workers never share queues;
* :class:`RedisServerProcess` - a private ``redis-server`` on a free loopback port, started and
  stopped by the test run (no persistence, no files left behind).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from typing import Any, Iterator, Literal
from urllib.parse import unquote, urlsplit

from rpctest.exceptions import ConfigError, RpctestError, StackUnavailable

__all__ = [
    "ENV_URL",
    "RedisTarget",
    "RedisServerProcess",
    "RedisUnavailable",
    "fake",
    "real",
    "find_redis_server_binary",
    "xdist_worker_db",
]

#: environment variable naming a shared Redis for tests (``redis://host:port[/db]``)
ENV_URL = "RPCTEST_REDIS_URL"




class RedisUnavailable(RpctestError, RuntimeError):
    """A real Redis was asked for and could not be started or reached (the message says why)."""


@dataclass
class RedisTarget:
    """One Redis database to point a transport at.

    ``kind`` is ``"fake"`` (then ``fake_server`` is a ``fakeredis.FakeServer`` and host/port are
    placeholders) or ``"real"`` (then ``host``, ``port``, ``db`` and ``url`` say where).
    """

    kind: Literal["fake", "real"]
    url: str | None = None
    fake_server: Any = None
    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    password: str | None = None

    @property
    def is_fake(self) -> bool:
        return self.kind == "fake"

    @property
    def address(self) -> str:
        """``redis://host:port/db`` for a real server, ``fakeredis`` for the in-memory one."""
        if self.is_fake:
            return "fakeredis"
        return f"redis://{self.host}:{self.port}/{self.db}"

    def client(self, **kwargs: Any) -> Any:
        """A new redis-py client of this database.

        The caller owns it: call ``client.connection_pool.disconnect()`` when done (or use
        :meth:`connect`), else its socket is left for the garbage collector (a ResourceWarning).
        """
        if self.is_fake:
            fakeredis = _import_fakeredis()
            return fakeredis.FakeStrictRedis(server=self.fake_server, db=self.db, **kwargs)
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - redis comes with pysoa and fakeredis
            raise StackUnavailable(f"the 'redis' client library is missing ({exc}). Install it with: {_install_hint()}") from exc
        kwargs.setdefault("socket_connect_timeout", 5.0)
        if self.password is not None:
            kwargs.setdefault("password", self.password)
        return redis.Redis(host=self.host, port=self.port, db=self.db, **kwargs)

    @contextlib.contextmanager
    def connect(self, **kwargs: Any) -> Iterator[Any]:
        """:meth:`client` as a context manager that closes the client's connections on exit."""
        client = self.client(**kwargs)
        try:
            yield client
        finally:
            client.connection_pool.disconnect()


def _install_hint() -> str:
    """What rpctest's pysoa extra brings (fakeredis with Lua, and redis-py through it)."""
    from rpctest.stacks.environments import extra_command

    return extra_command("pysoa")


def _import_fakeredis() -> Any:
    try:
        import fakeredis
    except ImportError as exc:
        raise StackUnavailable(f"fakeredis is not importable ({exc}). Install it with: {_install_hint()}") from exc
    try:
        import lupa  # noqa: F401  (PySOA sends every message through a Lua script)
    except ImportError as exc:
        raise StackUnavailable(
            f"fakeredis needs Lua support (the 'lupa' package) to run PySOA's send script ({exc}). "
            f"Install it with: {_install_hint()}"
        ) from exc
    return fakeredis


def fake() -> RedisTarget:
    """A new, empty in-memory Redis (a ``fakeredis.FakeServer`` of its own)."""
    fakeredis = _import_fakeredis()
    return RedisTarget(kind="fake", url=None, fake_server=fakeredis.FakeServer(), host="fakeredis", port=0, db=0)


def xdist_worker_db(worker: str | None = None) -> int | None:
    """The database a pytest-xdist worker should use on a shared Redis: ``gwN`` -> N + 1, else None."""
    worker = os.environ.get("PYTEST_XDIST_WORKER") if worker is None else worker
    match = re.fullmatch(r"gw(\d+)", worker or "")
    return int(match.group(1)) + 1 if match else None


def real(url: str | None = None) -> RedisTarget | None:
    """The shared real Redis named by ``url`` or ``$RPCTEST_REDIS_URL``, or None when neither is set.

    Without a database in the URL, an xdist worker ``gwN`` uses database N + 1 (database 0 outside
    xdist), so parallel workers never pop each other's requests.
    """
    url = url or os.environ.get(ENV_URL) or None
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("redis", ""):
        raise ConfigError(f"{ENV_URL}/url must be redis://host:port[/db], not {url!r} (scheme {parts.scheme!r})")
    if parts.scheme == "":  # "host:port" without a scheme
        parts = urlsplit("redis://" + url)
    try:
        port = parts.port or 6379
    except ValueError as exc:
        raise ConfigError(f"bad port in Redis URL {url!r}: {exc}") from None
    host = parts.hostname or "127.0.0.1"
    path = parts.path.strip("/")
    if path:
        if not path.isdigit():
            raise ConfigError(f"the database in Redis URL {url!r} must be a number, not {path!r}")
        db = int(path)
    else:
        db = xdist_worker_db() or 0
    password = unquote(parts.password) if parts.password else None
    return RedisTarget(kind="real", url=url, host=host, port=port, db=db, password=password)


def find_redis_server_binary() -> str | None:
    """The path of ``redis-server`` on PATH, or None."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(host: str, port: int, timeout: float = 0.25) -> bool:
    """True when a Redis answers PING on host:port (raw RESP; needs no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RedisServerProcess:
    """A private ``redis-server`` on a free 127.0.0.1 port, without persistence.

    ``redis-server`` cannot bind port 0 and report it, so a free port is picked by binding a socket
    to port 0 and closing it; if another process takes it first, the start is retried on a new
    port (``attempts`` times). Its log goes to a temporary directory that :meth:`stop` removes.

        process = RedisServerProcess()
        target = process.start()            # RedisTarget(kind="real", host="127.0.0.1", port=..., db=0)
        ...
        process.stop()

    or ``with RedisServerProcess() as process: target = process.target()``.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        start_timeout: float = 5.0,
        attempts: int = 3,
        extra_args: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.binary = binary or find_redis_server_binary()
        self.start_timeout = start_timeout
        self.attempts = attempts
        self.extra_args = list(extra_args)
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._finalizer: weakref.finalize[..., Any] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> RedisTarget:
        """Start the server (once; later calls just answer) and return a target for its database 0."""
        if self._proc is not None:
            return self.target()
        if not self.binary:
            raise RedisUnavailable(
                "redis-server was not found on PATH; install it (e.g. 'apt-get install redis-server' or "
                "'brew install redis') or point the tests at a running Redis with "
                f"{ENV_URL}=redis://host:port"
            )
        self._tmpdir = tempfile.TemporaryDirectory(prefix="rpctest-redis-")
        failures: list[str] = []
        try:
            for attempt in range(1, max(1, self.attempts) + 1):
                port = _free_port()
                ok, why = self._start_on(port, attempt)
                if ok:
                    self.port = port
                    return self.target()
                failures.append(f"attempt {attempt} on port {port}: {why}")
        except BaseException:
            self._cleanup_tmpdir()
            raise
        self._cleanup_tmpdir()
        raise RedisUnavailable(
            f"could not start {self.binary} after {len(failures)} attempts:\n" + "\n".join(failures)
        )

    def _start_on(self, port: int, attempt: int) -> tuple[bool, str]:
        assert self._tmpdir is not None and self.binary is not None  # start() checked both
        log_path = os.path.join(self._tmpdir.name, f"redis-{attempt}.log")
        args = [
            self.binary,
            "--port", str(port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", self._tmpdir.name,
            "--logfile", "",
            *self.extra_args,
        ]
        with open(log_path, "wb") as log:  # the child keeps its own descriptor; ours closes here
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True
            )
        deadline = time.monotonic() + self.start_timeout
        delay = 0.002
        while True:
            if _ping(self.host, port):
                self._proc = proc
                self._finalizer = weakref.finalize(self, _kill, proc)
                return True, ""
            if proc.poll() is not None:
                return False, f"redis-server exited with code {proc.returncode}: {self._read_log(log_path)}"
            if time.monotonic() > deadline:
                _kill(proc)
                return False, (
                    f"no answer to PING within {self.start_timeout} s; its output: {self._read_log(log_path)}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    @staticmethod
    def _read_log(path: str) -> str:
        try:
            with open(path, "rb") as fh:
                text = fh.read().decode("utf-8", "replace").strip()
        except OSError:
            return "(no output)"
        return text[-2000:] or "(no output)"

    def stop(self) -> None:
        """Terminate the server and wait for it (idempotent)."""
        proc, self._proc = self._proc, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if proc is not None:
            _kill(proc)
        self._cleanup_tmpdir()

    def _cleanup_tmpdir(self) -> None:
        tmpdir, self._tmpdir = self._tmpdir, None
        if tmpdir is not None:
            tmpdir.cleanup()

    def __enter__(self) -> "RedisServerProcess":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what clients need -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        self._require_running()
        return f"redis://{self.host}:{self.port}/0"

    def target(self, db: int = 0) -> RedisTarget:
        """A :class:`RedisTarget` for database ``db`` of this server."""
        self._require_running()
        assert self.port is not None
        return RedisTarget(
            kind="real", url=f"redis://{self.host}:{self.port}/{db}", host=self.host, port=self.port, db=db
        )

    def _require_running(self) -> None:
        if self._proc is None:
            raise RedisUnavailable("this RedisServerProcess is not running (call start() first)")

    def __repr__(self) -> str:
        state = f"port={self.port} pid={self.pid}" if self._proc is not None else "stopped"
        return f"<RedisServerProcess {state}>"
