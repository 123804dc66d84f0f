"""What the tests share besides fixtures: paths, bucket names, uploads, events, outputs, request logs.

One of each: a test uploads with ``upload``, builds the S3 notification of an upload with
``created``/``notified``/``notification`` (records from ``fixtures.sample_events``), reads what
the handler wrote with ``output_keys``/``outputs``/``read_output``/``read_json``, and reads a committed event
with ``committed_event``; ``fail_gets`` injects S3 errors. Fixtures built on these are in conftest.py.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from fixtures.sample_events import s3_record

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EVENTS = FIXTURES / "events"
DRIZZLE = FIXTURES / "hag_j004524.96+403851.8_j8hpdcaoq_v01.drizzle.fits"
INBOX, OUTPUT = "fits-inbox", "fits-output"


def committed_event(name: str) -> Any:
    """One of fixtures/events/*.json, as committed."""
    return json.loads((EVENTS / name).read_text())


# uploads -----------------------------------------------------------------------------------------


def upload(s3: Any, key: str, body: bytes | Path = DRIZZLE, *, bucket: str = INBOX) -> dict[str, Any]:
    """Put ``body`` (bytes, or a file sent as ``aws s3 cp`` would: multipart when large); its HEAD."""
    if isinstance(body, Path):
        s3.upload_file(str(body), bucket, key)
    else:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3.head_object(Bucket=bucket, Key=key)


def version_of(head: dict[str, Any]) -> dict[str, Any]:
    """The eTag, size and version ID of the object version ``head`` describes (None when unversioned)."""
    version = head.get("VersionId")
    return {"etag": head["ETag"].strip('"'), "size": head["ContentLength"],
            "version_id": None if version in (None, "null") else version}


# S3 notifications --------------------------------------------------------------------------------


def notification(
    key: str,
    *,
    event_name: str = "ObjectCreated:Put",
    bucket: str = INBOX,
    etag: str = "",
    size: int = 0,
    version_id: str | None = None,
) -> dict[str, Any]:
    """The S3 event notification of one object (a removal carries no eTag or size)."""
    record = s3_record(key, bucket=bucket, event_name=event_name, etag=etag, size=size, version_id=version_id)
    return {"Records": [record]}


def notified(head: dict[str, Any], key: str, *, bucket: str = INBOX) -> dict[str, Any]:
    """The notification S3 sends for the object version that ``head`` describes."""
    return notification(key, bucket=bucket, **version_of(head))


def created(s3: Any, key: str, body: bytes | Path = DRIZZLE, *, bucket: str = INBOX) -> dict[str, Any]:
    """Upload ``body`` and return the notification this upload produces."""
    return notified(upload(s3, key, body, bucket=bucket), key, bucket=bucket)


# outputs -----------------------------------------------------------------------------------------


def output_keys(s3: Any, *, bucket: str = OUTPUT, prefix: str = "") -> list[str]:
    """Every key in ``bucket`` under ``prefix``, sorted (all pages)."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def read_output(s3: Any, key: str, *, bucket: str = OUTPUT) -> bytes:
    """The bytes of one object the handler wrote."""
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def outputs(s3: Any, *, bucket: str = OUTPUT) -> dict[str, bytes]:
    """Every object in ``bucket``: key -> bytes."""
    return {key: read_output(s3, key, bucket=bucket) for key in output_keys(s3, bucket=bucket)}


def read_json(s3: Any, key: str, *, bucket: str = OUTPUT) -> Any:
    """A document the handler wrote, refused unless it is strict JSON (no NaN or Infinity)."""
    def refuse(value: str) -> None:
        raise AssertionError(f"not strict JSON: {value}")

    return json.loads(read_output(s3, key, bucket=bucket), parse_constant=refuse)


# requests ----------------------------------------------------------------------------------------


@dataclass
class RequestLog:
    """Every HTTP request the handler's S3 client sent: (operation, bucket, key, range)."""

    calls: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        headers = params.get("headers", {})
        self.calls.append((model.name, *_bucket_key(params), headers.get("Range")))

    def count(self, operation: str, bucket: str | None = None) -> int:
        return sum(1 for call in self.calls if call[0] == operation and bucket in (None, call[1]))

    def on_bucket(self, bucket: str) -> int:
        return sum(1 for call in self.calls if call[1] == bucket)

    def gets_on(self, bucket: str) -> list[str | None]:
        """The Range of every GET sent to ``bucket``, in order."""
        return [call[3] for call in self.calls if call[0] == "GetObject" and call[1] == bucket]


def _bucket_key(params: dict[str, Any]) -> tuple[str, str]:
    context = params.get("context", {})
    url_path = params.get("url_path", "")
    bucket = context.get("input_params", {}).get("Bucket") or context.get("s3_redirect", {}).get("bucket", "")
    return bucket, url_path


def record_requests(client: Any) -> RequestLog:
    """A log of every request ``client`` (the handler's, from ``warm.s3_client()``) sends from now on."""
    log = RequestLog()
    client.meta.events.register("before-call.s3.*", log.record)
    return log


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def fail_gets(status: int, code: str, key_part: str = "", method: str = "GET") -> Any:
    """A botocore hook answering ``method`` requests (ranged, for GETs) whose URL holds ``key_part``."""
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        ranged = method != "GET" or "Range" in request.headers
        if request.method == method and ranged and key_part in request.url:
            respond.calls += 1  # type: ignore[attr-defined]
            return AWSResponse(request.url, status, {}, _Raw(body))
        return None

    respond.calls = 0  # type: ignore[attr-defined]
    return respond


# FITS written by hand -----------------------------------------------------------------------------

def card(text: str) -> bytes:
    """One header card: ``text`` padded to 80 columns (latin-1, so a test can write a non-ASCII byte)."""
    return text.ljust(80).encode("latin-1")


def blocks(data: bytes) -> bytes:
    """``data`` padded with blanks to whole 2,880-byte blocks, as a header is."""
    return data + b" " * (-len(data) % 2880)


def image_bytes(data: Any, **cards: object) -> bytes:
    """A FITS file of one primary image, ``data``, with ``cards`` added to its header."""
    from astropy.io import fits

    hdu = fits.PrimaryHDU(data)
    for name, value in cards.items():
        hdu.header[name] = value
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return buffer.getvalue()


#: The child's own high-water mark (VmHWM, of the address space exec gave it).  Not ``ru_maxrss``:
#: Linux carries that across exec from the address space before it, which is the parent's where
#: subprocess forks by vfork, so a test's figure would be the pytest worker's peak.
_PEAK_RSS_PROBE = (
    "import re, sys\n"
    "from handlers.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "print('PEAK_RSS_KB', re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def process_measuring_rss(paths: list[str], out: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """``python -m handlers process PATHS --out OUT`` in a child process; its result and its peak RSS in bytes."""
    run = subprocess.run([sys.executable, "-c", _PEAK_RSS_PROBE, "process", *paths, "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    peak = re.search(r"PEAK_RSS_KB (\d+)", run.stderr)
    assert peak is not None, run.stderr[-3000:]
    return run, int(peak.group(1)) * 1024
