import logging
import warnings

import pytest

from pysoa.test.server import BaseServerTestCase, PyTestServerTestCase, ServerTestCase, UnitTestServerTestCase

from accountsvc import AccountServer


class TestAccounts(PyTestServerTestCase):
    server_class = AccountServer
    server_settings = {}

    def test_call_action_fills_in_the_service(self):
        assert self.service_name == "accounts"
        self.assertEqual(self.call_action("get_account", {"id": 1}).body, {"name": "Ann"})
        self.assertEqual(self.client.call_action("accounts", "get_account", {"id": 2}).body, {"name": "Bob"})

    def test_field_errors(self):
        self.assertActionRunsWithFieldErrors("get_account", {"id": 0}, {"id": "INVALID"})
        self.assertActionRunsWithOnlyFieldErrors("get_account", {"id": 0}, {"id": ["INVALID"]})
        self.assertActionRunsWithFieldErrors("freeze", {"id": 1}, {"id": "LOCKED"})

    def test_error_codes(self):
        self.assertActionRunsWithErrorCodes("get_account", {"id": 9}, "NOT_FOUND")
        self.assertActionRunsWithOnlyErrorCodes("get_account", {"id": 9}, ["NOT_FOUND"])
        self.assertActionRunsWithErrorCodes("freeze", {"id": 1}, "FROZEN")

    def test_only_error_codes_counts_field_errors_as_unexpected(self):
        with pytest.raises(pytest.fail.Exception, match="Unexpected errors found in response"):
            self.assertActionRunsWithOnlyErrorCodes("freeze", {"id": 1}, "FROZEN")

    def test_missing_field_error_fails_through_pytest(self):
        with pytest.raises(pytest.fail.Exception, match="Expected field errors not found"):
            self.assertActionRunsWithFieldErrors("freeze", {"id": 1}, {"name": "LOCKED"})

    def test_return_errors(self):
        errors = self.assertActionRunsWithAndReturnErrors("freeze", {"id": 1})
        self.assertEqual([(e.code, e.field) for e in errors], [("FROZEN", None), ("LOCKED", "id")])

    def test_succeeding_call_is_not_an_error(self):
        with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
            self.assertActionRunsWithAndReturnErrors("get_account", {"id": 1})

    def test_polyfills_that_pass(self):
        self.assertTrue(1)
        self.assertFalse(0)
        self.assertNotEqual(1, 2)
        self.assertIs(None, None)
        self.assertIsNot(1, None)
        self.assertIsNone(None)
        self.assertIsNotNone(0)
        self.assertIn(1, [1])
        self.assertNotIn(2, [1])
        self.assertIsInstance(1, int)
        self.assertNotIsInstance(1, str)
        self.assertGreater(2, 1)
        self.assertGreaterEqual(2, 2)
        self.assertLess(1, 2)
        self.assertLessEqual(2, 2)
        self.assertAlmostEqual(1.0, 1.00000001)
        self.assertNotAlmostEqual(1.0, 1.1)
        self.assertRegex("abc", "b+")
        self.assertNotRegex("abc", "z")
        self.assertDictEqual({"a": 1}, {"a": 1})
        self.assertListEqual([1], [1])
        self.assertTupleEqual((1,), (1,))
        self.assertSetEqual({1}, {1})
        self.assertSequenceEqual([1, 2], (1, 2))
        self.assertCountEqual([1, 2, 2], [2, 1, 2])
        self.assertMultiLineEqual("a\nb", "a\nb")

    def test_polyfills_that_fail(self):
        for check in (
            lambda: self.assertEqual(1, 2),
            lambda: self.assertTrue(0),
            lambda: self.assertIn(3, [1]),
            lambda: self.assertCountEqual([1], [1, 1]),
            lambda: self.assertAlmostEqual(1.0, 1.1),
            lambda: self.assertRegex("abc", "z"),
        ):
            with pytest.raises(AssertionError):
                check()
        with pytest.raises(AssertionError, match="custom message"):
            self.fail("custom message")

    def test_raises_and_warns_polyfills(self):
        with self.assertRaises(ValueError) as context:
            raise ValueError("bad value")
        self.assertEqual(str(context.exception), "bad value")
        self.assertEqual(str(context.value), "bad value")
        self.assertRaises(KeyError, {}.__getitem__, "missing")
        with self.assertRaisesRegex(ValueError, "bo+m"):
            raise ValueError("boom")
        self.assertRaisesRegex(KeyError, "miss", {}.__getitem__, "missing")
        with self.assertWarns(UserWarning):
            warnings.warn("careful", UserWarning)
        with self.assertWarnsRegex(UserWarning, "care"):
            warnings.warn("careful", UserWarning)
        with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
            with self.assertRaises(ValueError):
                pass

    def test_assert_logs(self):
        with self.assertLogs("accounts.audit", level="INFO") as logs:
            logging.getLogger("accounts.audit").info("frozen %s", 1)
        self.assertEqual(logs.output, ["INFO:accounts.audit:frozen 1"])

    def test_deprecated_aliases_still_work_and_warn(self):
        with pytest.warns(DeprecationWarning, match="Please use assertEqual"):
            self.assertEquals(1, 1)
        with pytest.warns(DeprecationWarning):
            self.failUnless(True)
        with pytest.warns(DeprecationWarning), pytest.raises(AssertionError):
            self.assertNotEquals(1, 1)


EVENTS = []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
class TestUnittestStyleHooks(ServerTestCase):
    server_class = AccountServer
    server_settings = {}

    @classmethod
    def setUpClass(cls):
        EVENTS.append("setUpClass")

    def setUp(self):
        EVENTS.append("setUp")
        self.addCleanup(EVENTS.append, "cleanup")

    def tearDown(self):
        EVENTS.append("tearDown")

    def test_1_setup_ran_after_setup_pysoa(self):
        assert EVENTS == ["setUpClass", "setUp"]
        assert self.call_action("get_account", {"id": 1}).body == {"name": "Ann"}

    def test_2_teardown_and_cleanup_ran(self):
        assert EVENTS == ["setUpClass", "setUp", "tearDown", "cleanup", "setUp"]


def test_setup_hook_deprecation_is_announced():
    class Case(ServerTestCase):
        server_class = AccountServer
        server_settings = {}

        def setUp(self):
            self.set_up = True

    case = Case()
    with pytest.warns(DeprecationWarning, match="setUp"):
        case.setup_method()
    try:
        assert case.set_up
        assert case.call_action("get_account", {"id": 1}).body == {"name": "Ann"}
    finally:
        case.teardown_method()


class TestUnitTestCase(UnitTestServerTestCase):
    server_class = AccountServer
    server_settings = {}

    def test_call(self):
        self.assertEqual(self.call_action("get_account", {"id": 1}).body, {"name": "Ann"})

    def test_field_errors(self):
        self.assertActionRunsWithOnlyFieldErrors("get_account", {"id": -1}, {"id": "INVALID"})


class TestSettingsFromEnvironment(PyTestServerTestCase):
    server_class = AccountServer  # no server_settings: PYSOA_SETTINGS_MODULE names them

    def test_server_runs(self):
        assert self.call_action("get_account", {"id": 2}).body == {"name": "Bob"}


class TestBaseCase(BaseServerTestCase):
    server_class = AccountServer
    server_settings = {}

    def setup_method(self):
        self.setup_pysoa()

    def test_call(self):
        assert self.call_action("get_account", {"id": 1}).body == {"name": "Ann"}


class TestMisconfigured(BaseServerTestCase):
    def test_no_server_class(self):
        with pytest.raises(TypeError, match="server_class"):
            self.setup_pysoa()
