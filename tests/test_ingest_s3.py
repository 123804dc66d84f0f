"""The handler against moto's S3: outputs, idempotency, rejections, faults, recursion."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from botocore.awsrequest import AWSResponse
from PIL import Image

from handlers import ingest
from handlers.aws import warm
from handlers.aws.worker import sqs_event
from handlers.config import ReadSettings
from handlers.errors import ConfigurationError, RecursiveTriggerError, TransientError
from handlers.object_ref import ObjectRef
from handlers.pipeline import Status, process
from handlers.storage.outputs import BucketOutput
from handlers.storage.s3_source import S3Source

from .support import (
    DRIZZLE,
    INBOX,
    OUTPUT,
    RequestLog,
    created,
    fail_gets,
    notification,
    notified,
    output_keys,
    outputs,
    read_json,
    read_output,
    upload,
    version_of,
)

KEY = "obs/hag_j004524.96+403851.8_j8hpdcaoq_v01.drizzle.fits"


def test_drizzle_file_gives_metadata_and_two_thumbnails(s3: Any, requests_sent: RequestLog, context: Any) -> None:
    head = upload(s3, KEY)
    result = ingest.handler({"uris": [f"s3://{INBOX}/{KEY}"]}, context)
    assert result == {"outcomes": [{"key": KEY, "status": "processed"}]}
    assert output_keys(s3) == [
        f"metadata/{KEY}.json",
        f"thumbnails/{KEY}/1-SCI_F850LP.png",
        f"thumbnails/{KEY}/2-WHT_F850LP.png",
    ]
    doc = read_json(s3, f"metadata/{KEY}.json")
    assert doc["source"] == {
        "bucket": INBOX, "key": KEY, "version_id": head["VersionId"],
        "etag": head["ETag"].strip('"'), "size": DRIZZLE.stat().st_size,
        "compression": None,
    }
    assert [(h["index"], h["name"], h["type"]) for h in doc["hdus"]] == [
        (0, "PRIMARY", "PrimaryHDU"), (1, "SCI_F850LP", "ImageHDU"), (2, "WHT_F850LP", "ImageHDU")]
    assert doc["hdus"][0]["thumbnail"] is None
    sci = doc["hdus"][1]
    assert sci["shape"] == [100, 100] and sci["bitpix"] == -32
    assert sci["thumbnail"] == f"thumbnails/{KEY}/1-SCI_F850LP.png"
    assert sci["preview"]["width"] == sci["preview"]["height"] == 100 and sci["preview"]["downsample"] == 1
    assert doc["summary"]["instrument_name"] == "ACS/WFC"
    assert doc["summary"]["s_ra"] == pytest.approx(11.354, abs=1e-3)
    with fits.open(DRIZZLE) as hdul:
        assert len(doc["hdus"]) == len(hdul)
        assert [c["keyword"] for c in sci["cards"]] == list(hdul[1].header.keys())
    # What reading cost is counted, and matches what the client really sent.
    # One GET of the first READ_WHOLE_OBJECT_BYTES (a URI carries no size): its Content-Range tells
    # the size, and the object (89 KB) is in its body, read as the key's current version: no HEAD.
    assert doc["processor"]["requests"] == requests_sent.on_bucket(INBOX) == 1
    assert [call[0] for call in requests_sent.calls if call[1] == INBOX] == ["GetObject"]
    # Its thumbnails, the DELETE of any error record and the metadata, written on condition that
    # none is there: the condition tells whether an earlier run wrote one, with no HEAD of it first.
    assert sorted(call[0] for call in requests_sent.calls if call[1] == OUTPUT) == ["DeleteObject", *["PutObject"] * 3]
    assert doc["processor"]["bytes_read"] == DRIZZLE.stat().st_size  # 89 KB: read once, never twice
    png = s3.get_object(Bucket=OUTPUT, Key=sci["thumbnail"])
    assert png["ContentType"] == "image/png"
    assert Image.open(io.BytesIO(png["Body"].read())).size == (100, 100)
    assert s3.head_object(Bucket=OUTPUT, Key=f"metadata/{KEY}.json")["ContentType"] == "application/json"


def test_thumbnail_pixels_follow_the_fits_data(s3: Any, context: Any) -> None:
    image = np.zeros((60, 90), dtype=np.float32)
    image[:6, :6] = 1000.0  # FITS row 0: must end up at the bottom of the picture
    buffer = io.BytesIO()
    fits.PrimaryHDU(image).writeto(buffer)
    upload(s3, "corner.fits", buffer.getvalue())
    ingest.handler({"uris": [f"s3://{INBOX}/corner.fits"]}, context)
    png = read_output(s3, "thumbnails/corner.fits/0-PRIMARY.png")
    pixels = np.asarray(Image.open(io.BytesIO(png)))
    assert pixels.shape == (60, 90)
    assert pixels[-6:, :6].min() == 255 and pixels[:-6, :].max() == 0 and pixels[:, 6:].max() == 0


def test_a_rerun_of_a_larger_object_is_skipped_with_one_head_and_no_read(
    s3: Any, requests_sent: RequestLog, context: Any
) -> None:
    """Over READ_WHOLE_OBJECT_BYTES, the first GET's body is left unread until the metadata's HEAD has spoken."""
    upload(s3, KEY)
    ingest.handler({"uris": [f"s3://{INBOX}/{KEY}"]}, context)
    first = outputs(s3)
    requests_sent.calls.clear()
    config = replace(warm.settings(), reads=ReadSettings(whole_object=65536))  # the drizzle file has 89 KB
    source = S3Source(warm.s3_client(), ObjectRef(INBOX, KEY), config.reads)
    outcome = process(source, BucketOutput(warm.s3_client(), OUTPUT), config)
    assert outcome.status is Status.SKIPPED and (outcome.requests, outcome.bytes_read) == (1, 0)
    assert [call[0] for call in requests_sent.calls] == ["GetObject", "HeadObject"]
    assert requests_sent.count("PutObject") == 0
    second = outputs(s3)
    assert first == second


def test_a_notified_small_object_is_processed_without_asking_first(
    s3: Any, requests_sent: RequestLog, context: Any
) -> None:
    """Its GET, two thumbnails, the DELETE of any error record, and the metadata: no HEAD, no listing."""
    result = ingest.handler(created(s3, KEY), context)
    assert result["outcomes"][0]["status"] == "processed"
    assert sorted(call[0] for call in requests_sent.calls) == ["DeleteObject", "GetObject", *["PutObject"] * 3]
    assert output_keys(s3) == [f"metadata/{KEY}.json", f"thumbnails/{KEY}/1-SCI_F850LP.png",
                               f"thumbnails/{KEY}/2-WHT_F850LP.png"]


@pytest.mark.parametrize("by", ["notification", "uri"])
def test_a_redelivered_small_object_is_processed_again_to_the_same_outputs(
    s3: Any, requests_sent: RequestLog, context: Any, by: str
) -> None:
    """A re-delivered notification, or a re-run by URI: the object's one GET reads it whole either way."""
    if by == "notification":
        event = created(s3, KEY)
    else:
        upload(s3, KEY)
        event = {"uris": [f"s3://{INBOX}/{KEY}"]}
    ingest.handler(event, context)
    first = outputs(s3)
    requests_sent.calls.clear()
    assert ingest.handler(event, context)["outcomes"][0]["status"] == "processed"
    # The conditional write of the metadata met the first document: written over, thumbnails listed.
    assert requests_sent.count("PutObject") == 2 + 2 and requests_sent.count("ListObjectsV2") == 1
    assert requests_sent.count("HeadObject") == 0 and requests_sent.count("GetObject") == 1
    second = outputs(s3)
    assert second.keys() == first.keys()
    assert all(second[k] == first[k] for k in first if k.endswith(".png"))
    assert read_json(s3, f"metadata/{KEY}.json")["hdus"] == json.loads(first[f"metadata/{KEY}.json"])["hdus"]


