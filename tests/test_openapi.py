"""The OpenAPI description checked against the live service by Schemathesis.

A real HTTP server on a loopback port serves the app; for each operation Schemathesis sends valid
and invalid requests drawn from the description and checks that none gets a 5xx, that every
status, content type, header and body is the one described, and that invalid data is refused.

The description is built at import, for the default corpus, because Schemathesis makes one test
per operation when the module is collected (its fixture-based loader fails under pytest 9); the
first test checks that the live service serves exactly that description.
"""

from __future__ import annotations

import threading

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from qa.index.build import read_corpus
from qa.service.app import create_app
from qa.service.openapi import spec
from qa.tools.fuzzing import CONFIG, one_error_shape
from tests.helpers import DEFAULT_CORPUS

MAX_EXAMPLES = 50


@pytest.fixture(scope="module")
def base_url(engine):
    """The app, without a rate limit, served over HTTP on a free loopback port."""
    app = create_app({"ENGINE": engine, "RATE_LIMIT": None})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


DESCRIPTION = spec(document.id for document in read_corpus(DEFAULT_CORPUS).documents)
# The checks and their expected statuses are those of the fuzz command (bench/fuzz.py).
schema = schemathesis.openapi.from_dict(DESCRIPTION, config=CONFIG)


def test_the_service_serves_the_description_under_test(base_url):
    response = requests.get(f"{base_url}/api/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json() == DESCRIPTION


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_matches_its_description(case, base_url):
    case.call_and_validate(base_url=base_url, timeout=10, additional_checks=[one_error_shape])
