"""The chat page: web/index.html at / and the rest of web/ under /assets/."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> Response:
    return send_from_directory(current_app.config["WEB_DIR"], "index.html")


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    # send_from_directory refuses paths that leave WEB_DIR (404), so ../ cannot reach other files.
    return send_from_directory(current_app.config["WEB_DIR"], filename)
