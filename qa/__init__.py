"""qa: answers questions with cited sentences from a corpus of documents.

`Engine` opens a corpus and answers; `create_app` is the Flask application of the HTTP service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Engine", "create_app", "__version__"]

if TYPE_CHECKING:
    from qa.answer.engine import Engine
    from qa.service.app import create_app


def __getattr__(name: str) -> Any:
    # Imported when first asked for: `qa.settings` or the command line need neither numpy's
    # engine nor Flask.
    if name == "Engine":
        from qa.answer.engine import Engine

        return Engine
    if name == "create_app":
        from qa.service.app import create_app

        return create_app
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
