"""cyberlog: cyber incidents beside diplomatic events, in one DuckDB store.

`ingest.connect(path)` opens a store for notebooks (see `ingest.api`); it is loaded on first
use, so `import ingest` alone costs nothing and the package's version stays import-free.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "connect"]


def __getattr__(name: str) -> Any:  # PEP 562: `ingest.connect` from ingest.api, imported when first asked for
    if name == "connect":
        return importlib.import_module("ingest.api").connect
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")
