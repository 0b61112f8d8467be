"""Pact V4 files for the relay tests, written by rpctest's own exporter, and the real ``rpctest
pact-relay`` and ``pact verifier`` run against each other."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from rpctest.contracts import format as fmt

if TYPE_CHECKING:
    from broker_double import BrokerDouble

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent
CONSUMERS = ROOT / "contracts" / "consumers"

__all__ = ["verify_from_broker", "to_pact", "write_pact", "example_pact", "Relay", "relay", "verify", "CONSUMERS"]


# -- pact files: rpctest's own exporter ------------------------------------------------------------------


def to_pact(contract: fmt.ConsumerContract, *, exact: bool = False) -> dict[str, Any]:
    """One consumer contract as one Pact V4 document, as `rpctest contracts export --format pact` writes it."""
    from rpctest.contracts.pact import to_pact as export

    return export(contract, exact=exact)


def write_pact(contract: fmt.ConsumerContract, directory: Path, *, exact: bool = False) -> Path:
    path = directory / f"{contract.consumer}-{contract.service}.pact.json"
    path.write_text(json.dumps(to_pact(contract, exact=exact), indent=2, sort_keys=True), encoding="utf-8")
    return path


def example_pact(name: str, directory: Path) -> Path:
    """The pact of a committed example consumer contract (``contracts/consumers/NAME.json``)."""
    contract = fmt.load(CONSUMERS / f"{name}.json")
    assert isinstance(contract, fmt.ConsumerContract)
    return write_pact(contract, directory)


def consumer(stack: str, service: str, interactions: list[dict[str, Any]], *, name: str = "pact-web") -> fmt.ConsumerContract:
    """A consumer contract of hand-written interactions (as a recording would hold them)."""
    contract = fmt.parse({"rpctest_contract": fmt.FORMAT_VERSION, "kind": "consumer", "consumer": name, "stack": stack,
                          "service": service, "interactions": interactions})
    assert isinstance(contract, fmt.ConsumerContract)
    return contract


# -- the real relay and the real verifier --------------------------------------------------------------


@dataclass
class Relay:
    """A running ``rpctest pact-relay`` process and what it printed."""

    process: subprocess.Popen[str]
    reader: threading.Thread | None = None
    lines: list[str] = field(default_factory=list)
    log: str | None = None

    def printed(self, prefix: str) -> str:
        [line] = [line for line in self.lines if line.startswith("rpctest pact-relay: " + prefix)]
        return line[len("rpctest pact-relay: " + prefix):].strip()

    def verifier_arguments(self, pact: Path) -> list[str]:
        """The arguments the relay printed for ``pact verifier``, with the pact file filled in."""
        words = self.printed("pact verifier").split()
        return [str(pact) if word == "PACT.json" else word for word in words]

    def stop(self) -> str:
        """SIGTERM, as a CI job ends it: the relay must exit 0 (a clean shutdown). Its log (stderr)."""
        if self.log is not None:
            return self.log
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
        if self.reader is not None:
            self.reader.join(timeout=10)
        self.log = err
        assert self.process.returncode == 0, f"the relay did not stop cleanly (exit {self.process.returncode}):\n{err}"
        return err


def _environment() -> dict[str, str]:
    paths = [str(ROOT), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p), PACT_DO_NOT_TRACK="true")


@pytest.fixture
def relay() -> Iterator[Any]:
    """``relay(*args)``: start ``rpctest pact-relay ARGS`` and wait for its verifier line; every relay
    started is stopped with SIGTERM at the end, and must exit 0 (a clean shutdown)."""
    started: list[Relay] = []

    def start(*args: str) -> Relay:
        process = subprocess.Popen([sys.executable, "-m", "rpctest", "pact-relay", *args], cwd=ROOT, env=_environment(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
        running = Relay(process, reader)
        started.append(running)
        reader.start()
        deadline = time.monotonic() + 60
        while not any(line.startswith("rpctest pact-relay: pact verifier") for line in running.lines):
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                process.kill()
                _, err = process.communicate(timeout=10)
                reader.join(timeout=10)
                running.log = err
                pytest.fail(f"rpctest pact-relay {' '.join(args)} printed no verifier line; exit {process.returncode}\n{err}")
            running.lines.append(line.rstrip("\n"))
        return running

    yield start
    for running in started:
        running.stop()


def _read_lines(stream: Any, lines: "queue.Queue[str | None]") -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def pact_binary() -> str:
    """The real ``pact`` CLI of this environment (the ``pact`` extra: pact-python-cli)."""
    path = Path(sys.executable).with_name("pact")
    if not path.exists():
        pytest.fail(f"no pact CLI beside {sys.executable}: install rpctest[pact] (pact-python-cli) into this environment")
    return str(path)


def verify(pact: Path, provider: str, running: Relay) -> subprocess.CompletedProcess[str]:
    """The real ``pact verifier`` on ``pact`` for ``provider``, with the arguments the relay printed."""
    arguments = running.verifier_arguments(pact)
    assert arguments[:4] == ["-f", str(pact), "-n", arguments[3]]
    arguments[3] = provider
    return subprocess.run([pact_binary(), "verifier", "--no-colour", *arguments], cwd=ROOT, env=_environment(),
                          capture_output=True, text=True, timeout=180)


def verify_from_broker(broker: "BrokerDouble", provider: str, running: Relay, version: str) -> subprocess.CompletedProcess[str]:
    """The real ``pact verifier`` fetching ``provider``'s pacts from ``broker`` and publishing its
    results there (``--publish --provider-version``), with the arguments the relay printed."""
    arguments = running.verifier_arguments(Path("unused"))[4:]
    command = [pact_binary(), "verifier", "--no-colour", "-b", broker.url, "-n", provider,
               "--consumer-version-selectors", '{"mainBranch": true}', "--publish", "--provider-version", version, *arguments]
    return subprocess.run(command, cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=180)


def outcome(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
