"""Fuzzing as pytest items: ``test_fuzz = fuzz_tests("pysoa", provider=UserServer)`` in a test module.

Each operation becomes its own item with a readable id (``test_fuzz[pysoa:users.get_user]``), plus
one for the unknown-operation probe; ``@pytest.mark.rpc_fuzz(max_examples=..., mode=...)`` on the
module, class or assignment tunes them. The Hypothesis property runs inside the item, so the
item may use fixtures of any scope (a module- or session-scoped server) without tripping Hypothesis'
function-scoped-fixture health check, and ``--hypothesis-seed`` and loaded profiles apply as usual.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from rpctest.contracts.format import ProviderContract, load
from rpctest.exceptions import ConfigError

__all__ = ["fuzz_tests"]

_UNKNOWN = "<unknown operation>"


def _contract_now(stack: str, provider: Any, contract: Any) -> ProviderContract:
    """The contract, at collection time: the ids need the operation names."""
    from rpctest.contracts.export import export

    if contract is not None:
        loaded = contract if isinstance(contract, ProviderContract) else load(Path(contract))
        if not isinstance(loaded, ProviderContract):
            raise ConfigError(f"{contract}: fuzz_tests needs a provider contract")
        return loaded
    if provider is None:
        raise ConfigError("fuzz_tests needs provider= (in-process) or contract= (with address= or target_fixture=)")
    return export(stack, provider=provider)


def fuzz_tests(
    stack: str = "pysoa",
    *,
    provider: Any = None,
    address: str | None = None,
    contract: Any = None,
    target_fixture: str | None = None,
    operations: Iterable[str] | None = None,
    mode: str = "all",
    max_examples: int | None = None,
    unknown_operation: bool = True,
) -> Callable[..., None]:
    """A parametrized test function fuzzing each operation of a provider.

    The provider is reached in-process (``provider=``, hosted once per session), at ``address=``,
    or through a fixture (``target_fixture="users_service"``) returning a hosted service (anything
    with ``.call(operation, body)``) or a ``send(call) -> Reply`` function.
    """
    if isinstance(provider, str):
        from rpctest.contracts.export import import_object

        provider = import_object(provider)
    spec = _contract_now(stack, provider, contract)
    names = sorted(operations if operations is not None else spec.operations)
    unknown = [o for o in names if o not in spec.operations]
    if unknown:
        raise ConfigError(f"fuzz_tests: {spec.service} has no operation(s) {', '.join(unknown)}")
    params = names + ([_UNKNOWN] if unknown_operation else [])
    ids = [f"{stack}:{spec.service}.{name}" for name in params]

    @pytest.mark.parametrize("rpc_fuzz_operation", params, ids=ids)
    def test_fuzz(rpc_fuzz_operation: str, request: pytest.FixtureRequest) -> None:
        from rpctest.fuzz.engine import fuzz_operation, fuzz_unknown_operation

        marker = request.node.get_closest_marker("rpc_fuzz")
        options = dict(marker.kwargs) if marker is not None else {}
        unexpected = set(options) - {"max_examples", "mode"}
        if unexpected:
            raise ConfigError(f"rpc_fuzz marker: unknown option(s) {', '.join(sorted(unexpected))}; use max_examples= and mode=")
        target = _target(request, stack, spec, provider, address, target_fixture)
        replay_dir = request.config.rootpath / ".rpctest" / "replays"
        if rpc_fuzz_operation == _UNKNOWN:
            result = fuzz_unknown_operation(target, replay_dir=replay_dir)
        else:
            result = fuzz_operation(
                target,
                rpc_fuzz_operation,
                mode=options.get("mode", mode),
                max_examples=options.get("max_examples", max_examples),
                replay_dir=replay_dir,
            )
        if result.failure is not None:
            pytest.fail(result.failure.render(), pytrace=False)

    return test_fuzz


_TARGETS = pytest.StashKey[dict[Any, Any]]()


def _target(request: pytest.FixtureRequest, stack: str, spec: ProviderContract, provider: Any, address: str | None, fixture: str | None) -> Any:
    from rpctest import config
    from rpctest.fuzz.engine import Target
    from rpctest.fuzz.target import provider_spec

    entry = config.current().services.get(spec.service)
    expected = {name: tuple(codes) for name, codes in entry.expected_errors.items()} if entry is not None else {}
    if fixture is not None:
        hosted = request.getfixturevalue(fixture)
        send = hosted if not hasattr(hosted, "call") else (lambda call: hosted.call(call.operation, call.body))
        origin = {"stack": stack, **({"provider": provider_spec(provider)} if provider is not None else {"address": getattr(hosted, "address", None)})}
        return Target(stack, spec, send, origin=origin, expected_errors=expected)
    # one hosted provider (or client) per session and target, stopped when the session ends
    cache = request.config.stash.setdefault(_TARGETS, {})
    key = (stack, spec.service, provider_spec(provider) if provider is not None else address)
    if key not in cache:
        from rpctest.contracts.live import open_sender

        stack_ctx = contextlib.ExitStack()
        send = stack_ctx.enter_context(open_sender(stack, provider=provider, address=address, service=spec.service))
        request.config.add_cleanup(stack_ctx.close)
        origin = {"stack": stack, **({"provider": provider_spec(provider)} if provider is not None else {"address": address})}
        cache[key] = Target(stack, spec, send, origin=origin, expected_errors=expected)
    return cache[key]
