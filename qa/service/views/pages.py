"""The chat page: web/index.html at /, the rest of web/ under /assets/, and pdf.js's files."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory
from werkzeug.exceptions import NotFound

bp = Blueprint("pages", __name__)

# The files of the pdfjs-dist package the page uses, by folder (None: all of the folder): the ES
# module build and its worker, the data a PDF may need (the standard fonts' files, character maps
# for CJK text, the image and colour decoders, with the plain JavaScript ones pdf.js falls back
# to, since the CSP does not let WebAssembly be compiled), and the licence. Nothing else of
# node_modules is served (nor pdf.js's sandbox for PDF scripts, which the page never runs).
IMAGE_DECODERS = ("jbig2", "openjpeg")
PDFJS_FILES = {
    "build": {"pdf.mjs", "pdf.worker.mjs", "pdf.min.mjs", "pdf.worker.min.mjs"},
    "standard_fonts": None,
    "cmaps": None,
    "wasm": {f"{name}_nowasm_fallback.js" for name in IMAGE_DECODERS}
    | {f"{name}.wasm" for name in IMAGE_DECODERS}
    | {"qcms_bg.wasm"},
    "": {"LICENSE"},
}
# By suffix; a script must come as JavaScript (with nosniff, nothing else is run).
PDFJS_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    "": "text/plain",
}


@bp.get("/")
def index() -> Response:
    return send_from_directory(current_app.config["WEB_DIR"], "index.html")


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    # send_from_directory refuses paths that leave WEB_DIR (404), so ../ cannot reach other files.
    return send_from_directory(current_app.config["WEB_DIR"], filename)


@bp.get("/assets/vendor/pdfjs/<path:filename>")
def pdfjs(filename: str) -> Response:
    folder, _, name = filename.rpartition("/")
    allowed = PDFJS_FILES.get(folder, set())
    if "/" in folder or (allowed is not None and name not in allowed):
        raise NotFound(f"not a pdf.js file: {filename}")
    suffix = name[name.rfind(".") :] if "." in name else ""
    mimetype = PDFJS_TYPES.get(suffix, "application/octet-stream")
    return send_from_directory(current_app.config["PDFJS_DIR"], filename, mimetype=mimetype)
