"""Shared fixtures: moto's in-process S3 with an inbox and an output bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handlers.aws import warm
from handlers.aws.observability import metrics
from handlers.aws.worker import LocalContext
from tools.motoserver import LOCAL_AWS_ENV

from .support import INBOX, OUTPUT, RequestLog, record_requests


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LOCAL_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture
def s3(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto S3 with a versioned inbox, an output bucket, and the handler pointed at them."""
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=INBOX)
        client.put_bucket_versioning(Bucket=INBOX, VersioningConfiguration={"Status": "Enabled"})
        client.create_bucket(Bucket=OUTPUT)
        monkeypatch.setenv("OUTPUT_BUCKET", OUTPUT)
        warm.reset()
        metrics.clear_metrics()  # Powertools keeps metrics while disabled; start each test empty
        yield client
        warm.reset()


@pytest.fixture
def requests_sent(s3: Any) -> RequestLog:
    """Counts what the handler's own S3 client sends (built now, reused by the handler)."""
    return record_requests(warm.s3_client())


@pytest.fixture
def context() -> LocalContext:
    return LocalContext()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server in its own process: its memory is not ours, its GETs are real HTTP."""
    from tools.motoserver import moto_server

    with moto_server() as server:
        yield server.url


@pytest.fixture
def server_buckets(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, str, str]]:
    """(client, inbox, output): fresh buckets on the moto server, the handler pointed at them.

    Concurrency, PUT faults and memory are tested there, over real HTTP: in-process moto is
    not safe for concurrent PUTs of one key, stores a PUT's object even when a botocore hook
    has answered it, and keeps every object in the test's own memory.
    """
    for name, value in LOCAL_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    suffix = abs(hash(request.node.name)) % 10**8
    inbox, output = f"put-inbox-{suffix}", f"put-output-{suffix}"
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    for bucket in (inbox, output):
        client.create_bucket(Bucket=bucket)
    monkeypatch.setenv("OUTPUT_BUCKET", output)
    warm.reset()
    yield client, inbox, output
    warm.reset()


# Scheduling: the slow files first ----------------------------------------------------

#: The slow tests' markers, in the order their files start (the longest-running first).
SLOW_FIRST = ("e2e", "terraform", "package", "load")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move each file holding a slow test to the front, whole: by SLOW_FIRST, then most slow tests first.

    xdist's --dist loadfile hands out whole files in collection order only with
    --no-loadscope-reorder (as `make test` runs it); by default it sorts files by their
    number of tests, which would start the one-test end-to-end and load files last.
    """
    rank: dict[Path, tuple[int, int]] = {}
    for item in items:
        marks = [SLOW_FIRST.index(mark.name) for mark in item.iter_markers() if mark.name in SLOW_FIRST]
        first, count = rank.get(item.path, (len(SLOW_FIRST), 0))
        rank[item.path] = (min([first, *marks]), count - bool(marks))
    items.sort(key=lambda item: rank[item.path])  # stable: each file's own order is kept
