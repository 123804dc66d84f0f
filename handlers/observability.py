"""Powertools' Logger, Metrics and Tracer, configured once for the whole package.

Tracer wraps aws-xray-sdk and patches botocore, so every S3 call is a subsegment; it
disables itself outside Lambda (no daemon to talk to), where ``stage`` then costs nothing.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "fits-ingest")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "FitsIngest")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def stage(name: str) -> AbstractContextManager[Any]:
    """An X-Ray subsegment around one stage of the pipeline (a no-op outside Lambda)."""
    return tracer.provider.in_subsegment(f"## {name}")
