"""Clients over QA_RATE_LIMIT get 429 with Retry-After; others, and the probes, are not slowed."""

from __future__ import annotations

import pytest

from qa.service.app import StartupError, create_app
from qa.service.ratelimit import MAX_CLIENTS, RateLimiter


class Clock:
    """A hand-moved clock, so the tests need not sleep."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(engine):
    """A client of an app allowing 3 API requests a minute per address."""
    app = create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": "3/minute"})
    return app.test_client()


@pytest.mark.parametrize(
    ("setting", "limit", "period"),
    [("60/minute", 60, 60), ("5/second", 5, 1), ("100 / hours", 100, 3600), ("1/DAY", 1, 86400)],
)
def test_settings_are_parsed(setting, limit, period):
    limiter = RateLimiter.from_setting(setting)
    assert (limiter.limit, limiter.period) == (limit, period)


@pytest.mark.parametrize("setting", [None, "", "0", "off", "none"])
def test_settings_that_turn_the_limit_off(setting):
    assert RateLimiter.from_setting(setting) is None


@pytest.mark.parametrize(
    "setting", ["60", "minute", "60/fortnight", "-1/minute", "0/minute", "x/y"]
)
def test_bad_settings_are_refused_at_startup(engine, setting):
    # One line, no traceback: gunicorn prints a RuntimeError's message and exits.
    with pytest.raises(StartupError):
        create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": setting})


def test_a_bucket_refills_with_time():
    clock = Clock()
    limiter = RateLimiter(2, 60, clock=clock)
    assert [limiter.hit("a"), limiter.hit("a")] == [0, 0]
    assert limiter.hit("a") == pytest.approx(30)
    clock.now += 30
    assert limiter.hit("a") == 0
    assert limiter.hit("a") > 0
    clock.now += 3600
    # A long pause gives back a full bucket, never more.
    assert [limiter.hit("a"), limiter.hit("a")] == [0, 0]
    assert limiter.hit("a") > 0


def test_clients_have_their_own_buckets():
    limiter = RateLimiter(1, 60, clock=Clock())
    assert limiter.hit("a") == 0
    assert limiter.hit("a") > 0
    assert limiter.hit("b") == 0


def test_memory_is_bounded_by_forgetting_the_least_recent():
    limiter = RateLimiter(1, 60, clock=Clock())
    limiter.hit("first")
    for n in range(MAX_CLIENTS):
        limiter.hit(f"client-{n}")
    assert len(limiter._buckets) == MAX_CLIENTS
    assert limiter.hit("first") == 0  # forgotten, so a fresh bucket


def test_over_the_rate_is_429_with_retry_after(limited):
    statuses = [limited.get("/api/documents").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = limited.post("/api/ask", json={"question": "Al-Hasakah"})
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert "3 requests per 60 s" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 20


def test_another_address_is_not_limited(limited):
    for _ in range(4):
        limited.get("/api/suggestions", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    response = limited.get("/api/suggestions", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.status_code == 200


def test_probes_and_the_openapi_document_are_not_limited(limited):
    for _ in range(4):
        limited.get("/api/documents")
    for path in ("/healthz", "/readyz", "/api/openapi.json"):
        assert limited.get(path).status_code == 200
