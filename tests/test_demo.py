"""``make demo``'s job, run as users run it: a moto server, notifications, the handler, outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .support import DRIZZLE, ROOT

DRIZZLE_KEY = f"obs/{DRIZZLE.name}"  # the demo uploads every fixture under obs/


def test_demo_leaves_the_drizzle_outputs_and_says_where_to_look(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    run = subprocess.run(
        [sys.executable, "-m", "tools.demo"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "DEMO_OUTPUT": str(out)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    doc = json.loads((out / "metadata" / f"{DRIZZLE_KEY}.json").read_text())
    assert [h["name"] for h in doc["hdus"]] == ["PRIMARY", "SCI_F850LP", "WHT_F850LP"]
    thumbnails = [h["thumbnail"] for h in doc["hdus"] if h["thumbnail"]]
    assert len(thumbnails) == 2 and all((out / t).read_bytes().startswith(b"\x89PNG") for t in thumbnails)
    assert f"ok       {DRIZZLE_KEY}: 3 HDUs, 2 thumbnail(s)" in run.stdout
    assert "rejected obs/broken/truncated drizzle.fits: TruncatedFitsError" in run.stdout
    assert f"{out}/thumbnails/{DRIZZLE_KEY}/1-SCI_F850LP.png" in run.stdout
    assert "MISSING" not in run.stdout and "Traceback" not in run.stderr
    # it ends with the catalog's cone search around M31: the drizzle, 0.80 degrees away, 1360 s
    *_, header, _, row, count = run.stdout.splitlines()
    assert header.split() == ["source_key", "instrument_name", "filter", "t_exptime", "distance_deg"]
    assert row.split()[:4] == [DRIZZLE_KEY, "ACS/WFC", "F850LP", "1360.0"] and count == "(1 row)"
    assert (out / "catalog" / "obscore").is_dir()
