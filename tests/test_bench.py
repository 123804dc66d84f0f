"""The bench's own helpers (not the bench: `make bench` runs that): the whole-process case's pieces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.bench import combine_processes
from tools.bench_baseline import split_s3_uri
from tools.bench_report import FIGURES, rows

ROOT = Path(__file__).resolve().parent.parent


def _run(wall: float, cpu: float, requests: int, peak: float = 100.0, start: float = 20.0) -> dict[str, Any]:
    return {"wall_s": wall, "cpu_s": cpu, "requests": requests, "source_requests": requests // 2,
            "bytes_read": 1000, "peak_rss_mib": peak, "start_rss_mib": start, "exit_status": 0}


def test_processes_combine_into_medians_the_highest_peak_and_the_median_process_counts() -> None:
    runs = [_run(2.0, 1.5, 280, peak=90), _run(3.0, 1.7, 281, peak=110), _run(1.0, 1.6, 280)]
    combined = combine_processes(runs, objects=40)
    assert combined["times_s"] == [2.0, 3.0, 1.0]
    assert combined["wall_s"] == 2.0
    assert combined["cpu_s"] == 1.6
    assert combined["requests"] == 280  # a value some process sent, not a mean of retries
    assert combined["objects"] == 40
    assert combined["peak_rss_mib"] == 110
    assert combined["peak_delta_mib"] == 90


def test_a_failed_process_is_the_measurement() -> None:
    assert combine_processes([_run(1.0, 1.0, 4), {"error": "boom"}], objects=1) == {"error": "boom"}
    assert "error" in combine_processes([], objects=1)


def test_the_whole_process_rows_compare_the_cli_with_the_loop() -> None:
    cli = combine_processes([_run(2.0, 1.6, 280), _run(2.2, 1.7, 280)], objects=40)
    loop = combine_processes([_run(1.4, 1.1, 160), _run(1.6, 1.2, 160)], objects=40)
    report = {"cases": [{"name": "cli", "title": "40 small files, whole processes", "size": 1}],
              "stores": {"seaweedfs": {"cases": {"cli": {"cli": cli, "baseline": loop}}}}}
    by_name = {row.figure.name: row for row in rows(report)}
    wall = by_name["wall time, whole process"]
    assert wall.ratio == pytest.approx(2.1 / 1.5)
    assert wall.met is False and wall.figure.target == ("<=", 1.0)
    assert by_name["S3 requests per file"].project == 7.0
    assert by_name["S3 requests per file"].baseline == 4.0


def test_one_object_alone_is_judged_on_its_time_against_the_loop() -> None:
    figure = next(f for f in FIGURES["small"] if f.impl == "pipeline_event" and f.target)
    assert figure.target == ("<=", 1.0)
    assert figure.value({"wall_s": 1.5}) == 1.5


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://inbox/small/a.fits", ("inbox", "small/a.fits")),
    ("s3://inbox/a b/c.fits", ("inbox", "a b/c.fits")),
])
def test_s3_uris_split_into_bucket_and_key(uri: str, expected: tuple[str, str]) -> None:
    assert split_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["inbox/a.fits", "s3://", "s3://inbox", "s3://inbox/", "s3:///a.fits"])
def test_an_s3_uri_that_names_no_object_is_refused(uri: str) -> None:
    with pytest.raises(ValueError):
        split_s3_uri(uri)


def test_an_output_bucket_needs_no_key() -> None:
    assert split_s3_uri("s3://out", key_required=False) == ("out", "")


def _bench_process(tmp_path: Path, *module: str) -> tuple[int, dict[str, Any]]:
    stats = tmp_path / "stats.json"
    done = subprocess.run([sys.executable, "-m", "tools.bench_process", "--stats", str(stats), *module],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(stats.read_text())


def test_a_module_runs_as_with_dash_m_and_its_figures_are_written(tmp_path: Path) -> None:
    status, stats = _bench_process(tmp_path, "platform")
    assert status == 0 and stats["exit_status"] == 0
    assert stats["requests"] == 0 and stats["cpu_s"] > 0
    assert stats["peak_rss_mib"] >= stats["start_rss_mib"] > 0


def test_the_module_s_exit_status_is_passed_on(tmp_path: Path) -> None:
    status, stats = _bench_process(tmp_path, "tools.bench_baseline", "not-a-uri", "--out", "s3://out")
    assert status == 2 and stats["exit_status"] == 2
