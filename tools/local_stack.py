"""The Terraform stack on a moto server, with a local worker standing in for Lambda.

    python -m tools.local_stack up      # make local-up
    python -m tools.local_stack down    # make local-down

``up`` starts a moto server on 127.0.0.1:$MOTO_PORT (default 5000, tools/motoserver.py),
applies ``terraform/`` to it in queue mode with the event source mapping disabled (moto
would otherwise "invoke" the function itself: it cannot run it, and it deletes
the messages), writes ``.local/outputs.json`` (``terraform output -json``) and
starts ``python -m handlers worker`` on the stack's queue, with the function's
own environment. ``down`` stops the worker, deletes every object version through
the API (moto's ListObjectVersions ignores encoding-type=url, so Terraform's
force_destroy never finishes once a key holds a "+"), destroys the stack and
stops the moto server.

Terraform runs in a working copy of the module, ``.local/module/``: ``terraform/``'s files
and lock file, and ``local_moto_override.tf``, which Terraform merges into the provider
block (moto's endpoint for every service, no STS check of the dummy credentials,
path-style buckets) and into ``local.aws_endpoint_url``. ``terraform/`` itself keeps the
provider block of real AWS, and nothing of the local stack is ever written there.

Everything lives in ``.local/``: the working copy, the state (``terraform.tfstate``,
through the local backend's ``path``), Terraform's data directory (``tf/``), the pid and
log files. A real deployment's state in ``terraform/`` is never read or written.
Only processes this script started (their pids in ``.local/``) are stopped.

The functions take a ``Workspace`` (default: ``.local/``), so that a test can apply the
same stack with its own state, data directory and tfvars in a temporary directory
(tests/test_e2e_terraform.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tools import motoserver

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = ROOT / "terraform"
LOCAL = ROOT / ".local"

HOST = motoserver.HOST
REGION = motoserver.REGION
NAME_PREFIX = "fits-ingest-local"


class LocalStackError(Exception):
    """The local stack cannot be brought up or down."""


@dataclass(frozen=True)
class Workspace:
    """Where one local stack keeps its files; ``.local/`` for make local-up/local-down."""

    root: Path = LOCAL

    @property
    def state(self) -> Path:
        return self.root / "terraform.tfstate"

    @property
    def tf_data_dir(self) -> Path:
        return self.root / "tf"

    @property
    def module(self) -> Path:
        """The working copy Terraform runs in: terraform/ and the moto override file."""
        return self.root / "module"

    @property
    def tfvars(self) -> Path:
        return self.root / "terraform.tfvars.json"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs.json"

    @property
    def mirror_config(self) -> Path:
        return self.root / "terraform" / "mirror.tfrc"

    @property
    def moto_pid(self) -> Path:
        return self.root / "moto.pid"

    @property
    def moto_log(self) -> Path:
        return self.root / "moto.log"

    @property
    def worker_pid(self) -> Path:
        return self.root / "worker.pid"

    @property
    def worker_log(self) -> Path:
        return self.root / "worker.log"


DEFAULT = Workspace()


def moto_port() -> int:
    value = os.environ.get("MOTO_PORT") or "5000"
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise LocalStackError(f"MOTO_PORT must be a TCP port number, not {value!r}")
    return int(value)


def endpoint(port: int) -> str:
    return motoserver.url(port)


def aws_environment(port: int) -> dict[str, str]:
    """Credentials and region for moto; nothing from the user's AWS profile leaks in."""
    return motoserver.aws_environment(endpoint(port))


