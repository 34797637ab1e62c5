"""mkdocs hook: render the run-spec reference from flowkit's JSON Schema at build time.

``docs/spec.md`` holds the marker :data:`MARKER`; when the site is built it is replaced by Markdown
generated from :func:`flowkit.spec.spec_json_schema` for the plugins installed in the building
environment: one table per spec section, then, per component kind, one params table per component
(type, default, constraints and description of every param). Defaults the schema cannot express
(component fields filled by a default factory, such as ``path``) are read from the spec model
itself, and each component names the plugin that provides it.

The rendering functions are pure (schema in, Markdown out), so the tests exercise them directly.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from pydantic import BaseModel

MARKER = "<!-- flowkit:spec-reference -->"
"""The comment in a page that the generated reference replaces."""

Schema = Mapping[str, Any]

_BOUNDS: tuple[tuple[str, str], ...] = (
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
    ("multipleOf", "multiple of"),
    ("minLength", "length ≥"),
    ("maxLength", "length ≤"),
    ("minItems", "items ≥"),
    ("maxItems", "items ≤"),
    ("pattern", "matches"),
)


@dataclass
class SpecFacts:
    """What the reference is rendered from.

    Attributes:
        schema: the run-spec JSON Schema (``spec_json_schema()``).
        defaults: dotted field path -> default value, for defaults the schema leaves out
            (e.g. ``"path" -> {"name": "condot"}``).
        providers: ``(kind, name)`` -> a description of the plugin providing the component.
        plugins: one description per loaded plugin (shown in the page's preamble).
        summaries: ``(kind, name)`` -> the first paragraph of the component's docstring (the
            schema only carries its first line).
        kind_order: the order in which kinds are listed (kinds not in it follow, in schema order).
    """

    schema: Schema
    defaults: dict[str, Any] = field(default_factory=dict)
    providers: dict[tuple[str, str], str] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    summaries: dict[tuple[str, str], str] = field(default_factory=dict)
    kind_order: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Schema helpers


def resolve(node: Schema, schema: Schema) -> Schema:
    """Follow a local ``$ref`` (``#/$defs/Name``) to its definition; other nodes are returned as is."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    if not ref.startswith("#/$defs/"):
        raise ValueError(f"unsupported $ref {ref!r}")
    target: Schema = schema["$defs"][ref.removeprefix("#/$defs/")]
    return target


def code(value: Any) -> str:
    """A value as inline JSON code, e.g. ``1e-05`` or ``"dopri5"``."""
    text = json.dumps(value, ensure_ascii=False)
    return f"`{text}`"


def cell(text: str) -> str:
    """Make text safe inside a Markdown table cell: one line, pipes escaped, and ``<`` outside code
    spans written as an entity (so ``runs/<name>`` is not read as an HTML tag)."""
    parts = " ".join(text.split()).split("`")
    for i in range(0, len(parts), 2):  # even parts lie outside code spans
        parts[i] = parts[i].replace("<", "&lt;")
    return "`".join(parts).replace("|", "\\|")


def union_members(node: Schema, schema: Schema) -> list[tuple[str, str]] | None:
    """``[(kind, name), ...]`` if ``node`` is a component union (discriminated on ``name``), else ``None``."""
    if "discriminator" not in node and "oneOf" not in node:
        return None
    members: list[tuple[str, str]] = []
    for option in node.get("oneOf", []):
        target = resolve(option, schema)
        title = str(target.get("title", ""))
        kind, _, name = title.partition(" ")
        if not name:
            name = str(target.get("properties", {}).get("name", {}).get("const", ""))
        members.append((kind, name))
    return members


def union_kind(node: Schema, schema: Schema) -> str | None:
    """The component kind of a union node (``path``, ``solver``, ...), or ``None``."""
    members = union_members(node, schema)
    if not members:
        return None
    return members[0][0]


def type_of(node: Schema, schema: Schema) -> str:
    """A short human reading of a property's type (``integer``, ``number or null``, ``list of metric``)."""
    kind = union_kind(node, schema)
    if kind is not None:
        return f"[{kind}](#{kind}) component"
    if "$ref" in node:
        target = resolve(node, schema)
        return f"object ({target.get('title', 'object')})"
    if "anyOf" in node:
        parts = [type_of(option, schema) for option in node["anyOf"]]
        return " or ".join(dict.fromkeys(parts))
    if "const" in node:
        return code(node["const"])
    declared = node.get("type")
    if declared == "array":
        fixed = node.get("prefixItems")
        if isinstance(fixed, list):
            return "[" + ", ".join(type_of(item, schema) for item in fixed) + "]"
        items = node.get("items")
        return f"list of {type_of(items, schema)}" if isinstance(items, Mapping) else "list"
    if isinstance(declared, list):
        return " or ".join(str(d) for d in declared)
    if isinstance(declared, str):
        return declared
    if "enum" in node:
        return "enum"
    return "any"


def constraints_of(node: Schema, schema: Schema) -> str:
    """Bounds, allowed values and patterns of a property (including those inside ``anyOf``)."""
    found: list[str] = []
    options = [node, *(resolve(o, schema) for o in node.get("anyOf", []))]
    for option in options:
        same_size = "minItems" in option and option.get("minItems") == option.get("maxItems")
        if same_size:
            found.append(f"exactly {option['minItems']} items")
        for key, label in _BOUNDS:
            if key in option and not (same_size and key in ("minItems", "maxItems")):
                found.append(f"{label} {code(option[key])}")
        if "enum" in option:
            found.append("one of " + ", ".join(code(v) for v in option["enum"]))
    return "; ".join(dict.fromkeys(found)) or ""


def default_of(node: Schema, required: bool, dotted: str, defaults: Mapping[str, Any]) -> str:
    """The default of a property: a section link, the schema's default, a factory default, or
    ``required``/``none``."""
    value = defaults.get(dotted)
    if isinstance(value, str) and value.startswith("section:"):
        section = value.removeprefix("section:")
        return f"see [{section}](#{section})"
    if "default" in node:
        return code(node["default"])
    if dotted in defaults:
        return code(value)
    return "**required**" if required else "none"


# ------------------------------------------------------------------------------------------------
# Rendering


def description_of(prop: Schema, target: Schema, schema: Schema) -> str:
    """A property's description; a component field without one says which kind it takes."""
    text = str(prop.get("description", target.get("description", "")))
    if text:
        return text
    node = prop.get("items", prop) if prop.get("type") == "array" else prop
    kind = union_kind(node, schema) if isinstance(node, Mapping) else None
    if kind is None:
        return ""
    many = "Any number of" if node is not prop else "One of"
    return f'{many} the installed {kind} components, as `{{"name": ..., "params": {{...}}}}`.'


def properties_table(obj: Schema, schema: Schema, prefix: str, defaults: Mapping[str, Any], label: str) -> str:
    """A Markdown table of an object schema's properties (``label`` names the first column)."""
    props: Mapping[str, Schema] = obj.get("properties", {})
    required = set(obj.get("required", []))
    rows = [f"| {label} | Type | Default | Constraints | Description |", "| --- | --- | --- | --- | --- |"]
    for name, prop in props.items():
        dotted = f"{prefix}{name}"
        target = resolve(prop, schema) if "$ref" in prop and union_kind(prop, schema) is None else prop
        is_section = target is not prop and target.get("type") == "object" and "properties" in target
        kind_type = f"[{name}](#{name}) section" if is_section else type_of(prop, schema)
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{name}`",
                    cell(kind_type),
                    cell(default_of(prop, name in required, dotted, defaults)),
                    cell(constraints_of(prop, schema)),
                    cell(description_of(prop, target, schema)),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def sections_of(schema: Schema) -> list[tuple[str, Schema]]:
    """The top-level fields that are fixed sections (``train``, ``sample``, ...), in schema order."""
    out: list[tuple[str, Schema]] = []
    for name, prop in schema.get("properties", {}).items():
        if "$ref" in prop and union_kind(prop, schema) is None:
            target = resolve(prop, schema)
            if "properties" in target:
                out.append((name, target))
    return out


def kinds_of(schema: Schema) -> dict[str, list[str]]:
    """Every component kind used anywhere in the spec, with its component names (schema order)."""
    kinds: dict[str, list[str]] = {}

    def visit(node: Any) -> None:
        if isinstance(node, Mapping):
            members = union_members(node, schema)
            if members:
                for kind, name in members:
                    names = kinds.setdefault(kind, [])
                    if name not in names:
                        names.append(name)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        visit(definition.get("properties", {}))
    return kinds


def component_def(kind: str, name: str, schema: Schema) -> Schema:
    """The schema definition of the component ``(kind, name)`` (titled ``"<kind> <name>"``)."""
    for definition in schema.get("$defs", {}).values():
        if definition.get("title") == f"{kind} {name}":
            return definition  # type: ignore[no-any-return]
    raise KeyError(f"no schema definition for {kind} {name!r}")


def render_component(kind: str, name: str, facts: SpecFacts) -> str:
    """The heading, summary, provider and params table of one component."""
    schema = facts.schema
    definition = component_def(kind, name, schema)
    lines = [f"#### `{name}` {{#{kind}-{name}}}", ""]
    summary = facts.summaries.get((kind, name)) or str(definition.get("description", "")).strip()
    if summary:
        lines += [summary, ""]
    provider = facts.providers.get((kind, name))
    if provider:
        lines += [f"Provided by {provider}.", ""]
    params_prop = definition.get("properties", {}).get("params")
    params = resolve(params_prop, schema) if isinstance(params_prop, Mapping) else {}
    if params.get("properties"):
        lines.append(properties_table(params, schema, f"{kind}.{name}.params.", {}, "Param"))
    else:
        lines.append("No params.")
    lines.append("")
    return "\n".join(lines)


def render_reference(facts: SpecFacts) -> str:
    """The whole generated reference as Markdown."""
    schema = facts.schema
    out: list[str] = []
    if facts.plugins:
        out += ["Generated from the plugins installed when this page was built: " + ", ".join(facts.plugins) + ".", ""]
    out += ["## Top level", "", properties_table(schema, schema, "", facts.defaults, "Field"), ""]
    for name, section in sections_of(schema):
        out += [f"## `{name}` {{#{name}}}", ""]
        description = str(section.get("description", "")).strip()
        if description:
            out += [cell(description), ""]
        out += [properties_table(section, schema, f"{name}.", facts.defaults, "Field"), ""]
    out += [
        "## Components",
        "",
        'Each component field takes `{"name": ..., "params": {...}}`; `params` may be left out to take every default.',
        "",
    ]
    kinds = kinds_of(schema)
    order = [k for k in facts.kind_order if k in kinds] + [k for k in kinds if k not in facts.kind_order]
    for kind in order:
        names = kinds[kind]
        out += [f"### {kind} {{#{kind}}}", ""]
        out += [f"Installed: {', '.join(f'[`{n}`](#{kind}-{n})' for n in names)}.", ""]
        for name in names:
            out.append(render_component(kind, name, facts))
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------
# Gathering the facts from the installed plugins


def model_defaults(model: type[BaseModel], section_base: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """Defaults produced by default factories in ``model`` and its section sub-models, by dotted path.

    A field whose type derives from ``section_base`` (a section such as ``train``) is recorded as
    ``"section:<field>"`` and walked, so ``sample.solver`` is found as well.
    """
    out: dict[str, Any] = {}
    for fname, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, section_base):
            out[f"{prefix}{fname}"] = f"section:{fname}"
            out.update(model_defaults(annotation, section_base, f"{prefix}{fname}."))
            continue
        factory = info.default_factory
        if factory is not None:
            out[f"{prefix}{fname}"] = factory()  # type: ignore[call-arg]
    return out


def first_paragraph(cls: type) -> str:
    """The first paragraph of a class docstring, on one line (``""`` when there is none)."""
    doc = inspect.getdoc(cls) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def gather() -> SpecFacts:
    """Read the schema, the factory defaults and the providers from the installed plugins."""
    from flowkit.host import default_host
    from flowkit.host.hookspecs import KIND_HOOKS
    from flowkit.runs.spec import Section, build_spec_model, spec_json_schema

    host = default_host()
    registry = host.registry
    providers = {
        (reg.kind, reg.name): f"plugin `{reg.provider.plugin}` ({reg.provider.describe()})"
        for reg in registry.registrations()
    }
    plugins: list[str] = []
    for info in host.plugins():
        if info.status == "ok":
            dist = " ".join(p for p in (info.distribution, info.version) if p) or "no distribution"
            plugins.append(f"`{info.name}` ({dist})")
    summaries = {(reg.kind, reg.name): first_paragraph(reg.cls) for reg in registry.registrations()}
    return SpecFacts(
        schema=spec_json_schema(host),
        summaries=summaries,
        kind_order=list(KIND_HOOKS),
        defaults=model_defaults(build_spec_model(registry), Section),
        providers=providers,
        plugins=plugins,
    )


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """mkdocs event: replace :data:`MARKER` by the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_reference(gather()))
