"""The Terraform stack: formatted, valid, checkov-clean, and planned against a moto server.

Offline: the hashicorp/aws provider comes from a local mirror when the machine has one
(tools/terraform_env.sh), Terraform's working data goes to a temporary TF_DATA_DIR, and
every plan talks to a moto server on 127.0.0.1, from a working copy of terraform/ with the
local stack's override file (the plan that must fail on real AWS's terms runs in terraform/
itself). Nothing is applied here: the local stack (make local-up) does that.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import terraform_docs
from tools.motoserver import moto_server

from .terraform_support import (
    ROOT,
    TERRAFORM_DIR,
    moto_module,
    requires_terraform,
    run,
    stand_in_artifacts,
    terraform,
    terraform_env,
)

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
FITS_SUFFIXES = [".fits", ".fit", ".fts", ".fits.gz", ".fz"]

pytestmark = requires_terraform


@pytest.fixture(scope="module")
def tf_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Terraform's environment: automation mode, a throwaway data dir, the mirror if any."""
    return terraform_env(tmp_path_factory.mktemp("terraform"))


def _untracked_terraform_files() -> set[str]:
    return {p.relative_to(TERRAFORM_DIR).as_posix() for p in TERRAFORM_DIR.rglob("*")}


@pytest.fixture(scope="module")
def initialized(tf_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`terraform init` against the committed lock file, leaving nothing in terraform/."""
    before = _untracked_terraform_files()
    result = terraform(
        ["init", "-input=false", "-lockfile=readonly", f"-backend-config=path={tf_env['STATE_PATH']}"], tf_env
    )
    if result.returncode != 0 and "TF_CLI_CONFIG_FILE" not in tf_env:
        pytest.skip(f"no provider mirror on this machine and the registry is unreachable:\n{result.stderr}")
    assert result.returncode == 0, result.stdout + result.stderr
    yield tf_env
    assert _untracked_terraform_files() == before, "terraform init or plan left files in terraform/"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Small stand-ins for build/: a plan reads only their hashes."""
    return stand_in_artifacts(tmp_path_factory.mktemp("artifacts"))


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as server:
        yield server.url


@pytest.fixture(scope="module")
def on_moto(initialized: dict[str, str], moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working copy of terraform/ with the local stack's override file for ``moto_url``, initialized."""
    module = moto_module(moto_url, tmp_path_factory.mktemp("module") / "terraform")
    result = terraform(
        ["init", "-input=false", "-lockfile=readonly", f"-backend-config=path={initialized['STATE_PATH']}"],
        initialized,
        chdir=module,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return module


def local_vars(artifacts: dict[str, str], **overrides: object) -> list[str]:
    values: dict[str, object] = {
        "aws_region": "us-east-1",
        **artifacts,
        **overrides,
    }
    args = []
    for name, value in values.items():
        if value is None:
            continue  # left at its default
        rendered = json.dumps(value) if not isinstance(value, str) else value
        args += ["-var", f"{name}={rendered}"]
    return args


def plan(env: dict[str, str], module: Path, artifacts: dict[str, str], tmp_path: Path, **overrides: object) -> dict:
    """Plan against moto (``module``: the working copy with the override file); `terraform show -json` of it."""
    plan_file = tmp_path / "plan.bin"
    result = terraform(
        ["plan", "-input=false", "-lock=false", f"-out={plan_file}", *local_vars(artifacts, **overrides)],
        env,
        chdir=module,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shown = terraform(["show", "-json", str(plan_file)], env, chdir=module)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def changes(planned: dict) -> dict[str, dict]:
    return {change["address"]: change["change"]["after"] for change in planned["resource_changes"]}


def changes_of(planned: dict, address: str) -> dict:
    """The whole planned change of ``address``: ``after``, and ``after_unknown`` for what apply decides."""
    return next(change["change"] for change in planned["resource_changes"] if change["address"] == address)


# static checks -----------------------------------------------------------------


def test_terraform_is_formatted(tf_env: dict[str, str]) -> None:
    result = run(["terraform", "fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM_DIR)], tf_env)
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{result.stdout}{result.stderr}"


@pytest.mark.terraform
def test_terraform_validates(initialized: dict[str, str]) -> None:
    result = terraform(["validate", "-json"], initialized)
    report = json.loads(result.stdout)
    assert report["valid"], report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]


def test_lock_file_pins_the_provider_for_every_platform() -> None:
    lock = (TERRAFORM_DIR / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert re.search(r'version\s+=\s+"5\.100\.0"', lock)
    # zh: hashes are the release's SHA256SUMS, one per platform; h1: only the platforms
    # someone ran init on. A lock with h1: alone would break init on other platforms.
    assert len(re.findall(r'"zh:[0-9a-f]{64}"', lock)) >= 14


def test_every_checkov_skip_gives_a_reason() -> None:
    skips = [
        (path.name, line.strip())
        for path in TERRAFORM_DIR.glob("*.tf")
        for line in path.read_text().splitlines()
        if "checkov:skip" in line
    ]
    assert skips
    for name, line in skips:
        assert re.fullmatch(r"#checkov:skip=CKV2?_AWS_\d+:.{20,}", line), f"{name}: {line}"


@pytest.mark.terraform
def test_checkov_finds_nothing(tf_env: dict[str, str]) -> None:
    # The venv is built once (make's stamp), then reused: a re-run costs nothing.
    bootstrap = run(["make", "-s", "checkov-venv"], tf_env, timeout=900, cwd=ROOT)
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    env = {**tf_env, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "true"}
    result = run(
        [str(CHECKOV), "--directory", str(TERRAFORM_DIR), "--framework", "terraform", "--skip-download",
         "--output", "json"],
        env,
        cwd=ROOT,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0 and not failed, failed
    assert summary["passed"] > 50
    assert summary["parsing_errors"] == 0


# plans against moto -------------------------------------------------------------


@pytest.mark.terraform
def test_direct_mode_plan(
    initialized: dict[str, str], on_moto: Path, artifacts: dict[str, str], tmp_path: Path
) -> None:
    planned = plan(initialized, on_moto, artifacts, tmp_path)
    after = changes(planned)

    function = after["aws_lambda_function.this"]
    assert function["runtime"] == "python3.12" and function["handler"] == "handlers.ingest.handler"
    assert function["architectures"] == ["x86_64"]
    assert function["tracing_config"] == [{"mode": "Active"}]
    assert function["reserved_concurrent_executions"] == 10
    environment = function["environment"][0]["variables"]
    # The handler's settings keep config.py's defaults: the stack does not state them again.
    assert not [name for name in environment if name.startswith(("THUMBNAIL_", "READ_", "MAX_"))]
    assert environment["POWERTOOLS_SERVICE_NAME"] == "fits-ingest"
    assert environment["OUTPUT_BUCKET"] == "fits-ingest-123456789012-output"
    assert environment["INBOX_BUCKET"] == "fits-ingest-123456789012-inbox"

    invoke = after["aws_lambda_function_event_invoke_config.this"]
    assert invoke["maximum_retry_attempts"] == 2 and invoke["maximum_event_age_in_seconds"] == 3600

    permission = after["aws_lambda_permission.allow[0]"]
    assert permission["principal"] == "s3.amazonaws.com" and permission["source_account"] == "123456789012"
    notification = after["aws_s3_bucket_notification.this"]
    assert sorted(rule["filter_suffix"] for rule in notification["lambda_function"]) == sorted(FITS_SUFFIXES)
    assert notification["queue"] == []
    for rule in notification["lambda_function"]:
        assert sorted(rule["events"]) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]

    resources = planned["configuration"]["root_module"]["resources"]
    notification_config = next(r for r in resources if r["address"] == "aws_s3_bucket_notification.this")
    assert "aws_lambda_permission.allow" in notification_config["depends_on"]

    assert not [address for address in after if address.startswith(("aws_sqs_queue.this", "aws_lambda_event_source"))]
    assert planned["planned_values"]["outputs"]["queue_url"]["value"] is None
    assert after["aws_s3_bucket_policy.this[\"inbox\"]"] is not None  # TLS only


@pytest.mark.terraform
def test_queue_mode_plan(initialized: dict[str, str], on_moto: Path, artifacts: dict[str, str], tmp_path: Path) -> None:
    planned = plan(
        initialized,
        on_moto,
        artifacts,
        tmp_path,
        trigger_mode="queue",
        enable_event_source_mapping=False,
        architecture="arm64",
        function_environment={"THUMBNAIL_STRETCH": "asinh", "POWERTOOLS_LOG_LEVEL": "DEBUG"},
    )
    after = changes(planned)
    environment = after["aws_lambda_function.this"]["environment"][0]["variables"]
    assert environment["THUMBNAIL_STRETCH"] == "asinh" and environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    mapping = after["aws_lambda_event_source_mapping.this[0]"]
    assert mapping["enabled"] is False
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["scaling_config"] == [{"maximum_concurrency": 10}]
    queue = after["aws_sqs_queue.this[0]"]
    assert queue["visibility_timeout_seconds"] == 6 * 120 and queue["sqs_managed_sse_enabled"] is True
    assert after["aws_sqs_queue.dlq[0]"]["sqs_managed_sse_enabled"] is True
    notification = after["aws_s3_bucket_notification.this"]
    assert sorted(rule["filter_suffix"] for rule in notification["queue"]) == sorted(FITS_SUFFIXES)
    assert notification["lambda_function"] == []
    assert "aws_lambda_permission.allow" not in " ".join(after)
    assert after["aws_lambda_function.this"]["architectures"] == ["arm64"]
    assert after["aws_lambda_layer_version.dependencies"]["compatible_architectures"] == ["arm64"]
    assert after["aws_s3_object.layer"]["key"] == "layers/arm64/dependencies.zip"


@pytest.fixture(scope="module")
def refused_inputs(initialized: dict[str, str], moto_url: str, artifacts: dict[str, str]) -> str:
    """One plan with every bad input at once: Terraform reports each failed validation."""
    bad = {
        "inbox_bucket_name": "same-bucket",
        "output_bucket_name": "same-bucket",
        "fits_suffixes": [".fits", ".gz", ".fits.gz"],
        "function_environment": {"OUTPUT_BUCKET": "elsewhere"},
        "architecture": "i386",
        "trigger_mode": "sns",
        "reserved_concurrent_executions": 5,
        "queue_maximum_concurrency": 10,
        "kms_key_arn": "alias/aws/s3",
        "deny_insecure_transport": False,
    }
    # terraform/ itself, as `make deploy` plans it: no override file, so no local endpoint. Validation
    # stops the plan; AWS_ENDPOINT_URL keeps whatever the provider might call on moto all the same.
    env = {**initialized, "AWS_ENDPOINT_URL": moto_url}
    result = terraform(["plan", "-input=false", "-lock=false", *local_vars(artifacts, **bad)], env)
    assert result.returncode == 1
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    "message",
    [
        "output_bucket_name must differ from inbox_bucket_name",
        "none may end with another",
        "OUTPUT_BUCKET and INBOX_BUCKET are set by the stack",
        "architecture must be",
        "trigger_mode must be",
        "queue_maximum_concurrency must not exceed reserved_concurrent_executions",
        "not an alias",
        "deny_insecure_transport may be false only together with aws_endpoint_url",
    ],
)
@pytest.mark.terraform
def test_plan_refuses_bad_inputs(refused_inputs: str, message: str) -> None:
    assert message in refused_inputs, refused_inputs


@pytest.mark.terraform
def test_plan_refuses_an_inbox_named_like_the_output(
    initialized: dict[str, str], on_moto: Path, artifacts: dict[str, str]
) -> None:
    # Only the account ID reveals the collision: the precondition catches it at plan time.
    overrides = {"inbox_bucket_name": "fits-ingest-123456789012-output"}
    result = terraform(
        ["plan", "-input=false", "-lock=false", *local_vars(artifacts, **overrides)], initialized, chdir=on_moto
    )
    assert result.returncode == 1
    assert "must be distinct" in " ".join(result.stderr.split()), result.stderr


def statements(after: dict[str, dict], document: str) -> dict[str, dict]:
    """The planned statements of ``data.aws_iam_policy_document.<document>``, by Sid."""
    return {s["sid"]: s for s in after[f"data.aws_iam_policy_document.{document}"]["statement"]}


def conditions(statement: dict) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(c["test"], c["variable"], tuple(c["values"])) for c in statement["condition"]}


def denies_everyone_everything(statement: dict, action: str) -> bool:
    return (statement["effect"], statement["actions"], statement["principals"]) == (
        "Deny", [action], [{"type": "*", "identifiers": ["*"]}]
    )


QUEUES = {"events", "dlq", "failures"}
PLAIN_HTTP = ("Bool", "aws:SecureTransport", ("false",))


@pytest.mark.terraform
def test_buckets_and_queues_refuse_plain_http(
    initialized: dict[str, str], on_moto: Path, artifacts: dict[str, str], tmp_path: Path
) -> None:
    planned = plan(initialized, on_moto, artifacts, tmp_path, trigger_mode="queue")
    after = changes(planned)
    for role in ("inbox", "output", "artifacts"):
        bucket = statements(after, f'bucket["{role}"]')
        assert set(bucket) == {"DenyInsecureTransport", "DenyOutdatedTls"}, role
        assert all(denies_everyone_everything(s, "s3:*") for s in bucket.values()), role
        assert conditions(bucket["DenyInsecureTransport"]) == {PLAIN_HTTP}
        assert conditions(bucket["DenyOutdatedTls"]) == {("NumericLessThan", "s3:TlsVersion", ("1.2",))}
    # Every queue: its own policy denies plain HTTP on its own ARN (unknown until created: one ARN).
    for role in QUEUES:
        tls_only = changes_of(planned, f'data.aws_iam_policy_document.queue_tls_only["{role}"]')
        (deny,) = tls_only["after"]["statement"]
        assert deny["sid"] == "DenyInsecureTransport" and denies_everyone_everything(deny, "sqs:*")
        assert conditions(deny) == {PLAIN_HTTP}
        assert tls_only["after_unknown"]["statement"][0]["resources"] == [True], role
    assert {a for a in after if a.startswith("aws_sqs_queue_policy.")} == {
        "aws_sqs_queue_policy.this[0]", *(f'aws_sqs_queue_policy.tls_only["{role}"]' for role in ("dlq", "failures"))
    }
    # The event queue's policy is its TLS-only document and S3's SendMessage, scoped as before.
    config = {r["address"]: r for r in planned["configuration"]["root_module"]["resources"]}
    sources = config["data.aws_iam_policy_document.queue"]["expressions"]["source_policy_documents"]["references"]
    assert sources[0] == 'data.aws_iam_policy_document.queue_tls_only["events"].json'
    (send,) = statements(after, "queue[0]").values()
    assert send["sid"] == "InboxNotifications" and send["actions"] == ["sqs:SendMessage"]
    assert send["principals"] == [{"type": "Service", "identifiers": ["s3.amazonaws.com"]}]
    assert {(c["test"], c["variable"]) for c in send["condition"]} == {
        ("ArnEquals", "aws:SourceArn"), ("StringEquals", "aws:SourceAccount")
    }
    assert ("StringEquals", "aws:SourceAccount", ("123456789012",)) in conditions(send)


@pytest.mark.terraform
def test_the_local_stack_drops_the_bucket_policies_only(
    initialized: dict[str, str], on_moto: Path, artifacts: dict[str, str], tmp_path: Path
) -> None:
    # moto ignores aws:SecureTransport in bucket policies (they would refuse its plain HTTP) and
    # evaluates no queue policy at all: deny_insecure_transport = false drops the former only.
    after = changes(plan(initialized, on_moto, artifacts, tmp_path, deny_insecure_transport=False))
    assert not [a for a in after if a.startswith(("aws_s3_bucket_policy.", "data.aws_iam_policy_document.bucket"))]
    assert {a for a in after if a.startswith("aws_sqs_queue_policy.")} == {'aws_sqs_queue_policy.tls_only["failures"]'}
    assert "UseStackKey" not in statements(after, "lambda")  # no key, no KMS permission


@pytest.mark.terraform
def test_the_stack_key_is_usable_only_through_s3_and_sqs(
    initialized: dict[str, str], on_moto: Path, artifacts: dict[str, str], tmp_path: Path
) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    after = changes(plan(initialized, on_moto, artifacts, tmp_path, kms_key_arn=key))
    use = statements(after, "lambda")["UseStackKey"]
    assert use["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"] and use["resources"] == [key]
    assert conditions(use) == {
        ("StringEquals", "kms:ViaService", ("s3.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"))
    }


# documentation and tooling ------------------------------------------------------------


def test_readme_tables_every_input_and_output() -> None:
    readme = (TERRAFORM_DIR / "README.md").read_text()
    variables = re.findall(r'^variable "(\w+)"', (TERRAFORM_DIR / "variables.tf").read_text(), re.M)
    outputs = re.findall(r'^output "(\w+)"', (TERRAFORM_DIR / "outputs.tf").read_text(), re.M)
    assert {"inbox_bucket_name", "output_bucket_name", "function_name"} <= set(outputs)  # the contract
    missing = [name for name in variables + outputs if f"| `{name}` |" not in readme]
    assert not missing, f"terraform/README.md does not table: {missing}"


def test_readme_inputs_and_outputs_are_generated_from_the_tf_files() -> None:
    # Types, defaults and descriptions are stated once, in variables.tf and outputs.tf.
    assert (TERRAFORM_DIR / "README.md").read_text() == terraform_docs.generated_readme(), (
        "run `python -m tools.terraform_docs` to regenerate terraform/README.md's inputs and outputs"
    )


def test_descriptions_are_one_or_two_sentences() -> None:
    for entry in [*terraform_docs.read_blocks(TERRAFORM_DIR / "variables.tf"),
                  *terraform_docs.read_blocks(TERRAFORM_DIR / "outputs.tf")]:
        sentences = re.findall(r"[.!?](?:\s|$)", entry.description)
        assert 1 <= len(sentences) <= 2, f"{entry.kind} {entry.name}: {entry.description}"


def test_the_module_names_no_local_endpoint_setting() -> None:
    # The moto-only provider settings live in the local stack's override file (tools/local_stack.py).
    text = "\n".join(path.read_text() for path in TERRAFORM_DIR.glob("*.tf"))
    for setting in ("endpoints", "skip_credentials_validation", "skip_requesting_account_id", "s3_use_path_style"):
        assert not re.search(rf"^\s*{setting}\s*[={{]", text, re.M), setting
    assert not re.search(r'^variable "aws_(endpoint|skip|s3)', text, re.M)
    assert not list(TERRAFORM_DIR.glob("*_override.tf*"))


def test_terraform_env_points_at_a_mirror(tmp_path: Path) -> None:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / f"linux_{machine}").mkdir(parents=True)
    config = tmp_path / "cli.tfrc"
    env = {**os.environ, "TF_PLUGIN_MIRROR": str(mirror)}
    result = run(["sh", str(ROOT / "tools" / "terraform_env.sh"), str(config)], env)
    assert result.returncode == 0, result.stderr
    assert f"export TF_CLI_CONFIG_FILE='{config}'" in result.stdout.splitlines()
    text = config.read_text()
    assert f'path    = "{mirror}"' in text and 'include = ["registry.terraform.io/hashicorp/aws"]' in text
    assert "direct {" in text  # every other provider still comes from the registry
