"""A module imported without running its packages' `__init__` modules."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def module_alone(name: str) -> types.ModuleType:
    """Imports module `name` (a dotted name) and what it imports, but none of its parent
    packages' `__init__` that were not imported already, and keeps the copy to itself.

    NLTK's `__init__` imports most of NLTK, SciPy with it: a second and a half before the first
    sentence of a file can be split, when Punkt needs a few small modules. Its own copy, taken
    out of `sys.modules` again, leaves a later `import nltk` to run as it always does.
    """
    if name in sys.modules:
        return sys.modules[name]
    top = name.partition(".")[0]
    before = {key for key in sys.modules if key == top or key.startswith(top + ".")}
    parts = name.split(".")
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        if package not in sys.modules:
            spec = importlib.util.find_spec(package)
            stand_in = types.ModuleType(package)
            stand_in.__spec__, stand_in.__path__ = spec, list(spec.submodule_search_locations)
            sys.modules[package] = stand_in
    try:
        return importlib.import_module(name)
    finally:
        for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
            if key not in before:
                del sys.modules[key]
