"""S3's errors classified by what should happen next: skip, retry, or stop and fix the setup."""

from __future__ import annotations

from botocore.exceptions import ClientError

from handlers.errors import (
    ConfigurationError,
    IngestError,
    OutputKeyTooLongError,
    SourceChangedError,
    TransientError,
)

_GONE = {"NoSuchKey", "NoSuchVersion", "NotFound", "404"}


def classify_client_error(exc: ClientError, uri: str) -> IngestError:
    """Map an S3 error to what should happen next: skip, retry, or stop and fix the setup."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == "PreconditionFailed" or status == 412:
        return SourceChangedError(f"{uri} was overwritten after the event announced it")
    if code in _GONE or status == 404:
        return SourceChangedError(f"{uri} no longer exists (deleted after the event)")
    if code == "KeyTooLongError":  # a property of the key, not of the moment: retrying cannot help
        return OutputKeyTooLongError(f"S3 refused the key of {uri} as too long: {error.get('Message', exc)}")
    if code == "AccessDenied" or status == 403:
        return ConfigurationError(f"access denied on {uri}: check the function's role")
    return TransientError(f"S3 answered {code or status} on {uri}: {error.get('Message', exc)}")
