"""The objects of one invocation are processed side by side, and nothing is lost or miscounted.

Concurrency is shown with a barrier, not a clock: each object waits inside the pipeline
until ``BATCH_CONCURRENCY`` of them are there at once, which only happens if they run
together (one at a time, the barrier would time out and the batch would fail).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from fixtures.sample_events import retarget, sqs_s3
from handlers import ingest, pipeline
from handlers.aws import invocation, warm

from .support import (
    DRIZZLE,
    FIXTURES,
    INBOX,
    OUTPUT,
    RequestLog,
    fail_gets,
    output_keys,
    read_json,
    record_requests,
    upload,
)

WORKERS = 4


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """The pipeline's ``process``, each call held until WORKERS calls are in it at once."""
    monkeypatch.setenv("BATCH_CONCURRENCY", str(WORKERS))
    warm.reset()
    barrier = threading.Barrier(WORKERS, timeout=30)
    real = pipeline.process

    def process(*args: Any, **kwargs: Any) -> pipeline.Outcome:
        barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(invocation, "process", process)
    return barrier


def sqs_batch(keys: list[str], sizes: dict[str, int]) -> dict[str, Any]:
    template = sqs_s3()["Records"][0]
    records = []
    for index, key in enumerate(keys):
        record = retarget(template, bucket=INBOX, key=key, etag="", size=sizes[key], version_id=None)
        records.append({**record, "messageId": f"message-{index}"})
    return {"Records": records}


def test_an_sqs_batch_runs_its_objects_together_and_reports_the_failed_one(
    s3: Any, context: Any, together: threading.Barrier, capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    keys = [f"night/{n} drizzle+{n}.fits" for n in range(6)]
    for key in [*keys, "night/flaky.fits"]:
        upload(s3, key)
    upload(s3, "night/not fits.fits", b"SIMPLE? no")
    sizes = {key: DRIZZLE.stat().st_size for key in [*keys, "night/flaky.fits"]} | {"night/not fits.fits": 10}
    event = sqs_batch([*keys, "night/not fits.fits", "night/flaky.fits"], sizes)
    # Reading night/flaky.fits fails past botocore's retries: a transient fault of that message only.
    warm.s3_client().meta.events.register_first("before-send.s3.GetObject", fail_gets(503, "SlowDown", "flaky"))

    response = ingest.handler(event, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "message-7"}]}
    listed = set(output_keys(s3))
    for key in keys:
        assert {f"metadata/{key}.json", f"thumbnails/{key}/1-SCI_F850LP.png",
                f"thumbnails/{key}/2-WHT_F850LP.png"} <= listed
        document = read_json(s3, f"metadata/{key}.json")
        assert document["source"]["key"] == key
    assert "errors/night/not fits.fits.json" in listed
    assert not any("flaky" in key for key in listed)
    emf = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert len(emf) == 1  # one flush per invocation, every thread's metrics in it
    assert emf[0]["ObjectsProcessed"] == [1.0] * 6  # no value lost to a race between threads
    assert emf[0]["ObjectsRejected"] == [1.0] and emf[0]["FailedObjects"] == [1.0]
    assert len(emf[0]["BytesRead"]) == 7


def test_a_list_of_uris_runs_together(s3: Any, context: Any, together: threading.Barrier) -> None:
    keys = [f"batch/{n}.fits" for n in range(WORKERS)]
    for key in keys:
        upload(s3, key)

    response = ingest.handler({"uris": [f"s3://{INBOX}/{key}" for key in keys]}, context)

    assert response == {"outcomes": [{"key": key, "status": "processed"} for key in keys]}


def test_the_batch_deletes_its_error_records_in_one_request(
    s3: Any, context: Any, together: threading.Barrier, requests_sent: RequestLog,
) -> None:
    keys = [f"fixed/{n}.fits" for n in range(WORKERS)]
    for key in keys:  # an earlier version of each was rejected; this one is good
        upload(s3, key)
        upload(s3, f"errors/{key}.json", b"{}", bucket=OUTPUT)
    event = sqs_batch(keys, dict.fromkeys(keys, DRIZZLE.stat().st_size))

    response = ingest.handler(event, context)

    assert response == {"batchItemFailures": []}
    deletes = [n for n, call in enumerate(requests_sent.calls) if call[0].startswith("DeleteObject")]
    assert [requests_sent.calls[n][0] for n in deletes] == ["DeleteObjects"]
    metadata = [n for n, call in enumerate(requests_sent.calls) if call[0] == "PutObject" and "metadata/" in call[2]]
    assert len(metadata) == WORKERS and deletes[0] < min(metadata)  # the records went before any document
    listed = set(output_keys(s3))
    assert {f"metadata/{key}.json" for key in keys} <= listed
    assert not any(key.startswith("errors/") for key in listed)


def test_an_object_read_in_parts_deletes_by_itself(
    s3: Any, context: Any, together: threading.Barrier, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("READ_WHOLE_OBJECT_BYTES", str(DRIZZLE.stat().st_size))  # the WCS image is larger
    warm.reset()
    requests_sent = record_requests(warm.s3_client())
    bodies = {f"mixed/{n}.fits": DRIZZLE.read_bytes() for n in range(WORKERS - 1)}
    bodies["mixed/large.fits"] = (FIXTURES / "wcs_image.fits").read_bytes()
    for key, body in bodies.items():
        upload(s3, key, body)
        upload(s3, f"errors/{key}.json", b"{}", bucket=OUTPUT)
    event = sqs_batch(list(bodies), {key: len(body) for key, body in bodies.items()})

    assert ingest.handler(event, context) == {"batchItemFailures": []}

    deletes = sorted(call[0] for call in requests_sent.calls if call[0].startswith("DeleteObject"))
    assert deletes == ["DeleteObject", "DeleteObjects"]  # the large one's alone, the small ones' together
    listed = set(output_keys(s3))
    assert {f"metadata/{key}.json" for key in bodies} <= listed
    assert not any(key.startswith("errors/") for key in listed)
