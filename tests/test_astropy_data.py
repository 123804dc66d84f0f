"""Every FITS file in astropy's own test data goes through the CLI without a traceback, and every HDU
with data gets a picture or the reason it has none."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import astropy
import pytest
from astropy.io import fits

from .support import ROOT

SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fz", ".fits.bz2", ".fits.xz", ".fits.Z")
FILES = sorted(
    p for p in Path(astropy.__file__).parent.rglob("*")
    if "tests" in p.parts and "data" in p.parts and p.is_file() and p.name.endswith(SUFFIXES)
)


def expected(path: Path) -> tuple[int, set[int], set[int]] | None:
    """(HDU count, HDUs with data, images that must be drawn) as astropy reports them; None if unreadable.

    Every image whose shown plane has two axes longer than a pixel is drawn (astropy's test data holds no
    empty mask named so); every other HDU with data has a chart or a reason.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path) as hdul:
                with_data = {i for i, hdu in enumerate(hdul) if hdu.header.get("NAXIS", 0) > 0
                             and not isinstance(hdu, fits.hdu.base._NonstandardHDU)}
                drawn = {
                    i for i, hdu in enumerate(hdul)
                    if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
                    and not isinstance(hdu, fits.GroupsHDU)
                    and len(hdu.shape) >= 2 and min(hdu.shape[-2:]) > 1 and min(hdu.shape) > 0
                }
                return len(hdul), with_data, drawn
    except Exception:  # noqa: BLE001 - any failure means astropy cannot read it either
        return None


def batches() -> list[list[Path]]:
    """Runs of files with distinct names: a local file's key is its name, so twins go apart."""
    runs: list[list[Path]] = []
    for path in FILES:
        run = next((r for r in runs if all(p.name != path.name for p in r)), None)
        if run is None:
            runs.append(run := [])
        run.append(path)
    return runs


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[subprocess.CompletedProcess[str], Path]]:
    """One CLI run per batch; each file mapped to its run and output folder."""
    results = {}
    for files in batches():
        out = tmp_path_factory.mktemp("astropy-data")
        run = subprocess.run(
            [sys.executable, "-m", "handlers", "process", *map(str, files), "--out", str(out)],
            capture_output=True, text=True, cwd=ROOT, timeout=600,
        )
        results.update({path: (run, out) for path in files})
    return results


def test_there_is_test_data_to_run() -> None:
    assert len(FILES) >= 50


def test_no_traceback_and_a_sane_exit_status(
    cli_runs: dict[Path, tuple[subprocess.CompletedProcess[str], Path]],
) -> None:
    runs = {id(run): run for run, _ in cli_runs.values()}.values()
    assert sum(int(run.stdout.rsplit("\n", 2)[-2].split()[0]) for run in runs) == len(FILES)
    for run in runs:
        assert "Traceback" not in run.stdout + run.stderr
        assert run.returncode in (0, 1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(Path(astropy.__file__).parent)))
def test_each_file_gives_metadata_or_an_error_record(
    cli_runs: dict[Path, tuple[subprocess.CompletedProcess[str], Path]], path: Path
) -> None:
    _, out = cli_runs[path]
    metadata, error = out / "metadata" / f"{path.name}.json", out / "errors" / f"{path.name}.json"
    reference = expected(path)
    if reference is None:
        assert error.exists() and not metadata.exists()
        assert json.loads(error.read_text())["error"]["class"].endswith("Error")
        return
    hdus, with_data, drawn = reference
    assert metadata.exists(), json.loads(error.read_text())["error"] if error.exists() else "no output"
    doc = json.loads(metadata.read_text())
    assert len(doc["hdus"]) == hdus
    pictured = {h["index"] for h in doc["hdus"] if h["thumbnail"]}
    skipped = {h["index"] for h in doc["hdus"] if (h["preview"] or {}).get("skipped")}
    assert pictured | skipped == with_data and not pictured & skipped  # a picture or a reason, never both
    assert drawn <= pictured
    assert all((out / h["thumbnail"]).read_bytes().startswith(b"\x89PNG") for h in doc["hdus"] if h["thumbnail"])
