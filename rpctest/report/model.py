"""The neutral findings model every report format is written from.

A command's run becomes a :class:`RunReport`: its verdict (``ok``, ``exit_code``), the sentence that
sums it up, the cases it judged (a JUnit test case each: an interaction, an operation, a framing
case) and its findings, each tied to one case. ``details`` keeps what only that command knows (the
JSON report has always carried it, and scripts read it); ``observed`` holds the error codes the run
saw per operation, which ``rpctest report --html`` puts in its coverage matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Case", "ReportFinding", "RunReport", "Severity", "Status", "SCHEMA_VERSION", "TITLES"]

#: how each command is spelled on the command line, for headings
TITLES = {"verify": "contracts verify", "diff": "contracts diff", "fuzz": "fuzz", "framing": "fuzz --framing"}
#: the version of the JSON form (``rpctest_report``): a reader of stored runs checks it
SCHEMA_VERSION = 1

Severity = Literal["error", "warning", "notice"]
Status = Literal["passed", "failed", "skipped"]


@dataclass
class ReportFinding:
    """One thing a run found. ``text`` holds its lines as the text report shows them (the first the
    headline); ``file`` is where a GitHub annotation points; ``data`` is the command's own JSON of it."""

    severity: Severity
    check: str
    message: str
    where: str = ""
    text: list[str] = field(default_factory=list)
    case: tuple[str, str] | None = None
    file: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    #: whether ``text`` starts with a headline (``ERROR [check] where``) that :attr:`body` leaves out
    titled: bool = True

    @property
    def body(self) -> str:
        """The finding's lines without the headline (the annotation's title says it)."""
        if self.titled:
            return "\n".join(self.text[1:]).strip() or self.message
        import textwrap

        return textwrap.dedent("\n".join(self.text)).strip() or self.message

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.data)
        data.update(severity=self.severity, check=self.check, message=self.message)
        if self.where:
            data["where"] = self.where
        if self.case is not None:
            data["case"] = list(self.case)
        return data


@dataclass
class Case:
    """One judged unit (a JUnit test case). ``headline`` is its line in the text report (None: the
    text report shows only its findings); ``status`` ``skipped`` means it was never run."""

    suite: str
    name: str
    status: Status = "passed"
    seconds: float | None = None
    headline: str | None = None
    skipped: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.suite, self.name)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"suite": self.suite, "name": self.name, "status": self.status}
        if self.seconds is not None:
            data["seconds"] = round(self.seconds, 3)
        if self.skipped:
            data["skipped"] = self.skipped
        return data


@dataclass
class RunReport:
    """The neutral report of one run of ``command`` (``verify``, ``diff``, ``fuzz``, ``framing``)."""

    command: str
    suite: str
    ok: bool
    summary: str
    cases: list[Case] = field(default_factory=list)
    findings: list[ReportFinding] = field(default_factory=list)
    #: lines the text report prints after the cases (an aborted run, what was not sent)
    notes: list[str] = field(default_factory=list)
    #: facts about the run worth keeping in every format: the seed, the stack and service, ...
    meta: dict[str, Any] = field(default_factory=dict)
    #: the command's own JSON (what its JSON report held before this model: scripts read it)
    details: dict[str, Any] = field(default_factory=dict)
    #: error codes the run saw per operation (``stack:service.operation`` -> codes)
    observed: dict[str, list[str]] = field(default_factory=dict)
    exit_code: int = -1

    def __post_init__(self) -> None:
        if self.exit_code == -1:
            self.exit_code = 0 if self.ok else 1

    @property
    def title(self) -> str:
        """``rpctest contracts verify``, ``rpctest fuzz --framing``, ..."""
        return f"rpctest {TITLES.get(self.command, self.command)}"

    def findings_of(self, case: Case) -> list[ReportFinding]:
        return [f for f in self.findings if f.case == case.key]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the command's own keys, and the neutral ones beside them. The neutral names
        are chosen not to take a command's own (the framing report's ``cases`` is its count of cases);
        ``findings`` of ``verify`` and ``diff`` keep every key they had and gain the neutral ones."""
        data = dict(self.details)
        data.update(
            rpctest_report=SCHEMA_VERSION,
            command=self.command,
            ok=self.ok,
            exit_code=self.exit_code,
            headline=self.summary,
            meta=dict(self.meta),
            testcases=[case.to_dict() for case in self.cases],
            findings=[finding.to_dict() for finding in self.findings],
            observed={key: list(codes) for key, codes in self.observed.items()},
        )
        for key, value in self.meta.items():
            data.setdefault(key, value)
        return data
