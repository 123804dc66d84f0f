"""Build the Lambda artifacts for the python3.12 runtime, without docker.

    python tools/package.py [--arch x86_64|arm64] [--out build] [--force]

Writes, under ``<out>/<arch>/``:

``function.zip``
    the ``handlers/`` package at the archive's root (Lambda's ``/var/task``);
``layer.zip``
    the pinned ``requirements.txt`` installed from manylinux wheels for that
    architecture, under ``python/`` (Lambda's ``/opt/python``);
``manifest.json``
    the sizes, hashes and limits that were checked.

Both archives are reproducible (sorted entries, fixed timestamps and modes), so
rebuilding unchanged inputs gives the same bytes and Terraform sees no change.
The installed dependencies are cached under ``<out>/<arch>/.deps-<key>/`` and the
layer is rebuilt only when the requirements, the platform or this script change.

Lambda's limits are checked and the build fails when one is exceeded: every
archive uploaded directly through the Lambda API must be at most 50 MiB zipped,
and code plus layers at most 250 MiB unzipped. The layer (astropy, numpy with
OpenBLAS, pillow, botocore) is close to the direct-upload limit (the build prints
its size; the README's Deploy section records it), with no room for the next
dependency bump. So Terraform always ships it through S3, where only the unzipped
limit applies; the small code zip goes directly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent

PYTHON_VERSION = "3.12"
RUNTIME = "python3.12"

# The python3.12 runtime runs on Amazon Linux 2023, whose glibc is 2.34: every
# manylinux tag up to manylinux_2_34 runs there. pip does not expand a
# manylinux_2_X platform to the older ones, so all of them are listed.
GLIBC_MAX_MINOR = 34
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
ELF_MACHINES = {"x86_64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64

DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped, through the Lambda API
UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code and all its layers, extracted

# Bump when the stripping rules change, so that cached dependencies are rebuilt.
STRIP_RULES_VERSION = "1"

# Directories named like this hold test suites and are dropped, except where the
# package imports them at run time (astropy/__init__.py imports astropy.tests.runner).
TEST_DIRS = {"tests", "test", "testing_data"}
#: Subpackages of handlers/ the function never imports: the catalog runs from the CLI, with its own
#: dependencies (the optional extra ``catalog``), which the layer does not hold.
NOT_SHIPPED = ("catalog",)
KEEP_DIRS = {"astropy/tests"}
# Files never used at run time: type stubs, C/Cython sources and headers, static
# libraries, and pytest configuration.
DROP_SUFFIXES = {".pyc", ".pyo", ".pyi", ".c", ".pyx", ".pxd", ".h", ".a"}
DROP_NAMES = {"conftest.py"}
# In *.dist-info: RECORD lists every file with its hash, stale once files are
# stripped, and only pip uninstall reads it; INSTALLER, REQUESTED and
# direct_url.json describe this build machine. METADATA, WHEEL, entry points and
# licences stay (importlib.metadata reads them).
DROP_DIST_INFO = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
# Console scripts whose shebang names this build's interpreter.
DROP_TOP_LEVEL = {"bin"}


class PackageError(Exception):
    """The artifacts cannot be built, or break one of Lambda's limits."""


@dataclass(frozen=True)
class Artifact:
    """One archive and the numbers Lambda's limits are about."""

    name: str
    path: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    sha256: str
    delivery: str  # "direct" (Lambda API) or "s3"


def platform_tags(arch: str) -> list[str]:
    """Every manylinux platform tag the runtime accepts for ``arch``, newest first."""
    machine = MACHINES[arch]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MAX_MINOR, 16, -1)]
    return tags + [f"manylinux2014_{machine}"]


