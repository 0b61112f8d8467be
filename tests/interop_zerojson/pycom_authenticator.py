"""An ``org.pycom.authenticator`` for the auth tests against the real PyCOM (PyCOM ships none: a
deployment writes its own). Hosted with the nameserver in one launcher process; the secured
service runs in another, as PyCOM requires (a server cannot call an authenticator it hosts itself)."""

from __future__ import annotations

import pycom

TOKEN = "pycom-interop-token-51e2"


@pycom.interface("org.pycom.authenticator", authentication="never")
class Authenticator(pycom.Service):
    @pycom.method(results=("token",))
    def authenticate(self, request, user, credentials):
        if user == "ci" and credentials == "ci-password":
            return TOKEN
        raise pycom.AccessDenied("invalid user")

    @pycom.method(results=("name", "roles"))
    def validate(self, request, token):
        if token == TOKEN:
            return "ci", ["reader"]
        raise pycom.AccessDenied("invalid token")
