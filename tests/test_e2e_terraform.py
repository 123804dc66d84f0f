"""The used-by flow, end to end: the Terraform stack on moto, an upload, the outputs, nothing left.

A moto server on a free loopback port; ``terraform apply`` of terraform/ against it with
the local stack's settings (tools/local_stack.py: queue mode, the event source mapping
off, the moto override file in a working copy of the module) in a temporary workspace
(working copy, state, TF_DATA_DIR, tfvars), the provider from the mirror
and the committed lock file (-lockfile=readonly); the AWS CLI uploads the drizzle fixture
under a key with a space and a "+", with the stack's own ``upload_command``; the worker of
the contract (``python -m handlers worker --once``) takes the notification from the queue
and runs the handler; ``aws s3 ls`` and ``aws s3 cp`` find the outputs at the decoded key;
``terraform destroy`` leaves moto empty.

What it costs (about 2 minutes) is the provider's own waits on moto: each SQS queue and
the queue policy are polled 25 s for their attributes to settle (the DLQ, the queue and
its policy depend on each other), and deleting the queue policy waits 25 s too. The
lifecycle configurations (55 s each) are created in parallel, off that path; the
expiration variables are left null, their default. The function's code is the real
handlers/ package zipped as `make package` zips it (milliseconds); the 49 MiB dependencies
layer is a stand-in, since moto stores the layer but never runs the function.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from tools import local_stack
from tools.motoserver import client_kwargs, moto_server
from tools.package import code_entries, write_zip

from .support import DRIZZLE
from .terraform_support import ROOT, requires_terraform

AWS_CLI = Path(sys.executable).parent / "aws"
NAME_PREFIX = "fits-ingest-e2e"
KEY = f"obs/night 1/{DRIZZLE.name}"  # a space and a "+": encoded in the notification, literal everywhere else
THUMBNAILS = [f"thumbnails/{KEY}/1-SCI_F850LP.png", f"thumbnails/{KEY}/2-WHT_F850LP.png"]

pytestmark = [
    pytest.mark.e2e,
    requires_terraform,
    pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI (awscli, requirements-dev.txt) is not installed"),
]


def artifacts(work: Path) -> dict[str, str]:
    """The function zip of the real handlers/ package; a stand-in for the layer moto never runs."""
    code, layer = work / "function.zip", work / "layer.zip"
    write_zip(code_entries(ROOT / "handlers"), code)
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/README.txt", "a stand-in: moto stores layers, it does not run them\n")
    return {"code_artifact_path": str(code), "layer_artifact_path": str(layer)}


def tf(args: list[str], env: dict[str, str], ws: local_stack.Workspace) -> str:
    return local_stack.terraform([*args, "-no-color"], env, capture=True, timeout=600, ws=ws)


def aws(base: list[str], *args: str, env: dict[str, str]) -> str:
    """The AWS CLI, as the stack's upload_command calls it (endpoint and region first)."""
    result = subprocess.run([str(AWS_CLI), *base, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"aws {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def leftovers(url: str) -> dict[str, list[str]]:
    """Whatever the stack could have left on the moto server."""
    kwargs: dict[str, Any] = client_kwargs(url)
    s3, sqs, lam = (boto3.client(service, **kwargs) for service in ("s3", "sqs", "lambda"))
    iam, logs = boto3.client("iam", **kwargs), boto3.client("logs", **kwargs)
    return {
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]],
        "queues": sqs.list_queues().get("QueueUrls", []),
        "functions": [f["FunctionName"] for f in lam.list_functions()["Functions"]],
        "layers": [layer["LayerName"] for layer in lam.list_layers()["Layers"]],
        "event source mappings": [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "log groups": [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]],
    }


