"""The one report module (rpctest.report): every format from the neutral RunReport, and JUnit XML and
GitHub workflow commands valid for ANY text a service may answer (issue 20 item 3).

The property tests put arbitrary strings (control characters, unpaired surrogates, ``]]>``, ``%``,
newlines, ``::``) into every field of a report, render it, parse it back with a real XML parser
(ElementTree, and lxml where it is installed) or with the Actions runner's own rules, and check the
text came back, modulo the documented escape of what XML 1.0 cannot hold (``escape.printable``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest import cli
from rpctest.exceptions import ConfigError
from rpctest.report import FORMATS, Case, ReportFinding, RunReport, render, render_many
from rpctest.report.escape import markdown_block, markdown_inline, one_line_safe, printable

HOSTILE = ["]]>", "%", "%25", "%0A", "\n", "\r", "\r\n", "::", "::error::boom", ",", "=", "<script>alert(1)</script>",
           "&amp;", '"', "'", "\x00", "\x01", "\x0b", "\x1b[31m", "\ud800", "\udfff", "\ufffe", "\uffff", "\u2028", "\x85", "\t", "`", "```", "|"]
#: any code point, surrogates included (Hypothesis' default alphabet leaves them out)
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
TEXT = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(ANY_CHAR, max_size=8)), max_size=8).map("".join)


def hostile_report(values: list[str], *, command: str = "fuzz") -> RunReport:
    """A report with the strings in every field a format shows."""
    v = (values * 8)[:8]
    case = Case(v[0], v[1], "failed", seconds=0.5, headline=v[2])
    other = Case("never run " + v[3], v[4], "skipped", skipped=v[5])  # a key of its own
    finding = ReportFinding("error", v[6], v[7], where=v[1], text=[v[2], v[3], v[4]], case=case.key, file=v[5])
    warning = ReportFinding("warning", v[0], v[1], where=v[2], text=[v[7]], case=case.key, file=None, titled=False)
    return RunReport(command=command, suite=v[4], ok=False, summary=v[6], cases=[case, other], findings=[finding, warning],
                     notes=[v[0]], meta={"seed": v[7], "stack": v[1]}, details={"extra": v[3]}, observed={v[0]: [v[1]]})


def _parsers() -> list[Any]:
    parsers: list[Any] = [lambda data: ET.fromstring(data)]
    if importlib.util.find_spec("lxml") is not None:
        from lxml import etree

        parsers.append(lambda data: etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False)))
    return parsers


@settings(max_examples=300)
@given(st.lists(TEXT, min_size=8, max_size=8))
def test_junit_parses_for_any_text_and_gives_it_back(values: list[str]) -> None:
    report = hostile_report(values)
    data = render(report, "junit").encode("utf-8")  # no unpaired surrogate survives to the file
    for parse in _parsers():
        suite = parse(data)
        assert suite.tag == "testsuite" and suite.get("name") == printable(report.suite)
        assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "1")
        properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert properties == {"seed": printable(values[7]), "stack": printable(values[1])}
        failed, skipped = suite.findall("testcase")
        assert (failed.get("classname"), failed.get("name")) == (printable(values[0]), printable(values[1]))
        failure = failed.find("failure")
        assert failure is not None
        assert failure.get("message") == printable(values[7]) and failure.get("type") == printable(values[6])
        assert failure.text == printable("\n".join([values[2], values[2], values[3], values[4]])) or (
            failure.text is None and printable("\n".join([values[2], values[2], values[3], values[4]])) == "")
        out = failed.find("system-out")
        assert out is not None and (out.text or "") == printable(values[7])
        assert (skipped.get("classname"), skipped.get("name")) == (printable("never run " + values[3]), printable(values[4]))
        marker = skipped.find("skipped")
        assert marker is not None and marker.get("message") == printable(values[5] or "not run")


def parse_github(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the Actions runner reads it: ``::name k=v,k=v::message``, the
    properties and the message unescaped as the runner unescapes them."""
    assert line.startswith("::")
    end = line.index("::", 2)
    info, message = line[2:end], line[end + 2:]
    name, _, props = info.partition(" ")

    def unescape(text: str, prop: bool) -> str:
        text = text.replace("%0D", "\r").replace("%0A", "\n")
        if prop:
            text = text.replace("%3A", ":").replace("%2C", ",")
        return text.replace("%25", "%")

    properties = dict(pair.split("=", 1) for pair in props.split(",")) if props else {}
    return name, {k: unescape(v, True) for k, v in properties.items()}, unescape(message, False)


