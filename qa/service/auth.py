"""Bearer keys: writes need QA_API_KEY; reads need QA_READ_KEY (or the API key) when it is set.

Keys are compared in constant time (hmac.compare_digest), so the time a refusal takes does not
tell how much of a guess was right.
"""

from __future__ import annotations

import hmac

from flask import current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

SCHEME = "Bearer"
WRITES_DISABLED = (
    "writes are disabled: set QA_API_KEY to a secret key on the server, then send "
    "Authorization: Bearer <key> with each upload, replacement or removal"
)


def require_write() -> None:
    """Refuses the request unless it carries the API key: 403 when none is configured, 401 when
    the header is missing or holds another key."""
    key = current_app.config.get("API_KEY")
    if not key:
        raise Forbidden(WRITES_DISABLED)
    if not _matches(_given(), [key]):
        raise _unauthorized("writes need Authorization: Bearer <the key in QA_API_KEY>")


def require_read() -> None:
    """A before_request hook: when QA_READ_KEY is set, reads need it (or the API key)."""
    read_key = current_app.config.get("READ_KEY")
    if not read_key:
        return
    keys = [read_key, current_app.config.get("API_KEY") or ""]
    if not _matches(_given(), [k for k in keys if k]):
        raise _unauthorized("reads need Authorization: Bearer <the key in QA_READ_KEY>")


def _given() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != SCHEME.lower() or not token.strip():
        return None
    return token.strip()


def _matches(given: str | None, keys: list[str]) -> bool:
    if given is None:
        return False
    # Every key is compared, so the time taken does not say which one matched.
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


def _unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", {"realm": "qa"}))
