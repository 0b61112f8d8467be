"""A user's AsyncAPY server in a child process, so a fuzz run can measure it and kill it.

Framing fuzz sends AsyncAPY input that makes its read loop spin at 100 % CPU (a half-close inside a
frame) or hold a connection until its timeout. In-process, that would steal the test process's
CPU and could not be stopped from outside; in a child it is *measured* (the child's CPU time,
from ``/proc``) and, when the run's budget is spent, *killed*.

Protocol between the two (private to this module): the child prints ``LISTENING <port>`` once it
serves, then answers each ``sessions`` line on its stdin with ``SESSIONS <open> <leaked>``; it
stops when its stdin closes, so it never outlives the parent.

Run by hand: ``python -m rpctest.stacks.asyncapy.process MODULE:SERVER [--server-timeout N]``.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import threading
import time

from rpctest.exceptions import ConfigError, RpctestError

__all__ = ["ServerProcess", "main"]

_READY = "LISTENING"
_SESSIONS = "SESSIONS"
#: how long the child may take to import the server and listen
_START_WAIT = 20.0


class ServerProcess:
    """A child process serving ``provider`` (``"module:object"``) on 127.0.0.1 port 0.

    ``server_timeout`` (whole seconds) replaces the server's own timeout for the run, so input
    that holds a connection until that timeout costs seconds, not AsyncAPY's default minute.
    ``address`` is the ``asyncapy://`` address with the server's framing; :meth:`cpu_seconds`
    and :meth:`sessions` measure it; :meth:`stop` ends it (and kills it if it does not end).
    """

    def __init__(self, provider: str, *, server_timeout: int | None = None, python: str | None = None) -> None:
        if not isinstance(provider, str) or ":" not in provider:
            raise ConfigError(f"a server for a child process is named 'module:object', not {provider!r}")
        self.provider = provider
        self.server_timeout = server_timeout
        self.python = python or sys.executable
        self.address: str | None = None
        self.process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._stderr: list[str] = []

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self) -> "ServerProcess":
        command = [self.python, "-m", "rpctest.stacks.asyncapy.process", self.provider]
        if self.server_timeout is not None:
            command += ["--server-timeout", str(int(self.server_timeout))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env
        )
        self._reader = threading.Thread(target=self._read, name="rpctest-asyncapy-process", daemon=True)
        self._reader.start()
        threading.Thread(target=self._drain_stderr, name="rpctest-asyncapy-process-stderr", daemon=True).start()
        line = self._next_line(_START_WAIT)
        if line is None or not line.startswith(_READY + " "):
            self.stop()
            tail = "".join(self._stderr[-20:]).strip()
            raise ConfigError(
                f"the AsyncAPY server {self.provider} did not start in a child process"
                + (f": {tail.splitlines()[-1]}" if tail else f" within {_START_WAIT:g} s")
            )
        self.address = line.split(" ", 1)[1].strip()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)
            del self._stderr[:-200]

    def _next_line(self, wait: float) -> str | None:
        try:
            return self._lines.get(timeout=wait)
        except queue.Empty:
            return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the child has used so far (None where ``/proc`` is not available)."""
        if self.pid is None:
            return None
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def runnable_seconds(self) -> tuple[float, float] | None:
        """``(on a CPU, waiting for a CPU)`` seconds so far, summed over the child's threads, from
        ``/proc/PID/task/*/schedstat`` (None where the kernel does not keep them).

        CPU time alone cannot tell a busy loop on a loaded machine: a spinning process that shares
        its core with others gets only its share of it. Spinning or not, it is runnable the whole
        time, on a CPU or in the run queue, while a process that waits for input is neither.
        """
        if self.pid is None:
            return None
        on_cpu = waiting = 0
        try:
            tasks = os.listdir(f"/proc/{self.pid}/task")
            for task in tasks:
                with open(f"/proc/{self.pid}/task/{task}/schedstat") as stat:
                    fields = stat.read().split()
                on_cpu += int(fields[0])
                waiting += int(fields[1])
        except (OSError, ValueError, IndexError):
            return None
        return on_cpu / 1e9, waiting / 1e9

    def sessions(self, wait: float = 2.0) -> tuple[int, int] | None:
        """``(open, leaked)`` sessions in the server's table, or None if the child does not answer."""
        if not self.alive():
            return None
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write("sessions\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            line = self._next_line(left)
            if line is None:
                return None
            if line.startswith(_SESSIONS + " "):
                _, opened, leaked = line.split()
                return int(opened), int(leaked)
        return None

    def stop(self) -> None:
        """Close the child's stdin (it stops), then kill it if it has not ended within 3 s."""
        process = self.process
        if process is None:
            return
        for stream in (process.stdin,):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            process.wait(3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(3)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        if self._reader is not None:
            self._reader.join(3)

    def __enter__(self) -> "ServerProcess":
        return self if self.process is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """The child: host the server on port 0, say where, answer ``sessions``, stop at stdin's end."""
    import logging

    from rpctest.stacks.asyncapy.host import quiet_logs, resolve_provider, serve

    parser = argparse.ArgumentParser(prog="python -m rpctest.stacks.asyncapy.process")
    parser.add_argument("provider", help="MODULE:OBJECT, an asyncapy.Server or a function returning one")
    parser.add_argument("--server-timeout", type=int, default=None, help="replace the server's timeout (whole seconds)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    quiet_logs()
    try:
        provider = resolve_provider(args.provider)
    except (RpctestError, ImportError) as exc:  # said in one line: the parent shows it as the reason
        print(f"rpctest: {exc}", file=sys.stderr, flush=True)
        return 2
    if args.server_timeout is not None:
        provider.server.timeout = args.server_timeout
    with serve(provider) as service:
        print(f"{_READY} {service.address}", flush=True)
        for line in sys.stdin:
            if line.strip() == "sessions":
                print(f"{_SESSIONS} {service.open_sessions()} {service.leaked_sessions()}", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child process
    sys.exit(main())
