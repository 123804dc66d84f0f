"""The one moto launcher: a moto server on 127.0.0.1, on a free or given port, with one set of dummy credentials.

Every tool and test that needs a moto server starts it here: ``moto_server()`` for one that
lives as long as a ``with`` block (the demo, the benchmarks, the load run, the tests),
``start(..., log=...)`` for one that outlives this process (``make local-up``, which
records its pid and stops it at ``make local-down``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REGION = "us-east-1"
#: Credentials and region that moto accepts; never real ones.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class MotoServer:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def aws_environment(endpoint_url: str | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with moto's credentials instead of any AWS_* setting.

    Nothing of the user's own AWS configuration leaks in; ``endpoint_url``, when given,
    becomes ``AWS_ENDPOINT_URL``.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("AWS_")}
    env.update(LOCAL_AWS_ENV, AWS_EC2_METADATA_DISABLED="true")
    if endpoint_url is not None:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def client_kwargs(endpoint_url: str) -> dict[str, str]:
    """boto3.client() arguments for the moto server at ``endpoint_url``, with the dummy credentials."""
    return {
        "endpoint_url": endpoint_url,
        "region_name": REGION,
        "aws_access_key_id": LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": LOCAL_AWS_ENV["AWS_SESSION_TOKEN"],
    }


def start(port: int | None = None, log: Path | None = None, startup_s: float = 30.0) -> MotoServer:
    """Start ``moto.server`` on 127.0.0.1 and return once it answers; the caller stops it.

    With ``log``, the server writes there and runs in its own session, so that it outlives
    this process; without, its output is discarded.
    """
    port = port or free_port()
    server_url = url(port)
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=aws_environment(),
            start_new_session=log is not None,
        )
    finally:
        if log is not None:
            output.close()  # type: ignore[union-attr]
    try:
        wait_until_ready(server_url, process, startup_s)
    except BaseException:
        stop_process(process, timeout_s=10)
        raise
    return MotoServer(server_url, process)


@contextmanager
def moto_server(port: int | None = None, startup_s: float = 30.0) -> Iterator[MotoServer]:
    """Start ``moto.server`` and stop it on exit; ready when it answers HTTP."""
    server = start(port, startup_s=startup_s)
    try:
        yield server
    finally:
        stop_process(server.process, timeout_s=10)


def stop_process(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Ask a server to stop; kill it if it has not within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def answers(server_url: str, timeout_s: float = 2.0) -> bool:
    """Whether a moto server answers at ``server_url``.

    /moto-api/ is a small page; data.json would dump every object (a 50 MB layer included).
    """
    try:
        with urllib.request.urlopen(f"{server_url}/moto-api/", timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def wait_until_ready(server_url: str, process: subprocess.Popen[bytes], startup_s: float) -> None:
    """Poll the server's /moto-api/ page until it answers, the process dies, or time is up."""
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with status {process.returncode}")
        if answers(server_url):
            return
        time.sleep(0.1)
    raise RuntimeError(f"moto server at {server_url} did not answer within {startup_s} s")
