"""Every event shape the function accepts, turned into a list of ``ObjectRef``.

Nothing downstream looks at raw events.  S3 notification keys arrive URL-encoded the
form way (a space as ``+``, a ``+`` as ``%2B``) and are decoded here, once; EventBridge
keys arrive as they are and must not be decoded (Powertools' EventBridge accessor
decodes them, so the raw field is read instead).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from handlers.errors import UnrecognizedEventError
from handlers.object_ref import ObjectRef

logger = logging.getLogger(__name__)


#: S3 event names after which an object's derived outputs should go.
REMOVAL_EVENTS = ("ObjectRemoved:", "LifecycleExpiration:")


def is_sqs_event(event: Mapping[str, Any]) -> bool:
    records = event.get("Records")
    return bool(records) and isinstance(records, list) and records[0].get("eventSource") == "aws:sqs"


def is_batch_operations_event(event: Mapping[str, Any]) -> bool:
    return "invocationSchemaVersion" in event and "tasks" in event


def refs_from_uris(event: Mapping[str, Any]) -> list[ObjectRef]:
    uris = event.get("uris")
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise UnrecognizedEventError(f"'uris' must be a list of s3:// strings, got {uris!r}")
    return [ObjectRef.from_uri(uri) for uri in uris]


def refs_from_sqs_body(body: str) -> list[ObjectRef]:
    """An SQS message carries an S3 notification, an SNS envelope or an EventBridge event."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        raise UnrecognizedEventError(f"SQS message body is not JSON: {body[:200]!r}") from None
    return refs_from_notification(payload)


def refs_from_notification(payload: Any) -> list[ObjectRef]:
    """S3 notification, SNS event or envelope, or EventBridge event: created and removed objects."""
    if not isinstance(payload, Mapping):
        raise UnrecognizedEventError(f"expected a JSON object, got {type(payload).__name__}")
    if payload.get("Event") == "s3:TestEvent":
        logger.info("ignoring s3:TestEvent for bucket %s", payload.get("Bucket"))
        return []
    if isinstance(payload.get("Records"), list):
        return [ref for record in payload["Records"] for ref in _refs_from_record(record)]
    if payload.get("Type") == "Notification" and "Message" in payload:
        return refs_from_notification(_json_message(payload["Message"]))
    if payload.get("source") == "aws.s3" and isinstance(payload.get("detail"), Mapping):
        return _refs_from_eventbridge(payload)
    raise UnrecognizedEventError(f"unrecognized event with keys {sorted(payload)[:10]!r}")


def _refs_from_record(record: Mapping[str, Any]) -> list[ObjectRef]:
    if "Sns" in record:
        return refs_from_notification(_json_message(record["Sns"].get("Message", "")))
    if record.get("eventSource") != "aws:s3":
        raise UnrecognizedEventError(f"unrecognized record source {record.get('eventSource')!r}")
    name = str(record.get("eventName", ""))
    s3 = record["s3"]
    removed = name.startswith(REMOVAL_EVENTS)
    if not (removed or name.startswith("ObjectCreated:")):
        logger.info("ignoring %s for s3://%s/%s", name, s3["bucket"]["name"], s3["object"]["key"])
        return []
    obj = s3["object"]
    return [
        ObjectRef(
            bucket=s3["bucket"]["name"],
            key=unquote_plus(obj["key"]),
            version_id=obj.get("versionId") or None,
            etag=obj.get("eTag") or None,
            size=obj.get("size"),
            sequencer=obj.get("sequencer"),
            removed=removed,
        )
    ]


def _refs_from_eventbridge(event: Mapping[str, Any]) -> list[ObjectRef]:
    detail = event["detail"]
    obj = detail["object"]
    if event.get("detail-type") not in ("Object Created", "Object Deleted"):
        logger.info("ignoring EventBridge %r for s3://%s/%s",
                    event.get("detail-type"), detail["bucket"]["name"], obj["key"])
        return []
    return [
        ObjectRef(
            bucket=detail["bucket"]["name"],
            key=obj["key"],
            version_id=obj.get("version-id") or None,
            etag=obj.get("etag") or None,
            size=obj.get("size"),
            sequencer=obj.get("sequencer"),
            removed=event.get("detail-type") == "Object Deleted",
        )
    ]


def _json_message(message: Any) -> Any:
    try:
        return json.loads(message)
    except (TypeError, json.JSONDecodeError):
        raise UnrecognizedEventError(f"SNS message is not JSON: {str(message)[:200]!r}") from None


def refs_from_batch_operations(event: Mapping[str, Any]) -> list[tuple[Any, ObjectRef]]:
    """S3 Batch Operations tasks (schemas 1.0 and 2.0) and the object each names.

    Powertools decodes the task's key and finds its bucket in either schema.
    """
    from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent

    batch = S3BatchOperationEvent(dict(event))
    return [
        (task, ObjectRef(bucket=task.s3_bucket, key=task.s3_key, version_id=task.s3_version_id or None))
        for task in batch.tasks
    ]
