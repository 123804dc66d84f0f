################################################################################
# The function: handlers.ingest.handler on python3.12, its dependencies as a
# layer, its own log group, X-Ray tracing, and a failure queue for
# asynchronous invocations that could not be processed.
################################################################################

locals {
  # The service's names in logs, metrics and traces. Every setting of the handler keeps its
  # own default (handlers/config.py, listed in the root README) unless var.function_environment
  # sets it: the defaults are stated once, there.
  stack_environment = {
    POWERTOOLS_SERVICE_NAME      = "fits-ingest"
    POWERTOOLS_METRICS_NAMESPACE = "FitsIngest"
    POWERTOOLS_LOG_LEVEL         = "INFO"
  }

  function_environment = merge(
    local.stack_environment,
    var.function_environment,
    {
      OUTPUT_BUCKET = local.bucket_names.output
      INBOX_BUCKET  = local.bucket_names.inbox # the handler refuses to start if both are the same
    },
  )
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable: these are per-object processing logs, not an audit trail.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_lambda_layer_version" "dependencies" {
  layer_name               = "${var.name_prefix}-dependencies"
  description              = "Pinned requirements.txt for python3.12 on ${var.architecture}"
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = [var.architecture]

  s3_bucket         = aws_s3_object.layer.bucket
  s3_key            = aws_s3_object.layer.key
  s3_object_version = aws_s3_object.layer.version_id
  source_code_hash  = filebase64sha256(local.layer_artifact_path)
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Asynchronous failures go to an on-failure destination (aws_lambda_function_event_invoke_config.this), which records the request and the error, unlike a DLQ; in queue mode the queue's redrive policy holds failed events.
  #checkov:skip=CKV_AWS_117:The function reaches only S3, SQS, CloudWatch and X-Ray; a VPC would need NAT or endpoints and protects nothing here.
  #checkov:skip=CKV_AWS_272:The code is built from this repository and pinned requirements by `make package`; code signing needs an AWS Signer profile that this stack does not own.
  function_name = local.function_name
  description   = "Reads FITS files uploaded to ${local.bucket_names.inbox}; writes metadata and thumbnails to ${local.bucket_names.output}"
  role          = aws_iam_role.lambda.arn

  runtime       = "python3.12"
  handler       = "handlers.ingest.handler"
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout

  # /tmp holds the decompressed copy of a gzip/bzip2/xz file (beyond 64 MiB in memory).
  ephemeral_storage {
    size = var.ephemeral_storage_mb
  }

  reserved_concurrent_executions = var.reserved_concurrent_executions

  filename         = local.code_artifact_path
  source_code_hash = filebase64sha256(local.code_artifact_path)
  layers           = [aws_lambda_layer_version.dependencies.arn]

  kms_key_arn = var.kms_key_arn

  environment {
    variables = local.function_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text" # Powertools' logger already writes one JSON document per line
    log_group  = aws_cloudwatch_log_group.lambda.name
  }

  lifecycle {
    precondition {
      condition     = fileexists(local.code_artifact_path) && fileexists(local.layer_artifact_path)
      error_message = "Missing Lambda artifacts (${local.code_artifact_path}, ${local.layer_artifact_path}): build them with `make package ARCH=${var.architecture}`. Relative paths are relative to terraform/."
    }
  }

  depends_on = [
    # The log group first: otherwise the first invocation creates it, unmanaged and kept forever.
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

resource "aws_sqs_queue" "failures" {
  name                      = "${var.name_prefix}-failures"
  message_retention_seconds = 1209600 # 14 days, the most SQS keeps

  sqs_managed_sse_enabled = var.kms_key_arn == null ? true : null
  kms_master_key_id       = var.kms_key_arn
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name = aws_lambda_function.this.function_name

  maximum_retry_attempts       = var.async_maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_maximum_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}
