"""What ``python -m handlers process`` is given: folders, missing paths, shared keys, usage errors, warnings.

Every behaviour is seen through the module run as a child process, as a user runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .support import DRIZZLE, FIXTURES, ROOT, image_bytes

GZIP, TILED = FIXTURES / "gzip_image.fits.gz", FIXTURES / "tile_compressed.fits.fz"


def cli(*args: str | Path, merged: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m handlers`` with ``args``; ``merged``: stderr into stdout, as a terminal shows them."""
    environment = {k: v for k, v in os.environ.items() if k != "BATCH_CONCURRENCY"} | env
    return subprocess.run(
        [sys.executable, "-m", "handlers", *map(str, args)], cwd=ROOT, env=environment, text=True, timeout=300,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merged else subprocess.PIPE,
    )


def image(**cards: object) -> bytes:
    return image_bytes(np.arange(64, dtype=np.float32).reshape(8, 8), **cards)


def non_ascii() -> bytes:
    """astropy warns that it replaced the header's non-ASCII bytes (a warning in the document)."""
    return image(OBJECT="M31").replace(b"OBJECT  = 'M31     '", "OBJECT  = 'Mü31é   '".encode("latin-1"), 1)


def singular_wcs() -> bytes:
    """The WCS maps the image onto a line: the FITS layer logs a warning and leaves the WCS out."""
    return image(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRVAL1=10.0, CRVAL2=20.0,
                 CD1_1=1e-4, CD1_2=1e-4, CD2_1=1e-4, CD2_2=1e-4)


def write(path: Path, body: bytes | Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body.read_bytes() if isinstance(body, Path) else body)
    return path


def metadata(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out / "metadata")) for p in (out / "metadata").rglob("*.json"))


def test_a_missing_path_among_others_is_reported_and_the_others_processed(tmp_path: Path) -> None:
    out, missing = tmp_path / "out", tmp_path / "no-such.fits"
    run = cli("process", DRIZZLE, missing, GZIP, "--out", out)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"[1/3] processed {DRIZZLE.name}: ")
    assert lines[1] == f"[2/3] unreadable {missing}: no such file or folder"
    assert lines[2].startswith(f"[3/3] processed {GZIP.name}: ")
    assert lines[3] == f"3 input(s): 2 processed, 1 unreadable. Outputs under {out}/"
    assert metadata(out) == sorted([f"{DRIZZLE.name}.json", f"{GZIP.name}.json"])


def test_a_folder_is_read_recursively_by_suffix_each_file_keyed_by_its_path_there(tmp_path: Path) -> None:
    obs = tmp_path / "obs"
    write(obs / "night1" / "img001.fits", DRIZZLE)
    write(obs / "night2" / "img001.fits", image())
    write(obs / "night2" / "deep" / "stack.fits.gz", GZIP)
    write(obs / "tiles.fz", TILED)
    write(obs / "OLD.FIT", image())
    write(obs / "night1" / "notes.txt", b"seeing 0.8 arcsec")
    write(obs / "night1" / "img001.fits.json", b"{}")
    named = write(tmp_path / "elsewhere" / "single.fits", image())
    out = tmp_path / "out"
    run = cli("process", obs, named, "--out", out)
    assert run.returncode == 0, run.stdout + run.stderr
    keys = ["OLD.FIT", "night1/img001.fits", "night2/deep/stack.fits.gz", "night2/img001.fits", "tiles.fz",
            "single.fits"]
    assert [line.split()[2].rstrip(":") for line in run.stdout.splitlines()[:-1]] == keys
    assert metadata(out) == sorted(f"{key}.json" for key in keys)
    assert (out / "thumbnails" / "night1" / "img001.fits").is_dir()
    assert (out / "thumbnails" / "night2" / "img001.fits").is_dir()


def test_a_folder_without_fits_files_among_others_is_reported(tmp_path: Path) -> None:
    empty = tmp_path / "logs"
    write(empty / "notes.txt", b"clouds")
    out = tmp_path / "out"
    run = cli("process", empty, DRIZZLE, "--out", out)
    assert run.returncode == 1, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith(f"[1/2] unreadable {empty}: a folder with no FITS file (by suffix: .fits, ")
    assert metadata(out) == [f"{DRIZZLE.name}.json"]


