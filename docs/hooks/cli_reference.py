"""mkdocs hook: keep the ``<placeholder>`` words of command help visible on the CLI reference page.

The CLI reference is generated from the click commands by the ``mkdocs-click`` extension, which
passes each command's description through Markdown. Help texts write placeholders the way
terminals show them (``<folder>.partial``), and Markdown passes ``<folder>`` through as an HTML
tag that browsers then hide. After the page is converted, this hook turns every tag whose name is
not one the page legitimately contains back into visible text.

Only pages that hold the ``mkdocs-click`` directive are touched.
"""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

DIRECTIVE = "::: mkdocs-click"

HTML_TAGS = frozenset(
    (  # noqa: SIM905 (a word list reads better than a column of strings)
        "a abbr b blockquote br code dd div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li ol p pre "
        "span strong sub sup table tbody td th thead tr ul details summary svg path"
    ).split()
)
"""Elements that converted Markdown (and the extensions this site uses) may produce."""

TAG = re.compile(r"<(?P<close>/?)(?P<name>[A-Za-z][\w-]*)(?P<rest>(?:\s[^<>]*)?)>")


def escape_placeholders(html: str) -> str:
    """Escape ``<name>`` and ``</name>`` where ``name`` is not an element of :data:`HTML_TAGS`."""

    def one(match: re.Match[str]) -> str:
        if match["name"].lower() in HTML_TAGS:
            return match.group(0)
        return "&lt;" + match.group(0)[1:-1] + "&gt;"

    return TAG.sub(one, html)


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """mkdocs event: escape stray placeholders in pages generated from the click commands."""
    if page.markdown is None or DIRECTIVE not in page.markdown:
        return html
    return escape_placeholders(html)