def test_a_notified_version_with_fewer_images_loses_the_stale_thumbnail(s3: Any, context: Any) -> None:
    ingest.handler(created(s3, KEY), context)
    with fits.open(DRIZZLE) as hdul:
        buffer = io.BytesIO()
        fits.HDUList([fits.PrimaryHDU(header=hdul[0].header),
                      fits.ImageHDU(hdul[1].data, header=hdul[1].header)]).writeto(buffer)
    assert ingest.handler(created(s3, KEY, buffer.getvalue()), context)["outcomes"][0]["status"] == "processed"
    assert output_keys(s3) == [f"metadata/{KEY}.json", f"thumbnails/{KEY}/1-SCI_F850LP.png"]


def test_a_notified_bad_version_replaces_the_outputs_of_the_good_one(s3: Any, context: Any) -> None:
    ingest.handler(created(s3, KEY), context)
    assert ingest.handler(created(s3, KEY, b"not fits"), context)["outcomes"][0]["status"] == "rejected"
    assert output_keys(s3) == [f"errors/{KEY}.json"]


@pytest.mark.parametrize("by", ["uri", "notification"])
def test_a_failed_write_of_a_new_version_leaves_the_earlier_document_whole(
    s3: Any, context: Any, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    """The thumbnails that the earlier document names stay when the new metadata cannot be written."""
    def event(head: dict[str, Any]) -> dict[str, Any]:
        return {"uris": [f"s3://{INBOX}/{KEY}"]} if by == "uri" else notified(head, KEY)

    def failing(write: Any) -> Any:
        def fail_on_metadata(self: BucketOutput, key: str, *args: Any, **kwargs: Any) -> Any:
            if key.startswith("metadata/"):
                raise TransientError(f"injected: {key}")
            return write(self, key, *args, **kwargs)
        return fail_on_metadata

    ingest.handler(event(upload(s3, KEY)), context)
    earlier = read_json(s3, f"metadata/{KEY}.json")
    with fits.open(DRIZZLE) as hdul:
        hdul[0].header["TARGNAME"] = "M31-REVISED"
        buffer = io.BytesIO()
        hdul.writeto(buffer)
    newer = event(upload(s3, KEY, buffer.getvalue()))
    with monkeypatch.context() as patch:
        patch.setattr(BucketOutput, "put", failing(BucketOutput.put))
        patch.setattr(BucketOutput, "put_if_absent", failing(BucketOutput.put_if_absent))
        with pytest.raises(TransientError):
            ingest.handler(newer, context)
    assert read_json(s3, f"metadata/{KEY}.json") == earlier
    named = [hdu["thumbnail"] for hdu in earlier["hdus"] if hdu["thumbnail"]]
    assert len(named) == 2 and set(named) <= set(output_keys(s3))
    assert ingest.handler(newer, context)["outcomes"][0]["status"] == "processed"
    assert read_json(s3, f"metadata/{KEY}.json")["summary"]["target_name"] == "M31-REVISED"


def test_a_new_version_is_processed_again(s3: Any, context: Any) -> None:
    upload(s3, KEY)
    event = {"uris": [f"s3://{INBOX}/{KEY}"]}
    ingest.handler(event, context)
    with fits.open(DRIZZLE) as hdul:
        hdul[0].header["TARGNAME"] = "M31-REVISED"
        buffer = io.BytesIO()
        hdul.writeto(buffer)
    head = upload(s3, KEY, buffer.getvalue())
    assert ingest.handler(event, context)["outcomes"][0]["status"] == "processed"
    doc = read_json(s3, f"metadata/{KEY}.json")
    assert doc["source"]["version_id"] == head["VersionId"]
    assert doc["summary"]["target_name"] == "M31-REVISED"


def test_event_for_an_overwritten_object_is_superseded(s3: Any, context: Any) -> None:
    s3.put_bucket_versioning(Bucket=INBOX, VersioningConfiguration={"Status": "Suspended"})
    old = upload(s3, "x.fits", DRIZZLE.read_bytes())
    upload(s3, "x.fits", b"SIMPLE  = something else entirely")
    event = notification("x.fits", **version_of(old))  # unversioned: no versionId
    assert ingest.handler(event, context)["outcomes"][0]["status"] == "superseded"
    assert output_keys(s3) == []


def test_a_small_object_is_shown_current_by_its_one_get(s3: Any, requests_sent: RequestLog, context: Any) -> None:
    """The same bytes uploaded again: the eTag still matches, the version does not."""
    first = upload(s3, KEY)
    upload(s3, KEY)
    event = notified(first, KEY)
    assert ingest.handler(event, context)["outcomes"][0]["status"] == "superseded"
    assert [call[0] for call in requests_sent.calls if call[1] == INBOX] == ["GetObject"]
    assert output_keys(s3) == []


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        (b"", "NotFitsError"),
        (b"\x89PNG\r\n\x1a\n" + bytes(3000), "NotFitsError"),
        (DRIZZLE.read_bytes()[:10000], "TruncatedFitsError"),
        (b"SIMPLE  =                    T" + b" " * 50 + b"NAXIS   = what" + b" " * 66, "CorruptFitsError"),
    ],
)
def test_bad_input_gets_an_error_record_and_no_retry(
    s3: Any, context: Any, body: bytes, error_class: str
) -> None:
    upload(s3, "bad/input file.fits", body)
    result = ingest.handler({"uris": [f"s3://{INBOX}/bad/input file.fits"]}, context)
    assert result["outcomes"][0]["status"] == "rejected"
    assert output_keys(s3) == ["errors/bad/input file.fits.json"]
    record = read_json(s3, "errors/bad/input file.fits.json")
    assert record["error"]["class"] == error_class
    assert record["error"]["message"]
    assert record["source"]["key"] == "bad/input file.fits" and record["source"]["size"] == len(body)