def terraform_environment(port: int, ws: Workspace = DEFAULT) -> dict[str, str]:
    """The environment of every terraform command: moto credentials, the mirror if any."""
    env = aws_environment(port)
    del env["AWS_ENDPOINT_URL"]  # the provider gets it from the override file, for the stack's services only
    env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", TF_DATA_DIR=str(ws.tf_data_dir))
    result = subprocess.run(
        ["sh", str(ROOT / "tools" / "terraform_env.sh"), str(ws.mirror_config)],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    return env


# processes -------------------------------------------------------------------


def _read_pid(path: Path, marker: str) -> int | None:
    """The pid recorded in ``path`` if that process is alive and is what we started."""
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid if marker in cmdline else None


def _stop(path: Path, marker: str, name: str) -> None:
    pid = _read_pid(path, marker)
    if pid is None:
        path.unlink(missing_ok=True)
        return
    logger.info("stopping %s (pid %d)", name, pid)
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if _read_pid(path, marker) is None:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    path.unlink(missing_ok=True)


def start_moto(port: int, ws: Workspace = DEFAULT) -> bool:
    """Start moto on ``port`` unless ours already runs there; return True if started."""
    if _read_pid(ws.moto_pid, "moto.server") and motoserver.answers(endpoint(port), timeout_s=5):
        logger.info("moto: already running on %s", endpoint(port))
        return False
    if motoserver.port_in_use(port):
        raise LocalStackError(
            f"port {port} on {HOST} is taken by another program; choose another with MOTO_PORT=..."
        )
    try:
        server = motoserver.start(port, log=ws.moto_log)
    except RuntimeError as error:
        ws.moto_pid.unlink(missing_ok=True)
        raise LocalStackError(f"moto did not start on {endpoint(port)} ({error}); see {_rel(ws.moto_log)}") from None
    ws.moto_pid.write_text(f"{server.process.pid}\n")
    logger.info("moto: started on %s (pid %d, log %s)", server.url, server.process.pid, _rel(ws.moto_log))
    return True


def function_environment(port: int, outputs: dict) -> dict[str, str]:
    """The deployed function's environment variables (OUTPUT_BUCKET, INBOX_BUCKET, ...), read from moto."""
    import boto3

    lambda_client = boto3.client("lambda", **motoserver.client_kwargs(endpoint(port)))
    configuration = lambda_client.get_function_configuration(FunctionName=outputs["function_name"]["value"])
    return configuration.get("Environment", {}).get("Variables", {})


def worker_environment(port: int, function_env: dict[str, str]) -> dict[str, str]:
    """What the worker runs with: moto's credentials and endpoint, and the function's own variables."""
    env = aws_environment(port)
    env.update(function_env)
    return env


def start_worker(port: int, outputs: dict, function_env: dict[str, str], ws: Workspace = DEFAULT) -> None:
    """Start ``python -m handlers worker`` on the stack's queue, as Lambda's mapping would."""
    _stop(ws.worker_pid, "handlers", "worker")
    queue_url = outputs["queue_url"]["value"]
    env = worker_environment(port, function_env)
    log = ws.worker_log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers", "worker", "--queue-url", queue_url, "--endpoint-url", endpoint(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    ws.worker_pid.write_text(f"{process.pid}\n")
    time.sleep(1.5)
    if process.poll() is not None:
        ws.worker_pid.unlink(missing_ok=True)
        tail = ws.worker_log.read_text(errors="replace").splitlines()[-15:]
        raise LocalStackError("the worker exited at once:\n  " + "\n  ".join(tail))
    logger.info("worker: polling %s (pid %d, log %s)", queue_url, process.pid, _rel(ws.worker_log))


# terraform -------------------------------------------------------------------


#: The services of the stack (and STS, for the account ID) that the override file sends to moto.
MOTO_SERVICES = ("iam", "kms", "lambda", "logs", "s3", "sqs", "sts")
OVERRIDE_FILE = "local_moto_override.tf"


def override_tf(url: str) -> str:
    """The moto-only settings, as a Terraform override file merged into terraform/'s own blocks."""
    width = max(map(len, MOTO_SERVICES))
    endpoints = "\n".join(f'    {service:<{width}} = "{url}"' for service in MOTO_SERVICES)
    return f"""# Written by tools/local_stack.py for the moto server at {url}; removed by `make local-down`.
# Terraform merges *_override.tf files into the module's blocks (git ignores them).

provider "aws" {{
  skip_credentials_validation = true # moto's dummy credentials
  s3_use_path_style           = true # <endpoint>/<bucket>, not <bucket>.<endpoint>

  endpoints {{
{endpoints}
  }}
}}

locals {{
  aws_endpoint_url = "{url}"
}}
"""


def write_module(url: str, destination: Path) -> Path:
    """A working copy of terraform/ at ``destination`` (its .tf files, the lock file) with the moto override file.

    Variables given as relative paths (code_artifact_path, layer_artifact_path) are relative
    to the copy: the local stack passes absolute ones.
    """
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for path in [*sorted(TERRAFORM_DIR.glob("*.tf")), TERRAFORM_DIR / ".terraform.lock.hcl"]:
        shutil.copy2(path, destination / path.name)
    (destination / OVERRIDE_FILE).write_text(override_tf(url))
    return destination


def terraform(
    args: list[str], env: dict[str, str], capture: bool = False, timeout: float | None = None, ws: Workspace = DEFAULT
) -> str:
    """``terraform -chdir=<the working copy> ARGS`` (written first by ``write_module``)."""
    command = ["terraform", f"-chdir={ws.module}", *args]
    logger.info("$ %s", " ".join(command[:3] + (["..."] if len(command) > 3 else [])))
    result = subprocess.run(command, env=env, text=True, capture_output=capture, timeout=timeout)
    if result.returncode != 0:
        detail = f":\n{result.stderr.strip()}" if capture else ""
        raise LocalStackError(f"terraform {args[0]} failed (exit {result.returncode}){detail}")
    return result.stdout if capture else ""


def terraform_init(env: dict[str, str], ws: Workspace = DEFAULT) -> None:
    # -lockfile=readonly: the committed lock file is used, never rewritten.
    terraform(
        ["init", "-input=false", "-reconfigure", "-lockfile=readonly", f"-backend-config=path={ws.state}"],
        env,
        capture=True,
        ws=ws,
    )


def write_tfvars(port: int, ws: Workspace = DEFAULT, **overrides: object) -> Path:
    """The local settings (what moto needs, see terraform/README.md), plus ``overrides``.

    Also (re)writes the working copy of the module with the override file for moto on ``port``.
    """
    write_module(endpoint(port), ws.module)
    build = ROOT / "build" / "x86_64"  # what `make local-up` packages
    tfvars = {
        "name_prefix": NAME_PREFIX,
        "aws_region": REGION,
        "code_artifact_path": str(build / "function.zip"),
        "layer_artifact_path": str(build / "layer.zip"),
        "trigger_mode": "queue",
        "enable_event_source_mapping": False,
        "force_destroy": True,
        # moto ignores the aws:SecureTransport condition, so a TLS-only policy would deny everything.
        "deny_insecure_transport": False,
        # moto sends no event for a delete marker: without versioning a delete is an ObjectRemoved:Delete.
        "inbox_versioning": False,
        **overrides,
    }
    ws.tfvars.write_text(json.dumps(tfvars, indent=2) + "\n")
    return ws.tfvars


# S3 --------------------------------------------------------------------------


def s3_client(port: int):
    import boto3
    from botocore.handlers import decode_list_object_versions, set_list_objects_encoding_type_url

    client = boto3.client("s3", **motoserver.client_kwargs(endpoint(port)))
    # botocore asks for encoding-type=url and unquotes the keys it gets back; moto
    # ignores the request and returns raw keys, which unquoting corrupts ("+" -> " ").
    # Ask for, and decode, nothing.
    client.meta.events.unregister("before-parameter-build.s3.ListObjectVersions", set_list_objects_encoding_type_url)
    client.meta.events.unregister("after-call.s3.ListObjectVersions", decode_list_object_versions)
    return client


def empty_bucket(client, bucket: str) -> int:
    """Delete every object version and delete marker in ``bucket``; return how many."""
    deleted = 0
    for _ in range(1000):  # bounded: each round deletes up to 1000 entries
        try:
            page = client.list_object_versions(Bucket=bucket, MaxKeys=1000)
        except client.exceptions.NoSuchBucket:
            return deleted
        entries = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if not entries:
            return deleted
        result = client.delete_objects(Bucket=bucket, Delete={"Objects": entries, "Quiet": True})
        if result.get("Errors"):
            first = result["Errors"][0]
            raise LocalStackError(f"cannot delete {first.get('Key')!r} from {bucket!r}: {first.get('Message')}")
        deleted += len(entries)
    raise LocalStackError(f"{bucket!r} still holds objects after 1000 rounds of deletes")


# commands --------------------------------------------------------------------


def up(ws: Workspace = DEFAULT) -> None:
    port = moto_port()
    ws.root.mkdir(exist_ok=True)
    if start_moto(port, ws):
        # A new moto is empty: a state left by an earlier server describes nothing.
        for stale in ws.root.glob("terraform.tfstate*"):
            stale.unlink()
    env = terraform_environment(port, ws)
    tfvars = write_tfvars(port, ws)
    terraform_init(env, ws)
    terraform(["apply", "-auto-approve", "-input=false", f"-var-file={tfvars}"], env, ws=ws)
    outputs_json = terraform(["output", "-json"], env, capture=True, ws=ws)
    ws.outputs.write_text(outputs_json)
    outputs = json.loads(outputs_json)
    logger.info("outputs: %s", _rel(ws.outputs))
    start_worker(port, outputs, function_environment(port, outputs), ws)
    print(f"inbox:  s3://{outputs['inbox_bucket_name']['value']}")
    print(f"output: s3://{outputs['output_bucket_name']['value']}")
    print(f"upload: {outputs['upload_command']['value']}")


def empty_buckets(port: int, outputs: dict) -> None:
    """Empty the stack's buckets through the API, so that destroy can delete them."""
    client = s3_client(port)
    for name in ("inbox_bucket_name", "output_bucket_name", "artifacts_bucket_name"):
        if name in outputs:
            bucket = outputs[name]["value"]
            count = empty_bucket(client, bucket)
            logger.info("emptied s3://%s (%d versions and delete markers)", bucket, count)


def down(ws: Workspace = DEFAULT) -> None:
    port = moto_port()
    _stop(ws.worker_pid, "handlers", "worker")
    moto_running = _read_pid(ws.moto_pid, "moto.server") is not None and motoserver.answers(endpoint(port), 5)
    if moto_running and ws.state.exists():
        env = terraform_environment(port, ws)
        tfvars = write_tfvars(port, ws)
        if ws.outputs.exists():
            empty_buckets(port, json.loads(ws.outputs.read_text()))
        terraform_init(env, ws)
        terraform(["destroy", "-auto-approve", "-input=false", f"-var-file={tfvars}"], env, ws=ws)
    elif ws.state.exists():
        logger.info("moto is not running: its resources are gone with it; discarding the local state")
    for stale in ws.root.glob("terraform.tfstate*"):
        stale.unlink()
    ws.outputs.unlink(missing_ok=True)
    _stop(ws.moto_pid, "moto.server", "moto")
    shutil.rmtree(ws.root / "terraform", ignore_errors=True)
    shutil.rmtree(ws.module, ignore_errors=True)  # the working copy and its override file


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="local-stack: %(message)s")
    try:
        up() if args.command == "up" else down()
    except LocalStackError as error:
        print(f"local-stack: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
