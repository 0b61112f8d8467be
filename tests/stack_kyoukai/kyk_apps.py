"""Kyoukai apps for the tests: ``vec_app``, the service the golden vectors were recorded against.

``make_vec_app()`` builds, with Kyoukai's own API, the app that ``tests/golden/kyoukai/*.json``
describes as data (``services.vec_app``: blueprints, routes, what each view does, error handlers).
It must be called where the app may bind its loop (inside the loop that serves it, or with
``loop=``), as rpctest's host does with a factory. ``route_table(app)`` dumps the finalized route
map in the shape of the ``kyk.*.routes.table`` vectors, so a test can check that this app is the
one the vectors were recorded against.
"""

from __future__ import annotations

import json
from typing import Any

from rpctest.stacks.kyoukai.host import require_kyoukai

VEC_APP_NAME = "vec"


def _json(data: Any, status: int = 200) -> Any:
    from werkzeug.wrappers import Response

    return Response(json.dumps(data), status=status, content_type="application/json")


def make_vec_app(**kwargs: Any) -> Any:
    """The vectors' ``vec_app`` (services.vec_app in every kyoukai vector file)."""
    kyoukai = require_kyoukai()
    from werkzeug.exceptions import BadRequest, abort

    app = kyoukai.Kyoukai(VEC_APP_NAME, **kwargs)

    @app.route("/items/<int:item_id>", methods=("GET",))
    async def get_item(ctx, item_id):
        return _json({"id": item_id, "q": ctx.request.args.get("q")})

    @app.route("/echo", methods=("POST",))
    async def echo(ctx):
        raw = ctx.request.get_data(cache=True)
        if not raw:
            return _json({"received": None})
        try:
            body = json.loads(raw)
        except ValueError:
            raise BadRequest("body is not JSON") from None
        return _json({"received": body})

    @app.route("/text")
    async def text(ctx):
        return "plain"

    @app.route("/none")
    async def none(ctx):
        return None

    @app.route("/dict")
    async def as_dict(ctx):
        return {"a": 1}

    @app.route("/tuple")
    async def as_tuple(ctx):
        return ("created", 201, {"X-A": "1"})

    @app.route("/teapot")
    async def teapot(ctx):
        abort(418)

    @app.route("/boom")
    async def boom(ctx):
        raise ValueError("kaboom")

    @app.route("/formkey", methods=("POST",))
    async def formkey(ctx):
        return ctx.request.form["missing"]

    @app.route("/secure")
    async def secure(ctx):
        if ctx.request.headers.get("X-Token") != "t0k":
            abort(401)
        return _json({"user": "alice"})

    @app.route("/dir/")
    async def directory(ctx):
        return "dir"

    api = kyoukai.Blueprint("api", prefix="/api")
    v1 = kyoukai.Blueprint("v1", prefix="/v1")
    api.add_child(v1)

    @v1.route("/things/<int:thing_id>", methods=("GET", "DELETE"))
    async def v1_thing(ctx, thing_id):
        return f"thing {thing_id}"

    @v1.route("/bperr")
    async def v1_bperr(ctx):
        abort(404)

    @v1.errorhandler(404)
    async def v1_not_found(ctx, exc):
        return _json({"err": "v1 not found", "code": 404}, status=404)

    svc = kyoukai.Blueprint("svc", prefix="/svc")

    @svc.route("/boom")
    async def svc_boom(ctx):
        raise RuntimeError("svc exploded")

    @svc.errorhandler(500)
    async def svc_unavailable(ctx, exc):
        return _json({"err": "unavailable"}, status=503)

    app.register_blueprint(api)
    app.register_blueprint(svc)
    return app


def _chain(bp: Any) -> list[str]:
    names = []
    while bp is not None:
        names.append(bp.name)
        bp = bp.parent
    return names[::-1]


def route_table(app: Any) -> dict[str, Any]:
    """The finalized route map in the shape of the ``kyk.*.routes.table`` vectors."""
    from kyoukai.app import __version__

    rule_map = app.finalize()
    rules = []
    for rule in sorted(rule_map.iter_rules(), key=lambda r: r.rule):
        route = app.root.get_route(rule.endpoint)
        handlers: dict[str, str] = {}
        bp = route.bp
        while bp is not None:
            for code in bp.errorhandlers:
                handlers.setdefault(str(code), bp.name)
            bp = bp.parent
        arguments = {}
        for name, conv in rule._converters.items():
            arguments[name] = {
                "converter": type(conv).__name__,
                "regex": conv.regex,
                "fixed_digits": getattr(conv, "fixed_digits", None),
                "min": getattr(conv, "min", None),
                "max": getattr(conv, "max", None),
                "signed": getattr(conv, "signed", None),
            }
        declared = sorted({m for _, methods in route.routes for m in methods})
        rules.append(
            {
                "rule": rule.rule,
                "methods": sorted(rule.methods),
                "declared_methods": declared,
                "endpoint": rule.endpoint,
                "arguments": arguments,
                "strict_slashes": rule.strict_slashes,
                "blueprint_chain": _chain(route.bp),
                "errorhandlers_in_scope": handlers,
            }
        )
    root_handlers = sorted(str(code) for code in app.root.errorhandlers)
    return {"kyoukai_version": __version__, "root_errorhandlers": root_handlers, "rules": rules}


#: what the status app's event-recording context saw, per app name: (signal, path) in order
EVENTS: dict[str, list[tuple[str, str]]] = {}


def make_status_app(name: str = "odd", **kwargs: Any) -> Any:
    """Routes that answer any status without raising (so the post1 regression does not apply),
    a slow route, a route reporting the loop it runs on, and an event-recording context class."""
    import asyncio

    kyoukai = require_kyoukai()
    EVENTS[name] = []

    class RecordingContext(kyoukai.HTTPRequestContext):
        def __init__(self, parent: Any, request: Any) -> None:
            super().__init__(parent, request)
            path = request.path
            for signal in ("route_matched", "route_invoked", "route_completed"):
                getattr(self, signal).connect(lambda event, signal=signal: EVENTS[name].append((signal, path)))

    app = kyoukai.Kyoukai(name, context_class=RecordingContext, **kwargs)

    @app.route("/status/<int:code>")
    async def status(ctx, code):
        return (json.dumps({"status": code}), code, {"Content-Type": "application/json"})

    @app.route("/both", methods=("POST", "PUT"))
    async def both(ctx):
        return ctx.request.method

    @app.route("/slow")
    async def slow(ctx):
        await asyncio.sleep(float(ctx.request.args.get("s", "30")))
        return "slept"

    @app.route("/loop")
    async def which_loop(ctx):
        running = asyncio.get_running_loop()
        return _json({"app_loop_is_running_loop": ctx.app.loop is running})

    return app
