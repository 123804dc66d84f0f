"""The CLI: the Lambda's pipeline on local files or S3 objects, and the local SQS worker.

    python -m handlers process PATH_OR_S3_URI... --out DIR_OR_S3_URI
    python -m handlers worker --queue-url URL [--endpoint-url URL] [--once]
    python -m handlers reconcile --inbox s3://BUCKET[/PREFIX] --out s3://BUCKET [--redrive]
    python -m handlers catalog rebuild|query|cone --out DIR_OR_S3_URI ...   (handlers/cli/catalog.py)

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
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from handlers.cli import catalog
from handlers.cli.inputs import Input, Unreadable, first_collision, resolve
from handlers.config import Settings
from handlers.errors import ConfigurationError, IngestError, UnrecognizedEventError
from handlers.object_ref import ObjectRef
from handlers.pipeline import Outcome, Status, error_fields, process
from handlers.storage.batched_deletes import BatchedDeletes
from handlers.storage.interfaces import OutputRoot, Source
from handlers.storage.local_source import LocalSource
from handlers.storage.outputs import BucketOutput, FolderOutput
from handlers.storage.s3_source import S3Source, make_s3_client
from handlers.threads.pools import map_concurrently

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT, handlers=[_LOGGED])
    try:
        if args.command == "process":
            return _process(args, args.command_parser)
        if args.command == "reconcile":
            return _reconcile(args, args.command_parser)
        if args.command == "catalog":
            return catalog.run(args, args.command_parser)
        return _worker(args)
    except ConfigurationError as exc:
        args.command_parser.error(str(exc))
    return EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """Every usage error in one line, its command's usage folded into it: a long usage that
    wraps would otherwise put the error out of sight below it."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())} ({usage})\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m handlers", description=__doc__.splitlines()[0])
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
    for command in (run, work, check):  # its errors come with its own usage
        command.set_defaults(command_parser=command)
    catalog.add_parser(commands)
    return parser


