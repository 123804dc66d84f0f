"""Keys are data, never paths: whatever a key holds, its outputs stay inside a folder root, one set per key.

The keys are built here and read from moto's S3 through ``pipeline.process`` into a
``FolderOutput``; the checks walk the whole temporary directory, so that a file written
outside the root, two keys sharing a file, or a name the file system cannot hold shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handlers.config import Settings
from handlers.layout import error_key, metadata_key, thumbnail_key, thumbnail_prefix
from handlers.object_ref import ObjectRef
from handlers.pipeline import Outcome, Status, process
from handlers.storage.outputs import FolderOutput
from handlers.storage.s3_source import S3Source

from .support import DRIZZLE, INBOX, OUTPUT, ROOT, upload

NAME_MAX = 255
#: The drizzle fixture's thumbnails: two image HDUs.
THUMBNAILS = ("1-SCI_F850LP.png", "2-WHT_F850LP.png")

#: Keys that a naive folder layout writes outside the root, merges, or cannot hold; each group is processed
#: in the order given, into one folder.
GROUPS = {
    "parent segments": ["../../x.fits", "a/../../../../x.fits", "../x.fits", "%2E%2E/x.fits"],
    "empty segments": ["obs/a.fits", "obs//a.fits", "/obs/a.fits", "obs/a.fits/"],
    "dot segments": ["obs/b.fits", "obs/./b.fits", "./obs/b.fits"],
    "a file beside a folder of its name": ["k.fits", "k.fits.json/z.fits"],
    "a folder beside a file of its name": ["k.fits.json/z.fits", "k.fits"],
    "a thumbnail beside a folder of its name": ["t.fits", f"t.fits/{THUMBNAILS[0]}"],
    "a folder beside a thumbnail of its name": [f"t.fits/{THUMBNAILS[0]}", "t.fits"],
    "NUL": ["a\0b.fits", "a%00b.fits"],
    "a 250-byte file name": ["n" * 245 + ".fits"],
    "a 1,019-byte key": ["x" * 1014 + ".fits"],
    "long names of many bytes": ["é" * 300 + ".fits", "%" * 600 + ".fits", "d/" + "ü" * 200 + "/e.fits"],
}


def settings() -> Settings:
    return Settings.from_env({"OUTPUT_BUCKET": OUTPUT})


def ingest(s3: Any, key: str, out: FolderOutput, body: bytes | Path = DRIZZLE) -> Outcome:
    upload(s3, key, body)
    config = settings()
    return process(S3Source(s3, ObjectRef(bucket=INBOX, key=key), config.reads), out, config)


def files_under(top: Path) -> list[Path]:
    return [Path(folder, name) for folder, _, names in os.walk(top) for name in names]


def documents(root: Path, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in files_under(root / prefix)]


def assert_one_set_of_outputs_per_key(top: Path, root: Path, keys: list[str]) -> None:
    """Every file inside ``root``, each name within NAME_MAX, each key's metadata and thumbnails its own."""
    written = files_under(top)
    assert all(path.is_relative_to(root) for path in written), [str(p) for p in written if not p.is_relative_to(root)]
    assert all(len(part.encode()) <= NAME_MAX for path in written for part in path.relative_to(root).parts)
    assert sorted(doc["source"]["key"] for doc in documents(root, "metadata")) == sorted(keys)
    assert len(files_under(root / "thumbnails")) == len(THUMBNAILS) * len(keys)
    outputs = [path for path in written if not path.is_relative_to(root / "catalog")]  # the CLI's catalog aside
    assert len(outputs) == (1 + len(THUMBNAILS)) * len(keys)  # no temporary file left behind either


@pytest.mark.parametrize("keys", list(GROUPS.values()), ids=list(GROUPS))
def test_every_key_has_its_own_outputs_inside_the_folder(s3: Any, tmp_path: Path, keys: list[str]) -> None:
    root = tmp_path / "1" / "2" / "3" / "out"  # deep enough that an escape stays inside tmp_path
    out = FolderOutput(root)
    assert [ingest(s3, key, out).status for key in keys] == [Status.PROCESSED] * len(keys)
    assert_one_set_of_outputs_per_key(tmp_path, root, keys)
    for key in keys:  # and each file is where the mapping says, read back as its key
        assert json.loads(out.path(metadata_key(key)).read_text())["source"]["key"] == key
        assert sorted(out.children(thumbnail_prefix(key))) == [thumbnail_key(key, i, n) for i, n in
                                                                ((1, "SCI_F850LP"), (2, "WHT_F850LP"))]


@pytest.mark.parametrize("key", [key for group in GROUPS.values() for key in group] + ["", "plain/key.fits"])
def test_the_folder_mapping_is_reversible(tmp_path: Path, key: str) -> None:
    """The documented decoding of a path gives back the output key it was made from."""
    from handlers.storage.folder_names import key_of

    out = FolderOutput(tmp_path)
    for output in (metadata_key(key), error_key(key), thumbnail_key(key, 1, "SCI")):
        path = out.path(output)
        assert path.is_relative_to(tmp_path) and all(len(part.encode()) <= NAME_MAX for part in path.parts)
        assert key_of(path.relative_to(tmp_path).as_posix()) == output


def test_ordinary_keys_keep_the_buckets_paths(tmp_path: Path) -> None:
    out = FolderOutput(tmp_path)
    key = "obs/hag_j004524.96+403851.8_j8hpdcaoq_v01.drizzle.fits"
    for output in (metadata_key(key), error_key(key), thumbnail_key(key, 1, "SCI_F850LP")):
        assert out.path(output) == tmp_path / output


def test_a_rerun_a_rejection_and_a_removal_find_the_same_files(s3: Any, tmp_path: Path) -> None:
    """recorded_source, children and delete use the mapping that put used."""
    root = tmp_path / "1" / "2" / "out"
    out = FolderOutput(root)
    key = "../night//t.fits"
    assert ingest(s3, key, out).status is Status.PROCESSED
    # Read in more than one GET, the object is looked for first, with recorded_source.
    config = Settings.from_env({"OUTPUT_BUCKET": OUTPUT, "READ_WHOLE_OBJECT_BYTES": "65536"})  # 89 KB
    again = process(S3Source(s3, ObjectRef(bucket=INBOX, key=key), config.reads), out, config)
    assert again.status is Status.SKIPPED
    assert ingest(s3, key, out, b"not FITS at all").status is Status.REJECTED
    assert [out.path(error_key(key))] == files_under(tmp_path)  # metadata and thumbnails removed
    assert json.loads(out.path(error_key(key)).read_text())["source"]["key"] == key


def test_the_cli_keeps_s3_keys_inside_the_out_folder(server_buckets: Any, tmp_path: Path) -> None:
    """``python -m handlers process s3://... --out DIR``: the keys of the issue, through a moto server."""
    client, inbox, _ = server_buckets
    keys = ["../../x.fits", "a/../../../../x.fits", "obs/a.fits", "obs//a.fits", "obs/b.fits", "obs/./b.fits",
            "k.fits", "k.fits.json/z.fits", "t.fits", f"t.fits/{THUMBNAILS[0]}", "n" * 245 + ".fits"]
    for key in keys:
        upload(client, key, bucket=inbox)
    root = tmp_path / "1" / "2" / "3" / "out"
    run = subprocess.run(
        [sys.executable, "-m", "handlers", "process", *(f"s3://{inbox}/{key}" for key in keys), "--out", str(root)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env={**os.environ},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert_one_set_of_outputs_per_key(tmp_path, root, keys)
