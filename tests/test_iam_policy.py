"""The function role grants exactly the S3 and SQS calls the function makes: no fewer, no more.

1. The policy is the one Terraform evaluates for the stack's defaults, in both trigger
   modes: `terraform test` plans a copy of terraform/ against a moto server (with the local
   stack's override file, tools/local_stack.py), with the ARNs
   AWS gives the buckets, queues and log group supplied at plan time (``override_during =
   plan``), so that every statement of ``data.aws_iam_policy_document.lambda`` is known in
   the plan. (Its ``json`` is not: a data source that depends on resources still to be
   created is read at apply, and an apply costs 25 s more; the statements are turned into
   the policy's JSON here, refusing any block this does not render.)
2. The calls are recorded by botocore hooks while a scenario runs against moto that takes
   every path of the handler, and, in queue mode, the worker's SQS calls (those Lambda's
   event source mapping makes with the function's role).
3. Each call is mapped to the IAM actions and resources S3 and SQS authorize it with, and
   checked against the policy; then every action x resource granted must be used by some
   call, except what AWS itself does with the role (``USED_BY_AWS``, each with its reason).
"""

from __future__ import annotations

import fnmatch
import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import boto3
import numpy as np
import pytest
from astropy.io import fits
from moto import mock_aws

from handlers import ingest
from handlers.aws import invocation, warm
from handlers.aws.worker import LocalContext, run

from .support import created, notification, output_keys
from .terraform_support import (
    TERRAFORM_DIR,
    moto_module,
    requires_terraform,
    stand_in_artifacts,
    terraform,
    terraform_env,
)

pytestmark = requires_terraform

# The stack's defaults (name_prefix = "fits-ingest"), in moto's account.
REGION, ACCOUNT, PREFIX = "us-east-1", "123456789012", "fits-ingest"
INBOX, OUTPUT, ARTIFACTS = (f"{PREFIX}-{ACCOUNT}-{role}" for role in ("inbox", "output", "artifacts"))
EVENTS_QUEUE, DLQ, FAILURES_QUEUE = f"{PREFIX}-events", f"{PREFIX}-events-dlq", f"{PREFIX}-failures"
LOG_GROUP = f"/aws/lambda/{PREFIX}"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


# Granted, used by AWS on the function's behalf rather than by the function's own clients.
USED_BY_AWS = {
    ("SendAsyncFailures", "sqs:SendMessage"): "Lambda sends an asynchronous invocation that failed after its "
    "retries to the on-failure destination (aws_lambda_function_event_invoke_config) with the function's role",
    ("WriteOwnLogs", "logs:CreateLogStream"): "the Lambda runtime creates the function's log streams with its role",
    ("WriteOwnLogs", "logs:PutLogEvents"): "the Lambda runtime writes the function's output with its role",
    ("WriteTraces", "xray:PutTraceSegments"): "the X-Ray daemon of the execution environment sends the segments "
    "Powertools' tracer records, with the function's role",
    ("WriteTraces", "xray:PutTelemetryRecords"): "the X-Ray daemon reports its own telemetry with the function's role",
}

# Granted to nobody: each of these must be refused, whatever else changes.
MUST_BE_DENIED = [
    ("s3:PutObject", f"arn:aws:s3:::{INBOX}/obs/a.fits"),  # the inbox is never written
    ("s3:DeleteObject", f"arn:aws:s3:::{INBOX}/obs/a.fits"),
    ("s3:PutObject", f"arn:aws:s3:::{OUTPUT}/elsewhere/a.json"),  # outputs only under their three prefixes
    ("s3:DeleteObjectVersion", f"arn:aws:s3:::{OUTPUT}/metadata/a.json"),
    ("s3:GetObject", f"arn:aws:s3:::{OUTPUT}/thumbnails/a/1-SCI.png"),  # only metadata/ is read back
    ("s3:GetObject", f"arn:aws:s3:::{ARTIFACTS}/layers/x86_64/dependencies.zip"),
    ("s3:ListBucket", f"arn:aws:s3:::{ARTIFACTS}"),
    ("sqs:SendMessage", queue_arn(EVENTS_QUEUE)),
    ("sqs:ReceiveMessage", queue_arn(FAILURES_QUEUE)),
    ("sqs:ReceiveMessage", queue_arn(DLQ)),
]


