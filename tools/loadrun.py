"""The load scenario: thousands of objects uploaded at once, the worker draining the queue.

Against a moto server: the inbox's notifications go to an SQS queue, ``python -m handlers
worker`` runs in its own process (as Lambda's mapping would), N objects are uploaded by
16 threads at once, and when the queue is empty ``reconcile`` counts what has outputs.
``python -m tools.loadrun [N]`` (``make load``: N = 2,000) writes the figures to docs/load.md;
tests/test_load.py runs the same scenario at a smaller size and asserts that nothing is lost.
"""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import numpy as np
from astropy.io import fits

from handlers.cli.reconcile import Reconciliation, reconcile
from tools.motoserver import LOCAL_AWS_ENV, moto_server

ROOT = Path(__file__).resolve().parent.parent
INBOX, OUTPUT, QUEUE = "load-inbox", "load-output", "load-events"
DRAIN_TIMEOUT_S = 1200.0


@dataclass
class LoadReport:
    objects: int
    seconds: float
    worker_peak_rss_mib: float
    state: Reconciliation

    @property
    def throughput(self) -> float:
        return self.objects / self.seconds


def small_fits(index: int) -> bytes:
    """A 64x64 image with a WCS-free header; every 20th object is broken on purpose."""
    if index % 20 == 0:
        return b"this upload was interrupted"
    hdu = fits.PrimaryHDU(np.random.default_rng(index).normal(100, 5, (64, 64)).astype(np.float32))
    hdu.header["OBJECT"] = f"FIELD-{index:05d}"
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return buffer.getvalue()


def run_load(endpoint: str, objects: int, log: Path) -> LoadReport:
    """Upload ``objects`` objects at once with the worker running; return what reconcile finds."""
    env = {**os.environ, **LOCAL_AWS_ENV, "OUTPUT_BUCKET": OUTPUT, "POWERTOOLS_LOG_LEVEL": "WARNING"}
    s3 = boto3.client("s3", endpoint_url=endpoint)
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    queue_url = wire(s3, sqs)
    bodies = [small_fits(i) for i in range(objects)]
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "handlers", "worker", "--queue-url", queue_url, "--endpoint-url", endpoint],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda i: s3.put_object(Bucket=INBOX, Key=f"load/{i:05d} obs+{i}.fits",
                                                      Body=bodies[i]), range(objects)))
            wait_until_drained(sqs, queue_url, worker)
            seconds = time.monotonic() - started
            peak = peak_rss_mib(worker.pid)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    return LoadReport(objects, seconds, peak, reconcile(s3, INBOX, "load/", OUTPUT))


def wire(s3: Any, sqs: Any) -> str:
    for bucket in (INBOX, OUTPUT):
        s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=INBOX,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return url


def wait_until_drained(sqs: Any, queue_url: str, worker: subprocess.Popen[bytes]) -> None:
    """Poll the queue's counters until nothing is waiting or in flight (or the worker died)."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with status {worker.returncode}")
        # "All": moto computes every attribute, with a scan of the queue each, once per
        # attribute *named* (twice over), so naming two costs six times as much as "All".
        counts = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        if all(int(counts[n]) == 0 for n in names):
            return
        time.sleep(1.0)
    raise TimeoutError(f"the queue was not drained within {DRAIN_TIMEOUT_S} s")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    objects = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with moto_server() as server:
        os.environ.update(LOCAL_AWS_ENV)
        report = run_load(server.url, objects, ROOT / "build" / "load-worker.log")
    state = report.state
    text = f"""# Load: {objects:,} objects uploaded at once

`python -m tools.loadrun {objects}` (`make load`): a moto server on 127.0.0.1, the inbox's notifications
to an SQS queue, one `python -m handlers worker` process draining it, {objects:,}
small FITS objects (64x64 float32; every 20th deliberately not FITS) uploaded by 16 threads at once,
then `reconcile`. `tests/test_load.py` runs the same scenario at a smaller size (300 objects, to keep
`make test` short) with the same assertions; the figures here are from `make load`.

| figure | value |
|---|---|
| objects uploaded | {objects:,} |
| with metadata | {len(state.with_metadata & state.inbox):,} |
| with an error record | {len(state.with_error & state.inbox):,} |
| **lost (neither)** | **{len(state.missing)}** |
| upload start to queue drained | {report.seconds:.1f} s |
| throughput | {report.throughput:.1f} objects/s (one worker process; moto server on the same 2 cores) |
| worker peak RSS | {report.worker_peak_rss_mib:.0f} MiB |

Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.
The throughput is bounded here by moto (every request is served by one Python process on the
same two cores as the worker); on AWS each Lambda invocation runs in its own environment.
"""
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "load.md").write_text(text)
    print(text)
    return 0 if not state.missing else 1


if __name__ == "__main__":
    sys.exit(main())
