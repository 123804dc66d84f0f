"""Delivery as S3 really does it: duplicates, reordering, overwrites, removals, timeouts, faults."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from astropy.io import fits

from handlers import ingest
from handlers.aws import warm
from handlers.aws.worker import LocalContext
from handlers.errors import TransientError

from .support import DRIZZLE, INBOX, created, fail_gets, notification, output_keys, outputs, read_json, upload

KEY = "night 7/m31+halo.fits"


def variant(target: str) -> bytes:
    """The drizzle file with another TARGNAME: a new version of the same observation."""
    with fits.open(DRIZZLE) as hdul:
        hdul[0].header["TARGNAME"] = target
        buffer = io.BytesIO()
        hdul.writeto(buffer)
    return buffer.getvalue()


def metadata(s3: Any, key: str = KEY) -> dict[str, Any]:
    return read_json(s3, f"metadata/{key}.json")


def assert_consistent(s3: Any, key: str = KEY) -> dict[str, Any]:
    """The metadata names exactly the thumbnails that exist, and nothing else is there."""
    doc = metadata(s3, key)
    named = {h["thumbnail"] for h in doc["hdus"] if h["thumbnail"]}
    assert set(outputs(s3)) == {f"metadata/{key}.json", *named}
    return doc


def test_the_same_event_three_times_at_once(server_buckets: Any) -> None:
    client, inbox, output = server_buckets
    upload(client, KEY, bucket=inbox)
    event = {"uris": [f"s3://{inbox}/{KEY}"]}
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: ingest.handler(event, LocalContext()), range(3)))
    statuses = sorted(r["outcomes"][0]["status"] for r in results)
    assert set(statuses) <= {"processed", "skipped"} and "processed" in statuses
    doc = read_json(client, f"metadata/{KEY}.json", bucket=output)
    named = {h["thumbnail"] for h in doc["hdus"] if h["thumbnail"]}
    listed = set(output_keys(client, bucket=output))
    assert listed == {f"metadata/{KEY}.json", *named} and len(named) == 2


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_an_overwritten_object_ends_described_by_its_newest_version(s3: Any, order: str) -> None:
    first = created(s3, KEY, variant("FIRST"))
    second = created(s3, KEY, variant("SECOND"))
    events = [first, second] if order == "in order" else [second, first]
    statuses = [ingest.handler(e, LocalContext())["outcomes"][0]["status"] for e in events]
    assert statuses == (["superseded", "processed"] if order == "in order" else ["processed", "superseded"])
    doc = assert_consistent(s3)
    assert doc["summary"]["target_name"] == "SECOND"
    assert doc["source"]["version_id"] == second["Records"][0]["s3"]["object"]["versionId"]


def test_an_unversioned_overwrite_is_caught_by_its_etag(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=INBOX, VersioningConfiguration={"Status": "Suspended"})
    first = created(s3, KEY, variant("FIRST"))
    second = created(s3, KEY, variant("SECOND"))
    assert ingest.handler(second, LocalContext())["outcomes"][0]["status"] == "processed"
    assert ingest.handler(first, LocalContext())["outcomes"][0]["status"] == "superseded"
    assert metadata(s3)["summary"]["target_name"] == "SECOND"


def test_a_removal_takes_the_derived_outputs_away(s3: Any) -> None:
    ingest.handler(created(s3, KEY), LocalContext())
    ingest.handler(created(s3, "other.fits"), LocalContext())
    s3.delete_object(Bucket=INBOX, Key=KEY)  # versioned: a delete marker
    result = ingest.handler(notification(KEY, event_name="ObjectRemoved:DeleteMarkerCreated"), LocalContext())
    assert result["outcomes"][0]["status"] == "removed"
    assert_consistent(s3, "other.fits")  # the neighbour is untouched


def test_a_removal_of_an_object_that_exists_again_keeps_its_outputs(s3: Any) -> None:
    upload(s3, KEY)
    s3.delete_object(Bucket=INBOX, Key=KEY)
    ingest.handler(created(s3, KEY), LocalContext())
    result = ingest.handler(notification(KEY, event_name="ObjectRemoved:Delete"), LocalContext())  # arrives late
    assert result["outcomes"][0]["status"] == "kept"
    assert_consistent(s3)


def test_a_removal_also_clears_an_error_record(s3: Any) -> None:
    ingest.handler(created(s3, KEY, b"not a FITS file"), LocalContext())
    assert set(outputs(s3)) == {f"errors/{KEY}.json"}
    s3.delete_object(Bucket=INBOX, Key=KEY)
    ingest.handler(notification(KEY, event_name="ObjectRemoved:DeleteMarkerCreated"), LocalContext())
    assert outputs(s3) == {}


def test_a_new_version_with_fewer_images_leaves_no_stale_thumbnail(s3: Any) -> None:
    ingest.handler(created(s3, KEY), LocalContext())
    with fits.open(DRIZZLE) as hdul:
        buffer = io.BytesIO()
        fits.HDUList([hdul[0], hdul[1]]).writeto(buffer)
    ingest.handler(created(s3, KEY, buffer.getvalue()), LocalContext())
    doc = assert_consistent(s3)
    assert len(doc["hdus"]) == 2


def test_running_out_of_time_writes_a_timeout_record(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIME_RESERVE_SECONDS", "30")
    warm.reset()
    event = created(s3, KEY)
    result = ingest.handler(event, LocalContext(timeout_s=10))  # less than the reserve: no time to work
    assert result["outcomes"][0]["status"] == "rejected"
    record = json.loads(outputs(s3)[f"errors/{KEY}.json"])
    assert record["error"]["class"] == "TimeLimitError"


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (503, "SlowDown")])
def test_failing_puts_leave_nothing_visible(server_buckets: Any, status: int, code: str) -> None:
    client, inbox, output = server_buckets
    upload(client, KEY, bucket=inbox)
    hook = fail_gets(status, code, "metadata/", method="PUT")
    warm.s3_client().meta.events.register_first("before-send.s3.PutObject", hook)
    with pytest.raises(TransientError):
        ingest.handler({"uris": [f"s3://{inbox}/{KEY}"]}, LocalContext())
    assert hook.calls == 5  # botocore's standard retry mode, then the invocation fails
    assert output_keys(client, bucket=output) == []  # thumbnails taken back

    warm.s3_client().meta.events.unregister("before-send.s3.PutObject", hook)
    assert ingest.handler({"uris": [f"s3://{inbox}/{KEY}"]}, LocalContext())["outcomes"][0]["status"] == "processed"
    listed = set(output_keys(client, bucket=output))
    assert f"metadata/{KEY}.json" in listed and len(listed) == 3