def _process(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Every input that can be read is processed (``BATCH_CONCURRENCY`` at once, as a batch in the Lambda),
    and the others reported in their place: one missing path need not cost the whole run.  The lines
    come in the inputs' order, each with its warnings, as soon as those before it are done."""
    settings = Settings.from_env()
    try:
        items = resolve(args.inputs)
    except UnrecognizedEventError as exc:
        parser.error(str(exc))
    inputs = [item for item in items if isinstance(item, Input)]
    if not inputs:
        refused = [item for item in items if isinstance(item, Unreadable)]
        parser.error("nothing to process: " + "; ".join(f"{item.named}: {item.reason}" for item in refused))
    if collision := first_collision(inputs):
        first, second = collision
        parser.error(f"{first.named} and {second.named} would both be written under the key {first.key!r}; "
                     "name a folder that holds both (a file found in a folder is keyed by its path there)")
    client = make_s3_client(settings.reads, args.endpoint_url) if _uses_s3(args) else None
    out = _output_root(args.out, client, parser) if args.out.startswith("s3://") else _folder_output(args.out, parser)
    lines = _InOrder(len(items))
    for number, item in enumerate(items):
        if isinstance(item, Unreadable):
            lines.done(number, _Line(UNREADABLE, f"{UNREADABLE} {item.named}: {item.reason}"))
    # The deletes of a bucket's error records go together, as for a batch in the Lambda.
    deletes = BatchedDeletes() if isinstance(out, BucketOutput) else None

    def run(numbered: tuple[int, Input]) -> None:
        number, item = numbered
        lines.done(number, _ingest(item, client, out, deletes, settings))

    numbered = [(number, item) for number, item in enumerate(items) if isinstance(item, Input)]
    map_concurrently(deletes.participant(run) if deletes else run, numbered, settings.batch_concurrency)
    done = ", ".join(f"{n} {status}" for status, n in sorted(lines.counts.items()))
    print(f"{len(items)} input(s): {done}. Outputs under {out.uri}")
    if isinstance(out, FolderOutput):
        catalog.update_folder(args.out, [item.key for item in inputs])
    return EXIT_OK if lines.counts.keys() <= {Status.PROCESSED, Status.SKIPPED} else EXIT_REJECTED


#: The status of an argument that gives nothing to read (missing, or a folder without FITS files).
UNREADABLE = "unreadable"


@dataclass
class _Line:
    """An input's status line and the warnings met while it was processed."""

    status: str
    text: str
    warnings: list[str] = field(default_factory=list)


class _InOrder:
    """Prints each input's line (stdout) and warnings (stderr) once every input before it is printed."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._ready: dict[int, _Line] = {}
        self._next = 0

    def done(self, number: int, line: _Line) -> None:
        with self._lock:
            self._ready[number] = line
            while self._next in self._ready:
                self._print(self._ready.pop(self._next))

    def _print(self, line: _Line) -> None:
        self._next += 1
        self.counts[line.status] += 1
        print(f"[{self._next}/{self.total}] {line.text}", flush=True)
        for warning in line.warnings:
            print(warning, file=sys.stderr, flush=True)


def _ingest(
    item: Input, client: S3Client | None, out: OutputRoot, deletes: BatchedDeletes | None, settings: Settings
) -> _Line:
    """One input through the pipeline, as ``aws.invocation.ingest_object`` runs one object of a batch:
    one read in parts (or of a size not known yet) deletes alone, so that the others need not wait for it."""
    if item.ref is not None:
        assert client is not None
        s3_source = S3Source(client, item.ref, settings.reads)
        source: Source = s3_source
        size = s3_source.size_if_known()
    else:
        assert item.path is not None
        source = LocalSource(item.path, settings.reads, key=item.key)
        size = _size(item.path)
    batched = deletes is not None and size is not None and settings.reads.fetches_whole(size)
    if isinstance(out, BucketOutput):
        out = BucketOutput(out.client, out.bucket, deletes if batched else None)
    with _LOGGED.collecting() as logged:
        try:
            with deletes.deleting_alone() if deletes is not None and not batched else nullcontext():
                outcome = process(source, out, settings)
        except (IngestError, OSError) as exc:  # a fault of the store, or a local file that cannot be read
            outcome = Outcome(item.key, Status.FAILED, error=error_fields(exc))
    noted = [("WARNING", text) for text in outcome.warnings] + logged
    return _Line(outcome.status, _describe(outcome), [f"{level} {item.key}: {text}" for level, text in noted])


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


class _LogsByInput(logging.Handler):
    """Records logged by the thread that processes an input are kept for that input's line;
    any other thread's (a helper shared by several inputs) go to stderr as they come."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()

    @contextmanager
    def collecting(self) -> Iterator[list[tuple[str, str]]]:
        """Within the block, this thread's records are kept as (level, message)."""
        sink: list[tuple[str, str]] = []
        self._local.sink = sink
        try:
            yield sink
        finally:
            self._local.sink = None

    def emit(self, record: logging.LogRecord) -> None:
        sink: list[tuple[str, str]] | None = getattr(self._local, "sink", None)
        if sink is None:
            print(self.format(record), file=sys.stderr, flush=True)
        else:
            sink.append((record.levelname, record.getMessage()))


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_LOGGED = _LogsByInput()


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


def _folder_output(target: str, parser: argparse.ArgumentParser) -> FolderOutput:
    """The folder, created if need be: one that cannot be written to is a usage error, found before
    any input is read rather than as a traceback at the first write."""
    if os.path.exists(target) and not os.path.isdir(target):
        parser.error(f"--out {target!r} is a file: name a folder (created if need be) or s3://bucket")
    try:
        os.makedirs(target, exist_ok=True)
    except OSError as exc:
        parser.error(f"--out {target!r}: cannot create the folder: {exc.strerror or exc}")
    if not os.access(target, os.W_OK | os.X_OK):
        parser.error(f"--out {target!r}: the folder is not writable")
    return FolderOutput(target)


def _output_root(target: str, client: object, parser: argparse.ArgumentParser) -> OutputRoot:
    if not target.startswith("s3://"):
        return FolderOutput(target)
    bucket, _, prefix = target[len("s3://") :].partition("/")
    if not bucket or prefix.strip("/"):
        parser.error(f"--out must be a folder or s3://bucket (outputs go to its top level), got {target!r}")
    return BucketOutput(client, bucket)  # type: ignore[arg-type]


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

