"""The test suite, one environment per stack with that stack's real pins (docs/architecture.md, "Environments").

Run everything with ``python3 scripts/test.py`` (README), or one session: ``.venv/bin/nox -s pysoa``.
The stacks' pins conflict (pysoa holds msgpack 0.6 and attrs<22, pykern.api needs msgpack>=1.0), so
no single environment can test them all; each session installs rpctest with one stack's extra and
runs that stack's tests plus the stack-neutral ones that need it.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["core", "pysoa", "pykern", "zerojson", "kyoukai", "asyncapy", "interop-pysoa", "interop-pykern", "interop-zerojson", "interop-kyoukai", "interop-asyncapy", "compat-pytest8", "compat-pytest8-mock", "compat-pytest9", "compat-pytest9-mock", "install", "docs", "report", "pact", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTEST = ["pytest", "-n", "2", "-p", "rpctest"]
TEST_TOOLS = ["pytest-xdist>=3", "pytest-asyncio>=0.24"]
#: what pysoa.test suites stack with stub_action (pysoa's own tests use both): the real packages, so the
#: patcher protocol is tested against the decorators users have, not against a reimplementation
STUB_COMPAT_TOOLS = ["parameterized", "mock"]


def _constraints(stack: str) -> str:
    """The stack's constraints file: package data (rpctest/constraints/), so users get the same file."""
    return f"rpctest/constraints/{stack}.txt"


def _pytest(session: nox.Session, *paths: str) -> None:
    env = {"RPCTEST_REQUIRE_REDIS": os.environ.get("RPCTEST_REQUIRE_REDIS", "0"),
           "RPCTEST_REQUIRE_PYCOM": os.environ.get("RPCTEST_REQUIRE_PYCOM", "0")}
    session.run("python", "-m", *PYTEST, *paths, *session.posargs, env=env)


@nox.session
def core(session: nox.Session) -> None:
    """The stack-neutral core with no stack library installed at all."""
    session.install("-e", ".[pact]", *TEST_TOOLS, *STUB_COMPAT_TOOLS)  # the pact CLI: contracts publish
    session.run("python", "-c", "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('pysoa', 'fakeredis')))")
    _pytest(session, "tests/core")
    # the dogfood contracts verify with no stack library installed at all
    session.run("rpctest", "contracts", "verify", "contracts/")


@nox.session
def pact(session: nox.Session) -> None:
    """Pact V4 export and import against Pact's own parser, and pact-python's consumer DSL; no stack library."""
    session.install("-e", ".[pact]", "pact-python", *TEST_TOOLS)
    session.run("python", "-c", "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('pysoa', 'pykern', 'kyoukai', 'asyncapy', 'zmq')))")
    _pytest(session, "tests/pact")


@nox.session
def pysoa(session: nox.Session) -> None:
    """pysoa 1.4.9 with its real pins: msgpack 0.6, attrs<22, redis<4, fakeredis 2.7 (+ a real redis-server)."""
    session.install("-c", _constraints("pysoa"), "-e", ".[pysoa,pact]", *TEST_TOOLS, *STUB_COMPAT_TOOLS)
    session.run("python", "-c", "import msgpack, attr; print('msgpack', msgpack.version, 'attrs', attr.__version__)")
    _pytest(session, "tests/stack_pysoa", "examples/pysoa")


@nox.session
def pykern(session: nox.Session) -> None:
    """pykern.api installed light (--no-deps, plus tornado, msgpack>=1, py, six), as the docs say."""
    _install_pykern(session)
    _pytest(session, "tests/stack_pykern", "examples/pykern")


def _install_pykern(session: nox.Session) -> None:
    session.install("--no-deps", "-c", _constraints("pykern"), "pykern")
    session.install("-c", _constraints("pykern"), "-e", ".[pykern,pact]", *TEST_TOOLS)
    session.run("python", "-c", "import pykern.api.server, msgpack; print('pykern.api ok, msgpack', msgpack.version)")


@nox.session(name="interop-pykern")
def interop_pykern(session: nox.Session) -> None:
    """The differential suite for pykern.api (tests/interop_pykern): rpctest's client, fuzzer and live
    verify against pykern's real server, and pykern's real client against rpctest serve, answer for
    answer; the install is the pykern session's."""
    _install_pykern(session)
    _pytest(session, "tests/interop_pykern")


