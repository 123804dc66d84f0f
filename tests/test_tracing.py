"""X-Ray in Lambda: the handler, run as the runtime runs it, sends a subsegment per stage and per S3 call.

A UDP socket on a free loopback port stands in for the X-Ray daemon; the handler runs in a
child process with the variables Lambda sets, against the moto server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import boto3

from tools.motoserver import LOCAL_AWS_ENV

from .support import ROOT, upload

RUN_HANDLER = (
    "import sys\n"
    "from handlers.aws.invocation import handler\n"
    "from handlers.aws.worker import LocalContext\n"
    "print(handler({'uris': [sys.argv[1]]}, LocalContext()))\n"
)


def subsegments(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = [document]
    for child in document.get("subsegments", []):
        found.extend(subsegments(child))
    return found


def test_each_stage_and_each_s3_call_is_a_subsegment(moto_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, **{
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"})
    for bucket in ("trace-inbox", "trace-output"):
        s3.create_bucket(Bucket=bucket)
    upload(s3, "traced.fits", bucket="trace-inbox")

    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(5)
    port = daemon.getsockname()[1]
    env = {
        **os.environ, **LOCAL_AWS_ENV,
        "AWS_ENDPOINT_URL": moto_endpoint, "OUTPUT_BUCKET": "trace-output",
        "LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "fits-ingest",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}", "POWERTOOLS_METRICS_DISABLED": "true",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    run = subprocess.run([sys.executable, "-c", RUN_HANDLER, "s3://trace-inbox/traced.fits"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "processed" in run.stdout

    documents = []
    daemon.settimeout(0.5)
    try:
        while True:
            header, _, body = daemon.recv(65535).decode().partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            documents.extend(subsegments(json.loads(body)))
    except TimeoutError:
        pass
    finally:
        daemon.close()
    names = [d["name"] for d in documents]
    for stage in ("## handler", "## resolve", "## read", "## thumbnail", "## write"):
        assert stage in names, names
    operations = {d.get("aws", {}).get("operation") for d in documents if d["name"] == "s3"}
    assert {"GetObject", "PutObject", "DeleteObject"} <= operations
    assert all(d["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793" for d in documents if "trace_id" in d)