@pytest.mark.parametrize("layout", ["files named directly", "their folders named", "a file and an s3 object"])
def test_inputs_that_would_share_a_key_are_refused_before_anything_is_processed(tmp_path: Path, layout: str) -> None:
    first = write(tmp_path / "night1" / "img001.fits", DRIZZLE)
    second = write(tmp_path / "night2" / "img001.fits", image())
    layouts: dict[str, list[str | Path]] = {
        "files named directly": [first, second],
        "their folders named": [first.parent, second.parent],
        "a file and an s3 object": [first, "s3://fits-inbox/img001.fits"],
    }
    named = layouts[layout]
    out = tmp_path / "out"
    run = cli("process", DRIZZLE, *named, "--out", out, AWS_ENDPOINT_URL="http://127.0.0.1:9")
    assert run.returncode == 2
    assert run.stdout == "" and len(run.stderr.splitlines()) == 1, run.stderr
    both = [first, named[1]] if layout == "a file and an s3 object" else [first, second]
    assert f"{both[0]} and {both[1]} would both be written under the key 'img001.fits'" in run.stderr
    assert not out.exists()


def test_an_out_that_names_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    existing = write(tmp_path / "out.fits", image())
    run = cli("process", DRIZZLE, "--out", existing)
    assert run.returncode == 2
    assert run.stdout == "" and len(run.stderr.splitlines()) == 1, run.stderr
    assert f"--out {str(existing)!r} is a file" in run.stderr
    assert existing.read_bytes() == image()


@pytest.mark.parametrize("argv, says", [
    (["process", "--out", "x"], "the following arguments are required: PATH_OR_S3_URI"),
    (["process", "no/such/file.fits", "--out", "x"], "nothing to process: no/such/file.fits: no such file or folder"),
    (["process", "s3://bucket-only", "--out", "x"], "an s3:// URI needs a bucket and a key"),
    (["process", str(DRIZZLE), "--out", "s3://bucket/prefix/"], "--out must be a folder or s3://bucket"),
    (["process", str(DRIZZLE), "--out", f"{DRIZZLE}/under-a-file"], "cannot create the folder"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_every_usage_problem_is_one_line_and_exit_2(argv: list[str], says: str) -> None:
    run = cli(*argv)
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr, run.stderr
    assert says in run.stderr and "usage: python -m handlers" in run.stderr


def test_each_warning_is_printed_with_its_key_after_its_status_line(tmp_path: Path) -> None:
    files = [write(tmp_path / "in" / name, body) for name, body in
             [("clean.fits", image()), ("non_ascii.fits", non_ascii()), ("singular.fits", singular_wcs())]]
    run = cli("process", *files, "--out", tmp_path / "out", merged=True)
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    assert lines[0].startswith("[1/3] processed clean.fits: ")
    assert lines[1].startswith("[2/3] processed non_ascii.fits: ")
    assert re.fullmatch(r"WARNING non_ascii\.fits: AstropyUserWarning: non-ASCII characters .*", lines[2])
    assert lines[3].startswith("[3/3] processed singular.fits: ")
    assert lines[4].startswith("WARNING singular.fits: cannot evaluate the celestial WCS: ValueError: singular")
    assert lines[5].startswith("3 input(s): 3 processed.") and len(lines) == 6


def test_inputs_side_by_side_keep_their_order_and_their_own_warnings(tmp_path: Path) -> None:
    """With BATCH_CONCURRENCY set, inputs run at once; each line still comes in its input's place,
    and a warning logged while one input is read is printed with that input's key."""
    names = [f"{index:02d}-{'singular' if index % 3 == 0 else 'clean'}.fits" for index in range(12)]
    files = [write(tmp_path / "in" / name, singular_wcs() if "singular" in name else image()) for name in names]
    run = cli("process", *files, "--out", tmp_path / "out", merged=True, BATCH_CONCURRENCY="4")
    assert run.returncode == 0, run.stdout
    expected = []
    for number, name in enumerate(names, 1):
        expected.append(f"[{number}/12] processed {name}")
        if "singular" in name:
            expected.append(f"WARNING {name}: cannot evaluate the celestial WCS")
    lines = run.stdout.splitlines()[:-1]
    assert len(lines) == len(expected) and all(map(str.startswith, lines, expected)), run.stdout


def test_the_suffixes_are_the_stacks() -> None:
    from handlers.cli.inputs import FITS_SUFFIXES

    variables = (ROOT / "terraform" / "variables.tf").read_text()
    block = re.search(r'variable "fits_suffixes" \{.*?default\s*=\s*\[(.*?)\]', variables, re.S)
    assert block is not None
    assert list(FITS_SUFFIXES) == re.findall(r'"([^"]+)"', block.group(1))