@nox.session
def zerojson(session: nox.Session) -> None:
    """ZeroJSON on pyzmq alone (PyPI's pycom cannot be imported on Python 3.7+): real ZeroMQ sockets."""
    session.install("-e", ".[zerojson,pact]", *TEST_TOOLS)
    session.run("python", "-c", "import zmq; print('pyzmq', zmq.__version__, 'libzmq', zmq.zmq_version())")
    _pytest(session, "tests/stack_zerojson", "examples/zerojson")


def _install_kyoukai(session: nox.Session) -> None:
    session.install("--no-deps", "-c", _constraints("kyoukai"), "Kyoukai")
    session.install("--no-warn-conflicts", "-c", _constraints("kyoukai"), "-e", ".[kyoukai,pact]", *TEST_TOOLS)
    session.run("python", "-c", "from rpctest.stacks.kyoukai.host import require_kyoukai, version_problem; "
                "assert version_problem() is None, version_problem(); print('Kyoukai', require_kyoukai().app.__version__)")


@nox.session
def kyoukai(session: nox.Session) -> None:
    """Kyoukai 2.2.1.post1 installed --no-deps plus the newer dependencies it runs on (its own pins do not
    build on Python 3.11); rpctest's shim makes it import, and its error-handler regression stays visible."""
    _install_kyoukai(session)
    _pytest(session, "tests/stack_kyoukai", "examples/kyoukai")


@nox.session(name="interop-kyoukai")
def interop_kyoukai(session: nox.Session) -> None:
    """The differential suite against a real Kyoukai app, both directions (tests/interop_kyoukai): the
    kyoukai session's installs, apps written for the suite."""
    _install_kyoukai(session)
    _pytest(session, "tests/interop_kyoukai")


@nox.session(name="bench-kyoukai")
def bench_kyoukai(session: nox.Session) -> None:
    """rpctest's Kyoukai fuzzing against Schemathesis (benchmarks/bench_kyoukai.py); not part of the test run."""
    session.install("--no-deps", "-c", _constraints("kyoukai"), "Kyoukai")
    session.install("--no-warn-conflicts", "-c", _constraints("kyoukai"), "-e", ".[kyoukai]", "schemathesis")
    session.run("python", "-c", "from rpctest.stacks.kyoukai.host import version_problem; assert version_problem() is None, version_problem()")
    session.run("python", "benchmarks/bench_kyoukai.py", *session.posargs)


def _install_asyncapy(session: nox.Session) -> None:
    session.install("-e", ".[asyncapy,pact]", *TEST_TOOLS)
    source = os.environ.get("RPCTEST_ASYNCAPY")
    if source:
        session.install("--no-deps", source)


@nox.session
def asyncapy(session: nox.Session) -> None:
    """AsyncAProto's wire half needs nothing beyond rpctest's own dependencies; the host half needs
    AsyncAPY, which is not on PyPI: set RPCTEST_ASYNCAPY to a checkout (or a pip URL) of it to run
    those tests too (they skip with the install instructions otherwise)."""
    _install_asyncapy(session)
    _pytest(session, "tests/stack_asyncapy", "examples/asyncapy")


@nox.session(name="interop-asyncapy")
def interop_asyncapy(session: nox.Session) -> None:
    """The differential suite against the real AsyncAPY server and client, both directions
    (tests/interop_asyncapy); like the asyncapy session, it needs RPCTEST_ASYNCAPY to run (it skips
    without AsyncAPY, and fails under RPCTEST_REQUIRE_ASYNCAPY=1, as in CI)."""
    _install_asyncapy(session)
    _pytest(session, "tests/interop_asyncapy")


@nox.session(name="interop-pysoa")
def interop_pysoa(session: nox.Session) -> None:
    """The differential suite against the real PySOA: its own Server on Redis (a real redis-server, or
    fakeredis) and its own Client, against rpctest's wire client, fuzzer, live verify and stub server."""
    session.install("-c", _constraints("pysoa"), "-e", ".[pysoa]", *TEST_TOOLS)
    _pytest(session, "tests/interop_pysoa")


