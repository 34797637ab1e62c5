"""Scaffolding: write a new plugin package that installs and passes its own tests unchanged.

``flowkit plugins new NAME --kind path --kind solver`` (or :func:`create_plugin`) writes::

    flowkit-NAME/
        pyproject.toml          # the distribution, its "flowkit.plugins" entry point NAME
        README.md
        flowkit_NAME/
            __init__.py
            plugin.py           # the hook implementations, FLOWKIT_PLUGIN_API
            paths.py ...        # one module per kind asked for, each a real, working component
            py.typed
        tests/
            test_flowkit_NAME.py  # flowkit.testing conformance checks plus each component's own tests

Every component is named ``NAME`` (names are per kind, so a path and a solver may share one).
The templates are complete components, not stubs: a smoothstep Gaussian path, Heun's solver, a
ring dataset, a residual MLP, an energy-distance metric, logit-normal flow matching, a residual
data parameterization and a sliced (sorting) coupling. Edit them into what the plugin is for.

This package only re-exports; the work is done by:

* :mod:`flowkit.scaffold.names`: valid plugin names and the names derived from one;
* :mod:`flowkit.scaffold.library`: the templates (package data under ``templates/``), one set
  per kind of :data:`flowkit.host.kinds.KINDS`, and the check of the kinds asked for;
* :mod:`flowkit.scaffold.render`: the templates filled in for one plugin, ``{path: text}``;
* :mod:`flowkit.scaffold.create`: the rendered package written to disk.
"""

from flowkit.scaffold.create import ScaffoldResult, create_plugin
from flowkit.scaffold.library import TEMPLATES, KindTemplate, check_kinds
from flowkit.scaffold.names import DEFAULT_KINDS, NAME_PATTERN, ScaffoldError, check_name
from flowkit.scaffold.render import render_plugin

__all__ = [
    "DEFAULT_KINDS",
    "NAME_PATTERN",
    "TEMPLATES",
    "KindTemplate",
    "ScaffoldError",
    "ScaffoldResult",
    "check_kinds",
    "check_name",
    "create_plugin",
    "render_plugin",
]
