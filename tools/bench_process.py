"""A whole process of the bench's "cli" case: ``python -m tools.bench_process --stats PATH MODULE ARGS...``.

Runs ``MODULE`` as ``python -m MODULE ARGS...`` does (``runpy``, as ``__main__``), having first
hooked botocore so that every client the process creates counts its requests (and, with
``--latency-ms``, holds each one before it is sent, as ``tools.bench_worker`` does: the round
trip to S3 that a store on loopback lacks).  Nothing else changes: the module imports, builds its
clients and exits as it would alone.  When it is done (exit status included), this writes to
``--stats`` one JSON object:

- ``exit_status``: the module's;
- ``requests``: every HTTP request sent (each attempt of a retried call counted);
- ``source_requests``: the API calls naming ``--inbox`` as their bucket, and ``bytes_read``:
  the bytes of its objects' GET answers;
- ``cpu_s``: the process's user + system CPU time, all threads;
- ``start_rss_mib``: its resident set before the module was run (the interpreter, this
  module and botocore's session), and ``peak_rss_mib``: its peak (``VmHWM``).

The wall time is the parent's to measure (``tools.bench``), from start to exit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import runpy
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_process", description=__doc__.splitlines()[0])
    parser.add_argument("--stats", required=True, type=Path, help="where the JSON figures go")
    parser.add_argument("--inbox", default=None, help="the source bucket, for source_requests and bytes_read")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="hold each request this long before it is sent")
    parser.add_argument("module")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    stats: dict[str, Any] = {"requests": 0, "source_requests": 0, "bytes_read": 0,
                             "start_rss_mib": proc_status("VmRSS") / MiB}
    _hook_clients(stats, options.inbox, options.latency_ms)
    sys.argv = [options.module, *options.args]
    status: int | str | None = 0
    try:
        runpy.run_module(options.module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        status = exc.code
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats.update(cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mib=proc_status("VmHWM") / MiB,
                     exit_status=status if isinstance(status, int) or status is None else 1)
        options.stats.write_text(json.dumps(stats))
    return 0 if status is None else status if isinstance(status, int) else 1


def _hook_clients(stats: dict[str, Any], inbox: str | None, latency_ms: float) -> None:
    """Every botocore client made from now on counts (and delays) its requests into ``stats``."""
    from botocore.session import Session

    lock = threading.Lock()

    def sent(**_: Any) -> None:
        if latency_ms:
            time.sleep(latency_ms / 1000)  # holds no CPU and releases the GIL, as waiting on a socket does
        with lock:
            stats["requests"] += 1

    def of_inbox(context: dict[str, Any]) -> bool:
        return inbox is not None and context.get("input_params", {}).get("Bucket") == inbox

    def called(params: dict[str, Any], **_: Any) -> None:
        if of_inbox(params.get("context", {})):
            with lock:
                stats["source_requests"] += 1

    def answered(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if of_inbox(context):
            with lock:
                stats["bytes_read"] += parsed.get("ContentLength", 0)

    create_client = Session.create_client

    def create_hooked(self: Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-send.s3", sent)
        client.meta.events.register("before-call.s3.*", called)
        client.meta.events.register("after-call.s3.GetObject", answered)
        return client

    Session.create_client = create_hooked  # type: ignore[method-assign]


def proc_status(field: str) -> int:
    """A size from /proc/self/status (VmRSS: resident now; VmHWM: its peak), in bytes."""
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


if __name__ == "__main__":
    sys.exit(main())
