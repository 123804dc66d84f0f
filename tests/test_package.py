"""The Lambda artifacts: within Lambda's limits, laid out as the runtime expects, and
working under python3.12 with only /var/task and /opt/python on the path."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools import package

from .support import FIXTURES, ROOT

BUILD = ROOT / "build" / "x86_64"
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fz")


def find_python312() -> str | None:
    """A python3.12 that runs: $PYTHON312, PATH (a pyenv shim may not), or pyenv's versions."""
    candidates = [os.environ.get("PYTHON312"), shutil.which("python3.12")]
    try:
        candidates.append(
            subprocess.run(["pyenv", "which", "python3.12"], capture_output=True, text=True).stdout.strip()
        )
    except FileNotFoundError:
        pass
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"), reverse=True)
    for candidate in candidates:
        if not candidate:
            continue
        result = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"], capture_output=True, text=True
        )
        if result.returncode == 0 and result.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="module")
def artifacts() -> dict:
    """Build the x86_64 artifacts, or reuse them when their inputs are unchanged."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package.py"), "--arch", "x86_64"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "layer" in result.stdout and "limits:" in result.stdout  # the size table is printed
    return json.loads((BUILD / "manifest.json").read_text())


@pytest.fixture(scope="module")
def lambda_root(artifacts: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archives unpacked as Lambda does: code in var/task, the layer in opt/."""
    root = tmp_path_factory.mktemp("lambda")
    with zipfile.ZipFile(BUILD / "function.zip") as archive:
        archive.extractall(root / "var" / "task")
    with zipfile.ZipFile(BUILD / "layer.zip") as archive:
        archive.extractall(root / "opt")
    return root


