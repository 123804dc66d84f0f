"""The Lambda entry point, ``handlers.ingest.handler`` (its code is in ``handlers.aws.invocation``)."""

from handlers.aws.invocation import handler

__all__ = ["handler"]
