"""The example shop with one planted contract break, for ``pact verifier`` to find: an item's price
goes out as text (a post-request hook rewrites what ``GET /items/<sku>`` answers)."""

from __future__ import annotations

import json
from typing import Any

from examples.kyoukai.service import make_app


def make_planted_app(**options: Any) -> Any:
    app = make_app(**options)

    @app.after_request
    async def price_as_text(ctx: Any, response: Any) -> Any:
        if ctx.request.path.startswith("/items/") and response.status_code == 200:
            item = json.loads(response.get_data())
            response.set_data(json.dumps({**item, "price": str(item["price"])}))
        return response

    return app
