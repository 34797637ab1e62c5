"""Progress bars that stay out of the way when output is not a terminal."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar on stderr, disabled unless ``enabled`` and stderr is a terminal."""
    return tqdm(total=total, desc=desc, disable=not (enabled and sys.stderr.isatty()), leave=False, dynamic_ncols=True)
