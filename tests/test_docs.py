"""Tests that keep the documentation honest.

* Every ```python block of ``docs/**/*.md`` and ``README.md`` runs against the current code: the
  blocks of one page run in order in one module namespace, in a fresh working directory that holds a
  copy of ``examples/``. A block directly preceded by ``<!-- no-run -->`` is left out. Lines such as
  ``--8<-- "plugins/x/y.py"`` are replaced by the file they include, as the site build does. After
  the blocks, every ``test_*`` function the page defined is called (with ``tmp_path`` if it asks for
  it), so the tests a page shows must pass too.
* Every hook of :mod:`flowkit.hookspecs` and every component interface is named on its page under
  ``docs/extending/``.
* Every page is reachable from the ``nav`` of ``mkdocs.yml``, and every nav entry exists.
* The generated references cover everything installed: each component and param in the run-spec
  reference, each public module in the API pages.
* ``mkdocs build --strict`` succeeds (slow).
"""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

import flowkit
from flowkit.host import default_host, set_default_host
from flowkit.host.hookspecs import KIND_BASES, KIND_HOOKS, PROJECT_NAME

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
NO_RUN = "<!-- no-run -->"
PYTHON_LANGS = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
TITLE = re.compile(r"\btitle=\"(?P<title>[^\"]+)\"")
SNIPPET = re.compile(r"^(?P<indent>[ \t]*)-+8<-+[ \t]+[\"'](?P<target>[^\"']+)[\"'][ \t]*$")


# ------------------------------------------------------------------------------------------------
# Extracting code blocks


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page.

    Attributes:
        page: the page, relative to the repository root.
        line: 1-based line number of the block's first code line in the page.
        language: the first word of the fence's info string (``python``, ``bash``, ...).
        source: the code, with the fence's indentation removed.
        runnable: ``False`` when the block is preceded by ``<!-- no-run -->``.
        title: the ``title="..."`` of the fence, if any: such a block is a file to write (at that
            path, relative to the working directory), not code to run.
    """

    page: str
    line: int
    language: str
    source: str
    runnable: bool
    title: str | None = None

    @property
    def executes(self) -> bool:
        """Whether the block runs as code: a runnable python block without a title."""
        return self.runnable and self.title is None and self.language in PYTHON_LANGS

    @property
    def writes(self) -> bool:
        """Whether the block is written to a file before the page's code runs after it."""
        return self.runnable and self.title is not None