# the policy, as Terraform renders it ---------------------------------------------------------------

TFTEST = """\
# Written by tests/test_iam_policy.py. The ARNs AWS gives these resources, known at plan
# time, so that the role policy's statements are known in the plan.
variables {{
  aws_region          = "{region}"
  code_artifact_path  = "{code}"
  layer_artifact_path = "{layer}"
}}
{overrides}
run "direct" {{
  command = plan
}}

run "queue" {{
  command = plan

  variables {{
    trigger_mode = "queue"
  }}
{queue_overrides}}}
"""

OVERRIDE = """
override_resource {{
  target          = {target}
  override_during = plan
  values          = {{ arn = "{arn}", id = "{id}" }}
}}
"""


def _override(target: str, arn: str, id: str) -> str:
    return OVERRIDE.format(target=target, arn=arn, id=id)


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str) -> dict[str, dict[str, Any]]:
    """The role policy of each trigger mode, from `terraform test` plans of a copy of terraform/."""
    work = tmp_path_factory.mktemp("iam")
    module = moto_module(moto_endpoint, work / "module")
    (module / "tests").mkdir()
    artifacts = stand_in_artifacts(work)
    buckets = "".join(
        _override(f'aws_s3_bucket.this["{role}"]', f"arn:aws:s3:::{name}", name)
        for role, name in (("inbox", INBOX), ("output", OUTPUT), ("artifacts", ARTIFACTS))
    )
    others = _override(
        "aws_cloudwatch_log_group.lambda", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}", LOG_GROUP
    ) + _override("aws_sqs_queue.failures", queue_arn(FAILURES_QUEUE), f"{moto_endpoint}/{ACCOUNT}/{FAILURES_QUEUE}")
    queues = "".join(
        _override(target, queue_arn(name), f"{moto_endpoint}/{ACCOUNT}/{name}").replace("\n", "\n  ")
        for target, name in (("aws_sqs_queue.this[0]", EVENTS_QUEUE), ("aws_sqs_queue.dlq[0]", DLQ))
    )
    (module / "tests" / "iam.tftest.hcl").write_text(
        TFTEST.format(
            region=REGION,
            code=artifacts["code_artifact_path"],
            layer=artifacts["layer_artifact_path"],
            overrides=buckets + others,
            queue_overrides=queues,
        )
    )
    env = terraform_env(work)
    init = terraform(["init", "-input=false", "-backend=false", "-lockfile=readonly"], env, chdir=module)
    if init.returncode != 0 and "TF_CLI_CONFIG_FILE" not in env:
        pytest.skip(f"no provider mirror on this machine and the registry is unreachable:\n{init.stderr}")
    assert init.returncode == 0, init.stdout + init.stderr
    tested = terraform(["test", "-json", "-verbose"], env, chdir=module)
    messages = [json.loads(line) for line in tested.stdout.splitlines() if line.startswith("{")]
    assert tested.returncode == 0, "\n".join(m["@message"] for m in messages) + tested.stderr
    rendered = {}
    for message in messages:
        if message["type"] != "test_plan":
            continue
        changes = {c["address"]: c["change"] for c in message["test_plan"]["resource_changes"]}
        # The overrides name the buckets the plan itself names.
        names = [changes[f'aws_s3_bucket.this["{role}"]']["after"]["bucket"] for role in ("inbox", "output")]
        assert names == [INBOX, OUTPUT]
        document = changes["data.aws_iam_policy_document.lambda"]
        assert not _any_unknown(document["after_unknown"].get("statement")), "statements unknown at plan time"
        rendered[message["@testrun"]] = policy_json(document["after"])
    assert set(rendered) == {"direct", "queue"}
    return rendered


def test_the_role_has_no_other_permissions_than_the_document_checked_here() -> None:
    text = "\n".join(path.read_text() for path in sorted(TERRAFORM_DIR.glob("*.tf")))
    attached = re.findall(r'^resource "(aws_iam_\w*(?:polic|attachment)\w*)" "(\w+)"', text, re.M)
    assert attached == [("aws_iam_role_policy", "lambda")]
    assert "managed_policy_arns" not in text and "inline_policy" not in text
    role_policy = re.search(r'resource "aws_iam_role_policy" "lambda" \{(.*?)\n\}', text, re.S)
    assert role_policy and re.search(r"policy\s*=\s*data\.aws_iam_policy_document\.lambda\.json", role_policy[1])


