"""One structured log line per object, EMF metrics, and X-Ray staying silent outside Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from handlers import ingest
from handlers.aws.observability import logger

from .support import DRIZZLE, INBOX, ROOT, upload


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_one_log_line_per_object_with_its_cost(s3: Any, context: Any, caplog: pytest.LogCaptureFixture) -> None:
    upload(s3, "a.fits")
    upload(s3, "b.fits", b"nope")
    with caplog.at_level("INFO", logger="fits-ingest"):
        ingest.handler({"uris": [f"s3://{INBOX}/a.fits", f"s3://{INBOX}/b.fits"]}, context)
    formatter = logger.registered_formatter  # the JSON formatter CloudWatch receives
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "fits-ingest" and hasattr(r, "key")]
    lines.sort(key=lambda line: line["key"])  # the two objects were processed side by side
    assert [(line["key"], line["status"], line["level"]) for line in lines] == [
        ("a.fits", "processed", "INFO"), ("b.fits", "rejected", "INFO")]
    first = lines[0]
    assert first["bytes_read"] == DRIZZLE.stat().st_size and first["requests"] == 1
    assert first["duration_ms"] > 0 and first["service"] == "fits-ingest"
    assert first["function_request_id"] == context.aws_request_id
    assert lines[1]["error"]["class"] == "NotFitsError"


def test_metrics_are_printed_in_embedded_metric_format(
    s3: Any, context: Any, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    upload(s3, "a.fits")
    ingest.handler({"uris": [f"s3://{INBOX}/a.fits"]}, context)
    emf = [line for line in json_lines(capfd.readouterr().out) if "_aws" in line]
    assert len(emf) == 1
    directive = emf[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "FitsIngest"
    names = {m["Name"] for m in directive["Metrics"]}
    assert {"ObjectsProcessed", "BytesRead", "SourceRequests", "ProcessingTime"} <= names
    assert emf[0]["BytesRead"] == [DRIZZLE.stat().st_size]


def test_tracing_is_off_and_silent_outside_lambda(s3: Any, context: Any, capfd: pytest.CaptureFixture[str]) -> None:
    from handlers.aws.observability import tracer
    from handlers.stages import stage

    assert tracer.disabled  # no LAMBDA_TASK_ROOT, so no daemon is expected
    with stage("anything") as subsegment:
        assert subsegment is not None
    upload(s3, "a.fits")
    ingest.handler({"uris": [f"s3://{INBOX}/a.fits"]}, context)
    captured = capfd.readouterr()
    assert "xray" not in (captured.out + captured.err).lower()


@pytest.mark.parametrize("in_lambda", [False, True])
def test_aws_xray_sdk_is_imported_only_where_tracing_is_on(in_lambda: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMBDA_", "AWS_LAMBDA_", "POWERTOOLS_TRACE"))}
    if in_lambda:
        env.update(LAMBDA_TASK_ROOT=str(ROOT), AWS_LAMBDA_FUNCTION_NAME="fits-ingest")
    code = ("import sys, handlers.ingest\n"
            "from handlers.aws.observability import tracer\n"
            "print('aws_xray_sdk.core' in sys.modules, tracer.disabled, type(tracer.provider).__module__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded, disabled, provider = done.stdout.split()
    assert (loaded, disabled) == (str(in_lambda), str(not in_lambda))
    assert provider.startswith("aws_xray_sdk") == in_lambda


def test_the_cli_imports_neither_powertools_nor_fsspec() -> None:
    """Its stages are plain spans (``handlers.stages``) and the block cache is ours: neither import is paid."""
    code = ("import sys, handlers.cli.main, handlers.pipeline, handlers.fits.extract\n"
            "print(sorted(m for m in ('aws_lambda_powertools', 'fsspec', 'asyncio') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
