"""The real PyCOM as a peer: is it importable here, its launcher hosting ``pycom_services`` in a
child process, and one call made with its own ``zerojson.Client`` or with rpctest's client, each
reduced to the same comparable answer.

The interop-zerojson nox session installs PyCOM 0.6.0 rewritten for Python 3.11 by
``../shared/peers/pycom_py311.py``; where that script is absent, the tests that need PyCOM skip
and say so, unless ``RPCTEST_REQUIRE_PYCOM=1`` (CI, where it is present) turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

from peer_process import stop_peer

HERE = Path(__file__).resolve().parent

#: RPCTEST_REQUIRE_PYCOM=1 (CI, where ../shared/peers is at hand) turns the skips into failures
REQUIRED = os.environ.get("RPCTEST_REQUIRE_PYCOM") == "1"


def _unavailable() -> str | None:
    missing = [name for name in ("zerojson", "pycom") if importlib.util.find_spec(name) is None]
    if missing:
        return ("the real PyCOM is not installed (no module " + ", ".join(missing) + "); the interop-zerojson nox session "
                "installs it where ../shared/peers/pycom_py311.py exists (see ../shared/peers/README.md)")
    return None


#: why the tests against the real PyCOM cannot run here (None: they can)
UNAVAILABLE = _unavailable()


def free_tcp_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def wait_until_answering(address: str, interface: str, deadline: float = 20.0) -> None:
    """Poll ``interface.introspect``-free ``stat``-like readiness: any reply at all means serving."""
    from rpctest.exceptions import TransportError
    from rpctest.stacks.zerojson.client import ZeroJSONClient

    until = time.monotonic() + deadline
    while True:
        with contextlib.closing(ZeroJSONClient(address, timeout=0.5)) as client:
            try:
                client.call(interface, "stat", None)
                return
            except TransportError:
                if time.monotonic() > until:
                    raise
        time.sleep(0.05)


@contextlib.contextmanager
def pycom_launcher(log: Path, *modules: str, nameserver: str | None = None, ready: str = "org.pycom.nameserver") -> Iterator[str]:
    """``python -m pycom -a ADDRESS pycom.apps.nameserver MODULES``: PyCOM's own launcher, with its
    local nameserver, in a child process; yields the address (retries once if the port was taken).
    With ``nameserver``, it registers with that one instead (``-n``) and hosts none; ``ready`` is an
    interface it serves, asked until it answers."""
    hosted = ["-n", nameserver] if nameserver else ["pycom.apps.nameserver"]
    for attempt in range(3):
        address = free_tcp_address()
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-W", "ignore", "-m", "pycom", "-a", address, *hosted, *modules],
                cwd=HERE, stdout=out, stderr=subprocess.STDOUT,
            )
        try:
            try:
                wait_until_answering(address, ready)
            except Exception:
                if process.poll() is not None and attempt < 2:
                    continue  # the port was taken between probing and binding
                raise AssertionError(f"PyCOM's launcher did not answer at {address}:\n{log.read_text()[-2000:]}") from None
            yield address
            return
        finally:
            stop_peer(process)


def pycom_answer(address: str, interface: str, method: str, args: Any, attachment: bytes | None = None) -> tuple[Any, ...]:
    """One call through PyCOM's own ``zerojson.Client``: ("ok", result, attachment) or ("error", code, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # zmq.eventloop.ioloop, which PyCOM imports
        import zerojson

    client = zerojson.Client(address, interface)
    try:
        try:
            reply = client.invoke(method, args=args, timeout=5000, attachment=attachment)
        except zerojson.RemoteError as error:
            return ("error", error.code, str(error))
        if isinstance(reply, tuple):
            return ("ok", reply[0], reply[1])
        return ("ok", reply, None)
    finally:
        client.close(linger=0)


def rpctest_answer(address: str, interface: str, method: str, args: Any, attachment: bytes | None = None) -> tuple[Any, ...]:
    """The same call through rpctest's wire client, reduced the same way."""
    from rpctest.stacks.zerojson.client import ZeroJSONClient

    with contextlib.closing(ZeroJSONClient(address, timeout=5.0)) as client:
        reply = client.call(interface, method, args, attachment=attachment)
    if reply.ok:
        return ("ok", reply.body, reply.attachment)
    error = reply.errors[0]
    return ("error", error.code, error.message)