#: pytest releases the pysoa.test compatibility layer is tested on: the oldest supported line (8.4, where
#: pysoa's own ServerTestCase stopped importing) and the newest release. pysoa 1.4.9 pins no pytest
#: outside its test-plan extra (pytest<5.4, which nobody can use on current pytest anyway).
COMPAT_PYTESTS = {"pytest8": "pytest~=8.4.2", "pytest9": "pytest==9.2.0"}
#: what a migrating suite commonly installs next to pysoa.test (pysoa's own tests use parameterized)
COMPAT_TOOLS = ["parameterized==0.9.0"]
COMPAT_MOCK = "mock==5.2.0"


def _compat(session: nox.Session, pytest_line: str, with_mock: bool) -> None:
    """rpctest.compat.pysoa_test against the real pysoa 1.4.9 (tests/compat_pysoa), on one pytest line,
    with or without the ``mock`` backport (pysoa.test.compatibility.mock resolves to it when installed)."""
    session.install("-c", _constraints("pysoa"), "-e", ".[pysoa]", *TEST_TOOLS, *COMPAT_TOOLS)
    session.install("-c", _constraints("pysoa"), COMPAT_PYTESTS[pytest_line])
    if with_mock:
        session.install(COMPAT_MOCK)
    else:
        session.run("python", "-m", "pip", "uninstall", "-y", "-q", "mock")
    probe = ("import importlib.util as u, pytest, sys; has = u.find_spec('mock') is not None; "
             f"print('pytest', pytest.__version__, 'mock backport', has); sys.exit(has is not {with_mock})")
    session.run("python", "-c", probe)
    _pytest(session, "tests/compat_pysoa")


@nox.session(name="compat-pytest8")
def compat_pytest8(session: nox.Session) -> None:
    """The pysoa.test compatibility layer on pytest 8.4.x, without the mock backport."""
    _compat(session, "pytest8", with_mock=False)


@nox.session(name="compat-pytest8-mock")
def compat_pytest8_mock(session: nox.Session) -> None:
    """The pysoa.test compatibility layer on pytest 8.4.x, with the mock backport installed."""
    _compat(session, "pytest8", with_mock=True)


@nox.session(name="compat-pytest9")
def compat_pytest9(session: nox.Session) -> None:
    """The pysoa.test compatibility layer on the newest pytest 9, without the mock backport."""
    _compat(session, "pytest9", with_mock=False)


@nox.session(name="compat-pytest9-mock")
def compat_pytest9_mock(session: nox.Session) -> None:
    """The pysoa.test compatibility layer on the newest pytest 9, with the mock backport installed."""
    _compat(session, "pytest9", with_mock=True)


#: the real PyCOM, the reference ZeroJSON implementation: pycom 0.6.0's sdist, rewritten to import on 3.11
PYCOM_SDIST_SHA256 = "be7f3a05ae8a90ad72c20e70ff56e90952a444147f7504543c28f594037d1d60"
PYCOM_REWRITE = os.path.join("..", "shared", "peers", "pycom_py311.py")


