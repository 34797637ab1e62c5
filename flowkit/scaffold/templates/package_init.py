"""The ``$name`` flowkit plugin.

It provides $kinds_text.
"""

$own_imports

__all__ = $exports
