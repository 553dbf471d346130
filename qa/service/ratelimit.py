"""A small in-process rate limiter: one token bucket per client address.

Each gunicorn worker keeps its own buckets, so a client may get up to the limit from each worker.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
RATE = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)
OFF = {"", "0", "off", "none"}

# Past this many clients the least recently seen are forgotten (and get a full bucket back),
# so a flood of addresses cannot grow memory without bound.
MAX_CLIENTS = 10_000


class RateLimiter:
    """Allows `limit` requests per `period` seconds per client, in bursts of up to `limit`."""

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs at least one request per positive period")
        self.limit = limit
        self.period = period
        self._per_second = limit / period
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        # The development server and threaded workers call in from several threads.
        self._lock = threading.Lock()

    @classmethod
    def from_setting(cls, setting: str | None) -> RateLimiter | None:
        """Parses "60/minute" (or second, hour, day); None, "", "0" and "off" mean no limit."""
        if setting is None or setting.strip().lower() in OFF:
            return None
        match = RATE.fullmatch(setting)
        if match is None:
            raise ValueError(f"QA_RATE_LIMIT must look like 60/minute, not {setting!r}")
        return cls(int(match[1]), PERIODS[match[2].lower()])

    def hit(self, client: str) -> float:
        """Spends one request of the client's allowance: 0 if allowed, else seconds to wait."""
        with self._lock:
            now = self._clock()
            tokens, seen = self._buckets.pop(client, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - seen) * self._per_second)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self._per_second
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            # Re-inserting above keeps the dict ordered from least to most recently seen.
            while len(self._buckets) > MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]
            return wait


def limit_client() -> None:
    """A before_request hook: answers 429 with Retry-After once the client is over its rate."""
    limiter: RateLimiter | None = current_app.extensions["qa.service.ratelimit"]
    if limiter is None:
        return
    wait = limiter.hit(request.remote_addr or "unknown")
    if wait:
        per = f"{limiter.period:g} s"
        raise TooManyRequests(
            f"Rate limit of {limiter.limit} requests per {per} exceeded; retry later.",
            retry_after=math.ceil(wait),
        )
