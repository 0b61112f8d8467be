"""``contracts diff`` through PySOA's export: two versions of a small service, their Conformity schemas
exported and diffed, each change classified as the table (tests/diff_cases.py) says."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformity import fields
from diff_cases import classified, expect
from pysoa.server.action import Action
from pysoa.server.server import Server

from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.export import export


def _action(request: fields.Dictionary, response: fields.Dictionary | None = None) -> type[Action]:
    return type("A", (Action,), {
        "request_schema": request,
        "response_schema": response or fields.Dictionary({"ok": fields.Boolean()}),
        "run": lambda self, request: {"ok": True},
    })


_ANY = _action(fields.Dictionary({}))


def _server(actions: dict[str, type[Action]]) -> type[Server]:
    return type("DiffServer", (Server,), {"service_name": "diffsvc", "action_class_map": actions})


V1 = _server({
    "required_added": _action(fields.Dictionary({"name": fields.UnicodeString()})),
    "max_lowered": _action(fields.Dictionary({"age": fields.Integer(gte=0, lte=150)})),
    "length_lowered": _action(fields.Dictionary({"name": fields.UnicodeString(max_length=50)})),
    "length_raised": _action(fields.Dictionary({"name": fields.UnicodeString(max_length=50)})),
    "enum_narrowed": _action(fields.Dictionary({"role": fields.Constant("admin", "user")})),
    "response_removed": _action(fields.Dictionary({}), fields.Dictionary({"id": fields.Integer(), "nick": fields.UnicodeString()})),
    "response_optional": _action(fields.Dictionary({}), fields.Dictionary({"id": fields.Integer(), "name": fields.UnicodeString()})),
    "response_added": _action(fields.Dictionary({}), fields.Dictionary({"id": fields.Integer()})),
    "removed": _ANY,
    "old_name": _action(fields.Dictionary({"x": fields.Boolean()})),
})
V2 = _server({
    "required_added": _action(fields.Dictionary({"name": fields.UnicodeString(), "team": fields.UnicodeString()})),
    "max_lowered": _action(fields.Dictionary({"age": fields.Integer(gte=0, lte=100)})),
    "length_lowered": _action(fields.Dictionary({"name": fields.UnicodeString(max_length=20)})),
    "length_raised": _action(fields.Dictionary({"name": fields.UnicodeString()})),
    "enum_narrowed": _action(fields.Dictionary({"role": fields.Constant("user")})),
    "response_removed": _action(fields.Dictionary({}), fields.Dictionary({"id": fields.Integer()})),
    "response_optional": _action(fields.Dictionary({}), fields.Dictionary({"id": fields.Integer(), "name": fields.UnicodeString()}, optional_keys=("name",))),
    "response_added": _action(fields.Dictionary({}), fields.Dictionary({"id": fields.Integer(), "email": fields.UnicodeString()})),
    "new_name": _action(fields.Dictionary({"x": fields.Boolean()})),
    "added": _action(fields.Dictionary({"q": fields.Integer()})),
})


def test_each_change_of_the_exported_schemas_is_classified_as_the_table_says() -> None:
    old, new = export("pysoa", provider=V1), export("pysoa", provider=V2)
    assert classified(old, new) == {
        expect("request field added as required", "required_added", "/request/team"),
        expect("request maximum lowered", "max_lowered", "/request/age"),
        expect("request maxLength lowered", "length_lowered", "/request/name"),
        expect("request maxLength removed", "length_raised", "/request/name"),
        expect("request enum narrowed", "enum_narrowed", "/request/role"),
        expect("response field removed", "response_removed", "/response/nick"),
        expect("response field made optional", "response_optional", "/response/name"),
        expect("response field added", "response_added", "/response/email"),
        expect("operation removed", "removed"),
        expect("operation renamed", "old_name"),
        expect("operation added", "added"),
    }


def test_the_live_export_is_new_and_a_consumer_that_relies_on_a_change_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                               ) -> None:
    old = fmt.write(export("pysoa", provider=V1), tmp_path / "providers/pysoa--diffsvc.json")
    consumer = fmt.ConsumerContract("web", "pysoa", "diffsvc", [
        fmt.RecordedInteraction("max_lowered", {"age": 120}, {"ok": True}, tests=["tests/test_web.py::test_old_people"]),
    ])
    fmt.write(consumer, tmp_path / "consumers/web--pysoa--diffsvc.json")
    code = main(["contracts", "diff", str(old), "--provider", f"{__name__}:V2", "--stack", "pysoa", "--consumers", str(tmp_path / "consumers")])
    out = capsys.readouterr().out
    assert code == 1
    assert "ERROR [request_range_narrowed] pysoa:diffsvc operation 'max_lowered'" in out
    assert "breaks 1 recorded interaction(s): web interaction #0" in out and "recorded by: tests/test_web.py::test_old_people" in out
    assert "WARNING [operation_removed] pysoa:diffsvc operation 'removed'" in out
