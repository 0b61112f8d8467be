"""Kyoukai apps written for the differential suite (not the examples): routes with converters
(``int``, ``any``), a route with query arguments and no query schema (any query passes, repeated
names included), JSON bodies, explicit statuses (201 with a ``Location`` header, 204, 422), and app
factories that take the event loop (``make_library(loop)``, as Kyoukai users build apps on a loop).

``make_library`` is correct on Kyoukai 2.2.1.post1 (its class works around the wheel's lost error
pages); ``make_legacy`` is the same kind of app on the plain ``Kyoukai`` class, whose canned 500s are
the expected finding; ``make_buggy`` has planted bugs the fuzzer must find, shrink and replay.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from rpctest.stacks.kyoukai import require_kyoukai, route_schema

BOOK = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "year": {"type": "integer"}},
    "required": ["id", "title", "year"],
    "additionalProperties": False,
}
NEW_BOOK = {
    "type": "object",
    "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 40}, "year": {"type": "integer", "minimum": 1450, "maximum": 2100}},
    "required": ["title", "year"],
    "additionalProperties": False,
}
YEAR = {"type": "object", "properties": {"year": NEW_BOOK["properties"]["year"]}, "required": ["year"], "additionalProperties": False}
#: ?year=1965, or ?year=1965&year=1815 (a repeated name is the list of its values); other names pass too
YEARS = {"type": "object", "properties": {"year": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}}}
SHELF = {"type": "object", "properties": {"books": {"type": "array", "items": BOOK}, "filters": {"type": "object"}},
         "required": ["books", "filters"], "additionalProperties": False}
TAGGED = {"type": "object", "properties": {"kind": {"enum": ["new", "old"]}, "ids": {"type": "array", "items": {"type": "integer"}}},
          "required": ["kind", "ids"], "additionalProperties": False}
FIRST = [{"id": 1, "title": "Dune", "year": 1965}, {"id": 2, "title": "Emma", "year": 1815}]


class Shelf:
    """The library's books, in memory: ``reset()`` gives the first two back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.books = {book["id"]: dict(book) for book in FIRST}

    def add(self, title: str, year: int) -> dict[str, Any]:
        with self._lock:
            book = {"id": max(self.books, default=0) + 1, "title": title, "year": year}
            self.books[book["id"]] = book
            return book


SHELF_STORE = Shelf()


def reset_shelf(operation: str, request: Any) -> None:
    """``rpctest contracts verify --live --setup``: each replayed request meets the first two books."""
    SHELF_STORE.reset()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    from werkzeug.wrappers import Response

    return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")


def _new_book_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) != {"title", "year"}:
        return "a book is {title, year}"
    title, year = body["title"], body["year"]
    if not isinstance(title, str) or not 1 <= len(title) <= 40:
        return "title is 1 to 40 characters"
    if isinstance(year, bool) or not isinstance(year, int) or not 1450 <= year <= 2100:
        return "year is an integer from 1450 to 2100"
    return None


def _kept_error_pages(base: type) -> type:
    """``base`` with the error pages Kyoukai 2.2.1.post1 drops put back (its handle_httpexception
    returns None when a handler keeps the status; the app then answers the page itself)."""

    class KeptPages(base):  # type: ignore[misc, valid-type]
        async def handle_httpexception(self, ctx: Any, exception: Any, environ: Any = None) -> Any:
            page = await super().handle_httpexception(ctx, exception, environ)
            return page if page is not None else exception.get_response(environ if environ is not None else ctx.environ)

    return KeptPages


