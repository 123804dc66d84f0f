"""The CLI's output root: the same calls as a bucket's, on local files."""

from __future__ import annotations

from pathlib import Path

from handlers.storage.outputs import FolderOutput


def test_a_conditional_write_creates_once_and_leaves_no_partial_file(tmp_path: Path) -> None:
    out = FolderOutput(tmp_path)
    key = "metadata/deep field/m31 + m32.fits.json"
    assert out.put_if_absent(key, b"first", "application/json", {})
    assert not out.put_if_absent(key, b"second", "application/json", {})
    assert (tmp_path / key).read_bytes() == b"first"
    assert [p.name for p in (tmp_path / key).parent.iterdir()] == ["m31 + m32.fits.json"]
