"""Reading the manual (docs/*.md) the way the drift tests need it: sections and table rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_CODE = re.compile(r"`([^`]+)`")
# A cell separator: a `|` not escaped as `\|` and not inside a code span.
_FENCE = re.compile(r"^\s*(```|~~~)")


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Row:
    """One body row of a Markdown table, its cells keyed by the header's lower-cased words."""

    cells: dict[str, str]
    line: int

    def first(self) -> str:
        return next(iter(self.cells.values()))

    def names(self) -> list[str]:
        """The code spans of the first cell: the names the row documents."""
        return _CODE.findall(self.first())


def split_cells(line: str) -> list[str]:
    cells: list[str] = []
    current: list[str] = []
    in_code = False
    escaped = False
    for char in line.strip().strip("|"):
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == "`":
            in_code = not in_code
            current.append(char)
        elif char == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip())
    return cells


def table_rows(text: str) -> list[Row]:
    """Every body row of every table in `text` (tables inside code fences are not tables)."""
    rows: list[Row] = []
    header: list[str] | None = None
    in_fence = False
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or not line.lstrip().startswith("|"):
            header = None
            continue
        cells = split_cells(line)
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the separator row
        rows.append(Row(dict(zip(header, cells, strict=False)), number))
    return rows


def sections(text: str, level: int = 2) -> dict[str, str]:
    """Heading title -> the text under it, up to the next heading of the same level or above."""
    marker = re.compile(rf"^(#{{1,{level}}}) (.+)$")
    found: dict[str, str] = {}
    title: str | None = None
    body: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else marker.match(line)
        if heading:
            if title is not None:
                found[title] = "\n".join(body)
            title, body = heading.group(2).strip(), []
        elif title is not None:
            body.append(line)
    if title is not None:
        found[title] = "\n".join(body)
    return found


def documented_names(text: str) -> list[str]:
    """The names in the first cell of every table row of `text`, in order, repeats kept."""
    return [name for row in table_rows(text) for name in row.names()]
