"""Delivery as S3 really does it: duplicates, reordering, overwrites, removals, timeouts, faults."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote_plus

import pytest
from astropy.io import fits

from handlers import ingest
from handlers.aws import warm
from handlers.aws.worker import LocalContext
from handlers.errors import TransientError

from .conftest import DRIZZLE, INBOX, OUTPUT, fail_gets

KEY = "night 7/m31+halo.fits"


def variant(target: str) -> bytes:
    """The drizzle file with another TARGNAME: a new version of the same observation."""
    with fits.open(DRIZZLE) as hdul:
        hdul[0].header["TARGNAME"] = target
        buffer = io.BytesIO()
        hdul.writeto(buffer)
    return buffer.getvalue()


def created(s3: Any, key: str, body: bytes) -> dict[str, Any]:
    """Upload ``body`` and return the S3 notification this upload produces."""
    s3.put_object(Bucket=INBOX, Key=key, Body=body)
    head = s3.head_object(Bucket=INBOX, Key=key)
    return notification("ObjectCreated:Put", key, version_id=head.get("VersionId"),
                        etag=head["ETag"].strip('"'), size=head["ContentLength"])


def notification(name: str, key: str, **obj: Any) -> dict[str, Any]:
    fields = {"key": quote_plus(key, safe="/"), "versionId": obj.get("version_id"),
              "eTag": obj.get("etag"), "size": obj.get("size")}
    return {"Records": [{"eventSource": "aws:s3", "eventName": name, "s3": {
        "bucket": {"name": INBOX}, "object": {k: v for k, v in fields.items() if v is not None}}}]}


def outputs(s3: Any) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=OUTPUT).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=OUTPUT, Key=o["Key"])["Body"].read() for o in listed}


def metadata(s3: Any, key: str = KEY) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=OUTPUT, Key=f"metadata/{key}.json")["Body"].read())


def assert_consistent(s3: Any, key: str = KEY) -> dict[str, Any]:
    """The metadata names exactly the thumbnails that exist, and nothing else is there."""
    doc = metadata(s3, key)
    named = {h["thumbnail"] for h in doc["hdus"] if h["thumbnail"]}
    assert set(outputs(s3)) == {f"metadata/{key}.json", *named}
    return doc


@pytest.fixture
def server_buckets(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """Fresh buckets on the moto server, the handler pointed at them.

    Concurrency and PUT faults are tested there, over real HTTP: in-process moto is not
    safe for concurrent PUTs of one key, and stores a PUT's object even when a botocore
    hook has answered it.
    """
    import boto3

    from tools.motoserver import LOCAL_AWS_ENV

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


def test_the_same_event_three_times_at_once(server_buckets: Any) -> None:
    client, inbox, output = server_buckets
    client.put_object(Bucket=inbox, Key=KEY, Body=DRIZZLE.read_bytes())
    event = {"uris": [f"s3://{inbox}/{KEY}"]}
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: ingest.handler(event, LocalContext()), range(3)))
    statuses = sorted(r["outcomes"][0]["status"] for r in results)
    assert set(statuses) <= {"processed", "skipped"} and "processed" in statuses
    doc = json.loads(client.get_object(Bucket=output, Key=f"metadata/{KEY}.json")["Body"].read())
    named = {h["thumbnail"] for h in doc["hdus"] if h["thumbnail"]}
    listed = {o["Key"] for o in client.list_objects_v2(Bucket=output)["Contents"]}
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
    ingest.handler(created(s3, KEY, DRIZZLE.read_bytes()), LocalContext())
    ingest.handler(created(s3, "other.fits", DRIZZLE.read_bytes()), LocalContext())
    s3.delete_object(Bucket=INBOX, Key=KEY)  # versioned: a delete marker
    result = ingest.handler(notification("ObjectRemoved:DeleteMarkerCreated", KEY), LocalContext())
    assert result["outcomes"][0]["status"] == "removed"
    assert_consistent(s3, "other.fits")  # the neighbour is untouched


def test_a_removal_of_an_object_that_exists_again_keeps_its_outputs(s3: Any) -> None:
    s3.put_object(Bucket=INBOX, Key=KEY, Body=DRIZZLE.read_bytes())
    s3.delete_object(Bucket=INBOX, Key=KEY)
    ingest.handler(created(s3, KEY, DRIZZLE.read_bytes()), LocalContext())
    result = ingest.handler(notification("ObjectRemoved:Delete", KEY), LocalContext())  # arrives late
    assert result["outcomes"][0]["status"] == "kept"
    assert_consistent(s3)


def test_a_removal_also_clears_an_error_record(s3: Any) -> None:
    ingest.handler(created(s3, KEY, b"not a FITS file"), LocalContext())
    assert set(outputs(s3)) == {f"errors/{KEY}.json"}
    s3.delete_object(Bucket=INBOX, Key=KEY)
    ingest.handler(notification("ObjectRemoved:DeleteMarkerCreated", KEY), LocalContext())
    assert outputs(s3) == {}


def test_a_new_version_with_fewer_images_leaves_no_stale_thumbnail(s3: Any) -> None:
    ingest.handler(created(s3, KEY, DRIZZLE.read_bytes()), LocalContext())
    with fits.open(DRIZZLE) as hdul:
        buffer = io.BytesIO()
        fits.HDUList([hdul[0], hdul[1]]).writeto(buffer)
    ingest.handler(created(s3, KEY, buffer.getvalue()), LocalContext())
    doc = assert_consistent(s3)
    assert len(doc["hdus"]) == 2


def test_running_out_of_time_writes_a_timeout_record(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIME_RESERVE_SECONDS", "30")
    warm.reset()
    event = created(s3, KEY, DRIZZLE.read_bytes())
    result = ingest.handler(event, LocalContext(timeout_s=10))  # less than the reserve: no time to work
    assert result["outcomes"][0]["status"] == "rejected"
    record = json.loads(outputs(s3)[f"errors/{KEY}.json"])
    assert record["error"]["class"] == "TimeLimitError"


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (503, "SlowDown")])
def test_failing_puts_leave_nothing_visible(server_buckets: Any, status: int, code: str) -> None:
    client, inbox, output = server_buckets
    client.put_object(Bucket=inbox, Key=KEY, Body=DRIZZLE.read_bytes())
    hook = fail_gets(status, code, "metadata/", method="PUT")
    warm.s3_client().meta.events.register_first("before-send.s3.PutObject", hook)
    with pytest.raises(TransientError):
        ingest.handler({"uris": [f"s3://{inbox}/{KEY}"]}, LocalContext())
    assert hook.calls == 5  # botocore's standard retry mode, then the invocation fails
    assert client.list_objects_v2(Bucket=output).get("KeyCount") == 0  # thumbnails taken back

    warm.s3_client().meta.events.unregister("before-send.s3.PutObject", hook)
    assert ingest.handler({"uris": [f"s3://{inbox}/{KEY}"]}, LocalContext())["outcomes"][0]["status"] == "processed"
    listed = {o["Key"] for o in client.list_objects_v2(Bucket=output)["Contents"]}
    assert f"metadata/{KEY}.json" in listed and len(listed) == 3