@settings(max_examples=300)
@given(st.lists(TEXT, min_size=8, max_size=8))
def test_github_commands_hold_any_text_on_one_line(values: list[str]) -> None:
    report = hostile_report(values)
    output = render(report, "github")
    output.encode("utf-8")
    lines = output.split("\n")
    assert lines[-1] == "" and all(line.splitlines() == [line] for line in lines[:-1] if line)
    *commands, summary = lines[:-1]
    assert not summary.startswith("::")
    assert summary.strip() == one_line_safe(report.summary).replace("\r", " ").replace("\n", " ").strip()
    parsed = [parse_github(line) for line in commands]
    error, warning, notice = parsed
    where = {"file": one_line_safe(values[5])} if values[5] else {}  # no file, no file property
    assert error == ("error", {**where, "title": one_line_safe(f"rpctest {values[6]}")}, one_line_safe(report.findings[0].body))
    assert warning == ("warning", {"title": one_line_safe(f"rpctest {values[0]}")}, one_line_safe(report.findings[1].body))
    assert notice == ("notice", {"title": "rpctest fuzz"}, one_line_safe(f"seed {values[7]}"))


@settings(max_examples=200)
@given(st.lists(TEXT, min_size=8, max_size=8))
def test_markdown_shows_service_text_without_markup(values: list[str]) -> None:
    text = render(hostile_report(values), "markdown")
    text.encode("utf-8")
    rows = [line for line in text.split("\n") if line.startswith("| ") and not line.startswith("| severity")]
    assert len(rows) == 2
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 5 for row in rows)  # no cell ends early
    outside = re.sub(r"(`{3,})text\n.*?\n\1", "", text, flags=re.S)  # fenced blocks are shown as written
    outside = re.sub(r"</?(details|summary)>|<br>", "", outside)
    assert re.search(r"(?<!\\)<", outside) is None


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_escapes_round_trip_through_their_rules(value: str) -> None:
    inline = markdown_inline(value)
    assert "\n" not in inline and "\r" not in inline
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", inline.replace("<br>", "\n"))
    assert unescaped == printable(value).replace("\r\n", "\n").replace("\r", "\n")
    block = markdown_block("a" + value + "b")
    fence = block.split("text\n", 1)[0]
    assert block.endswith("\n" + fence) and fence not in block[len(fence) + 5: -len(fence) - 1]


def test_the_cli_offers_every_format() -> None:
    assert cli.REPORT_FORMATS == tuple(FORMATS)


def test_an_unknown_format_names_the_formats() -> None:
    with pytest.raises(ConfigError, match="choose one of text, json, junit, github, markdown"):
        render(hostile_report(["x"]), "xml")


def test_json_keeps_the_commands_keys_and_adds_the_neutral_ones() -> None:
    report = hostile_report(["a"])
    data = json.loads(render(report, "json"))
    assert data["extra"] == "a" and data["rpctest_report"] == 1 and data["command"] == "fuzz"
    assert data["seed"] == "a" and data["meta"]["seed"] == "a"
    assert [c["status"] for c in data["testcases"]] == ["failed", "skipped"]
    assert [f["severity"] for f in data["findings"]] == ["error", "warning"]
    assert data["findings"][0]["case"] == ["a", "a"] and data["observed"] == {"a": ["a"]}


def test_several_runs_make_one_document() -> None:
    first, second = hostile_report(["a"]), hostile_report(["b"], command="framing")
    suites = ET.fromstring(render_many([first, second], "junit"))
    assert suites.tag == "testsuites" and [s.get("name") for s in suites] == ["a", "b"]
    assert [d["command"] for d in json.loads(render_many([first, second], "json"))] == ["fuzz", "framing"]
    text = render_many([first, second], "text")
    assert text == render(first, "text") + "\n" + render(second, "text")


def test_text_shows_the_seed_that_repeats_a_fuzz_run() -> None:
    report = RunReport("fuzz", "rpctest.fuzz", True, "rpctest fuzz passed", meta={"seed": 1234})
    assert render(report, "text").splitlines() == ["seed: 1234 (rpctest fuzz --seed 1234 repeats this run)", "rpctest fuzz passed"]
    assert "**seed**: 1234" in render(report, "markdown")
    assert "::notice title=rpctest fuzz::seed 1234" in render(report, "github")
    assert '<property name="seed" value="1234" />' in render(report, "junit")
    # said once: where the summary already gives the seed (a fuzz run's does), the text adds no line
    said = RunReport("fuzz", "rpctest.fuzz", True, "rpctest fuzz passed: 3 case(s), seed 1234 (rerun with --seed 1234)", meta={"seed": 1234})
    assert render(said, "text").splitlines() == [said.summary]


def test_the_neutral_json_keys_take_none_of_a_commands_own() -> None:
    """The framing report's JSON has always had ``cases`` (a count) and ``results``: they stay."""
    details = {"cases": 3, "results": [{"x": 1}], "aborted": None, "ok": True, "stack": "zerojson"}
    data = json.loads(render(RunReport("framing", "s", True, "sum", cases=[Case("a", "b")], details=details,
                                       meta={"stack": "other"}), "json"))
    assert {key: data[key] for key in details} == details
    assert data["testcases"] == [{"suite": "a", "name": "b", "status": "passed"}] and data["meta"] == {"stack": "other"}
