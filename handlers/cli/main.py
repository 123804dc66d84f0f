"""The CLI: the Lambda's pipeline on local files or S3 objects, and the local SQS worker.

    python -m handlers process PATH_OR_S3_URI... --out DIR_OR_S3_URI
    python -m handlers worker --queue-url URL [--endpoint-url URL] [--once]
    python -m handlers reconcile --inbox s3://BUCKET[/PREFIX] --out s3://BUCKET [--redrive]

``process`` exits 0 when every input was processed, 1 when some input was rejected (its
``errors/`` record written) or could not be read, and 2 on a usage error.  ``reconcile``
exits 0 when every inbox object has metadata or an error record (after ``--redrive``, if
given), else 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections import Counter
from collections.abc import Sequence

from handlers.config import Settings
from handlers.errors import ConfigurationError, IngestError, UnrecognizedEventError
from handlers.object_ref import ObjectRef
from handlers.pipeline import Outcome, Status, error_fields, process
from handlers.storage.interfaces import OutputRoot, Source
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import BucketOutput, FolderOutput
from handlers.storage.s3_source import S3Source, make_s3_client

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "process":
            return _process(args, parser)
        if args.command == "reconcile":
            return _reconcile(args, parser)
        return _worker(args)
    except ConfigurationError as exc:
        parser.error(str(exc))
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m handlers", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("process", help="ingest local FITS files or s3:// objects")
    run.add_argument("inputs", nargs="+", metavar="PATH_OR_S3_URI")
    run.add_argument("--out", required=True, metavar="DIR_OR_S3_URI",
                     help="output root: a folder, or s3://bucket")
    run.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local moto server)")
    work = commands.add_parser("worker", help="feed an SQS queue of S3 notifications to the handler")
    work.add_argument("--queue-url", required=True)
    work.add_argument("--endpoint-url", help="AWS endpoint for S3 and SQS (e.g. a local moto server)")
    work.add_argument("--once", action="store_true", help="stop when the queue is empty")
    check = commands.add_parser("reconcile", help="find inbox objects with neither metadata nor an error record")
    check.add_argument("--inbox", required=True, metavar="s3://BUCKET[/PREFIX]")
    check.add_argument("--out", required=True, metavar="s3://BUCKET")
    check.add_argument("--redrive", action="store_true", help="process the missing objects again")
    check.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local moto server)")
    return parser


def _process(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    settings = Settings.from_env()
    client = make_s3_client(settings.reads, args.endpoint_url) if _uses_s3(args) else None
    out = _output_root(args.out, client, parser)
    sources = [_source(item, client, settings, parser) for item in args.inputs]
    counts: Counter[str] = Counter()
    for number, source in enumerate(sources, 1):
        try:
            outcome = process(source, out, settings)
        except IngestError as exc:
            outcome = Outcome(source.key, Status.FAILED, error=error_fields(exc))
        counts[outcome.status] += 1
        print(f"[{number}/{len(sources)}] {_describe(outcome)}", flush=True)
    done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{len(sources)} input(s): {done}. Outputs under {out.uri}")
    return EXIT_OK if counts.keys() <= {Status.PROCESSED, Status.SKIPPED} else EXIT_REJECTED


def _describe(outcome: Outcome) -> str:
    line = f"{outcome.status} {outcome.key}"
    if outcome.status is Status.PROCESSED:
        line += (f": {outcome.hdus} HDU(s), {outcome.thumbnails} thumbnail(s), "
                 f"{outcome.bytes_read:,} bytes in {outcome.requests} request(s), {outcome.duration_ms:.0f} ms")
    elif outcome.error:
        line += f": {outcome.error['class']}: {outcome.error['message']}"
    return line


def _uses_s3(args: argparse.Namespace) -> bool:
    return args.out.startswith("s3://") or any(item.startswith("s3://") for item in args.inputs)


def _output_root(target: str, client: object, parser: argparse.ArgumentParser) -> OutputRoot:
    if not target.startswith("s3://"):
        return FolderOutput(target)
    bucket, _, prefix = target[len("s3://") :].partition("/")
    if not bucket or prefix.strip("/"):
        parser.error(f"--out must be a folder or s3://bucket (outputs go to its top level), got {target!r}")
    return BucketOutput(client, bucket)  # type: ignore[arg-type]


def _source(item: str, client: object, settings: Settings, parser: argparse.ArgumentParser) -> Source:
    if item.startswith("s3://"):
        try:
            ref = ObjectRef.from_uri(item)
        except UnrecognizedEventError as exc:
            parser.error(str(exc))
        return S3Source(client, ref, settings.reads)  # type: ignore[arg-type]
    if not os.path.isfile(item):
        parser.error(f"no such file: {item!r}")
    return LocalSource(item, settings.reads)


def _reconcile(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from handlers.cli.reconcile import reconcile, redrive

    settings = Settings.from_env()
    if not args.inbox.startswith("s3://"):
        parser.error(f"--inbox must be s3://bucket[/prefix], got {args.inbox!r}")
    inbox, _, prefix = args.inbox[len("s3://") :].partition("/")
    client = make_s3_client(settings.reads, args.endpoint_url)
    out = _output_root(args.out, client, parser)
    if not isinstance(out, BucketOutput):
        parser.error(f"--out must be s3://bucket, got {args.out!r}")
    state = reconcile(client, inbox, prefix, out.bucket)
    missing = state.missing
    print(f"{len(state.inbox)} FITS object(s) in s3://{inbox}/{prefix}: {len(state.with_metadata & state.inbox)} "
          f"with metadata, {len(state.with_error & state.inbox)} with an error record, {len(missing)} missing, "
          f"{len(state.orphaned)} output(s) of objects no longer there")
    for key in missing:
        print(f"missing: {key}")
    if not (args.redrive and missing):
        return EXIT_OK if not missing else EXIT_REJECTED

    def process_key(key: str) -> str:
        return process(S3Source(client, ObjectRef(inbox, key), settings.reads), out, settings).status

    results = redrive(missing, process_key)
    for key, status in results.items():
        print(f"redriven: {status} {key}")
    still = reconcile(client, inbox, prefix, out.bucket).missing
    print(f"after redrive: {len(still)} missing")
    return EXIT_OK if not still else EXIT_REJECTED


def _worker(args: argparse.Namespace) -> int:
    import boto3

    from handlers.aws.worker import run

    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url  # the handler's own S3 client reads it
    sqs = boto3.client("sqs", endpoint_url=args.endpoint_url)
    signal.signal(signal.SIGTERM, _interrupt)  # `make local-down` stops it like Ctrl-C
    try:
        stats = run(sqs, args.queue_url, once=args.once)
    except KeyboardInterrupt:
        print("worker: stopped; a batch in flight, if any, becomes visible again and is redelivered")
        return EXIT_OK
    print(f"worker: {stats.received} message(s) in {stats.batches} batch(es), "
          f"{stats.deleted} done, {stats.failed} failed")
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt

