"""The type checker and the linter pass over the code (their settings are in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from .support import ROOT


def test_the_type_checker_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_linter_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "handlers", "tests", "tools", "fixtures"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
