"""The app `qa bench` serves: the service's own, plus POST /bench/precomputed.

That route handles a request as POST /api/ask does (content type, size, JSON, validation) and
answers with an answer made once at start (to QA_BENCH_QUESTION), so that its requests per
second, beside /api/ask's and /healthz's, show what Flask and JSON cost without the engine.
"""

import os

from flask import Response, jsonify

from qa.service.views.ask import posted_question
from qa.wsgi import app

PRECOMPUTED = app.config["ENGINE"].ask(os.environ["QA_BENCH_QUESTION"])


@app.post("/bench/precomputed")
def precomputed() -> Response:
    posted_question()
    return jsonify(PRECOMPUTED)