def extract_blocks(text: str, page: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order (indented fences included)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    previous = ""
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        info = match["info"].strip().lstrip("{").lstrip(".")
        language = info.split()[0].rstrip("}").lower() if info else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        title = TITLE.search(info)
        source = "\n".join(body) + "\n"
        blocks.append(Block(page, i + 2, language, source, previous != NO_RUN, title["title"] if title else None))
        previous = ""
        i = j + 1
    return blocks


def include_snippets(source: str, root: Path = REPO) -> str:
    """Replace ``--8<-- "path"`` lines (optionally ``"path:start:end"``) by the lines they include."""
    out: list[str] = []
    for line in source.splitlines():
        match = SNIPPET.match(line)
        if match is None:
            out.append(line)
            continue
        target, *bounds = match["target"].split(":")
        included = (root / target).read_text(encoding="utf-8").splitlines()
        if bounds:
            start = int(bounds[0]) if bounds[0] else 1
            end = int(bounds[1]) if len(bounds) > 1 and bounds[1] else len(included)
            included = included[start - 1 : end]
        out.extend(match["indent"] + text if text else text for text in included)
    return "\n".join(out) + "\n"


def doc_pages() -> list[Path]:
    """The pages whose code must run: ``docs/**/*.md`` and ``README.md`` (when present)."""
    pages = sorted(DOCS.rglob("*.md"))
    readme = REPO / "README.md"
    return [*pages, readme] if readme.is_file() else pages


def page_blocks(page: Path) -> list[Block]:
    """Every fenced block of a page (any language, runnable or not)."""
    return extract_blocks(page.read_text(encoding="utf-8"), page.relative_to(REPO).as_posix())


def python_blocks(page: Path) -> list[Block]:
    """The python blocks of a page (runnable or not, files included)."""
    return [b for b in page_blocks(page) if b.language in PYTHON_LANGS]


def runnable_pages() -> list[tuple[Path, int]]:
    """Each page with at least one python block to run, and how many it has."""
    out = []
    for page in doc_pages():
        count = sum(b.executes for b in page_blocks(page))
        if count:
            out.append((page, count))
    return out


# ------------------------------------------------------------------------------------------------
# Running a page


@pytest.fixture
def restore_default_host() -> Iterator[None]:
    """Give the page the process-wide plugin host and put it back afterwards, whatever the page did.

    The page runs with one torch thread: the snippets are tiny, and the suite runs in parallel
    workers that would otherwise oversubscribe the cores.
    """
    host = default_host()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        set_default_host(host)
        torch.set_num_threads(threads)


def run_page(page: Path, workdir: Path) -> tuple[int, int]:
    """Run the blocks of ``page`` (see :func:`run_blocks`)."""
    return run_blocks(page.relative_to(REPO).as_posix(), page_blocks(page), workdir)


def run_blocks(rel: str, blocks: list[Block], workdir: Path) -> tuple[int, int]:
    """Run the blocks in order in one module namespace, then the ``test_*`` functions they define.

    Titled blocks are written to their file under ``workdir`` (the current directory of the page)
    when they are reached; untitled python blocks are executed. ``sys.path`` is restored and the
    modules imported from ``workdir`` are forgotten afterwards, so pages cannot affect each other.

    Returns ``(blocks run, page tests run)``; raises ``AssertionError`` naming the page and the line
    of the block (or the page test) that failed.
    """
    saved_path = list(sys.path)
    before = set(sys.modules)
    module_name = "flowkit_docs_" + re.sub(r"\W", "_", rel.removesuffix(".md"))
    module = types.ModuleType(module_name)
    module.__file__ = str(REPO / rel)
    sys.modules[module_name] = module
    ran = 0
    try:
        for block in blocks:
            if block.writes and block.title is not None:
                target = workdir / block.title
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(include_snippets(block.source), encoding="utf-8")
                continue
            if not block.executes:
                continue
            source = include_snippets(block.source)
            filename = f"{rel}:{block.line}"
            linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
            code = compile(source, filename, "exec")
            try:
                exec(code, module.__dict__)
            except Exception as exc:
                raise AssertionError(
                    f"{rel}: the python block at line {block.line} raised {type(exc).__name__}: {exc}"
                ) from exc
            ran += 1
        tests = [
            obj
            for name, obj in vars(module).items()
            if name.startswith("test_") and inspect.isfunction(obj) and obj.__module__ == module_name
        ]
        for test in tests:
            params = list(inspect.signature(test).parameters)
            if params not in ([], ["tmp_path"]):
                raise AssertionError(f"{rel}: {test.__name__} may take no argument or only tmp_path, got {params}")
            kwargs: dict[str, Any] = {}
            if params:
                target = workdir / f"{test.__name__}_tmp"
                target.mkdir()
                kwargs["tmp_path"] = target
            try:
                test(**kwargs)
            except Exception as exc:
                raise AssertionError(f"{rel}: the page's {test.__name__} failed: {type(exc).__name__}: {exc}") from exc
        return ran, len(tests)
    finally:
        sys.modules.pop(module_name, None)
        sys.path[:] = saved_path
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin and Path(origin).resolve().is_relative_to(workdir.resolve()):
                del sys.modules[name]


@pytest.mark.parametrize(
    "page",
    [pytest.param(page, id=f"{page.relative_to(REPO).as_posix()} ({n} blocks)") for page, n in runnable_pages()],
)
def test_page_snippets_run(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    restore_default_host: None,
) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    ran, tests = run_page(page, tmp_path)
    assert ran > 0
    print(f"{page.relative_to(REPO).as_posix()}: ran {ran} python blocks and {tests} page tests")


def test_docs_have_runnable_snippets() -> None:
    pages = runnable_pages()
    total = sum(n for _, n in pages)
    excluded = sum(not b.runnable for page in doc_pages() for b in page_blocks(page) if b.language in PYTHON_LANGS)
    print(f"{total} runnable python blocks on {len(pages)} pages; {excluded} marked no-run")
    assert total >= 10, f"only {total} runnable python blocks found under docs/: is the extractor broken?"


# --- the extractor itself -------------------------------------------------------------------------


def test_extract_blocks_reads_fences_languages_and_no_run() -> None:
    text = "\n".join(
        [
            "# Title",
            "```python",
            "x = 1",
            "```",
            "<!-- no-run -->",
            "",
            '```python title="a.py"',
            "raise SystemExit",
            "```",
            "!!! note",
            "    ```py",
            "    y = 2",
            "    ```",
            "```bash",
            "echo hi",
            "```",
        ]
    )
    blocks = extract_blocks(text, "page.md")
    assert [(b.language, b.line, b.runnable) for b in blocks] == [
        ("python", 3, True),
        ("python", 8, False),
        ("py", 12, True),
        ("bash", 15, True),
    ]
    assert blocks[2].source == "y = 2\n"
    assert blocks[1].title == "a.py" and blocks[0].title is None


def test_include_snippets_reads_whole_files_and_line_ranges(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("a = 1\nb = 2\nc = 3\n", encoding="utf-8")
    assert include_snippets('--8<-- "m.py"\nd = 4\n', tmp_path) == "a = 1\nb = 2\nc = 3\nd = 4\n"
    assert include_snippets('  --8<-- "m.py:2:3"', tmp_path) == "  b = 2\n  c = 3\n"


def test_titled_blocks_become_files_the_next_blocks_can_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [
        Block("fake.md", 3, "python", "VALUE = 42\n", True, "pkg_docs_probe/mod.py"),
        Block("fake.md", 7, "toml", "[project]\n", True, "pkg_docs_probe/pyproject.toml"),
        Block("fake.md", 11, "python", "import sys\nsys.path.insert(0, 'pkg_docs_probe')\nimport mod\n", True),
        Block("fake.md", 15, "python", "assert mod.VALUE == 42\n", True),
    ]
    monkeypatch.chdir(tmp_path)
    assert run_blocks("fake.md", blocks, tmp_path) == (2, 0)
    assert (tmp_path / "pkg_docs_probe" / "pyproject.toml").read_text() == "[project]\n"
    assert "mod" not in sys.modules and str(Path("pkg_docs_probe")) not in sys.path


def test_blocks_share_a_namespace_and_skip_no_run(tmp_path: Path) -> None:
    blocks = [
        Block("fake.md", 3, "python", "x = 20\n", True),
        Block("fake.md", 7, "python", "raise RuntimeError('never runs')\n", False),
        Block("fake.md", 11, "python", "y = x + 1\ndef test_y():\n    assert y == 21\n", True),
    ]
    assert run_blocks("fake.md", blocks, tmp_path) == (2, 1)


def test_a_failing_block_names_its_page_and_line(tmp_path: Path) -> None:
    blocks = [Block("fake.md", 3, "python", "x = 1\n", True), Block("fake.md", 9, "python", "x / 0\n", True)]
    with pytest.raises(AssertionError, match=r"fake\.md: the python block at line 9 raised ZeroDivisionError"):
        run_blocks("fake.md", blocks, tmp_path)


def test_a_failing_page_test_is_reported(tmp_path: Path) -> None:
    source = "def test_wrong(tmp_path):\n    assert tmp_path.is_dir()\n    assert 1 == 2\n"
    blocks = [Block("fake.md", 3, "python", source, True)]
    with pytest.raises(AssertionError, match=r"fake\.md: the page's test_wrong failed"):
        run_blocks("fake.md", blocks, tmp_path)


# ------------------------------------------------------------------------------------------------
# Every extension point is documented


def extending_page(hook: str) -> Path:
    """The page documenting a hook: ``flowkit_paths`` -> ``docs/extending/paths.md``."""
    return DOCS / "extending" / f"{hook.removeprefix(PROJECT_NAME + '_')}.md"


def hook_names() -> list[str]:
    """Every hook specification in :mod:`flowkit.hookspecs`."""
    from flowkit import hookspecs

    marker = f"{PROJECT_NAME}_spec"
    return sorted(name for name, obj in vars(hookspecs).items() if callable(obj) and hasattr(obj, marker))


def interface_pages() -> dict[str, Path]:
    """Each component interface class and the page that must name it."""
    pages = {base.__name__: extending_page(KIND_HOOKS[kind]) for kind, base in KIND_BASES.items()}
    pages[flowkit.GaussianPath.__name__] = extending_page(KIND_HOOKS["path"])
    return pages


def names_on(page: Path, name: str) -> bool:
    """Whether ``name`` appears on ``page`` as a whole word."""
    return page.is_file() and re.search(rf"\b{re.escape(name)}\b", page.read_text(encoding="utf-8")) is not None


def test_every_hook_is_documented_on_its_extending_page() -> None:
    hooks = hook_names()
    assert set(KIND_HOOKS.values()) <= set(hooks)
    missing = [f"{h} (on {extending_page(h).relative_to(REPO)})" for h in hooks if not names_on(extending_page(h), h)]
    assert not missing, "hooks not documented: " + ", ".join(missing)


def test_every_interface_is_documented_on_its_extending_page() -> None:
    expected = {"ProbabilityPath", "GaussianPath", "Parameterization", "Objective", "Coupling", "Solver"}
    expected |= {"Dataset", "Model", "Metric"}
    pages = interface_pages()
    assert expected <= set(pages)
    missing = [f"{name} (on {page.relative_to(REPO)})" for name, page in pages.items() if not names_on(page, name)]
    assert not missing, "interfaces not documented: " + ", ".join(missing)


def test_the_extending_index_links_every_extension_page() -> None:
    index = (DOCS / "extending" / "index.md").read_text(encoding="utf-8")
    missing = [extending_page(h).name for h in hook_names() if f"({extending_page(h).name})" not in index]
    assert not missing, "docs/extending/index.md does not link: " + ", ".join(missing)


def test_component_names_on_the_home_page_are_installed() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    registry = default_host().registry
    kinds = {"path", "parameterization", "objective", "coupling", "solver", "dataset", "model", "metric"}
    rows = [row.split("|") for row in text.splitlines() if row.startswith("| ") and row.split("|")[1].strip() in kinds]
    assert {row[1].strip() for row in rows} == kinds
    for row in rows:
        kind, names = row[1].strip(), re.findall(r"`([^`]+)`", row[3])
        missing = [name for name in names if name not in registry.names(kind)]
        assert not missing, f"docs/index.md names {kind}s that are not installed: {missing}"


# ------------------------------------------------------------------------------------------------
# Navigation


class _Loader(yaml.SafeLoader):
    """A YAML loader that accepts the ``!!python/name:`` and ``!relative`` tags of mkdocs configurations."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
_Loader.add_constructor("!relative", lambda loader, node: None)


def nav_pages(node: Any) -> Iterator[str]:
    """Every page path listed in an mkdocs ``nav`` tree."""
    if isinstance(node, str):
        if not node.startswith(("http://", "https://")):
            yield node
    elif isinstance(node, list):
        for item in node:
            yield from nav_pages(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from nav_pages(value)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    config = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    listed = list(nav_pages(config["nav"]))
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    missing_files = [p for p in listed if not (DOCS / p).is_file()]
    assert not missing_files, f"nav lists pages that do not exist: {missing_files}"
    unlisted = [p for p in pages if p not in listed]
    assert not unlisted, f"pages missing from the nav of mkdocs.yml: {unlisted}"


# ------------------------------------------------------------------------------------------------
# The generated references


def load_hook(name: str) -> types.ModuleType:
    """Import ``docs/hooks/<name>.py`` as a module."""
    path = DOCS / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"flowkit_docs_hook_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_spec_reference_lists_every_installed_component_and_param() -> None:
    hook = load_hook("spec_reference")
    page = (DOCS / "spec.md").read_text(encoding="utf-8")
    assert hook.MARKER in page
    markdown = hook.render_reference(hook.gather())
    registry = default_host().registry
    for reg in registry.registrations():
        assert f"{{#{reg.kind}-{reg.name}}}" in markdown, f"{reg.kind} {reg.name!r} missing from the spec reference"
        for param in reg.cls.Params.model_fields:
            assert f"| `{param}` |" in markdown, f"param {param!r} of {reg.kind} {reg.name!r} missing"
    for section in ("train", "sample", "evaluate", "output"):
        assert f"{{#{section}}}" in markdown
    assert "| `data` | [dataset](#dataset) component | **required** |" in markdown
    assert '| `path` | [path](#path) component | `{"name": "condot"}` |' in markdown


def test_spec_reference_renders_types_defaults_and_constraints() -> None:
    hook = load_hook("spec_reference")
    schema = {
        "type": "object",
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "exclusiveMinimum": 0, "description": "How many | which."},
            "rate": {"anyOf": [{"type": "number", "maximum": 1}, {"type": "null"}], "default": None},
            "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
            "pair": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]},
        },
    }
    table = hook.properties_table(schema, schema, "", {}, "Field")
    rows = table.splitlines()
    assert rows[2] == "| `count` | integer | **required** | > `0` | How many \\| which. |"
    assert rows[3] == "| `rate` | number or null | `null` | ≤ `1` |  |"
    assert rows[4] == '| `mode` | string | `"a"` | one of `"a"`, `"b"` |  |'
    assert rows[5] == "| `pair` | [number, number] | none |  |  |"


def test_rest_roles_and_simple_tables_become_markdown() -> None:
    hook = load_hook("griffe_rst")
    text = "See :class:`~flowkit.path.GaussianPath` and :func:`flowkit.run`.\n\n"
    border = "=====  ==========\n"
    text += border + "name   meaning\n" + border + "a      ``x | y``\nb      two words\n" + border + "After."
    assert hook.to_markdown(text).split("\n") == [
        "See `GaussianPath` and `flowkit.run`.",
        "",
        "| name | meaning |",
        "| --- | --- |",
        "| a | ``x \\| y`` |",
        "| b | two words |",
        "",
        "After.",
    ]
    assert hook.to_markdown("no table ==== here\n") == "no table ==== here\n"


def test_cli_placeholders_stay_visible_and_real_tags_stay_tags() -> None:
    hook = load_hook("cli_reference")
    html = '<p>Written as <folder>.partial, see <a href="x">this</a> and <code>runs/&lt;name&gt;</code></p>'
    assert hook.escape_placeholders(html) == (
        '<p>Written as &lt;folder&gt;.partial, see <a href="x">this</a> and <code>runs/&lt;name&gt;</code></p>'
    )


def test_api_pages_cover_every_public_module() -> None:
    hook = load_hook("api_reference")
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    expanded = hook.expand_remaining(api, REPO)
    documented = set(hook.DOCUMENTED.findall(expanded))
    modules = hook.public_modules(REPO / "flowkit", "flowkit")
    assert set(modules) <= documented, f"modules missing from api.md: {sorted(set(modules) - documented)}"
    plugins = hook.render_plugins(REPO)
    for pyproject in (REPO / "plugins").glob("*/pyproject.toml"):
        for package in hook.plugin_packages(pyproject.parent):
            assert f"::: {package}\n" in plugins, f"plugin package {package} missing from api-plugins.md"


# ------------------------------------------------------------------------------------------------
# The site builds


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"), "-d", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "spec" / "index.html").is_file()
