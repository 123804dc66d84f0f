"""What the CLI's S3 inputs cost: the objects run together delete their error records together, as a batch does."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from handlers.cli import main as cli
from handlers.storage.s3_source import S3Source

from .support import INBOX, OUTPUT, RequestLog, output_keys, record_requests, upload

KEYS = [f"night/{n}.fits" for n in range(5)]


def test_s3_inputs_run_together_delete_their_error_records_in_one_request(
    s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """URIs say no size: the first GET, sent anyway, tells before the objects start that each is read
    whole by it, so their deletes are the batch's (one DeleteObjects, not five DeleteObject)."""
    for key in KEYS:
        upload(s3, key)
    barrier = threading.Barrier(len(KEYS), timeout=30)
    open_object = S3Source.open

    def open_together(source: S3Source) -> Any:
        barrier.wait()  # every object is running before any of them deletes
        return open_object(source)

    logs: list[RequestLog] = []
    make_client = cli.make_s3_client

    def recorded_client(*args: Any, **kwargs: Any) -> Any:
        client = make_client(*args, **kwargs)
        logs.append(record_requests(client))
        return client

    monkeypatch.setattr(S3Source, "open", open_together)
    monkeypatch.setattr(cli, "make_s3_client", recorded_client)
    monkeypatch.setenv("BATCH_CONCURRENCY", str(len(KEYS)))

    assert cli.main(["process", *(f"s3://{INBOX}/{key}" for key in KEYS), "--out", f"s3://{OUTPUT}"]) == 0
    assert "5 input(s): 5 processed" in capsys.readouterr().out
    (log,) = logs
    assert (log.count("DeleteObjects"), log.count("DeleteObject")) == (1, 0)
    assert log.count("GetObject", INBOX) == len(KEYS) and log.count("HeadObject") == 0  # no HEAD at all
    # Each file: its GET, two thumbnails and its metadata; and the one DeleteObjects of them all.
    assert len(log.calls) == 4 * len(KEYS) + 1
    assert len([key for key in output_keys(s3) if key.startswith("metadata/")]) == len(KEYS)
