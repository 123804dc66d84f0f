"""The CLI of the contract: exit statuses, progress lines, outputs on disk and in S3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handlers.cli.main import main

from .support import DRIZZLE, FIXTURES, INBOX, OUTPUT, ROOT, read_json, upload


def test_all_fixtures_are_processed_with_a_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(FIXTURES.glob("*.fit*"))
    assert main(["process", *map(str, files), "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(files) + 1
    assert lines[0].startswith(f"[1/{len(files)}] processed ")
    assert lines[-1] == f"{len(files)} input(s): {len(files)} processed. Outputs under {tmp_path}/"
    for path in files:
        doc = json.loads((tmp_path / "metadata" / f"{path.name}.json").read_text())
        assert doc["source"]["key"] == path.name and doc["source"]["size"] == path.stat().st_size
        assert doc["processor"]["bytes_read"] >= min(path.stat().st_size, 2880)


def test_a_rejected_input_exits_1_with_its_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.fits"
    bad.write_text("observing log, not FITS")
    out = tmp_path / "out"
    assert main(["process", str(DRIZZLE), str(bad), "--out", str(out)]) == 1
    assert "rejected notes.fits: NotFitsError" in capsys.readouterr().out
    record = json.loads((out / "errors" / "notes.fits.json").read_text())
    assert record["error"]["class"] == "NotFitsError"
    assert (out / "metadata" / f"{DRIZZLE.name}.json").exists()


@pytest.mark.parametrize(
    "argv",
    [[], ["process", "--out", "x"], ["process", "no/such/file.fits", "--out", "x"],
     ["process", str(DRIZZLE), "--out", "s3://bucket/prefix/"], ["frobnicate"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_s3_inputs_and_outputs(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    upload(s3, "night 1/drizzle+1.fits")
    assert main(["process", f"s3://{INBOX}/night 1/drizzle+1.fits", "--out", f"s3://{OUTPUT}"]) == 0
    doc = read_json(s3, "metadata/night 1/drizzle+1.fits.json")
    assert doc["source"]["bucket"] == INBOX and len(doc["hdus"]) == 3


def test_runs_as_a_module_without_a_traceback(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "handlers", "process", str(DRIZZLE), "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"[1/1] processed {DRIZZLE.name}: 3 HDU(s), 2 thumbnail(s)")
