"""The real AsyncAPY on both ends of the differential suite: its own client (``asyncapy.client.Client``)
and its own server (hosted by rpctest's host half, which runs AsyncAPY's ``_handle_client`` under
trio), plus ``rpctest serve`` in a child process, as a consumer's other process would run it.

Nothing here is AsyncAPY's code; the tests skip (or fail, under ``RPCTEST_REQUIRE_ASYNCAPY=1``) where
AsyncAPY is not installed (it is not on PyPI: the wheel is among the optional peers beside the repo).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack_asyncapy.aap_real import UNAVAILABLE, needs_asyncapy  # noqa: F401  (re-exported for the tests)

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO = TESTS_DIR.parent


@dataclass
class Answer:
    """What one connection got: the decoded packets in order, and whether anything came at all."""

    packets: list[Any] = field(default_factory=list)

    @property
    def silent(self) -> bool:
        return not self.packets


def host_port(address: str) -> tuple[str, int]:
    """``asyncapy://HOST:PORT[?...]`` -> (host, port)."""
    rest = address.split("://", 1)[-1].split("?", 1)[0]
    host, _, port = rest.rpartition(":")
    return host, int(port)


def ask(address: str, packet: Any, *, timeout: int = 5) -> Answer:
    """Send ``packet`` with AsyncAPY's own client (no TLS: the server has none) and read every reply
    frame until the server closes the connection, as one AsyncAProto request goes."""
    from asyncapy.client import Client

    host, port = host_port(address)
    client = Client(tls=False, timeout=timeout)
    client.connect(host, port)
    try:
        client.send(packet)
        answer = Answer()
        while True:
            raw = client.receive_raw()
            if not raw:
                return answer
            answer.packets.append(json.loads(raw[client.header_size + 2:].decode()))
    finally:
        client.disconnect()


@contextmanager
def rpctest_serve(contracts: Path, stack: str = "asyncapy") -> Iterator[str]:
    """``rpctest serve --stack STACK CONTRACTS`` in a child process; yields the address it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", stack, str(contracts)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(contracts.parent),
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        line = process.stdout.readline() if process.stdout is not None else ""
        if " at " not in line:
            process.kill()
            process.wait(timeout=10)
            reader.join(timeout=5)
            raise AssertionError(f"rpctest serve did not start: {line!r}{''.join(stderr)}")
        yield line.rsplit(" at ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def tally(stack: str, direction: str, compared: int, differed: int) -> str:
    """The line each differential test prints (``-s`` or the junit report shows it): the figures the
    suite's note quotes, per stack and direction."""
    line = f"interop {stack} {direction}: {compared} case(s) compared, {differed} differed"
    print(line)
    where = os.environ.get("RPCTEST_INTEROP_TALLY")  # a file collecting every test's line, for the note
    if where:
        with open(where, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return line
