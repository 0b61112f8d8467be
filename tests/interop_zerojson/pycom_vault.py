"""A secured interface on the real PyCOM: every method, ``introspect`` included, needs a token the
authenticator (located through the nameserver given to the launcher with ``-n``) accepts."""

from __future__ import annotations

import pycom
from pycom.ext import checks


@pycom.interface("org.rpctest.interop.vault", authentication="required")
class Vault(pycom.Service):
    @pycom.method(results=("user",))
    def whoami(self, request):
        """The caller's name, from the authenticator."""
        return request.context().user_info()["name"]

    @checks.check_argument("x", valid_types=int)
    @pycom.method
    def double(self, request, x):
        """Twice an integer."""
        return 2 * x