def pip_install_command(arch: str, requirements: Path, target: Path) -> list[str]:
    """The pip command that installs ``requirements`` for the runtime on ``arch``."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for tag in platform_tags(arch):
        command += ["--platform", tag]
    command += [
        "--implementation", "cp",
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",
        "--target", str(target),
        "-r", str(requirements),
    ]  # fmt: skip
    return command


def dependencies_key(arch: str, requirements: Path) -> str:
    """A hash of everything the installed dependencies depend on."""
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(" ".join(platform_tags(arch)).encode())
    digest.update(STRIP_RULES_VERSION.encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def strip_tree(root: Path) -> int:
    """Remove what the runtime never reads from an installed tree; return bytes freed."""
    freed = 0

    def remove(path: Path) -> None:
        nonlocal freed
        if path.is_dir() and not path.is_symlink():
            freed += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path)
        else:
            freed += path.stat().st_size
            path.unlink()

    for name in DROP_TOP_LEVEL:
        if (root / name).exists():
            remove(root / name)
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts)):
        if not path.exists() and not path.is_symlink():
            continue  # inside a directory removed already
        relative = path.relative_to(root).as_posix()
        if path.is_dir():
            if path.name == "__pycache__" or (path.name in TEST_DIRS and relative not in KEEP_DIRS):
                remove(path)
            continue
        if path.suffix in DROP_SUFFIXES or path.name in DROP_NAMES:
            remove(path)
        elif path.parent.name.endswith(".dist-info") and path.name in DROP_DIST_INFO:
            remove(path)
    # Directories left empty (a stub-only package such as wrapt-stubs).
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return freed


def install_dependencies(arch: str, requirements: Path, arch_dir: Path, force: bool) -> Path:
    """Install and strip the requirements for ``arch``; reuse a cached tree when current."""
    key = dependencies_key(arch, requirements)
    target = arch_dir / f".deps-{key}"
    if target.is_dir() and (target / ".complete").exists() and not force:
        logger.info("dependencies: reusing %s", target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
        return target
    for stale in arch_dir.glob(".deps-*"):
        shutil.rmtree(stale)
    staging = Path(tempfile.mkdtemp(prefix=".deps-tmp-", dir=arch_dir))
    try:
        command = pip_install_command(arch, requirements, staging)
        logger.info("dependencies: pip install for %s (%s)", RUNTIME, platform_tags(arch)[0])
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise PackageError(f"pip install failed for arch {arch!r}:\n{result.stderr.strip()}")
        freed = strip_tree(staging)
        logger.info("dependencies: stripped %.1f MiB of tests, caches, stubs and sources", freed / 2**20)
        check_machine(staging, arch)
        for name in unpinned(staging, requirements):
            logger.warning("dependencies: %s is installed but not pinned in %s", name, requirements.name)
        (staging / ".complete").write_text(key + "\n")
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def unpinned(tree: Path, requirements: Path) -> list[str]:
    """Distributions installed in ``tree`` that ``requirements`` does not pin."""
    pinned = set()
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pinned.add(_canonical(line.split("==", 1)[0].split("[", 1)[0].strip()))
    installed = {_canonical(p.name.removesuffix(".dist-info").rsplit("-", 1)[0]) for p in tree.glob("*.dist-info")}
    return sorted(installed - pinned)


def check_machine(tree: Path, arch: str) -> None:
    """Fail if a shared object in ``tree`` was built for another instruction set."""
    expected = ELF_MACHINES[arch]
    for path in tree.rglob("*.so*"):
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            header = handle.read(20)
        if header[:4] != b"\x7fELF":
            continue
        machine = int.from_bytes(header[18:20], "little")
        if machine != expected:
            raise PackageError(f"{path.name!r} is built for ELF machine {machine}, not {arch!r} ({expected})")


def _files(root: Path, prefix: str) -> list[tuple[Path, str]]:
    """Every file under ``root`` with its archive name, sorted by archive name."""
    entries = []
    for path in root.rglob("*"):
        if path.is_file() and path.name != ".complete":
            entries.append((path, prefix + path.relative_to(root).as_posix()))
    return sorted(entries, key=lambda entry: entry[1])


def write_zip(entries: list[tuple[Path, str]], destination: Path) -> tuple[int, int]:
    """Write a reproducible zip of ``entries``; return (files, unzipped bytes).

    Fixed timestamps and modes: the same inputs give the same bytes, hence the same
    source_code_hash, hence no needless update of the function or the layer.
    """
    unzipped = 0
    partial = destination.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path, name in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    partial.replace(destination)
    return len(entries), unzipped


def code_entries(source: Path) -> list[tuple[Path, str]]:
    """The handler package's files, as the runtime will see them under /var/task."""
    if not (source / "__init__.py").exists():
        raise PackageError(f"{str(source)!r} is not a Python package (no __init__.py)")
    entries = []
    for path, name in _files(source, source.name + "/"):
        parts = set(Path(name).parts)
        if "__pycache__" in parts or parts & TEST_DIRS or path.suffix in {".pyc", ".pyo"}:
            continue
        if name.startswith(tuple(f"{source.name}/{package}/" for package in NOT_SHIPPED)):
            continue
        entries.append((path, name))
    return entries


