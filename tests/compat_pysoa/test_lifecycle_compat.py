"""What the compat layer adds to pysoa.test: nothing is left running or unclosed after a test.

pysoa's StubClient and server test cases each build a ``Server`` whose constructor makes an event loop
that nothing closes (a ResourceWarning at garbage collection, an error in suites run with
``-W error::ResourceWarning``). These tests show pysoa's leak, then that the compat layer closes it.
"""

from __future__ import annotations

import gc
import unittest

import pysoa.test.stub_service as pysoa_stub_service
import pytest

from compat_pysoa.accountsvc import AccountServer
from rpctest.compat.pysoa_test import PyTestServerTestCase, StubClient, UnitTestServerTestCase


def server_loops(client) -> list:
    return [handler.transport.server._async_event_loop_thread.loop for handler in client.handlers.values()]


def answer(client_class):
    client = client_class({"users": {"get_user": {"body": {"id": 1}}}})
    assert client.call_action("users", "get_user", {"id": 1}).body == {"id": 1}
    return client


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_pysoas_stub_client_leaves_its_loop_open():
    client = answer(pysoa_stub_service.StubClient)
    loops = server_loops(client)
    del client
    gc.collect()
    assert loops and not any(loop.is_closed() for loop in loops)
    for loop in loops:  # not this test's to leak
        loop.close()


def test_stub_client_closes_its_loops_when_collected():
    client = answer(StubClient)
    client.stub_action("audit", "log", body={"ok": True})
    client.call_action("audit", "log", {})
    loops = server_loops(client)
    assert len(loops) == 2 and not any(loop.is_closed() for loop in loops)
    del client
    gc.collect()
    assert all(loop.is_closed() for loop in loops)


class Accounts(PyTestServerTestCase):
    server_class = AccountServer
    server_settings = {}


def test_pytest_case_stops_its_server_at_teardown():
    case = Accounts()
    case.setup_method()
    thread = case._rpctest_service.server._async_event_loop_thread
    assert thread.is_alive()  # started, so actions can run coroutines (pysoa's never ran)
    assert case.call_action("get_account", {"id": 1}).body == {"name": "Ann"}
    case.teardown_method()
    assert not thread.is_alive() and thread.loop.is_closed()
    case.teardown_pysoa()  # idempotent


def test_second_setup_replaces_the_first_server():
    case = Accounts()
    case.setup_method()
    first = case._rpctest_service.server._async_event_loop_thread
    case.setup_pysoa()
    try:
        assert first.loop.is_closed()
    finally:
        case.teardown_method()


def test_cleanups_run_last_added_first_and_the_server_stops_even_if_one_fails():
    order = []
    case = Accounts()
    case.setup_method()
    thread = case._rpctest_service.server._async_event_loop_thread
    with pytest.warns(DeprecationWarning):
        case.addCleanup(order.append, "first")
        case.addCleanup(lambda: 1 / 0)
        case.addCleanup(order.append, "last")
    with pytest.raises(ZeroDivisionError):
        case.teardown_method()
    assert order == ["last", "first"]
    assert thread.loop.is_closed()


def test_unittest_case_runs_under_unittest_and_stops_its_server():
    threads = []

    class Case(UnitTestServerTestCase):
        server_class = AccountServer
        server_settings = {}

        def test_call(self):
            threads.append(self._rpctest_service.server._async_event_loop_thread)
            self.assertEqual(self.call_action("get_account", {"id": 2}).body, {"name": "Bob"})

        def test_errors(self):
            self.assertActionRunsWithErrorCodes("get_account", {"id": 7}, "NOT_FOUND")

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Case).run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert result.testsRun == 2
    assert threads and threads[0].loop.is_closed()


def test_missing_settings_say_what_to_do(monkeypatch):
    monkeypatch.delenv("PYSOA_SETTINGS_MODULE", raising=False)

    class NoSettings(PyTestServerTestCase):
        server_class = AccountServer

    with pytest.raises(AssertionError, match="PYSOA_SETTINGS_MODULE"):
        NoSettings().setup_method()


def test_server_class_must_be_a_server():
    class Wrong(PyTestServerTestCase):
        server_class = dict

    with pytest.raises(TypeError, match="must be a subclass of `Server`"):
        Wrong().setup_method()