@pytest.mark.parametrize("by", ["uri", "notification"])
def test_a_fixed_upload_replaces_the_error_record(s3: Any, context: Any, by: str) -> None:
    for body in (b"not fits", DRIZZLE.read_bytes()):
        head = upload(s3, KEY, body)
        ingest.handler({"uris": [f"s3://{INBOX}/{KEY}"]} if by == "uri" else notified(head, KEY), context)
    assert f"errors/{KEY}.json" not in output_keys(s3)
    assert f"metadata/{KEY}.json" in output_keys(s3)


def test_the_output_bucket_is_refused_as_input(s3: Any, context: Any) -> None:
    upload(s3, "loop.fits", bucket=OUTPUT)
    with pytest.raises(RecursiveTriggerError):
        ingest.handler({"uris": [f"s3://{OUTPUT}/loop.fits"]}, context)
    assert output_keys(s3) == ["loop.fits"]


def test_missing_output_bucket_stops_the_function(s3: Any, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTPUT_BUCKET")
    warm.reset()
    with pytest.raises(ConfigurationError, match="OUTPUT_BUCKET"):
        ingest.handler({"uris": [f"s3://{INBOX}/{KEY}"]}, context)


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (503, "SlowDown")])
def test_store_faults_are_retried_then_raised_with_nothing_written(
    s3: Any, context: Any, status: int, code: str
) -> None:
    upload(s3, KEY)
    hook = fail_gets(status, code)
    warm.s3_client().meta.events.register_first("before-send.s3.GetObject", hook)
    with pytest.raises(TransientError):
        ingest.handler({"uris": [f"s3://{INBOX}/{KEY}"]}, context)
    assert hook.calls == 5  # botocore's standard mode: five attempts
    assert output_keys(s3) == []


