"""Load: hundreds of objects uploaded at once while the worker runs; reconcile finds none lost.

The scenario of tools/loadrun.py at a smaller size: `make load` runs it at 2,000 objects and
writes the figures to docs/load.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tools.loadrun import INBOX, OUTPUT, run_load
from tools.motoserver import moto_server

from .support import ROOT

OBJECTS = 300  # a multiple of 20: every 20th object is broken on purpose

pytestmark = pytest.mark.load


def reconcile_cli(endpoint: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handlers", "reconcile", "--inbox", f"s3://{INBOX}/load/",
         "--out", f"s3://{OUTPUT}", "--endpoint-url", endpoint, *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )


def test_uploads_at_once_lose_nothing_and_redrive_restores(aws_env: None, tmp_path: Path) -> None:
    with moto_server() as server:
        report = run_load(server.url, OBJECTS, tmp_path / "worker.log")
        state = report.state
        assert len(state.inbox) == OBJECTS
        assert state.missing == [], (tmp_path / "worker.log").read_text()[-3000:]
        assert len(state.with_error) == OBJECTS // 20 and len(state.with_metadata) == OBJECTS - OBJECTS // 20
        print(f"\n{OBJECTS} objects: {report.throughput:.1f} objects/s, worker peak RSS "
              f"{report.worker_peak_rss_mib:.0f} MiB")

        check = reconcile_cli(server.url)
        assert check.returncode == 0 and ", 0 missing," in check.stdout

        s3 = boto3.client("s3", endpoint_url=server.url)
        lost = sorted(state.with_metadata)[:7]
        for key in lost:  # an incident: these outputs are gone
            s3.delete_object(Bucket=OUTPUT, Key=f"metadata/{key}.json")
        check = reconcile_cli(server.url)
        assert check.returncode == 1 and ", 7 missing," in check.stdout
        assert {line.removeprefix("missing: ") for line in check.stdout.splitlines()
                if line.startswith("missing: ")} == set(lost)

        redriven = reconcile_cli(server.url, "--redrive")
        assert redriven.returncode == 0, redriven.stdout + redriven.stderr
        assert redriven.stdout.count("redriven: processed ") == 7
        assert "after redrive: 0 missing" in redriven.stdout