def _library(app: Any, *, buggy: bool = False) -> Any:
    # views carry no annotations: Kyoukai checks each one with isinstance on the converted value
    from werkzeug.exceptions import abort

    @app.route("/books/<int:book_id>", methods=("GET",))
    @route_schema(response=BOOK, errors=(404,))
    async def get_book(ctx, book_id):
        book = SHELF_STORE.books.get(book_id)
        if book is None:
            abort(404)
        return _json(book)

    @app.route("/books", methods=("GET",))
    @route_schema(response=SHELF, query=YEARS)
    async def list_books(ctx):
        """Any query passes: repeated names filter on every value (?year=1965&year=1815)."""
        years = ctx.request.args.getlist("year")
        books = [b for b in SHELF_STORE.books.values() if not years or str(b["year"]) in years]
        return _json({"books": books, "filters": {name: ctx.request.args.getlist(name) for name in ctx.request.args}})

    @app.route("/books", methods=("POST",))
    @route_schema(request=NEW_BOOK, response=BOOK, invalid=(422,), status=201)
    async def add_book(ctx):
        raw = ctx.request.get_data(cache=True)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return _json({"error": "the body is JSON"}, 422)
        problem = _new_book_problem(body)
        if buggy and isinstance(body, dict) and isinstance(body.get("title"), str) and len(body["title"]) > 30:
            raise ValueError("planted: a long title breaks the catalogue")
        if problem:
            return _json({"error": problem}, 422)
        book = SHELF_STORE.add(body["title"], body["year"])
        return _json(book, 201, {"Location": f"/books/{book['id']}"})

    @app.route("/books/<int:book_id>", methods=("PUT",))
    @route_schema(request=YEAR, response=BOOK, errors=(404,), invalid=(422,))
    async def set_year(ctx, book_id):
        """The body is checked before the book is looked up: a bad year is 422 even for a missing book."""
        try:
            body = json.loads(ctx.request.get_data(cache=True) or b"null")
        except ValueError:
            body = None
        year = body.get("year") if isinstance(body, dict) and set(body) == {"year"} else None
        valid = not isinstance(year, bool) and isinstance(year, int) and 1450 <= year <= 2100
        if not valid and not (buggy and isinstance(year, int)):  # planted: any integer year passes
            return _json({"error": "the body is {year: 1450 to 2100}"}, 422)
        book = SHELF_STORE.books.get(book_id)
        if book is None:
            abort(404)
        book["year"] = year
        return _json(book)

    @app.route("/books/<int:book_id>", methods=("DELETE",))
    @route_schema(errors=(404,), status=204)
    async def delete_book(ctx, book_id):
        if book_id not in SHELF_STORE.books:
            abort(404)
        del SHELF_STORE.books[book_id]
        return ""  # falsy: Kyoukai answers 204

    @app.route("/health", methods=("GET",))
    async def health(ctx):
        """No route_schema: the exported contract says any query (and any body) passes."""
        return _json({"ok": True, "args": sorted(ctx.request.args)})

    @app.route("/tags/<any(new,old):kind>", methods=("GET",))
    @route_schema(response=TAGGED)
    async def tagged(ctx, kind):
        ids = [b["id"] for b in FIRST if (b["year"] >= 1900) == (kind == "new")]
        if buggy and kind == "old":  # planted: the old ids go out as text
            return _json({"kind": kind, "ids": [str(i) for i in ids]})
        return _json({"kind": kind, "ids": ids})

    return app


def make_library(loop: Any) -> Any:
    """The correct library, built on ``loop`` as Kyoukai users write factories."""
    kyoukai = require_kyoukai()
    return _library(_kept_error_pages(kyoukai.Kyoukai)("library", loop=loop))


def make_legacy(loop: Any = None) -> Any:
    """The same routes on the plain ``Kyoukai`` class: 2.2.1.post1 answers its 404s and 405s with the canned 500."""
    kyoukai = require_kyoukai()
    return _library(kyoukai.Kyoukai("legacy", loop=loop))


def make_buggy(loop: Any) -> Any:
    """Planted bugs: ``GET /tags/old`` answers its ids as text; ``POST /books`` raises on a title over
    30 characters; ``PUT /books/<id>`` takes any integer year."""
    kyoukai = require_kyoukai()
    return _library(_kept_error_pages(kyoukai.Kyoukai)("buggy", loop=loop), buggy=True)


def make_from_settings(settings_file: str) -> Any:
    """A factory rpctest cannot call: nothing says what ``settings_file`` is."""
    raise AssertionError(f"never called: {settings_file}")