def _install_real_pycom(session: nox.Session) -> None:
    """As ../shared/peers/README.md says: download pycom 0.6.0's sdist, check it, unpack it into the
    session's tmp dir, rewrite it for Python 3.11 with the peers' script, and put it on the path with
    a .pth file. Without the script (no ../shared here) nothing is installed: the tests that need the
    real PyCOM skip, saying why (RPCTEST_REQUIRE_PYCOM=1 makes them fail instead)."""
    import hashlib
    import tarfile

    script = os.path.abspath(PYCOM_REWRITE)
    if not os.path.isfile(script):
        session.log(f"{PYCOM_REWRITE} is absent: the tests against the real PyCOM will skip")
        return
    session.install("pyzmq==27.3.0", "six==1.17.0", "tornado==6.6.1")
    probe = "import zerojson, pycom, pycom.launcher, pycom.apps.nameserver"
    found = "import importlib.util as u; print(all(u.find_spec(m) for m in ('zerojson', 'pycom')))"
    if session.run("python", "-c", found, silent=True, log=False).strip() == "True":
        session.run("python", "-W", "ignore", "-c", probe)
        return  # installed by an earlier run of this session
    tmp = os.path.abspath(session.create_tmp())
    sdists, source = os.path.join(tmp, "pycom-sdist"), os.path.join(tmp, "pycom-src")
    session.run("python", "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "pycom==0.6.0", "-d", sdists)
    archive = os.path.join(sdists, "pycom-0.6.0.tar.gz")
    with open(archive, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    if digest != PYCOM_SDIST_SHA256:
        session.error(f"pycom-0.6.0.tar.gz has sha256 {digest}, not {PYCOM_SDIST_SHA256}")
    if os.path.isdir(source):
        import shutil

        shutil.rmtree(source)
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    tree = os.path.join(source, "pycom-0.6.0")
    session.run("python", script, tree)
    purelib = session.run("python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", silent=True).strip()
    with open(os.path.join(purelib, "pycom.pth"), "w") as pth:
        pth.write(tree + "\n")
    session.run("python", "-W", "ignore", "-c", probe)


@nox.session(name="interop-zerojson")
def interop_zerojson(session: nox.Session) -> None:
    """The differential suite against the real PyCOM (pycom 0.6.0 rewritten for Python 3.11, see
    _install_real_pycom): its own launcher hosts services written for the suite, its own
    zerojson.Client calls rpctest's stub server, rpctest's client, fuzzer and live verify call it."""
    session.install("-e", ".[zerojson]", *TEST_TOOLS)
    _install_real_pycom(session)
    _pytest(session, "tests/interop_zerojson")


@nox.session
def install(session: nox.Session) -> None:
    """docs/install.md's commands as users run them, each in a fresh venv (python -m venv): from a wheel for
    every stack; from a git+file:// URL of a clone of HEAD, a clone and an editable clone for one stack each.
    Then the pins, rpctest doctor and a one-test pytest -p rpctest run (tests/install). No git host needed."""
    session.install("-e", ".", *TEST_TOOLS)
    session.run("python", "-m", *PYTEST, "tests/install", *session.posargs, env={"RPCTEST_INSTALL_TESTS": "1"})


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation builds with no warnings."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", os.path.join(session.create_tmp(), "site"))


@nox.session
def report(session: nox.Session) -> None:
    """``rpctest report --html`` rendered by a real headless Chromium (the operating system's package, driven
    by Playwright, which downloads no browser here) and the report formats parsed back by lxml as well as
    ElementTree. CI installs chromium and sets RPCTEST_REQUIRE_BROWSER=1, so the browser test cannot skip."""
    session.install("-e", ".", *TEST_TOOLS, "playwright>=1.40", "pillow>=10", "lxml>=5")
    env = {"RPCTEST_REQUIRE_BROWSER": os.environ.get("RPCTEST_REQUIRE_BROWSER", "0")}
    session.run("python", "-m", *PYTEST, "tests/report", "tests/core/test_report_formats.py", *session.posargs, env=env)


#: the mypy release the typecheck session checks with: strict mode's findings change between releases
MYPY = "mypy==2.4.1"


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over rpctest/ ([tool.mypy] in pyproject.toml, docs/typing.md) with no stack library
    installed, as the core session tests it; then a user's module importing the public API type-checks
    (tests/typecheck). rpctest goes in as users get it, not editable: mypy cannot see through the
    import hook of an editable install, and a user's mypy reads the installed package's py.typed."""
    session.install(".[dev]", MYPY)
    session.run("mypy")
    # the README's scripts (the demo, the test runner) against rpctest's real API: the demo reached a
    # method the stack hosts no longer had, and only the demo's own run found it. Not strict: the
    # scripts are glue, what counts is every rpctest name they use and its arguments.
    session.run("mypy", "--follow-imports=silent", "--ignore-missing-imports", "--allow-untyped-defs", "--allow-untyped-calls",
                "--allow-any-generics", "--allow-subclassing-any", "--allow-incomplete-defs", "--allow-untyped-decorators", "scripts/")
    session.run("python", "-m", *PYTEST, "tests/typecheck", *session.posargs, env={"RPCTEST_REQUIRE_MYPY": "1"})
