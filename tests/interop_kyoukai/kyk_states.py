"""Provider state handlers for the Kyoukai differential suite (``rpctest fuzz --states``)."""

from __future__ import annotations

import rpctest
from interop_kyoukai.kyk_services import SHELF_STORE

#: the state every fuzz example of the buggy app starts from
FIRST_BOOKS = "the shelf holds its first two books"


@rpctest.provider_state(FIRST_BOOKS)
def first_books() -> None:
    """Without it, an earlier operation's examples (DELETE /books/<id> runs first) could empty the
    shelf, and whether PUT's planted bug shows depended on that history, not on PUT."""
    SHELF_STORE.reset()