def test_upload_to_outputs_and_destroy_to_nothing(tmp_path: Path) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = round(time.monotonic() - started, 1)
        started = time.monotonic()

    ws = local_stack.Workspace(tmp_path / "stack")
    ws.root.mkdir()
    module_files = sorted(p.name for p in (ROOT / "terraform").iterdir())
    with moto_server() as server:
        port = int(server.url.rsplit(":", 1)[1])
        env = local_stack.terraform_environment(port, ws)
        tfvars = local_stack.write_tfvars(port, ws, name_prefix=NAME_PREFIX, **artifacts(tmp_path))
        try:
            local_stack.terraform_init(env, ws)
        except local_stack.LocalStackError as error:
            if "TF_CLI_CONFIG_FILE" not in env:
                pytest.skip(f"no provider mirror on this machine and the registry is unreachable: {error}")
            raise
        lap("init")

        tf(["apply", "-auto-approve", "-input=false", f"-var-file={tfvars}"], env, ws)
        outputs = json.loads(tf(["output", "-json"], env, ws))
        lap("apply")
        inbox, output = outputs["inbox_bucket_name"]["value"], outputs["output_bucket_name"]["value"]
        assert outputs["trigger_mode"]["value"] == "queue" and ws.state.exists()

        # Upload with the stack's own command, the file and key swapped in.
        cli_env = {**local_stack.aws_environment(port), "AWS_CONFIG_FILE": str(tmp_path / "none"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
        del cli_env["AWS_ENDPOINT_URL"]  # the commands carry --endpoint-url, as upload_command does
        upload = shlex.split(outputs["upload_command"]["value"])
        assert upload[0] == "aws" and upload[-4:-1] == ["s3", "cp", "observation.fits"]
        assert upload[-1] == f"s3://{inbox}/observation.fits"
        base = upload[1:-4]  # --endpoint-url URL --region REGION
        aws(base, "s3", "cp", str(DRIZZLE), f"s3://{inbox}/{KEY}", env=cli_env)
        assert f" {KEY}" in aws(base, "s3", "ls", "--recursive", f"s3://{inbox}/", env=cli_env)
        lap("upload")

        # The worker takes the notification (and the s3:TestEvent) from the queue.
        worker_env = local_stack.worker_environment(port, local_stack.function_environment(port, outputs))
        assert worker_env["OUTPUT_BUCKET"] == output and worker_env["INBOX_BUCKET"] == inbox
        worker = subprocess.run(
            [sys.executable, "-m", "handlers", "worker", "--queue-url", outputs["queue_url"]["value"],
             "--endpoint-url", server.url, "--once"],
            cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=120,
        )
        assert worker.returncode == 0, worker.stdout + worker.stderr
        assert " 0 failed" in worker.stdout, worker.stdout
        logged = [json.loads(line) for line in worker.stdout.splitlines() if line.startswith('{"level"')]
        processed = [line for line in logged if line.get("message") == "object processed"]
        assert [(line["key"], line["bucket"], line["status"]) for line in processed] == [(KEY, inbox, "processed")]
        lap("worker")

        listed = aws(base, "s3", "ls", "--recursive", f"s3://{output}/", env=cli_env)
        keys = sorted(line.split(maxsplit=3)[3] for line in listed.splitlines())
        assert keys == sorted([f"metadata/{KEY}.json", *THUMBNAILS]), listed
        document = json.loads(aws(base, "s3", "cp", f"s3://{output}/metadata/{KEY}.json", "-", env=cli_env))
        assert len(document["hdus"]) == 3
        assert sorted(h["thumbnail"] for h in document["hdus"] if h["thumbnail"]) == THUMBNAILS
        assert (document["source"]["bucket"], document["source"]["key"]) == (inbox, KEY)
        assert document["source"]["size"] == DRIZZLE.stat().st_size
        lap("outputs")

        # Empty the buckets through the API first: moto's ListObjectVersions ignores
        # encoding-type=url, so force_destroy loops forever once a key holds a "+".
        local_stack.empty_buckets(port, outputs)
        # -refresh=false: the state was written a minute ago; reading every resource back costs 12 s.
        tf(["destroy", "-auto-approve", "-input=false", "-refresh=false", f"-var-file={tfvars}"], env, ws)
        lap("destroy")
        left = leftovers(server.url)
        assert not any(left.values()), left
        assert json.loads(ws.state.read_text())["resources"] == []
    assert sorted(p.name for p in (ROOT / "terraform").iterdir()) == module_files  # no state, no .terraform/
    print(f"timings (s): {timings}")
