"""The pytest plugin (``pytest -p rpctest``): options, markers, hooks, and the registration of the
fixtures (:mod:`rpctest.pytest_fixtures`) and of contract recording when pytest configures it.

Importing this module must stay cheap: it imports no stack library and not Hypothesis (a test checks
``sys.modules`` in a fresh interpreter). Everything heavy is imported inside the hook or fixture
that needs it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Generator, Iterator

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.config import RpctestConfig

#: pysoa 1.4.9's auto-loaded plugin imports ``_pytest.python.Instance``, gone since pytest 8.3: every run aborts
BLOCKED_PLUGINS = ("pysoa_test_plan",)

#: set on an item whose test call failed: strict-stub checks then stay quiet (the failure says enough)
call_failed = pytest.StashKey[bool]()

# option name -> (ini type, default, help); each has a --rpctest-* flag and an rpctest_* ini twin
_OPTIONS: dict[str, tuple[str, Any, str]] = {
    "strict": ("bool", None, "fail a test whose stubs were never called or that called an unstubbed service"),
    "consumer": ("string", None, "consumer name recorded in contracts (default: [tool.rpctest] consumer)"),
    "contracts_dir": ("string", None, "directory of contract files (default: contracts/)"),
    "redis_url": ("string", None, "a real Redis server for Redis-backed fixtures (else redis-server is started)"),
    "record": ("bool", None, "record every stubbed interaction into consumer contracts under the contracts dir"),
    "record_mode": ("string", None, "replace (default) or merge: what a recording run does to existing contract files"),
    "record_format": ("string", None, "rpctest (default) or pact: write consumer contracts as rpctest files or Pact V4 files"),
    "providers": ("paths", None, "provider contract files or directories: stubs that break them fail when created"),
}
#: shorter flags for options above: flag -> option name
_ALIASES: dict[str, str] = {"--rpctest-format": "record_format"}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # Called when this plugin registers, which under `-p rpctest` is before setuptools entry points
    # load: blocking here keeps pysoa's broken plan plugin from ever importing.
    for name in BLOCKED_PLUGINS:
        if pluginmanager.get_plugin(name) is None:
            pluginmanager.set_blocked(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rpctest", "rpctest: RPC stubs, in-process servers, contracts")
    for name, (kind, default, help_text) in _OPTIONS.items():
        flag = "--rpctest-" + name.replace("_", "-")
        if kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=f"rpctest_{name}", help=help_text)
            group.addoption(
                "--rpctest-no-" + name.replace("_", "-"),
                action="store_false",
                dest=f"rpctest_{name}",
                help=f"the opposite of {flag}",
            )
        elif kind == "paths":
            group.addoption(flag, action="append", default=None, dest=f"rpctest_{name}", metavar="PATH", help=help_text + " (repeatable)")
        else:
            group.addoption(flag, default=None, dest=f"rpctest_{name}", help=help_text)
        ini_type: Any = kind if kind in ("bool", "paths") else "string"  # Any: pytest types it as a Literal
        parser.addini(f"rpctest_{name}", help_text, type=ini_type, default=default)
    for alias, name in _ALIASES.items():
        group.addoption(alias, default=None, dest=f"rpctest_{name}", help=f"the same as --rpctest-{name.replace('_', '-')}")


def _option(config: pytest.Config, name: str) -> Any:
    """The command line wins over the ini file; None when neither sets it (pyproject then decides)."""
    value = config.getoption(f"rpctest_{name}")
    if value is not None:
        return value
    value = config.getini(f"rpctest_{name}")
    return value if value not in ("", None, []) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rpctest(strict=True, state=None, state_params=None): rpctest settings for a test, class or module; "
        "strict=False lets stubs go uncalled and calls reach unstubbed services; state= names the provider "
        "state (or list of states) every interaction of the test assumes, recorded into consumer contracts",
    )
    config.addinivalue_line(
        "markers",
        "rpc_fuzz(max_examples=100, mode='all'): how rpctest's fuzz_tests items fuzz "
        "(mode: positive = valid requests, negative = one-defect requests, all = both)",
    )
    profile = config.getoption("hypothesis_profile", None)
    if isinstance(profile, str) and profile.startswith("rpctest-"):
        # registered before Hypothesis' own plugin loads the profile; never loaded by rpctest itself
        from rpctest.fuzz.profiles import register_profiles

        register_profiles()
    from rpctest import config as rpc_config

    try:
        loaded = rpc_config.load(config.rootpath)
        merged = rpc_config.merge(loaded, **{name: _option(config, name) for name in _OPTIONS})
    except rpc_config.ConfigError as exc:
        raise pytest.UsageError(f"rpctest: {exc}") from None
    rpc_config.set_current(merged)
    import rpctest.pytest_fixtures

    config.pluginmanager.register(rpctest.pytest_fixtures, "rpctest-fixtures")
    if merged.record:
        config.pluginmanager.register(_ContractRecording(config, merged), "rpctest-recording")


def pytest_unconfigure(config: pytest.Config) -> None:
    from rpctest import config as rpc_config

    rpc_config.set_current(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[call_failed] = True
    if report.failed and call.excinfo is not None and not item.config.getoption("fulltrace", False):
        short = _usage_error_repr(call.excinfo)
        if short is not None:
            report.longrepr = short
    return report


def _usage_error_repr(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
    """rpctest's own usage errors (bad configuration, a missing stack, a stub it cannot honour) with
    the user's frames only: their message says what is wrong and what to do, and rpctest's frames
    around it only bury that. ``--fulltrace`` shows everything. None for any other failure."""
    from rpctest.exceptions import RpctestError, TransportError

    if not isinstance(excinfo.value, RpctestError) or isinstance(excinfo.value, TransportError):
        return None
    import contextlib

    import _pytest
    import pluggy

    # rpctest's frames, and the machinery between the test and them (pytest, pluggy, contextlib)
    hidden = tuple(os.path.dirname(os.path.abspath(m.__file__ or "")) + os.sep for m in (_pytest, pluggy, contextlib))
    hidden += (os.path.dirname(os.path.abspath(__file__)) + os.sep,)
    shown = excinfo.traceback.filter(lambda entry: not str(entry.path).startswith(hidden))
    # nothing of the user's on the stack (a decorator's stub failing to start): keep the raising frame,
    # so the report still has a location and the summary line its message
    excinfo.traceback = shown if len(shown) else excinfo.traceback[-1:]
    return excinfo.getrepr(style="short", chain=False)


class _ContractRecording:
    """Registered when recording: hears every stubbed interaction and writes consumer contracts.

    Under pytest-xdist each worker hands its recording to the controller (``workeroutput``), which
    merges them and writes once. Nothing is written when the run failed: a red run must not
    replace a good contract with a partial one.
    """

    def __init__(self, config: pytest.Config, settings: "RpctestConfig") -> None:
        from rpctest.contracts.recorder import Recorder

        self.config = config
        self.settings = settings
        self.recorder = Recorder(settings.consumer).start()
        self.written: list[Any] = []
        self.skipped_reason: str | None = None
        self.is_worker = hasattr(config, "workerinput")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[Any]:
        self.recorder.current_test = item.nodeid
        try:
            return (yield)
        finally:
            self.recorder.current_test = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        state = getattr(node, "workeroutput", {}).get("rpctest_recording")
        if state:
            self.recorder.absorb(state)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.recorder.stop()
        if self.is_worker:
            self.config.workeroutput["rpctest_recording"] = self.recorder.export_state()  # type: ignore[attr-defined]
            return
        if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            self.skipped_reason = f"the run did not pass (exit status {int(exitstatus)}); existing contracts were left untouched"
            return
        from rpctest.contracts.format import ContractError

        try:
            self.written = self.recorder.write(self.settings.contracts_dir, mode=self.settings.record_mode, format=self.settings.record_format)
        except (ContractError, OSError) as exc:
            self.skipped_reason = f"contracts not written: {exc}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker:
            return
        if self.skipped_reason:
            terminalreporter.write_line(f"rpctest: {self.skipped_reason}", yellow=True)
            return
        if self.recorder.recovered:
            terminalreporter.write_line(
                f"rpctest: completed an interrupted recording first ({len(self.recorder.recovered)} file(s) of a run "
                f"that was killed while writing)"
            )
        count = sum(len(c.interactions) for c in self.recorder.contracts())
        where = self.settings.contracts_dir
        terminalreporter.write_line(
            f"rpctest: recorded {count} interaction(s) into {len(self.written)} consumer contract(s) under {where}"
        )
        for path in self.written:
            terminalreporter.write_line(f"  {path}")
