"""Import a module with one of its optional dependencies hidden.

Some libraries import a heavy optional dependency at import time for features genaicompare never
uses (sqlite-utils → pandas, nltk → scipy.stats); they fall back when it is missing. Hiding it
(``sys.modules[name] = None`` makes ``import name`` raise ImportError) for the duration of that one
import saves seconds wherever they load. Anything importing the hidden module afterwards gets it
as usual, and when it is already loaded nothing is hidden.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

_lock = threading.Lock()


def import_without(name: str, hidden: str) -> ModuleType:
    """``import name`` with ``hidden`` unavailable during the import (thread-safe)."""
    with _lock:
        if name in sys.modules or hidden in sys.modules:
            return importlib.import_module(name)
        sys.modules[hidden] = None  # type: ignore[assignment]
        try:
            return importlib.import_module(name)
        finally:
            if sys.modules.get(hidden, 0) is None:
                del sys.modules[hidden]
