"""A Kyoukai app with a protected route, for the ``--header``/``--auth``/``--token`` tests.

``GET /vault/<name>`` answers 401 unless the request carries the API key header, HTTP basic auth
for ``ci``, or the bearer token; its 401 page echoes what the caller sent, as careless services do,
so the tests can check that rpctest masks it. Built on the example shop's Kyoukai class, whose
workaround keeps 2.2.1.post1 from turning the 401 into its canned 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from rpctest.stacks.kyoukai import route_schema

API_KEY = "vault-key-6d1e"
USER, PASSWORD = "ci", "vault-pass-93b0"
TOKEN = "vault-bearer-2c77"
SECRETS = {"alpha": "a", "beta": "b"}
SECRET = {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
          "required": ["name", "value"], "additionalProperties": False}


def _allowed(headers: Any) -> bool:
    authorization = headers.get("Authorization", "")
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return headers.get("X-Api-Key") == API_KEY or authorization in (basic, f"Bearer {TOKEN}")


def make_vault_app(**options: Any) -> Any:
    from werkzeug.exceptions import abort
    from werkzeug.wrappers import Response

    from examples.kyoukai.service import shop_class

    app = shop_class()("vault", **options)

    @app.route("/vault/<string(maxlength=16):name>", methods=("GET",))
    @route_schema(response=SECRET, errors=(404,))
    async def read_secret(ctx, name):  # noqa: ANN001, ANN202 - Kyoukai reads annotations as converters
        """One secret, to callers who say who they are."""
        headers = ctx.request.headers
        if not _allowed(headers):
            sent = f"X-Api-Key={headers.get('X-Api-Key')} Authorization={headers.get('Authorization')}"
            return Response(f"who are you? you sent {sent}", status=401, headers={"WWW-Authenticate": 'Basic realm="vault"'})
        if name not in SECRETS:
            abort(404)
        return Response(json.dumps({"name": name, "value": SECRETS[name]}), content_type="application/json")

    return app