def _any_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_any_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_any_unknown(v) for v in value)
    return value is True


def policy_json(document: dict[str, Any]) -> dict[str, Any]:
    """The IAM JSON of an aws_iam_policy_document's evaluated arguments, as the provider writes it.

    Only what an identity policy of this stack uses: sid, effect, actions, resources and
    conditions. Anything else (principals, Not*, merged documents) fails here rather than
    being checked wrongly.
    """
    for name in ("source_policy_documents", "override_policy_documents", "source_json", "override_json"):
        assert not document.get(name), f"teach policy_json {name}"
    statements = []
    for block in document["statement"]:
        for name in ("principals", "not_principals", "not_actions", "not_resources"):
            assert not block.get(name), f"teach policy_json {name} (statement {block['sid']})"
        statement = {"Sid": block["sid"], "Effect": block["effect"] or "Allow",
                     "Action": sorted(block["actions"]), "Resource": sorted(block["resources"])}
        for condition in block["condition"]:
            tests = statement.setdefault("Condition", {}).setdefault(condition["test"], {})
            tests.setdefault(condition["variable"], []).extend(condition["values"])
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


# recording the calls ------------------------------------------------------------------------------


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    status: int


@dataclass
class Recorder:
    """Every S3 or SQS API call a client made, with its parameters and HTTP status."""

    calls: list[Call] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{service}", self._params)
        client.meta.events.register(f"after-call.{service}", self._done)

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["recorded_params"] = {k: v for k, v in params.items() if k != "Body"}

    def _done(self, http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_id.hyphenize()
        self.calls.append(Call(service, model.name, context["recorded_params"], http_response.status_code))


# calls -> IAM -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One IAM action on one resource that a call needs, with the condition keys it carries."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    call: str = ""


#: PutObject parameters that would need more than s3:PutObject (ACLs, tags, object lock, KMS).
_PUT_EXTRAS = re.compile(r"^(ACL|Grant.*|Tagging|ObjectLock.*|SSEKMS.*|ServerSideEncryption)$")
_SQS_ACTIONS = {
    "ReceiveMessage": "sqs:ReceiveMessage",
    "DeleteMessage": "sqs:DeleteMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
    "ChangeMessageVisibility": "sqs:ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "SendMessage": "sqs:SendMessage",
    "SendMessageBatch": "sqs:SendMessage",
}


def needs(call: Call) -> list[Need]:
    """The actions and resources S3 or SQS authorizes ``call`` with (IAM's service authorization reference)."""
    p, op = call.params, call.operation
    what = f"{op} {p.get('Key', p.get('Prefix', p.get('QueueUrl', '')))!r} -> {call.status}"
    if call.service == "sqs":
        if op not in _SQS_ACTIONS:
            raise AssertionError(f"map SQS {op} to its IAM action in this test")
        account, name = urlparse(p["QueueUrl"]).path.strip("/").split("/")
        return [Need(_SQS_ACTIONS[op], f"arn:aws:sqs:{REGION}:{account}:{name}", call=what)]
    assert call.service == "s3", call
    bucket = f"arn:aws:s3:::{p['Bucket']}"
    if op in ("GetObject", "HeadObject"):
        action = "s3:GetObjectVersion" if p.get("VersionId") else "s3:GetObject"
        found = [Need(action, f"{bucket}/{p['Key']}", call=what)]
        if call.status == 404:  # S3 answers 404, rather than 403, only to whom may list the bucket
            found.append(Need("s3:ListBucket", bucket, call=what))
        return found
    if op == "PutObject":
        extras = sorted(k for k in p if _PUT_EXTRAS.match(k))
        assert not extras, f"map PutObject with {extras} to its extra IAM actions in this test"
        return [Need("s3:PutObject", f"{bucket}/{p['Key']}", call=what)]
    if op == "DeleteObject":
        action = "s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject"
        return [Need(action, f"{bucket}/{p['Key']}", call=what)]
    if op == "DeleteObjects":  # authorized key by key, as DeleteObject of each
        return [Need("s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                     f"{bucket}/{o['Key']}", call=what) for o in p["Delete"]["Objects"]]
    if op in ("ListObjectsV2", "ListObjects"):
        return [Need("s3:ListBucket", bucket, (("s3:prefix", p.get("Prefix", "")),), call=what)]
    raise AssertionError(f"map S3 {op} to its IAM actions in this test")


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: * any run of characters (slashes too), ? one character."""
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _conditions_hold(condition: dict[str, dict[str, Any]], context: tuple[tuple[str, str], ...]) -> bool:
    keys = dict(context)
    for operator, tests in condition.items():
        for key, values in tests.items():
            if operator not in ("StringEquals", "StringLike") or key != "s3:prefix":
                raise AssertionError(f"teach this test the condition {operator} {key}")
            if key not in keys:
                return False
            exact = operator == "StringEquals"
            if not any(keys[key] == v if exact else _matches(v, keys[key]) for v in _listed(values)):
                return False
    return True


def _statement_allows(statement: dict[str, Any], action: str, resource: str, context=()) -> bool:
    unsupported = {"NotAction", "NotResource", "Principal", "NotPrincipal"} & set(statement)
    assert not unsupported, f"teach this test {sorted(unsupported)} (statement {statement.get('Sid')})"
    return (
        any(_matches(a, action, case_sensitive=False) for a in _listed(statement["Action"]))
        and any(_matches(r, resource) for r in _listed(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), context)
    )


def allowed(policy: dict[str, Any], need: Need) -> bool:
    statements = policy["Statement"]
    matching = [s for s in statements if _statement_allows(s, need.action, need.resource, need.context)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


def grants(policy: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(Sid, action, resource) for every action x resource an Allow statement names."""
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow":
            for action in _listed(statement["Action"]):
                for resource in _listed(statement["Resource"]):
                    yield statement.get("Sid", "?"), action, resource


# the scenario ------------------------------------------------------------------------------------

KEY = "obs/night 1/m31+halo.fits"  # a space and a plus: encoded in events, literal in ARNs
OLD_KEY = "legacy/written before versioning.fits"


def one_image() -> bytes:
    """A new version of the observation with one image instead of two, and of 4 MiB.

    Over READ_WHOLE_OBJECT_BYTES, it is read by version in ranges, then HEADed for its currency.
    """
    data = np.arange(1024 * 1024, dtype=np.float32).reshape(1024, 1024)
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI_F850LP")]).writeto(buffer)
    return buffer.getvalue()


def outputs(s3: Any) -> set[str]:
    return set(output_keys(s3, bucket=OUTPUT))


def status(event: dict[str, Any]) -> str:
    return ingest.handler(event, LocalContext())["outcomes"][0]["status"]


@pytest.fixture(scope="module")
def recorded() -> Iterator[list[Call]]:
    """Every path of the handler against moto, and the worker's polling; the calls they made."""
    mp = pytest.MonkeyPatch()
    from tools.motoserver import LOCAL_AWS_ENV

    for name, value in {**LOCAL_AWS_ENV, "POWERTOOLS_METRICS_DISABLED": "true",
                        "OUTPUT_BUCKET": OUTPUT, "INBOX_BUCKET": INBOX}.items():
        mp.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        mp.delenv(name, raising=False)
    try:
        with mock_aws():
            yield _scenario()
    finally:
        warm.reset()
        mp.undo()


def _scenario() -> list[Call]:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (INBOX, OUTPUT):
        s3.create_bucket(Bucket=bucket)
    old = created(s3, OLD_KEY, bucket=INBOX)  # version "null": read with If-Match
    s3.put_bucket_versioning(Bucket=INBOX, VersioningConfiguration={"Status": "Enabled"})  # as the stack does

    warm.reset()
    recorder = Recorder()
    recorder.attach(warm.s3_client())
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=EVENTS_QUEUE)["QueueUrl"]
    polled = boto3.client("sqs", region_name=REGION)  # the event source mapping's
    recorder.attach(polled)

    thumbnails = f"thumbnails/{KEY}/"
    # A new object, through the queue; then the same event again (SQS delivers at least once).
    first = created(s3, KEY, bucket=INBOX)
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(first))
        stats = run(polled, url, once=True)
        assert (stats.received, stats.deleted) == (1, 1)
    assert outputs(s3) == {f"metadata/{KEY}.json", f"{thumbnails}1-SCI_F850LP.png", f"{thumbnails}2-WHT_F850LP.png"}
    # A re-delivered notification of a small object is processed again, and so is a re-run by URI:
    # the one GET that learns its size reads it whole.
    assert status(first) == "processed"
    assert status({"uris": [f"s3://{INBOX}/{KEY}"]}) == "processed"
    # A new version with one image: its stale second thumbnail is removed.
    assert status(created(s3, KEY, one_image(), bucket=INBOX)) == "processed"
    assert outputs(s3) == {f"metadata/{KEY}.json", f"{thumbnails}1-SCI_F850LP.png"}
    # A rejected version: its error record replaces the earlier metadata and thumbnails.
    assert status(created(s3, KEY, b"SIMPLE  = not really" * 200, bucket=INBOX)) == "rejected"
    assert outputs(s3) == {f"errors/{KEY}.json"}
    # The object is deleted (a delete marker): everything derived from it goes.
    marker = s3.delete_object(Bucket=INBOX, Key=KEY)["VersionId"]
    removed = notification(KEY, event_name="ObjectRemoved:DeleteMarkerCreated", bucket=INBOX, version_id=marker)
    assert status(removed) == "removed"
    assert outputs(s3) == set()
    # An object written before versioning was enabled: no versionId, read with If-Match.
    assert status(old) == "processed"
    assert f"metadata/{OLD_KEY}.json" in outputs(s3)
    # Two objects of one event, each after a rejected version: their error records go in one DeleteObjects.
    pair = ["obs/pair/a.fits", "obs/pair/b.fits"]
    for key in pair:
        assert status(created(s3, key, b"SIMPLE  = not really" * 200, bucket=INBOX)) == "rejected"
    both = {"Records": [created(s3, key, bucket=INBOX)["Records"][0] for key in pair]}
    assert [o["status"] for o in side_by_side_handled(both)] == ["processed", "processed"]
    assert not any(key.startswith("errors/obs/pair/") for key in outputs(s3))
    return recorder.calls


def side_by_side_handled(event: dict[str, Any]) -> list[dict[str, str]]:
    """The handler's outcomes, its objects held until all of them run (so they share their deletes)."""
    together = threading.Barrier(len(event["Records"]), timeout=30)
    real = invocation.process

    def process(*args: Any, **kwargs: Any) -> Any:
        together.wait()
        return real(*args, **kwargs)

    invocation.process = process
    try:
        return ingest.handler(event, LocalContext())["outcomes"]
    finally:
        invocation.process = real


# the checks --------------------------------------------------------------------------------------


def test_the_scenario_takes_every_path(recorded: list[Call]) -> None:
    """The calls the brief of this check names are all there, so the comparison below means something."""
    seen = {(c.operation, bool(c.params.get("VersionId")), bool(c.params.get("IfMatch")), c.status) for c in recorded}
    for expected in [
        ("HeadObject", False, False, 404),  # metadata not there yet; the removed source
        ("HeadObject", False, False, 200),  # a large source's currency; a re-delivery's metadata
        ("GetObject", True, False, 206),  # ranged, by version: a large object
        ("GetObject", False, True, 206),  # If-Match: a small object read whole, as the current version
        ("PutObject", False, False, 200),
        ("DeleteObject", False, False, 204),
        ("DeleteObjects", False, False, 200),  # the error records of a batch's objects
        ("ListObjectsV2", False, False, 200),
        ("ReceiveMessage", False, False, 200),
        ("DeleteMessageBatch", False, False, 200),
        ("GetQueueAttributes", False, False, 200),
    ]:
        assert expected in seen, f"{expected} not in {sorted(seen)}"
    conditional = {c.status for c in recorded if c.operation == "PutObject" and c.params.get("IfNoneMatch") == "*"}
    assert conditional == {200, 412}  # the metadata's write, where no document was there and where one was


@pytest.mark.terraform  # the policies fixture: terraform init and `terraform test` plans
@pytest.mark.parametrize("mode", ["direct", "queue"])
def test_every_call_made_is_granted(policies: dict[str, dict[str, Any]], recorded: list[Call], mode: str) -> None:
    # In direct mode S3 invokes the function: nothing polls a queue.
    calls = [c for c in recorded if mode == "queue" or c.service == "s3"]
    refused = [n for c in calls for n in needs(c) if not allowed(policies[mode], n)]
    assert not refused, "\n".join(f"{n.action} on {n.resource} ({n.call})" for n in refused)


@pytest.mark.terraform
@pytest.mark.parametrize("mode", ["direct", "queue"])
def test_everything_granted_is_used(policies: dict[str, dict[str, Any]], recorded: list[Call], mode: str) -> None:
    calls = [c for c in recorded if mode == "queue" or c.service == "s3"]
    used = [n for c in calls for n in needs(c)]
    unused = []
    for sid, action, resource in grants(policies[mode]):
        if (sid, action) in USED_BY_AWS:
            continue
        statement = next(s for s in policies[mode]["Statement"] if s.get("Sid") == sid)
        single = {**statement, "Action": action, "Resource": resource}
        if not any(_statement_allows(single, n.action, n.resource, n.context) for n in used):
            unused.append(f"{sid}: {action} on {resource}")
    assert not unused, "granted but never used:\n" + "\n".join(unused)


@pytest.mark.terraform
def test_every_exception_names_a_grant(policies: dict[str, dict[str, Any]]) -> None:
    granted = {(sid, action) for policy in policies.values() for sid, action, _ in grants(policy)}
    assert set(USED_BY_AWS) <= granted, set(USED_BY_AWS) - granted


@pytest.mark.terraform
@pytest.mark.parametrize("mode", ["direct", "queue"])
def test_nothing_beyond_the_stack_is_granted(policies: dict[str, dict[str, Any]], mode: str) -> None:
    policy = policies[mode]
    wrongly = [(a, r) for a, r in MUST_BE_DENIED if allowed(policy, Need(a, r))]
    assert not wrongly, wrongly
    for sid, action, resource in grants(policy):
        assert "*" not in action, f"{sid}: wildcard action {action}"
        if resource == "*":  # X-Ray's two actions support no resource-level permissions
            assert action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"), f"{sid}: {action} on *"


def _list_bucket_conditioned(policy: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    """``policy`` with ``condition`` on its ListBucketsForNotFound statement."""
    statements = [{**s, "Condition": condition} if s.get("Sid") == "ListBucketsForNotFound" else s
                  for s in policy["Statement"]]
    return {**policy, "Statement": statements}


@pytest.mark.terraform
def test_list_bucket_stays_bucket_wide_for_the_404s(policies: dict[str, dict[str, Any]], recorded: list[Call]) -> None:
    """Why ListBucketsForNotFound has no s3:prefix condition (terraform/permissions.tf).

    The function lists only thumbnails/<key>/, but a GET or HEAD of a missing key is answered
    404 only if ListBucket is allowed in that request's own context, which has no s3:prefix:
    scoped to the prefixes the function touches, the listings would pass and every 404 be a 403.
    """
    needed = [n for c in recorded for n in needs(c) if n.action == "s3:ListBucket"]
    listings = [n for n in needed if n.context]
    not_found = [n for n in needed if not n.context]
    assert listings and all(dict(n.context)["s3:prefix"].startswith("thumbnails/") for n in listings)
    # Both buckets: the inbox's source key (any key at all), the output bucket's metadata/<key>.json.
    assert {n.resource for n in not_found} == {f"arn:aws:s3:::{INBOX}", f"arn:aws:s3:::{OUTPUT}"}
    assert {n.resource for n in listings} == {f"arn:aws:s3:::{OUTPUT}"}
    for policy in policies.values():
        scoped = _list_bucket_conditioned(policy, {"StringLike": {"s3:prefix": ["thumbnails/*", "metadata/*"]}})
        assert all(allowed(scoped, n) for n in listings)
        assert not any(allowed(scoped, n) for n in not_found)
        wrong = _list_bucket_conditioned(policy, {"StringLike": {"s3:prefix": ["thumbnail/*"]}})
        assert not any(allowed(wrong, n) for n in listings)  # and a wrong prefix is caught
