"""The documented Kyoukai install, the shim, and what rpctest says when Kyoukai is missing or wrong.

The shim must make Kyoukai 2.2.1.post1 run, and must leave its error-handler regression alone: a
plain 404 still reaches the wire as Kyoukai's canned HTTP/1.0 500.
"""

from __future__ import annotations

import asyncio
import collections
import collections.abc
import importlib.metadata
import inspect
import subprocess
import sys

import pytest

from rpctest import constraints
from rpctest.exceptions import StackUnavailable
from rpctest.stacks import get_adapter
from rpctest.stacks.kyoukai import compat, host
from rpctest.stacks.environments import INSTALLS
from rpctest.stacks.kyoukai.host import INSTALL_COMMANDS, require_kyoukai, serve, version_problem
from stack_kyoukai.kyk_wire import request

pytestmark = pytest.mark.filterwarnings("ignore:Explicitly passing the parent context:DeprecationWarning")


def test_this_environment_is_the_documented_install() -> None:
    pins = constraints.pins("kyoukai")  # the test environment's pins, not the benchmark-only ones
    assert pins["Kyoukai"] == "2.2.1.post1" and pins["werkzeug"] == "2.3.8"
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert installed == pins
    kyoukai = require_kyoukai()
    assert kyoukai.app.__version__ == "2.2.1.post1" == host.installed_version()
    assert version_problem() is None and get_adapter("kyoukai").host.unavailable_reason() is None


def test_the_shim_is_one_alias_and_idempotent() -> None:
    require_kyoukai()
    first = compat.apply()
    assert compat.apply() == first == ["Mapping"]  # Python 3.11 lacks it; applied once, by rpctest
    assert collections.Mapping is collections.abc.Mapping  # type: ignore[attr-defined]
    assert not hasattr(collections, "MutableMapping")  # nothing beyond what Kyoukai needs
    assert compat.applied() and compat.describe() == "applied: collections.Mapping aliased to collections.abc"


def test_the_shim_leaves_the_error_handler_regression_in_place() -> None:
    kyoukai = require_kyoukai()
    from werkzeug.exceptions import NotFound

    handler = kyoukai.Kyoukai.handle_httpexception
    assert inspect.getsourcefile(handler).endswith("kyoukai/app.py")  # type: ignore[union-attr]
    loop = asyncio.new_event_loop()
    try:
        app = kyoukai.Kyoukai("bug", loop=loop)
        context = kyoukai.HTTPRequestContext.__new__(kyoukai.HTTPRequestContext)
        context.bp = None
        # the post1 code path: the final status equals the exception's code, so nothing is returned
        assert loop.run_until_complete(app.handle_httpexception(context, NotFound(), {})) is None
    finally:
        loop.close()


def test_a_404_route_is_a_canned_500_on_the_wire() -> None:
    import socket

    def factory():
        kyoukai = require_kyoukai()
        from werkzeug.exceptions import abort

        app = kyoukai.Kyoukai("bug")

        @app.route("/gone")
        async def gone(ctx):
            abort(404)

        return app

    with serve(factory) as service:
        with socket.create_connection(("127.0.0.1", service.port), timeout=3) as sock:
            sock.sendall(request("GET", "/gone"))
            data = b""
            while b"tracker.</a>\r\n" not in data:
                chunk = sock.recv(4096)
                assert chunk, data
                data += chunk
        unknown = service.call("GET /nowhere")
    assert data.startswith(b"HTTP/1.0 500 INTERNAL SERVER ERROR\r\n") and b"Content-Length: 310\r\n" in data
    assert b"<title>Critical Server Error</title>" in data
    assert unknown.errors[0].code == 500 and unknown.meta["http_version"] == "HTTP/1.0"


# -- what a user without (the right) Kyoukai is told ----------------------------------------------------------

BLOCKED = r"""
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "kyoukai" or name.startswith("kyoukai."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
from rpctest.stacks import get_adapter
from rpctest.stacks.kyoukai import serve

print(get_adapter("kyoukai").host.unavailable_reason())
try:
    serve("anything:app")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_missing_kyoukai_is_a_clear_message_with_the_commands_not_a_traceback() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    reason, raised = result.stdout.strip().splitlines()
    assert reason.startswith("Kyoukai is not installed. Install it with: ")
    for command in INSTALLS["kyoukai"].commands():
        assert command in reason and command in raised
    assert raised.startswith("StackUnavailable Kyoukai is not installed")


def test_missing_kyoukai_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kyoukai", None)
    with pytest.raises(StackUnavailable, match="Kyoukai is not installed") as info:
        require_kyoukai()
    assert all(command in str(info.value) for command in INSTALLS["kyoukai"].commands())


def test_a_missing_dependency_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httptools", None)
    problem = version_problem()
    assert problem is not None and "without httptools" in problem and INSTALL_COMMANDS[1] in problem


@pytest.mark.parametrize("version", ["2.1.4", "2.0.1"])
def test_an_unsupported_kyoukai_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    monkeypatch.setattr(host, "installed_version", lambda: version)
    problem = version_problem()
    assert problem is not None and f"Kyoukai {version} is installed" in problem
    assert "pip install --no-deps --force-reinstall Kyoukai==2.2.1.post1" in problem
    assert ("schemathesis" in problem) is (version == "2.1.4")
    with pytest.raises(StackUnavailable, match=f"Kyoukai {version}"):
        require_kyoukai()


def test_werkzeug_3_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    real = host._distribution_version
    monkeypatch.setattr(host, "_distribution_version", lambda name: "3.1.9" if name == "werkzeug" else real(name))
    assert version_problem() == (
        "werkzeug 3.1.9 is installed; Kyoukai 2.2.1.post1 does not import on werkzeug 3 "
        "(FormDataParser.parse_functions is gone). Fix: pip install werkzeug==2.3.8"
    )


def test_importing_the_adapter_imports_no_stack_library() -> None:
    code = (
        "import sys, rpctest.stacks.kyoukai as k; k.adapter.classify(404); "
        "print([m for m in ('kyoukai', 'werkzeug', 'httpx', 'asphalt', 'h2', 'httptools') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "[]", "")
