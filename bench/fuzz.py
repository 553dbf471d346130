"""API fuzzing from the service's own OpenAPI description, with thousands of cases.

    .venv/bin/python bench/fuzz.py --examples 2000

Starts real gunicorn from the repository's config (rate limit off), loads the description it
serves at /api/openapi.json, and has Schemathesis send valid and invalid requests to every
operation. Each response is checked: no 5xx, the status, content type, headers and body are the
ones described, invalid data is refused, and every error has the one JSON shape. Unlike the test
suite's run, a failure does not stop the fuzzing: all are collected and reported with a curl
command that replays them. The exit status is 0 only when no case failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup

from qa.settings import DEFAULT_CORPUS
from qa.tools import serving
from qa.tools.fuzzing import CONFIG, one_error_shape

# An operation without parameters or body has a handful of distinct requests at most.
FIXED_OPERATION_SHARE = 0.02
MAX_REPORTED = 20


class Tally:
    """Cases tried, statuses seen and failures found, over all operations."""

    def __init__(self) -> None:
        self.cases = 0
        self.statuses: Counter[str] = Counter()
        self.per_operation: Counter[str] = Counter()
        self.failures: list[dict[str, str]] = []
        self.impossible: list[str] = []

    def check(self, case, base_url: str) -> None:
        """Sends one case and records its status, or what went wrong; never raises."""
        self.cases += 1
        self.per_operation[case.operation.label] += 1
        try:
            response = case.call(base_url=base_url, timeout=10)
            self.statuses[str(response.status_code)] += 1
            case.validate_response(response, additional_checks=[one_error_shape])
        except (Failure, FailureGroup, requests.RequestException, ValueError) as exc:
            self.failures.append(
                {
                    "operation": case.operation.label,
                    "problem": describe(exc),
                    "curl": case.as_curl_command(),
                }
            )


def describe(exc: BaseException) -> str:
    if isinstance(exc, FailureGroup):
        return "; ".join(describe(inner) for inner in exc.exceptions)
    if isinstance(exc, Failure):
        return f"{exc.title}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def has_inputs(operation) -> bool:
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


def fuzz(base_url: str, examples: int, seed: int = 0) -> dict[str, Any]:
    """Every boundary case, then about `examples` generated ones shared among the operations."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Negative cases need something to make invalid; the others get a few valid requests.
    plans = [
        (op, mode, 1.0 if has_inputs(op) else FIXED_OPERATION_SHARE)
        for op in operations
        for mode in (GenerationMode if has_inputs(op) else [GenerationMode.POSITIVE])
    ]
    total = sum(weight for _, _, weight in plans)
    tally = Tally()
    for operation in operations:
        # Schemathesis's boundary cases first: limits, missing and extra fields, other methods.
        config = schema.config.generation_for(operation=operation)
        for case in schema.iter_coverage_cases(
            operation, generation_modes=list(GenerationMode), generation_config=config
        ):
            tally.check(case, base_url)
    for operation, mode, weight in plans:
        budget = max(1, round(examples * weight / total))
        run_operation(operation, mode, budget, tally, base_url, seed)
    return {
        "examples_asked": examples,
        "cases": tally.cases,
        "per_operation": dict(tally.per_operation),
        "statuses": dict(sorted(tally.statuses.items())),
        "no_cases_possible": tally.impossible,
        "failures": len(tally.failures),
        "failure_samples": tally.failures[:MAX_REPORTED],
    }


def run_operation(operation, mode, budget: int, tally: Tally, base_url: str, seed: int) -> None:
    @fixed_seed(seed)
    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        # Failures are collected, not raised, so there is nothing to shrink.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case) -> None:
        tally.check(case, base_url)

    try:
        send()
    except Unsatisfiable:
        # A string path parameter, say, has no invalid value that still makes a request.
        tally.impossible.append(f"{operation.label} ({mode.value})")


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"{result['cases']} cases ({result['examples_asked']} asked), "
        f"{result['failures']} failures",
        "statuses: " + ", ".join(f"{s}: {n}" for s, n in result["statuses"].items()),
        *(f"  {op}: {n} cases" for op, n in result["per_operation"].items()),
        *(f"  {label}: no case can be made" for label in result["no_cases_possible"]),
    ]
    for failure in result["failure_samples"]:
        lines += [f"FAIL {failure['operation']}: {failure['problem']}", f"  {failure['curl']}"]
    lines.append("OK" if result["failures"] == 0 and result["cases"] else "FAILED")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="cases to try, about")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    with serving.serving_corpus(args.corpus, args.workers, "fuzz") as server:
        result = fuzz(server.base_url, args.examples, args.seed)
    print(summary(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["failures"] == 0 and result["cases"] else 1


if __name__ == "__main__":
    sys.exit(main())
