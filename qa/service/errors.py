"""One JSON shape for every error, `{"error": {"code": ..., "message": ...}}`, whatever failed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from qa.answer.shards import ShardUnavailable
from qa.service.responses import CODES, SHARD_UNAVAILABLE, Error, ErrorDetail

STOCK_MESSAGES = {
    404: "no such resource: {path}",
    405: "method {method} is not allowed on {path}",
    413: "body: larger than {limit} bytes",
}


def error_body(status: int, message: str, code: str | None = None) -> Error:
    """The one error shape: the status's stable code (unless `code` is given) and a message
    meant for the client."""
    return Error(ErrorDetail(code or CODES.get(status, f"http_{status}"), message))


def error_json(status: int, message: str) -> bytes:
    """The error shape as bytes, for errors written below the app (gunicorn's own refusals)."""
    return json.dumps(dataclasses.asdict(error_body(status, message))).encode()


def error_response(
    status: int,
    message: str,
    headers: Iterable[tuple[str, str]] = (),
    code: str | None = None,
) -> Response:
    """A JSON error response with the status's code (or `code`) and a message for the client."""
    response = jsonify(error_body(status, message, code))
    response.status_code = status
    response.headers.extend(headers)
    return response


def register(app: Flask) -> None:
    """Routes every HTTP error and every unexpected exception to the JSON shape."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ShardUnavailable, _shard_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or exc.name
    # Werkzeug's stock texts are written for HTML pages; these say what was refused instead.
    if message == type(exc).description and status in STOCK_MESSAGES:
        message = STOCK_MESSAGES[status].format(
            method=request.method, path=request.path, limit=request.max_content_length
        )
    # Keeps Allow (405) and Retry-After (429); the body is ours, so its HTML Content-Type is not.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return error_response(status, message, headers)


def _shard_unavailable(exc: ShardUnavailable) -> Response:
    current_app.logger.warning("request %s: %s", g.request_id, exc)
    return error_response(503, str(exc), [("Retry-After", "1")], SHARD_UNAVAILABLE)


def _unexpected_error(exc: Exception) -> Response:
    # The trace goes to the server log under the request id; the client gets only that id.
    current_app.logger.error(
        "unhandled error, request %s %s %s",
        g.request_id,
        request.method,
        request.path,
        exc_info=exc,
    )
    return error_response(500, f"Internal error (request id {g.request_id}).")
