"""Every event shape of the contract, for keys with spaces, '+', non-ASCII and deep prefixes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixtures.sample_events import SECOND_KEY, retarget
from handlers import ingest
from handlers.aws.events import (
    refs_from_notification,
    refs_from_sqs_body,
)
from handlers.object_ref import ObjectRef

from .support import EVENTS, INBOX, committed_event, output_keys, read_json, upload, version_of

KEYS = [
    "obs/hag_j004524.96+403851.8_j8hpdcaoq_v01.drizzle.fits",
    "deep field/night 1/m31 + m32.fits",
    "ünïcödé/天体/NGC 224 (Andromeda).fits",
    "a/b/c/d/e/f/g/h.fits",
    "100%/literal %2B and +.fits",
]
CREATED_SHAPES = [
    "s3_object_created.json",
    "sns_s3.json",
    "eventbridge_object_created.json",
    "sqs_s3.json",
    "sqs_sns_s3.json",
    "sqs_eventbridge.json",
    "s3_batch_v1.json",
    "s3_batch_v2.json",
    "uris.json",
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("shape", CREATED_SHAPES)
def test_each_shape_lands_outputs_at_the_decoded_key(s3: Any, context: Any, shape: str, key: str) -> None:
    head = upload(s3, key)
    upload(s3, SECOND_KEY)  # sqs_s3.json and uris.json also name a second object
    event = retarget(committed_event(shape), bucket=INBOX, key=key, **version_of(head))
    result = ingest.handler(event, context)
    listed = set(output_keys(s3))
    assert f"metadata/{key}.json" in listed
    assert {f"thumbnails/{key}/1-SCI_F850LP.png", f"thumbnails/{key}/2-WHT_F850LP.png"} <= listed
    doc = read_json(s3, f"metadata/{key}.json")
    assert doc["source"]["key"] == key and doc["source"]["bucket"] == INBOX
    assert len(doc["hdus"]) == 3
    if shape.startswith("sqs_"):
        assert result == {"batchItemFailures": []}
    elif shape.startswith("s3_batch"):
        assert [r["resultCode"] for r in result["results"]] == ["Succeeded"]


@pytest.mark.parametrize("shape", ["s3_test_event.json", "sqs_s3_test_event.json"])
def test_test_events_write_nothing(s3: Any, context: Any, shape: str) -> None:
    result = ingest.handler(committed_event(shape), context)
    assert output_keys(s3) == []
    assert result in ({"outcomes": []}, {"batchItemFailures": []})


def test_s3_key_unquote_plus() -> None:
    """S3 notifications encode a space as '+' and a '+' as '%2B' (regression guard)."""
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": "b"}, "object": {"key": "a+b%2Bc%C3%BC.fits"}}}]}
    assert refs_from_notification(event) == [ObjectRef("b", "a b+cü.fits")]


def test_eventbridge_keys_are_taken_as_they_are() -> None:
    """EventBridge does not encode keys; decoding would turn '+' into a space."""
    event = committed_event("eventbridge_object_created.json")
    event["detail"]["object"]["key"] = "x/a+b%2B.fits"
    assert refs_from_notification(event)[0].key == "x/a+b%2B.fits"


def test_sqs_body_that_is_not_json_is_refused() -> None:
    from handlers.errors import UnrecognizedEventError

    with pytest.raises(UnrecognizedEventError, match="not JSON"):
        refs_from_sqs_body("hello")


def test_unknown_event_is_refused_loudly(s3: Any, context: Any) -> None:
    from handlers.errors import UnrecognizedEventError

    with pytest.raises(UnrecognizedEventError):
        ingest.handler({"hello": "world"}, context)


def test_sample_events_resolve_to_the_sample_object() -> None:
    refs = refs_from_notification(committed_event("s3_object_created.json"))
    assert [(r.bucket, r.key, r.version_id) for r in refs] == [
        ("fits-inbox", "obs/hag_j004524.96+403851.8_j8hpdcaoq_v01.drizzle.fits", "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY")]
    assert Path(EVENTS / "README.md").exists()