def run_in_runtime(python: str, root: Path, code: str, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``code`` under ``python`` with the runtime's path: the task, then the layer.

    -I ignores PYTHON* variables and the user's site; -S leaves out the interpreter's own
    site-packages, so nothing outside the artifacts can be imported by accident.
    """
    prelude = f"import sys; sys.path[:0] = [{str(root / 'var' / 'task')!r}, {str(root / 'opt' / 'python')!r}]\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", POWERTOOLS_METRICS_DISABLED="true", HOME=str(root))
    return subprocess.run(
        [python, "-I", "-S", "-c", prelude + code], capture_output=True, text=True, env=env, timeout=300, **kwargs
    )


@pytest.mark.package
def test_artifacts_are_within_lambda_limits(artifacts: dict) -> None:
    function, layer = artifacts["artifacts"]["function"], artifacts["artifacts"]["layer"]
    assert artifacts["problems"] == []
    assert function["delivery"] == "direct" and function["zipped_bytes"] <= package.DIRECT_UPLOAD_LIMIT
    assert layer["delivery"] == "s3"  # Terraform uploads it through the artifacts bucket
    assert function["unzipped_bytes"] + layer["unzipped_bytes"] <= package.UNZIPPED_LIMIT
    for artifact in (function, layer):
        data = (ROOT / artifact["path"]).read_bytes()
        assert len(data) == artifact["zipped_bytes"]
        assert hashlib.sha256(data).hexdigest() == artifact["sha256"]


@pytest.mark.package
def test_code_zip_holds_the_handler_package_at_its_root(artifacts: dict) -> None:
    with zipfile.ZipFile(BUILD / "function.zip") as archive:
        names = archive.namelist()
    assert "handlers/__init__.py" in names and "handlers/ingest.py" in names
    assert all(name.startswith("handlers/") for name in names)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert "handlers/obscore/filters.csv" in names  # data the record reads
    assert not [name for name in names if name.startswith("handlers/catalog/")]  # the CLI's, with its own extra


@pytest.mark.package
def test_layer_is_stripped_and_under_python_prefix(artifacts: dict) -> None:
    with zipfile.ZipFile(BUILD / "layer.zip") as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert all(name.startswith("python/") for name in names)
    assert "python/astropy/__init__.py" in names and "python/numpy/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyi", ".c", ".pyx"))]
    assert not [n for n in names if n.endswith(".dist-info/RECORD")]
    test_dirs = {n.split("/tests/")[0] for n in names if "/tests/" in n}
    assert test_dirs == {"python/astropy"}  # astropy/__init__ imports astropy.tests.runner
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}  # reproducible


@pytest.mark.package
def test_layer_native_code_is_for_the_chosen_architecture(lambda_root: Path) -> None:
    shared = sorted((lambda_root / "opt" / "python" / "numpy" / "_core").glob("_multiarray_umath*.so"))
    assert shared, "numpy's core extension is missing"
    header = shared[0].read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == package.ELF_MACHINES["x86_64"]


@pytest.mark.package
def test_rebuilding_unchanged_inputs_gives_the_same_bytes(artifacts: dict) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package.py"), "--arch", "x86_64"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    again = json.loads((BUILD / "manifest.json").read_text())
    for name in ("function", "layer"):
        assert again["artifacts"][name]["sha256"] == artifacts["artifacts"][name]["sha256"], name


def test_write_zip_is_reproducible(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "b.py").write_text("B = 2\n")
    (tree / "pkg" / "a.py").write_text("A = 1\n")
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    package.write_zip(package._files(tree, "python/"), first)
    os.utime(tree / "pkg" / "a.py", (1_000_000_000, 1_000_000_000))
    package.write_zip(package._files(tree, "python/"), second)
    assert first.read_bytes() == second.read_bytes()
    assert zipfile.ZipFile(first).namelist() == ["python/pkg/a.py", "python/pkg/b.py"]


def test_strip_tree_drops_what_the_runtime_never_reads(tmp_path: Path) -> None:
    files = [
        "bin/f2py",
        "numpy/__init__.py",
        "numpy/__init__.pyi",
        "numpy/__pycache__/x.cpython-312.pyc",
        "numpy/_core/tests/test_x.py",
        "numpy/_core/include/numpy/ndarraytypes.h",
        "numpy/conftest.py",
        "astropy/tests/runner.py",
        "astropy/tests/tests/test_runner.py",
        "astropy/io/fits/tests/data/x.fits",
        "astropy/wcs/src/wcslib.c",
        "wrapt-stubs/__init__.pyi",
        "numpy-2.4.6.dist-info/RECORD",
        "numpy-2.4.6.dist-info/INSTALLER",
        "numpy-2.4.6.dist-info/METADATA",
        "numpy-2.4.6.dist-info/licenses/LICENSE.txt",
    ]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    package.strip_tree(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == [
        "astropy/tests/runner.py",
        "numpy-2.4.6.dist-info/METADATA",
        "numpy-2.4.6.dist-info/licenses/LICENSE.txt",
        "numpy/__init__.py",
    ]


def test_platform_tags_cover_the_runtime_glibc() -> None:
    tags = package.platform_tags("arm64")
    assert "manylinux_2_34_aarch64" in tags and "manylinux_2_28_aarch64" in tags
    assert "manylinux2014_aarch64" in tags
    assert not [tag for tag in tags if "x86_64" in tag]
    assert "manylinux_2_35_x86_64" not in package.platform_tags("x86_64")  # newer than Amazon Linux 2023


def test_limits_are_enforced() -> None:
    def artifact(name: str, zipped: int, unzipped: int, delivery: str) -> package.Artifact:
        return package.Artifact(name, name, zipped, unzipped, 1, "0" * 64, delivery)

    assert package.check_limits([artifact("function", 10, 10, "direct"), artifact("layer", 60 << 20, 100, "s3")]) == []
    too_big = package.check_limits([artifact("function", 51 << 20, 10, "direct")])
    assert len(too_big) == 1 and "direct upload" in too_big[0]
    too_wide = package.check_limits(
        [artifact("function", 1, 200 << 20, "direct"), artifact("layer", 1, 60 << 20, "s3")]
    )
    assert len(too_wide) == 1 and "unzipped" in too_wide[0]


@pytest.mark.package
def test_arm64_requirements_resolve_to_wheels() -> None:
    """Every pinned requirement has an aarch64 wheel for the runtime (no build: a dry run)."""
    command = package.pip_install_command("arm64", ROOT / "requirements.txt", Path("unused"))
    target = command.index("--target")
    command[target : target + 2] = ["--dry-run", "--ignore-installed"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.mark.package
def test_handler_imports_the_way_the_runtime_imports_it(lambda_root: Path) -> None:
    python = find_python312()
    if python is None:
        pytest.skip("no python3.12 (the Lambda runtime's version) on this machine: set PYTHON312 to one")
    result = run_in_runtime(
        python,
        lambda_root,
        "import handlers.ingest, numpy, astropy\n"
        "assert callable(handlers.ingest.handler)\n"
        "print(handlers.ingest.__file__); print(numpy.__file__); print(astropy.__file__)\n",
    )
    assert result.returncode == 0, result.stderr
    handler_file, numpy_file, astropy_file = result.stdout.split()
    assert handler_file.startswith(str(lambda_root / "var" / "task"))
    assert numpy_file.startswith(str(lambda_root / "opt" / "python"))
    assert astropy_file.startswith(str(lambda_root / "opt" / "python"))


@pytest.mark.package
def test_packaged_pipeline_processes_every_fixture_under_python312(lambda_root: Path, tmp_path: Path) -> None:
    python = find_python312()
    if python is None:
        pytest.skip("no python3.12 (the Lambda runtime's version) on this machine: set PYTHON312 to one")
    inputs = sorted(str(p) for p in FIXTURES.iterdir() if p.name.endswith(FITS_SUFFIXES))
    assert inputs, "no FITS fixtures"
    out = tmp_path / "out"
    argv = ["python -m handlers", "process", *inputs, "--out", str(out)]
    result = run_in_runtime(
        python,
        lambda_root,
        f"import runpy; sys.argv = {argv!r}\nrunpy.run_module('handlers', run_name='__main__', alter_sys=True)\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in inputs:
        document = json.loads((out / "metadata" / f"{Path(path).name}.json").read_text())
        assert document["hdus"], path
    assert list((out / "thumbnails").rglob("*.png")), "no thumbnail was drawn"
