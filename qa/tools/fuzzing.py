"""What the API fuzzing checks, shared by the fuzz command (bench/fuzz.py) and the test suite's
run of Schemathesis (tests/test_openapi.py)."""

from __future__ import annotations

import schemathesis

# 413 is right for a body over 64 KB, which the description cannot rule out: its limits count
# characters, and ten histories of 1,000 escaped characters come to far more bytes. 414 likewise
# for a request line over gunicorn's 8,190 bytes: 1,000 characters percent-encoded at up to 12
# bytes each (gunicorn.conf.py). 401 and 403 are the writes' answers (uploads, replacements,
# removals) when the fuzzed service has no QA_API_KEY, or another one: the key is checked
# before the body, so every write, valid or not, is refused so.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "413", "414"]
            },
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "405", "413", "414", "415"]
            },
            # Demands 401 for a write sent without Authorization, the only required header of the
            # API; with no QA_API_KEY the service answers 403 instead, saying how to enable
            # writes (tests/test_uploads.py checks 401 when a key is configured).
            "missing_required_header": {"enabled": False},
        }
    }
)


def one_error_shape(ctx, response, case) -> None:
    """Every 4xx and 5xx body is {"error": {"code": str, "message": str}} and nothing else."""
    if response.status_code < 400:
        return
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert all(isinstance(v, str) and v for v in body["error"].values()), body
