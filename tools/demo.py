"""``make demo``: the whole job on an embedded moto server, with no AWS account.

Creates an inbox and an output bucket, sends the inbox's ObjectCreated notifications
to an SQS queue, uploads the fixture FITS files (and one truncated copy, to show an
error record), lets the local worker hand the notifications to the Lambda handler,
builds the catalog's tables in the output bucket, copies the bucket into ``demo-output/``, and
ends with one query of the catalog: every image within 1 degree of M31 with more than 500 s of exposure.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import boto3

from handlers.catalog.build import rebuild
from handlers.catalog.cone import cone
from handlers.catalog.store import BucketStore
from handlers.cli.catalog import render
from tools.motoserver import LOCAL_AWS_ENV, moto_server

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
OUT = Path(os.environ.get("DEMO_OUTPUT", ROOT / "demo-output")).resolve()
INBOX, OUTPUT, QUEUE = "fits-demo-inbox", "fits-demo-output", "fits-demo-events"
PREFIX = "obs/"
BROKEN = "obs/broken/truncated drizzle.fits"
#: M31's position (ICRS, degrees), and the closing query's columns.
M31 = (10.6847, 41.2690)
CONE_COLUMNS = ["source_key", "instrument_name", "filter", "t_exptime", "distance_deg"]
CONE_COMMAND = "python -m handlers catalog cone --out DEMO_OUTPUT 10.6847 41.2690 1 --where 't_exptime > 500'"


def main() -> int:
    with moto_server() as server:
        os.environ.update(LOCAL_AWS_ENV, AWS_ENDPOINT_URL=server.url, OUTPUT_BUCKET=OUTPUT)
        # The handler's JSON log lines and metrics are for CloudWatch; the summary below is for you.
        os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        queue_url = _wire_inbox(s3, sqs)
        uploads = _upload_fixtures(s3)
        print(f"uploaded {len(uploads)} objects to s3://{INBOX}/ on the moto server at {server.url}")

        from handlers.aws.worker import run

        stats = run(sqs, queue_url, once=True)
        print(f"worker: {stats.received} notification(s) handed to handlers.ingest.handler, "
              f"{stats.failed} failed\n")
        catalog = BucketStore(s3, OUTPUT)
        built = rebuild(catalog)
        _download_outputs(s3)
        missing = _summarise(uploads)
        print(f"\nThe catalog: {built.documents} document(s) as rows of obscore and cards, in {_shown()}/catalog/. "
              f"Every image within 1 degree of M31 with more than 500 s of exposure "
              f"({CONE_COMMAND.replace('DEMO_OUTPUT', str(_shown()))}):")
        print(render(cone(catalog, *M31, 1.0, "t_exptime > 500").rows.select(CONE_COLUMNS), "table"), end="")
    return missing


def _wire_inbox(s3, sqs) -> str:  # type: ignore[no-untyped-def]
    s3.create_bucket(Bucket=INBOX)
    s3.put_bucket_versioning(Bucket=INBOX, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=OUTPUT)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=INBOX,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return queue_url


def _upload_fixtures(s3) -> list[str]:  # type: ignore[no-untyped-def]
    keys = []
    for path in sorted(FIXTURES.glob("*.fit*")):
        key = PREFIX + path.name
        s3.upload_file(str(path), INBOX, key)
        keys.append(key)
    drizzle = next(FIXTURES.glob("hag_*.fits")).read_bytes()
    s3.put_object(Bucket=INBOX, Key=BROKEN, Body=drizzle[: len(drizzle) // 2])
    return [*keys, BROKEN]


def _download_outputs(s3) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(OUT, ignore_errors=True)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=OUTPUT):
        for item in page.get("Contents", []):
            target = OUT / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(OUTPUT, item["Key"], str(target))


def _summarise(keys: list[str]) -> int:
    missing = 0
    for key in keys:
        metadata, error = OUT / "metadata" / f"{key}.json", OUT / "errors" / f"{key}.json"
        if metadata.exists():
            doc = json.loads(metadata.read_text())
            summary = doc["summary"]
            thumbs = [h["thumbnail"] for h in doc["hdus"] if h["thumbnail"]]
            what = ", ".join(f"{k}={summary[k]}" for k in ("instrument_name", "target_name", "s_ra", "s_dec")
                             if summary.get(k) is not None)
            print(f"  ok       {key}: {len(doc['hdus'])} HDUs, {len(thumbs)} thumbnail(s), "
                  f"{doc['processor']['bytes_read']:,} bytes in {doc['processor']['requests']} request(s)"
                  + (f"; {what}" if what else ""))
        elif error.exists():
            record = json.loads(error.read_text())["error"]
            print(f"  rejected {key}: {record['class']}: {record['message']}")
        else:
            missing += 1
            print(f"  MISSING  {key}: neither metadata nor an error record")
    drizzle = next(k for k in keys if k.startswith(PREFIX + "hag_"))
    shown = _shown()
    print(f"\nOutputs are in {shown}/ (metadata/, thumbnails/, errors/). Try:")
    print(f"  {shown}/metadata/{drizzle}.json")
    print(f"  {shown}/thumbnails/{drizzle}/1-SCI_F850LP.png")
    return 1 if missing else 0


def _shown() -> Path:
    return OUT.relative_to(ROOT) if OUT.is_relative_to(ROOT) else OUT


if __name__ == "__main__":
    sys.exit(main())
