"""A griffe extension that turns the reStructuredText bits of flowkit's docstrings into Markdown.

The docstrings are Google style, but some use Sphinx cross-reference roles
(``:class:`~flowkit.path.GaussianPath```) and reST simple tables (rows between ``====  ====``
borders). The API pages render docstrings as Markdown, where both would show up verbatim, so this
extension rewrites them before rendering:

* a role becomes inline code of its target (only the last dotted part when the target starts with
  ``~``, as in Sphinx);
* a simple table with one header row becomes a Markdown pipe table.

The source files are not touched; only the text the documentation renders changes.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|data|attr|mod|exc|obj|const|type):`(?P<tilde>~?)(?P<target>[^`<]+?)(?:\s*<[^`]*>)?`"
)
"""A Sphinx role such as ``:meth:`~flowkit.path.GaussianPath.convert```."""

BORDER = re.compile(r"^(?P<indent>[ \t]*)=+(?:[ \t]+=+)+[ \t]*$")
"""A border line of a reST simple table (at least two columns)."""


def replace_roles(text: str) -> str:
    """Replace each Sphinx role by inline code naming its target."""

    def one(match: re.Match[str]) -> str:
        target = match["target"].strip()
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        return f"`{shown}`"

    return ROLE.sub(one, text)


def _columns(border: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each ``=`` run of a border line."""
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _cells(line: str, columns: list[tuple[int, int]]) -> list[str]:
    """Split a table row at the column starts (the last column runs to the end of the line)."""
    starts = [start for start, _ in columns] + [len(line) + 1]
    return [line[starts[i] : starts[i + 1]].strip().replace("|", "\\|") for i in range(len(columns))]


def convert_tables(text: str) -> str:
    """Rewrite reST simple tables with a one-line header as Markdown tables; leave anything else alone."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = BORDER.match(lines[i])
        closing = next((k for k in range(i + 3, len(lines)) if BORDER.match(lines[k])), None)
        if match and i + 2 < len(lines) and BORDER.match(lines[i + 2]) and closing is not None:
            columns = _columns(lines[i])
            indent = match["indent"]
            header = _cells(lines[i + 1], columns)
            rows = [_cells(row, columns) for row in lines[i + 3 : closing] if row.strip()]
            table = [f"{indent}| " + " | ".join(header) + " |", f"{indent}|" + "|".join(" --- " for _ in header) + "|"]
            table += [f"{indent}| " + " | ".join(row) + " |" for row in rows]
            if out and out[-1].strip():
                out.append("")
            out += table
            if closing + 1 < len(lines) and lines[closing + 1].strip():
                out.append("")
            i = closing + 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def to_markdown(text: str) -> str:
    """Both rewrites, tables first (their borders contain no roles)."""
    return replace_roles(convert_tables(text))


class RestToMarkdown(griffe.Extension):
    """Rewrite every docstring with :func:`to_markdown` once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """griffe event: called for every object below a package (module, class, function, attribute)."""
        rewrite(obj)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """griffe event: called for each top-level package, which ``on_object`` does not visit."""
        rewrite(pkg)


def rewrite(obj: griffe.Object) -> None:
    """Rewrite the docstring of ``obj`` in place (objects without one are left alone)."""
    if obj.docstring is not None:
        obj.docstring.value = to_markdown(obj.docstring.value)