def describe(name: str, path: Path, files: int, unzipped: int, delivery: str) -> Artifact:
    data = path.read_bytes()
    return Artifact(
        name=name,
        path=str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        zipped_bytes=len(data),
        unzipped_bytes=unzipped,
        files=files,
        sha256=hashlib.sha256(data).hexdigest(),
        delivery=delivery,
    )


def check_limits(artifacts: list[Artifact]) -> list[str]:
    """The limits ``artifacts`` break, as messages (empty when all is well)."""
    problems = []
    for artifact in artifacts:
        if artifact.delivery == "direct" and artifact.zipped_bytes > DIRECT_UPLOAD_LIMIT:
            problems.append(
                f"{artifact.name}: {mib(artifact.zipped_bytes)} zipped is over the "
                f"{mib(DIRECT_UPLOAD_LIMIT)} limit of a direct upload"
            )
    total = sum(artifact.unzipped_bytes for artifact in artifacts)
    if total > UNZIPPED_LIMIT:
        problems.append(f"code and layers: {mib(total)} unzipped is over Lambda's {mib(UNZIPPED_LIMIT)} limit")
    return problems


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.1f} KiB"


def report(artifacts: list[Artifact]) -> str:
    lines = [f"{'artifact':<10} {'zipped':>11} {'unzipped':>11} {'files':>6}  delivery  path"]
    for a in artifacts:
        lines.append(
            f"{a.name:<10} {mib(a.zipped_bytes):>11} {mib(a.unzipped_bytes):>11} {a.files:>6}  "
            f"{a.delivery:<8}  {a.path}"
        )
    total_zipped = sum(a.zipped_bytes for a in artifacts)
    total_unzipped = sum(a.unzipped_bytes for a in artifacts)
    lines.append(f"{'total':<10} {mib(total_zipped):>11} {mib(total_unzipped):>11}")
    lines.append(
        f"limits: {mib(DIRECT_UPLOAD_LIMIT)} zipped per direct upload, "
        f"{mib(UNZIPPED_LIMIT)} unzipped for code and layers together"
    )
    return "\n".join(lines)


def build(arch: str, out: Path, requirements: Path, source: Path, force: bool = False) -> list[Artifact]:
    """Build both artifacts for ``arch`` under ``out/arch``; raise PackageError on a broken limit."""
    if arch not in MACHINES:
        raise PackageError(f"unknown architecture {arch!r}: use one of {sorted(MACHINES)}")
    arch_dir = out / arch
    arch_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = arch_dir / "manifest.json"

    deps = install_dependencies(arch, requirements, arch_dir, force)
    key = deps.name.removeprefix(".deps-")

    layer_path = arch_dir / "layer.zip"
    previous = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    layer = None
    if not force and layer_path.exists() and previous.get("dependencies_key") == key:
        recorded = previous["artifacts"].get("layer", {})
        if recorded.get("sha256") == hashlib.sha256(layer_path.read_bytes()).hexdigest():
            layer = Artifact(**recorded)
            logger.info("layer: reusing %s", layer.path)
    if layer is None:
        logger.info("layer: zipping %s", layer_path.name)
        files, unzipped = write_zip(_files(deps, "python/"), layer_path)
        layer = describe("layer", layer_path, files, unzipped, "s3")

    code_path = arch_dir / "function.zip"
    files, unzipped = write_zip(code_entries(source), code_path)
    code = describe("function", code_path, files, unzipped, "direct")

    artifacts = [code, layer]
    problems = check_limits(artifacts)
    manifest = {
        "runtime": RUNTIME,
        "architecture": arch,
        "handler": "handlers.ingest.handler",
        "dependencies_key": key,
        "limits": {"direct_upload_zipped_bytes": DIRECT_UPLOAD_LIMIT, "unzipped_bytes": UNZIPPED_LIMIT},
        "artifacts": {a.name: asdict(a) for a in artifacts},
        "problems": problems,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(report(artifacts))
    share = 100 * layer.zipped_bytes / DIRECT_UPLOAD_LIMIT
    print(f"layer: {share:.0f}% of the {mib(DIRECT_UPLOAD_LIMIT)} direct-upload limit; Terraform ships it through S3")
    if problems:
        raise PackageError("Lambda limits exceeded:\n  " + "\n  ".join(problems))
    return artifacts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default=os.environ.get("ARCH") or "x86_64", choices=sorted(MACHINES))
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument("--source", type=Path, default=ROOT / "handlers")
    parser.add_argument("--force", action="store_true", help="reinstall and rezip even if nothing changed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="package: %(message)s")
    try:
        build(args.arch, args.out.resolve(), args.requirements.resolve(), args.source.resolve(), args.force)
    except PackageError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