def test_sqs_batch_reports_only_the_failed_message(s3: Any, context: Any) -> None:
    head = upload(s3, KEY)
    good = notification(KEY, etag=head["ETag"].strip('"'), size=head["ContentLength"])
    missing_bucket = notification("x.fits", etag="0" * 32, size=10, bucket="no-such-bucket")
    messages = [
        {"MessageId": "good", "ReceiptHandle": "r1", "Body": json.dumps(good)},
        {"MessageId": "bad", "ReceiptHandle": "r2", "Body": json.dumps(missing_bucket)},
        {"MessageId": "not-json", "ReceiptHandle": "r3", "Body": "{{{"},
    ]
    result = ingest.handler(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"), context)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["not-json"]
    assert f"metadata/{KEY}.json" in output_keys(s3)


class _ResetMidBody:
    """A response body whose connection is reset after some bytes, as a flaky network does."""

    def __init__(self) -> None:
        self.sent = False

    def read(self, *_: Any, **__: Any) -> bytes:
        from urllib3.exceptions import ProtocolError

        if not self.sent:
            self.sent = True
            raise ProtocolError("Connection broken: ConnectionResetError(104, 'Connection reset by peer')")
        return b""

    def stream(self, **_: Any) -> Any:
        yield b""


def test_a_connection_reset_mid_body_is_read_again(s3: Any, requests_sent: RequestLog, context: Any) -> None:
    etag = upload(s3, KEY)["ETag"]
    resets: list[str] = []

    def reset_first_get(request: Any, **_: Any) -> AWSResponse | None:
        if request.method != "GET" or "Range" not in request.headers or resets:
            return None
        resets.append(request.url)
        size = DRIZZLE.stat().st_size
        headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}", "ETag": etag}
        return AWSResponse(request.url, 206, headers, _ResetMidBody())

    warm.s3_client().meta.events.register_first("before-send.s3.GetObject", reset_first_get)
    assert ingest.handler({"uris": [f"s3://{INBOX}/{KEY}"]}, context)["outcomes"][0]["status"] == "processed"
    assert len(resets) == 1
    doc = read_json(s3, f"metadata/{KEY}.json")
    assert doc["processor"]["bytes_read"] == DRIZZLE.stat().st_size
    assert requests_sent.count("GetObject") == 2  # the reset one and its retry: a small object is one GET
    assert doc["processor"]["requests"] == requests_sent.on_bucket(INBOX)  # the reset one counted too
