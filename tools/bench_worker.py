"""One benchmark measurement in a process of its own: ``python -m tools.bench_worker SPEC_JSON``.

The process imports one implementation (the project's pipeline, or the baseline),
builds its S3 client, processes a small warm-up object (so lazy imports and connection
set-up are not timed: a warm Lambda), then records its resting memory and processes
the case's objects ``repeat`` times.  It prints one JSON line:

- ``times_s``: wall time of each repetition (outputs of the previous one removed first,
  untimed, so the pipeline does not skip an object it already did);
- ``peak_rss_mib``: the process's peak resident set during the repetitions, and
  ``peak_delta_mib``: that peak less the resident set at rest after the warm-up —
  the memory the work itself needed, whatever allocated it (numpy, zlib, Pillow, threads).
  The peak is the kernel's high-water mark (``VmHWM``), reset to the current RSS before
  each repetition through ``/proc/self/clear_refs``.  (Not ``ru_maxrss``: Linux carries it
  across ``exec``, so a worker would inherit the peak of the process that started it.)
- ``traced_peak_mib`` (when ``trace``): the peak of Python's traced allocations
  (``tracemalloc``, numpy included) over one more repetition, run after the timed ones;
- ``bytes_read`` and ``source_requests``: what reading the sources cost; ``requests``:
  every HTTP request the client sent (reads and writes);
- ``profile`` (when ``profile``): cProfile of one repetition, summarised by stage.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from tools.bench_process import proc_status

MiB = 1024 * 1024
#: Processes the given objects; returns the bytes read from them and the requests sent to them.
Run = Callable[[list[str]], tuple[int, int]]
#: Objects per invocation for ``pipeline_batch``: the stack's queue_batch_size default.
SQS_BATCH = 5


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    started = time.perf_counter()
    run, client = _implementation(spec)
    import_s = time.perf_counter() - started
    if spec.get("latency_ms"):
        _delay_requests(client, spec["latency_ms"])
    counter = _count_requests(client)

    _clear(spec, [spec["warmup_key"]])
    run([spec["warmup_key"]])
    gc.collect()
    rest_rss = proc_status("VmRSS")

    times, bytes_read, source_requests, requests, peak_rss = [], 0, 0, 0, 0
    for _ in range(spec["repeat"]):
        _clear(spec, spec["keys"])
        gc.collect()
        counter["n"] = 0
        _reset_peak()
        t0 = time.perf_counter()
        bytes_read, source_requests = run(spec["keys"])
        times.append(time.perf_counter() - t0)
        peak_rss = max(peak_rss, proc_status("VmHWM"))
        requests = counter["n"]
    result: dict[str, Any] = {
        "impl": spec["impl"],
        "import_s": import_s,
        "times_s": times,
        "wall_s": statistics.median(times),
        "objects": len(spec["keys"]),
        "bytes_read": bytes_read,
        "source_requests": source_requests,
        "requests": requests,
        "rest_rss_mib": rest_rss / MiB,
        "peak_rss_mib": peak_rss / MiB,
        "peak_delta_mib": max(0, peak_rss - rest_rss) / MiB,
    }
    if spec.get("trace"):
        _clear(spec, spec["keys"])
        gc.collect()
        tracemalloc.start()
        try:
            run(spec["keys"])
            result["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / MiB
        finally:
            tracemalloc.stop()
    if spec.get("profile"):
        import cProfile

        _clear(spec, spec["keys"])
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        run(spec["keys"])
        profiler.disable()
        from tools.bench_profile import summarise

        result["profile"] = summarise(profiler, spec["impl"], time.perf_counter() - t0)
    print(json.dumps(result))
    return 0


def _implementation(spec: dict[str, Any]) -> tuple[Run, Any]:
    inbox, output, endpoint = spec["inbox"], spec["output"], spec["endpoint"]
    if spec["impl"] in ("pipeline", "pipeline_event"):
        import handlers.ingest  # noqa: F401  (what the Lambda imports at cold start)
        from handlers.config import Settings
        from handlers.object_ref import ObjectRef
        from handlers.pipeline import process
        from handlers.storage.outputs import BucketOutput
        from handlers.storage.s3_source import S3Source, make_s3_client

        settings = Settings.from_env({"OUTPUT_BUCKET": output, **spec.get("settings", {})})
        client = make_s3_client(settings.reads, endpoint)
        out = BucketOutput(client, output)
        refs = {key: ObjectRef(inbox, key) for key in [*spec["keys"], spec["warmup_key"]]}
        if spec["impl"] == "pipeline_event":
            # What an S3 notification carries: the size and eTag, so no HEAD is needed (looked up untimed).
            for key in refs:
                head = client.head_object(Bucket=inbox, Key=key)
                refs[key] = ObjectRef(inbox, key, etag=head["ETag"].strip('"'), size=head["ContentLength"])

        def run_pipeline(key: str) -> tuple[int, int]:
            source = S3Source(client, refs[key], settings.reads)
            outcome = process(source, out, settings)
            if outcome.status != "processed":
                raise RuntimeError(f"{key}: {outcome.status} {outcome.error}")
            return outcome.bytes_read, outcome.requests

        return _each(run_pipeline), client
    if spec["impl"] == "pipeline_batch":
        return _sqs_batches(spec)
    if spec["impl"] == "baseline":
        import boto3

        from tools import bench_baseline

        client = boto3.client("s3", endpoint_url=endpoint)

        def run_baseline(key: str) -> tuple[int, int]:
            return bench_baseline.process(client, inbox, key, output), 1

        return _each(run_baseline), client
    raise ValueError(f"unknown implementation {spec['impl']!r}")


def _each(run_one: Callable[[str], tuple[int, int]]) -> Run:
    """Objects one after the other."""

    def run(keys: list[str]) -> tuple[int, int]:
        total_bytes = total_requests = 0
        for key in keys:
            nbytes, nrequests = run_one(key)
            total_bytes += nbytes
            total_requests += nrequests
        return total_bytes, total_requests

    return run


def _sqs_batches(spec: dict[str, Any]) -> tuple[Run, Any]:
    """The Lambda handler given SQS batches of S3 notifications, as the queue trigger delivers them."""
    from fixtures.sample_events import retarget, sqs_s3
    from handlers import ingest
    from handlers.aws import warm
    from handlers.aws.worker import LocalContext

    os.environ.update(OUTPUT_BUCKET=spec["output"], AWS_ENDPOINT_URL=spec["endpoint"],
                      **spec.get("settings", {}))
    client = warm.s3_client()
    inbox, template = spec["inbox"], sqs_s3()["Records"][0]
    records = {}
    for key in [*spec["keys"], spec["warmup_key"]]:
        head = client.head_object(Bucket=inbox, Key=key)  # untimed: the notification carries these
        record = retarget(template, bucket=inbox, key=key, etag=head["ETag"].strip('"'),
                          size=head["ContentLength"], version_id=None)
        records[key] = {**record, "messageId": f"message-{len(records)}"}
    source = {"bytes": 0, "requests": 0}

    def count_source(params: dict[str, Any], **_: Any) -> None:
        if params.get("context", {}).get("input_params", {}).get("Bucket") == inbox:
            source["requests"] += 1

    def count_bytes(parsed: dict[str, Any], **_: Any) -> None:
        source["bytes"] += parsed.get("ContentLength", 0)

    client.meta.events.register("before-call.s3.*", count_source)
    client.meta.events.register("after-call.s3.GetObject", count_bytes)

    def run(keys: list[str]) -> tuple[int, int]:
        source.update(bytes=0, requests=0)
        for start in range(0, len(keys), SQS_BATCH):
            event = {"Records": [records[key] for key in keys[start:start + SQS_BATCH]]}
            response = ingest.handler(event, LocalContext())
            if response.get("batchItemFailures"):
                raise RuntimeError(f"failed: {response['batchItemFailures']}")
        return source["bytes"], source["requests"]

    return run, client


def _delay_requests(client: Any, milliseconds: float) -> None:
    """Each request waits before it is sent: the round trip to S3 that a store on loopback lacks.

    The wait holds no CPU and releases the GIL, as waiting on a socket does.
    """

    def delay(**_: Any) -> None:
        time.sleep(milliseconds / 1000)

    client.meta.events.register("before-send.s3", delay)


def _count_requests(client: Any) -> dict[str, int]:
    counter = {"n": 0}

    def count(**_: Any) -> None:
        counter["n"] += 1

    client.meta.events.register("before-send.s3", count)
    return counter


def _clear(spec: dict[str, Any], keys: list[str]) -> None:
    """Remove the metadata documents of ``keys`` (untimed) with a client of our own."""
    import boto3

    clear_metadata(boto3.client("s3", endpoint_url=spec["endpoint"]), spec["output"], keys)


def clear_metadata(client: Any, bucket: str, keys: Sequence[str]) -> None:
    """Remove the metadata documents of ``keys`` from ``bucket``, so that the pipeline does them again."""
    from handlers.layout import metadata_key  # not at import: the worker times the package's own import

    names = [metadata_key(key) for key in keys]
    for start in range(0, len(names), 1000):
        client.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": name} for name in names[start:start + 1000]], "Quiet": True})


def _reset_peak() -> None:
    """Lower the kernel's RSS high-water mark to the current RSS ("5": see proc(5), clear_refs)."""
    with open(f"/proc/{os.getpid()}/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
