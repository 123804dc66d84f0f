"""What the Terraform tests share: running terraform offline, in a throwaway data directory.

The hashicorp/aws provider comes from a local mirror when the machine has one
(tools/terraform_env.sh); Terraform's working data goes to a temporary TF_DATA_DIR, so
nothing is written into terraform/ and a real deployment's state is never touched. What
talks to moto runs in a working copy of terraform/ with the local stack's override file
(``moto_module``), as ``make local-up`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tools import local_stack, motoserver

from .support import ROOT

TERRAFORM_DIR = ROOT / "terraform"

#: Skip a module's tests on a machine without terraform.
requires_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


def run(command: list[str], env: dict[str, str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)


def terraform(
    args: list[str], env: dict[str, str], timeout: float = 300, chdir: Path = TERRAFORM_DIR
) -> subprocess.CompletedProcess[str]:
    return run(["terraform", f"-chdir={chdir}", *args, "-no-color"], env, timeout)


def terraform_env(work: Path) -> dict[str, str]:
    """Automation mode, a data dir under ``work``, the mirror if any, fake credentials.

    Nothing of the caller's own AWS or Terraform configuration leaks in. ``STATE_PATH``
    (not read by terraform) names a state file under ``work`` for ``-backend-config``.
    """
    env = motoserver.aws_environment(base={k: v for k, v in os.environ.items() if not k.startswith("TF_")})
    env.update(
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        TF_DATA_DIR=str(work / "data"),
        CHECKPOINT_DISABLE="1",
    )
    if "TF_PLUGIN_MIRROR" in os.environ:  # where terraform_env.sh looks first
        env["TF_PLUGIN_MIRROR"] = os.environ["TF_PLUGIN_MIRROR"]
    exports = run(["sh", str(ROOT / "tools" / "terraform_env.sh"), str(work / "mirror.tfrc")], env).stdout
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    env["STATE_PATH"] = str(work / "terraform.tfstate")
    return env


def stand_in_artifacts(work: Path) -> dict[str, str]:
    """Small stand-ins for build/: a plan reads only their hashes, moto never runs them."""
    paths = {}
    for name, member in (("code_artifact_path", "handlers/ingest.py"), ("layer_artifact_path", "python/x.py")):
        path = work / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, "x = 1\n")
        paths[name] = str(path)
    return paths


def moto_module(url: str, destination: Path) -> Path:
    """A working copy of terraform/ at ``destination`` with the local stack's override file for ``url``."""
    return local_stack.write_module(url, destination)
