"""Rendering verification reports (rpctest.report, through rpctest.contracts.report): text, json, junit, github, markdown."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from rpctest.contracts.format import (
    ConsumerContract,
    OperationSpec,
    ProviderContract,
    RecordedInteraction,
)
from rpctest.report import FORMATS
from rpctest.report import render as render_run
from rpctest.contracts.verify import Finding, Report, verify
from rpctest.exceptions import ConfigError
from rpctest.model import ErrorKind, RpcError

STACK = "handmade"  # no adapter by that name: only the provider's declared codes are allowed
CONSUMER_PATH = Path("contracts/consumers/web--users.json")
PROVIDER_PATH = Path("contracts/providers/users.json")


def provider() -> ProviderContract:
    return ProviderContract(
        STACK,
        "users",
        {
            "get": OperationSpec(
                "get",
                request={"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": False},
                response={"type": "object", "properties": {"name": {"type": "string"}}},
                errors=["NOT_FOUND"],
            )
        },
        path=PROVIDER_PATH,
    )


def consumer() -> ConsumerContract:
    return ConsumerContract(
        "web",
        STACK,
        "users",
        [
            RecordedInteraction("get", {"id": 1}, {"name": "Ann"}, tests=["t.py::test_ok"]),
            RecordedInteraction("get", {"id": "x"}, {"name": 5}, tests=["t.py::test_bad"]),
            RecordedInteraction("gte", {"id": 1}, {"name": "Ann"}),
            RecordedInteraction(
                "get", {"id": 1}, errors=[RpcError("NOT_FOUNDD", "nope", field="idd", kind=ErrorKind.CALLER_ERROR)]
            ),
        ],
        path=CONSUMER_PATH,
    )


def orphan() -> ConsumerContract:
    return ConsumerContract("web", STACK, "orders", [RecordedInteraction("list", {}, []), RecordedInteraction("count")], path=Path("contracts/consumers/orders.json"))


@pytest.fixture
def report() -> Report:
    return verify([provider(), consumer(), orphan()])


@pytest.fixture
def clean() -> Report:
    only_good = ConsumerContract("web", STACK, "users", [RecordedInteraction("get", {"id": 1}, {"name": "Ann"})], path=CONSUMER_PATH)
    return verify([provider(), only_good])


def render(report: Report, fmt: str = "text") -> str:
    """The report in ``fmt``, through the neutral model as ``Report.render`` does."""
    return render_run(report.run_report(), fmt)


def hand_report(*findings: Finding) -> Report:
    return Report(findings=list(findings), interactions=2, consumers=[consumer()], providers=[provider()])


def interaction_finding(index: int, **extra: object) -> Finding:
    data: dict = {
        "check": "request_schema",
        "message": "request 'x' is not of type 'integer'",
        "consumer": "web",
        "stack": STACK,
        "service": "users",
        "operation": "get",
        "interaction": index,
        "contract": CONSUMER_PATH,
        "provider": PROVIDER_PATH,
        "pointer": f"/interactions/{index}/request/id",
        "expected": '"integer"',
        "actual": 'string "x"',
    }
    data.update(extra)
    return Finding(**data)


# -- what verify found (sanity: the report under test is the one we think) ---------------------------


def test_verify_finds_what_the_renderers_will_show(report: Report) -> None:
    assert [(f.check, f.interaction, f.severity) for f in report.findings] == [
        ("request_schema", 1, "error"),
        ("response_schema", 1, "error"),
        ("unknown_operation", 2, "error"),
        ("error_code", 3, "error"),
        ("error_field", 3, "warning"),
        ("unknown_service", None, "error"),
    ]
    assert report.interactions == 6
    assert not report.ok and report.exit_code == 1


# -- text ------------------------------------------------------------------------------------------


def test_text_names_file_pointer_expected_actual_nearest(report: Report) -> None:
    text = render(report, "text")
    assert text.endswith("\n")
    blocks = text.split("\n")
    assert f"ERROR [request_schema] {CONSUMER_PATH} interaction #1 (get)" in blocks
    assert "    request 'x' is not of type 'integer' at /interactions/1/request/id" in blocks
    assert '    expected: "integer"' in blocks
    assert '    actual:   string "x"' in blocks
    assert "    recorded by: t.py::test_bad" in blocks
    assert f"    provider contract: {PROVIDER_PATH}" in blocks
    assert f"ERROR [unknown_operation] {CONSUMER_PATH} interaction #2 (gte)" in blocks
    assert "    nearest:  get" in blocks
    assert f"WARNING [error_field] {CONSUMER_PATH} interaction #3 (get)" in blocks
    assert "    nearest:  id" in blocks
    assert "ERROR [unknown_service] contracts/consumers/orders.json" in blocks
    assert blocks[-2] == report.summary()
    assert "FAILED: 5 finding(s), 1 warning(s) in 6 interaction(s) of 2 consumer contract(s) against 1 provider contract(s)" in blocks[-2]


def test_text_of_a_finding_without_a_file_names_the_consumer_and_service() -> None:
    finding = Finding("unknown_service", "no provider", consumer="web", stack=STACK, service="orders")
    text = render(hand_report(finding), "text")
    assert f"ERROR [unknown_service] web->{STACK}:orders" in text
    assert "expected:" not in text and "nearest:" not in text and " at " not in text


def test_text_shortens_long_test_lists() -> None:
    finding = interaction_finding(0, tests=[f"t::{n}" for n in range(5)])
    text = render(hand_report(finding), "text")
    assert "    recorded by: t::0, t::1, t::2 ..." in text.split("\n")


def test_text_of_a_clean_run_is_the_summary(clean: Report) -> None:
    assert clean.ok and clean.exit_code == 0
    assert render(clean, "text") == clean.summary() + "\n"
    assert "passed: 0 finding(s) in 1 interaction(s)" in clean.summary()


def test_default_format_is_text_and_report_render_delegates(report: Report) -> None:
    assert render(report) == render(report, "text") == report.render()
    assert report.render("json") == render(report, "json")


def test_unknown_format_is_a_config_error(report: Report) -> None:
    with pytest.raises(ConfigError, match="unknown report format 'xml'.*text, json, junit, github"):
        render(report, "xml")
    assert set(FORMATS) == {"text", "json", "junit", "github", "markdown"}


# -- json ------------------------------------------------------------------------------------------


def test_json_has_ok_summary_and_findings(report: Report) -> None:
    data = json.loads(render(report, "json"))
    # verify's own keys, and the neutral report's beside them (rpctest.report.model.RunReport.to_dict)
    assert set(data) == {"ok", "summary", "findings", "rpctest_report", "command", "exit_code", "headline", "meta", "testcases", "observed"}
    assert data["ok"] is False and data["exit_code"] == 1 and data["command"] == "verify"
    assert data["headline"] == report.summary()
    assert {"suite": "web.handmade.users", "name": "#1 get", "status": "failed"} in data["testcases"]
    assert {"suite": "web.handmade.users", "name": "#0 get", "status": "passed"} in data["testcases"]
    assert data["summary"] == {
        "findings": 5,
        "warnings": 1,
        "interactions": 6,
        "consumer_contracts": [str(CONSUMER_PATH), "contracts/consumers/orders.json"],
        "provider_contracts": [str(PROVIDER_PATH)],
    }
    assert len(data["findings"]) == 6
    first = data["findings"][0]
    assert first["check"] == "request_schema"
    assert first["contract"] == str(CONSUMER_PATH)
    assert first["provider"] == str(PROVIDER_PATH)
    assert first["pointer"] == "/interactions/1/request/id"
    assert first["interaction"] == 1
    assert first["tests"] == ["t.py::test_bad"]
    assert first["severity"] == "error"
    assert "nearest" not in first  # None values are left out
    assert data["findings"][4]["severity"] == "warning"
    assert data["findings"][5]["check"] == "unknown_service"
    assert "interaction" not in data["findings"][5]


def test_json_keeps_interaction_zero() -> None:
    data = json.loads(render(hand_report(interaction_finding(0)), "json"))
    assert data["findings"][0]["interaction"] == 0


def test_json_of_a_clean_run(clean: Report) -> None:
    data = json.loads(render(clean, "json"))
    assert data["ok"] is True
    assert data["findings"] == []
    assert data["summary"]["findings"] == 0


def test_json_names_contracts_without_paths() -> None:
    report = verify([ConsumerContract("web", STACK, "orders", [RecordedInteraction("list")])])
    data = json.loads(render(report, "json"))
    assert data["summary"]["consumer_contracts"] == [f"web:{STACK}:orders"]
    assert data["summary"]["provider_contracts"] == []


def test_warnings_only_is_ok() -> None:
    report = hand_report(interaction_finding(0, severity="warning"))
    data = json.loads(render(report, "json"))
    assert data["ok"] is True
    assert data["summary"]["findings"] == 0 and data["summary"]["warnings"] == 1


# -- junit -----------------------------------------------------------------------------------------


def parse_junit(report: Report) -> ET.Element:
    text = render(report, "junit")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(text.split("\n", 1)[1])


def test_junit_has_one_testcase_per_interaction_and_failures_for_findings(report: Report) -> None:
    suite = parse_junit(report)
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        (f"web.{STACK}.users", "#0 get"),
        (f"web.{STACK}.users", "#1 get"),
        (f"web.{STACK}.users", "#2 gte"),
        (f"web.{STACK}.users", "#3 get"),
        (f"web.{STACK}.orders", "(contract)"),  # no provider: one case for the whole contract
    ]
    assert suite.get("tests") == "5"
    assert suite.get("failures") == "4"
    assert suite.get("errors") == "0"
    passed, both, unknown, code, contract = cases
    assert list(passed) == []  # a green interaction shows as passed
    [failure] = both.findall("failure")
    assert failure.get("type") == "request_schema"
    assert failure.get("message") == "request 'x' is not of type 'integer'"
    assert "/interactions/1/request/id" in failure.text and "/interactions/1/response/body/name" in failure.text
    assert unknown.find("failure").get("type") == "unknown_operation"
    assert code.find("failure").get("type") == "error_code"
    assert "names field 'idd'" in code.find("system-out").text  # the warning, not a failure
    assert "idd" not in code.find("failure").text
    assert contract.find("failure").get("type") == "unknown_service"


def test_junit_warning_alone_is_not_a_failure() -> None:
    suite = parse_junit(hand_report(interaction_finding(1, severity="warning")))
    assert suite.get("failures") == "0"
    assert suite.get("tests") == "4"
    case = suite.findall("testcase")[1]
    assert case.find("failure") is None
    assert "/interactions/1/request/id" in case.find("system-out").text


def test_junit_of_a_clean_run(clean: Report) -> None:
    suite = parse_junit(clean)
    assert suite.get("tests") == "1" and suite.get("failures") == "0"
    assert suite.find("testcase/failure") is None


def test_junit_escapes_markup_and_survives_control_characters() -> None:
    finding = interaction_finding(0, message='<b>"quoted" & \x1b[31mred\x1b[0m\x00</b>', actual="a\nb")
    suite = parse_junit(hand_report(finding))
    failure = suite.find("testcase/failure")
    assert failure.get("message").startswith('<b>"quoted" & ')
    assert "\\x1b[31mred\\x1b[0m\\x00</b>" in failure.get("message")  # made visible, not dropped
    assert "actual:   a\nb" in failure.text


# -- github ----------------------------------------------------------------------------------------


def annotations(report: Report) -> list[str]:
    lines = render(report, "github").rstrip("\n").split("\n")
    assert lines[-1] == report.summary()
    return lines[:-1]


def test_github_one_annotation_per_finding(report: Report) -> None:
    lines = annotations(report)
    assert len(lines) == len(report.findings)
    for line, finding in zip(lines, report.findings):
        level = "::error " if finding.severity == "error" else "::warning "
        assert line.startswith(level), line
        assert f"file={finding.contract}," in line
        assert f"title=rpctest {finding.check}::" in line
        assert "\n" not in line
    assert lines[4].startswith("::warning file=")


def test_github_message_has_the_details_with_escaped_newlines(report: Report) -> None:
    first = annotations(report)[0]
    body = first.split("::", 2)[2]
    assert body.startswith("request 'x' is not of type 'integer' at /interactions/1/request/id%0A")
    assert '%0A    expected: "integer"%0A' in body
    assert "recorded by: t.py::test_bad" in body  # "::" is fine in the message part


def test_github_escapes_property_values_and_message() -> None:
    finding = interaction_finding(
        0,
        contract=Path("dir,with:odd%chars/c.json"),
        check="a:b,c",
        message="100% wrong\r\nsecond line",
    )
    [line] = annotations(hand_report(finding))
    head, props, body = line.split("::", 2)[0], line.split("::", 2)[1], line.split("::", 2)[2]
    assert head == ""
    assert props == "error file=dir%2Cwith%3Aodd%25chars/c.json,title=rpctest a%3Ab%2Cc"
    assert body.startswith("100%25 wrong%0D%0Asecond line at /interactions/0/request/id%0A")
    assert "\r" not in line and "\n" not in line


def test_github_finding_without_a_file_has_no_file_property() -> None:
    finding = Finding("unknown_service", "no provider", consumer="web", stack=STACK, service="orders", severity="warning")
    [line] = annotations(hand_report(finding))
    assert line.startswith("::warning title=rpctest unknown_service::no provider")
    assert "file=" not in line


def test_github_of_a_clean_run_is_only_the_summary(clean: Report) -> None:
    assert render(clean, "github") == clean.summary() + "\n"
