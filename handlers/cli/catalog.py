"""``python -m handlers catalog rebuild|query|cone``: the catalog's tables built, and queried with DuckDB.

    python -m handlers catalog rebuild --out ROOT
    python -m handlers catalog query --out ROOT [--format table|csv|json] "SQL"
    python -m handlers catalog cone --out ROOT [--format ...] RA DEC RADIUS [--where SQL]

ROOT is an output root: a folder, or s3://bucket (``--endpoint-url`` for moto or SeaweedFS).  The
commands need the optional extra ``catalog`` (``pip install 'fits-ingest[catalog]'``).  Exit status
0: done; 1: the root could not be read or written (S3's or the file system's error, printed); 2: a
usage error, SQL that DuckDB refuses among them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from handlers.catalog.store import CatalogStore

FORMATS = ("table", "csv", "json")
EXIT_OK, EXIT_FAULT, EXIT_USAGE = 0, 1, 2


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """The ``catalog`` command and its own commands, on the CLI's subparsers."""
    catalog = commands.add_parser("catalog", help="the catalog's Parquet tables: rebuild, SQL, cone search")
    actions = catalog.add_subparsers(dest="catalog_command", required=True)
    rebuild = actions.add_parser("rebuild", help="build the tables obscore and cards from metadata/")
    query = actions.add_parser("query", help="run SQL over the tables obscore and cards (DuckDB)")
    query.add_argument("sql", metavar="SQL")
    cone = actions.add_parser("cone", help="the obscore rows within RADIUS degrees of (RA, DEC), ICRS")
    cone.add_argument("ra", type=float, metavar="RA")
    cone.add_argument("dec", type=float, metavar="DEC")
    cone.add_argument("radius", type=float, metavar="RADIUS")
    cone.add_argument("--where", help="an SQL condition on obscore's columns, ANDed to the cone's")
    for action in (rebuild, query, cone):
        action.add_argument("--out", required=True, metavar="DIR_OR_S3_URI", help="output root: a folder, or s3://bucket")
        action.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local moto server)")
        action.set_defaults(command_parser=action)
    for action in (query, cone):
        action.add_argument("--format", choices=FORMATS, default="table")
    catalog.set_defaults(command_parser=catalog)
    return catalog


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        import pyarrow as pa
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as exc:
        parser.error(f"the catalog needs the optional extra 'catalog' (pip install 'fits-ingest[catalog]'): {exc}")
    try:
        return _run(args, parser)
    except (ClientError, BotoCoreError, OSError, pa.ArrowException) as exc:
        print(f"python -m handlers catalog {args.catalog_command}: {args.out}: {exc}", file=sys.stderr)
        return EXIT_FAULT


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        import duckdb

        from handlers.catalog.build import rebuild
        from handlers.catalog.cone import ConeError, cone
        from handlers.catalog.query import query
    except ImportError as exc:
        parser.error(f"the catalog needs the optional extra 'catalog' (pip install 'fits-ingest[catalog]'): {exc}")
    store = _store(args, parser)
    if args.catalog_command == "rebuild":
        report = rebuild(store, progress=True)
        for warning in report.warnings:
            print(f"WARNING {warning}", file=sys.stderr)
        print(f"catalog of {store.uri}: {report.documents} document(s), {report.rows.get('obscore', 0)} obscore "
              f"row(s), {report.rows.get('cards', 0)} card row(s); {len(report.written)} file(s) written, "
              f"{len(report.deleted)} deleted, in {report.seconds:.1f} s")
        return EXIT_OK
    try:
        if args.catalog_command == "query":
            rows = query(store, args.sql)
        else:
            rows = cone(store, args.ra, args.dec, args.radius, args.where).rows
    except (duckdb.Error, ConeError) as exc:
        parser.error(str(exc))
    sys.stdout.write(render(rows, args.format))
    return EXIT_OK


def update_folder(root: str, keys: Iterable[str]) -> None:
    """After ``process`` into a folder: its catalog brought up to date with the inputs' documents, so that
    the CLI alone gives a queryable folder.  Silent when all is well (the run's summary stays its last
    line); a document's bad values are warnings on stderr, and without the extra, or on a fault, a note
    there says how to catch up."""
    try:
        import pyarrow as pa

        from handlers.catalog.build import update
        from handlers.catalog.store import FolderStore
    except ImportError:
        print("catalog: not updated (the optional extra 'catalog' is not installed)", file=sys.stderr)
        return
    try:
        report = update(FolderStore(root), keys)
    except (OSError, ValueError, pa.ArrowException) as exc:
        print(f"WARNING catalog not updated: {exc}; `python -m handlers catalog rebuild --out {root}` "
              "builds it again", file=sys.stderr)
        return
    for warning in report.warnings:
        print(f"WARNING {warning}", file=sys.stderr)


def _store(args: argparse.Namespace, parser: argparse.ArgumentParser) -> CatalogStore:
    from handlers.catalog.store import BucketStore, FolderStore

    if args.out.startswith("s3://"):
        bucket, _, prefix = args.out[len("s3://") :].partition("/")
        if not bucket or prefix.strip("/"):
            parser.error(f"--out must be a folder or s3://bucket (the catalog is at its top level), got {args.out!r}")
        from handlers.config import Settings
        from handlers.storage.s3_source import make_s3_client

        return BucketStore(make_s3_client(Settings.from_env().reads, args.endpoint_url), bucket)
    if not os.path.isdir(args.out):
        parser.error(f"--out {args.out!r} is not a folder")
    return FolderStore(args.out)


def render(table: pa.Table, form: str) -> str:
    """Rows as an aligned table, CSV, or a JSON array of row objects (one line per row)."""
    names = table.column_names
    rows = table.to_pylist()
    if form == "json":
        lines = [json.dumps({name: _plain(row[name]) for name in names}, allow_nan=False) for row in rows]
        return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    cells = [[_text(row[name]) for name in names] for row in rows]
    if form == "csv":
        return _csv([names, *cells])
    widths = [max([len(name), *(len(line[n]) for line in cells)]) for n, name in enumerate(names)]
    numeric = [_is_numeric(table.schema.field(name).type) for name in names]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric,
                                                                                      strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    count = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line(names), rule, *(line(values) for values in cells), count]) + "\n"


def _csv(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _is_numeric(kind: pa.DataType) -> bool:
    import pyarrow.types as patypes

    return bool(patypes.is_integer(kind) or patypes.is_floating(kind) or patypes.is_decimal(kind))


def _plain(value: Any) -> Any:
    """A value as strict JSON: times in ISO 8601, non-finite numbers as null, lists walked."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(_plain(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
