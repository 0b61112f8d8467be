"""Reading ``rpctest report --html`` back, for the tests: its tables as grids of cells (rowspans
spread), and a project with hostile names in every field a contract or run can put on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from rpctest.contracts import format as fmt
from rpctest.contracts.format import ConsumerContract, OperationSpec, ProviderContract, RecordedInteraction
from rpctest.fuzz.engine import Failure, FuzzReport, OperationResult
from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.report.state import store

#: names that break a page that does not escape them, and characters HTML cannot show
HOSTILE_OPERATION = "<script>alert('op')</script>"
HOSTILE_CODE = '"><img src=x onerror=alert(1)>'
HOSTILE_CONSUMER = "</td></tr></table><script>alert('consumer')</script>"
HOSTILE_TEST = "tests/x.py::test_<b>bold</b>&amp;\x01"
HOSTILE_MESSAGE = "<iframe src=javascript:alert(3)></iframe>\x00 ]]> %0A ::error::"


@dataclass
class Cell:
    text: str
    css: str
    tag: str


@dataclass
class Page(HTMLParser):
    """Every table's rows as cell lists (a cell with rowspan repeated into the rows it spans), the
    heading before each table, the tags seen, and the text."""

    tables: list[list[list[Cell]]] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._cell: list[str] | None = None
        self._attrs: dict[str, str] = {}
        self._spans: list[dict[int, tuple[Cell, int]]] = []
        self._row: list[Cell] = []
        self._heading: list[str] | None = None
        self._last_heading = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("h2", "h3"):
            self._heading = []
        elif tag == "table":
            self.tables.append([])
            self.headings.append(self._last_heading)
            self._spans.append({})
        elif tag == "tr":
            self._row = []
            self._fill()
        elif tag in ("td", "th"):
            self._cell = []
            self._attrs = {k: v or "" for k, v in attrs}
            self._attrs["tag"] = tag

    def _fill(self) -> None:
        spans = self._spans[-1]
        while len(self._row) in spans:
            cell, left = spans.pop(len(self._row))
            self._row.append(cell)
            if left > 1:
                spans[len(self._row) - 1] = (cell, left - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._heading is not None:
            self._last_heading = "".join(self._heading).strip()
            self.titles.append(self._last_heading)
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            cell = Cell(" ".join("".join(self._cell).split()), self._attrs.get("class", ""), self._attrs["tag"])
            self._row.append(cell)
            rows = int(self._attrs.get("rowspan", "1"))
            if rows > 1:
                self._spans[-1][len(self._row) - 1] = (cell, rows - 1)
            self._cell = None
            self._fill()
        elif tag == "tr":
            self.tables[-1].append(self._row)
        elif tag == "table":
            self._spans.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._cell is not None:
            self._cell.append(data + " ")


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def matrix(page: Page, key: str) -> dict[tuple[str, str], dict[str, Cell]]:
    """The coverage table of service ``key`` (``stack:service``): (operation, code) -> column -> cell."""
    for heading, table in zip(page.headings, page.tables):
        if heading.split(" (")[0] == key and table and table[0][0].text == "operation":
            header = [cell.text for cell in table[0]]
            rows = {}
            for row in table[1:]:
                cells = dict(zip(header, row))
                operation = cells["operation"].text.replace(" not in the provider contract", "")
                rows[(operation, cells["error code"].text)] = cells
            return rows
    raise AssertionError(f"no coverage table for {key}; tables under {page.headings}")


def run_table(page: Page, command_title: str) -> list[list[Cell]]:
    """The findings table of a stored run (under its heading, ``rpctest fuzz`` ...)."""
    for heading, table in zip(page.headings, page.tables):
        if heading == command_title and table and table[0][0].text == "severity":
            return table[1:]
    raise AssertionError(f"no findings table under {command_title!r}; tables under {page.headings}")


def hostile_project(root: Path) -> Path:
    """A contracts directory (and stored runs in ``root/state``) with hostile names in every field."""
    contracts = root / "contracts"
    provider = ProviderContract("toy", "evil<svc>", {
        HOSTILE_OPERATION: OperationSpec(HOSTILE_OPERATION, request={"type": "object"}, response={}, errors=[HOSTILE_CODE]),
        "plain": OperationSpec("plain", request={"type": "object"}, response={}, errors=[]),
    })
    consumer = ConsumerContract(HOSTILE_CONSUMER, "toy", "evil<svc>", [
        RecordedInteraction(HOSTILE_OPERATION, {}, errors=[RpcError(HOSTILE_CODE, HOSTILE_MESSAGE, kind=ErrorKind.CALLER_ERROR)],
                            tests=[HOSTILE_TEST]),
        RecordedInteraction("<b>undeclared</b>", {}, {}, tests=[HOSTILE_TEST]),
    ])
    fmt.write(provider, contracts / "providers" / "evil.json")
    fmt.write(consumer, contracts / "consumers" / "evil.json")
    result = OperationResult(HOSTILE_OPERATION, "all", examples=3, codes=[HOSTILE_CODE, "<BOOM>"])
    result.failure = Failure(HOSTILE_OPERATION, "all", "<check>", HOSTILE_MESSAGE, {"x": HOSTILE_MESSAGE},
                             Reply(errors=[RpcError("<BOOM>", HOSTILE_MESSAGE, kind=ErrorKind.SERVER_ERROR)]))
    store(FuzzReport("toy", "evil<svc>", [result]).run_report(), root / "state")
    return contracts
