"""The README's catalog queries print, on the demo's files, exactly the output the README shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from handlers.cli.main import main

from .support import FIXTURES, ROOT

SECTION = ROOT.joinpath("README.md").read_text().split("**The queries**", 1)[1].split("\n## ", 1)[0]
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", SECTION, re.S | re.M)
SQL = [text for kind, text in BLOCKS if kind == "sql"]
OUTPUTS = [text for kind, text in BLOCKS if not kind]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's files processed by the CLI under the demo's keys (obs/...), which builds the catalog."""
    inputs = tmp_path_factory.mktemp("in")
    (inputs / "obs").mkdir()
    for path in FIXTURES.glob("*.fit*"):
        shutil.copy(path, inputs / "obs" / path.name)
    out = tmp_path_factory.mktemp("out")
    assert main(["process", str(inputs), "--out", str(out)]) == 0
    return out


def printed(root: Path, sql: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["catalog", "query", "--out", str(root), sql]) == 0
    return capsys.readouterr().out


def test_the_readme_shows_three_queries_and_their_output() -> None:
    assert len(SQL) == 3 and len(OUTPUTS) == 3


@pytest.mark.parametrize("number", [0, 1])
def test_the_query_prints_what_the_readme_shows(demo_root: Path, number: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert printed(demo_root, SQL[number], capsys) == OUTPUTS[number]


def test_the_cards_query_prints_what_the_readme_shows(demo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """None of the demo's files is of proposal 9431; the README shows the query with the drizzle's, 9424."""
    assert "(0 rows)" in printed(demo_root, SQL[2], capsys) and "(0 rows)" in SECTION
    assert printed(demo_root, SQL[2].replace("9431", "9424"), capsys) == OUTPUTS[2]
