"""An output key S3 would refuse is the input's error record, decided before anything is written.

moto accepts keys of any length, so the output bucket here is a client under botocore's
Stubber: it answers only the requests a test expects, in order, and a request with a key S3
would refuse (or any request not expected) fails the test. The inputs are read from moto.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import boto3
from astropy.io import fits
from botocore.stub import ANY, Stubber

from handlers import ingest
from handlers.cli.reconcile import reconcile
from handlers.config import Settings
from handlers.errors import InputError, TransientError
from handlers.layout import error_key, metadata_key, thumbnail_key
from handlers.object_ref import ObjectRef
from handlers.pipeline import Outcome, Status, process
from handlers.storage.outputs import BucketOutput
from handlers.storage.s3_errors import classify_client_error
from handlers.storage.s3_source import S3Source

from .support import DRIZZLE, INBOX, OUTPUT, created, output_keys, read_json, upload

S3_KEY_BYTES = 1024


def header_only_fits() -> bytes:
    """A primary HDU without data: no thumbnails, so the writes come in one order."""
    buffer = io.BytesIO()
    fits.PrimaryHDU().writeto(buffer)
    return buffer.getvalue()


def stubbed_output() -> tuple[BucketOutput, Stubber]:
    client = boto3.client("s3")
    return BucketOutput(client, OUTPUT), Stubber(client)


def run(s3: Any, key: str, out: BucketOutput, body: bytes | Any = DRIZZLE) -> Outcome:
    upload(s3, key, body)
    config = Settings.from_env({"OUTPUT_BUCKET": OUTPUT})
    return process(S3Source(s3, ObjectRef(bucket=INBOX, key=key), config.reads), out, config)


def not_found(stub: Stubber, key: str) -> None:
    stub.add_client_error("head_object", "404", "Not Found", 404, expected_params={"Bucket": OUTPUT, "Key": key})


def put(stub: Stubber, key: str) -> None:
    expected = {"Bucket": OUTPUT, "Key": key, "Body": ANY, "ContentType": "application/json", "Metadata": ANY}
    stub.add_response("put_object", {}, expected_params=expected)


def test_a_key_whose_every_output_is_too_long_is_recorded_under_the_fallback(s3: Any) -> None:
    """A 1,019-byte key: its metadata and its error record's own key are both over S3's limit."""
    key = "x" * 1014 + ".fits"
    fallback = f"errors/_long/{hashlib.sha256(key.encode()).hexdigest()}.json"
    out, stub = stubbed_output()
    put(stub, fallback)  # the only request: no HEAD, no GET of the output, no PUT of a long key
    with stub:
        outcome = run(s3, key, out)
    stub.assert_no_pending_responses()
    assert outcome.status is Status.REJECTED and outcome.outputs == [fallback]
    assert outcome.error is not None and outcome.error["class"] == "OutputKeyTooLongError"


def test_a_thumbnail_key_over_the_limit_rejects_the_input_before_any_write(s3: Any) -> None:
    """The metadata and error keys fit, a thumbnail's does not: nothing but the error record is written."""
    key = "y" * 995 + ".fits"
    assert len(metadata_key(key)) <= S3_KEY_BYTES < len(thumbnail_key(key, 1, "SCI_F850LP"))
    out, stub = stubbed_output()
    put(stub, error_key(key))
    not_found(stub, metadata_key(key))  # read in one GET, it did not ask first: a rejection asks
    with stub:
        outcome = run(s3, key, out)
    stub.assert_no_pending_responses()
    assert outcome.status is Status.REJECTED and outcome.outputs == [error_key(key)]
    assert outcome.error is not None and outcome.error["class"] == "OutputKeyTooLongError"


def test_s3s_key_too_long_answer_is_the_inputs_error_not_a_transient_fault(s3: Any) -> None:
    """A store that refuses a key S3 would hold (a shorter limit) answers KeyTooLongError: recorded, not retried."""
    key = "obs/refused.fits"
    out, stub = stubbed_output()
    stub.add_response("delete_object", {}, expected_params={"Bucket": OUTPUT, "Key": error_key(key)})
    stub.add_client_error("put_object", "KeyTooLongError", "Your key is too long", 400)
    put(stub, error_key(key))
    not_found(stub, metadata_key(key))  # read in one GET, it did not ask first: a rejection asks
    with stub:
        outcome = run(s3, key, out, header_only_fits())
    stub.assert_no_pending_responses()
    assert outcome.status is Status.REJECTED
    assert outcome.error is not None and outcome.error["class"] == "OutputKeyTooLongError"


def test_the_key_too_long_answer_is_classified_as_an_input_error() -> None:
    from botocore.exceptions import ClientError

    answer = ClientError({"Error": {"Code": "KeyTooLongError", "Message": "Your key is too long"},
                          "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutObject")
    error = classify_client_error(answer, "s3://bucket/key")
    assert isinstance(error, InputError) and type(error).__name__ == "OutputKeyTooLongError"
    other = ClientError({"Error": {"Code": "SomethingNew", "Message": "?"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutObject")
    assert isinstance(classify_client_error(other, "s3://bucket/key"), TransientError)  # unchanged


def test_the_error_record_falls_back_only_past_s3s_limit() -> None:
    """``errors/<key>.json`` as long as S3 allows stays where the contract says; one byte more falls back."""
    for size, long in ((1012, False), (1013, True)):
        key = "é" * (size // 2) + "z" * (size % 2)  # counted in UTF-8 bytes, not characters
        assert len(key.encode()) == size
        fallback = f"errors/_long/{hashlib.sha256(key.encode()).hexdigest()}.json"
        assert error_key(key) == (fallback if long else f"errors/{key}.json")
    assert metadata_key("obs//a.fits") == "metadata/obs//a.fits.json"  # the bucket's layout is the contract's


def test_the_lambda_records_a_long_key_once_with_the_key_in_full(s3: Any, context: Any) -> None:
    """Through the handler on moto (which would take the long keys): one record, under the fallback."""
    key = "night/" + "z" * 1013 + ".fits"
    result = ingest.handler(created(s3, key), context)
    assert result["outcomes"] == [{"key": key, "status": "rejected"}]
    fallback = f"errors/_long/{hashlib.sha256(key.encode()).hexdigest()}.json"
    assert output_keys(s3) == [fallback]
    record = read_json(s3, fallback)
    assert record["source"]["key"] == key and record["error"]["class"] == "OutputKeyTooLongError"


def test_reconcile_finds_a_long_keys_record_under_the_fallback(s3: Any, context: Any) -> None:
    """The record of a long key counts for that key: it is neither missing nor an orphan."""
    key = "night/" + "z" * 1013 + ".fits"
    ingest.handler(created(s3, key), context)
    upload(s3, "night/short.fits")
    state = reconcile(s3, INBOX, "", OUTPUT)
    assert state.missing == ["night/short.fits"] and state.orphaned == []
    assert key in state.with_error
