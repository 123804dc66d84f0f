################################################################################
# The function's execution role: exact ARNs, no wildcard actions.
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name_prefix}-lambda"
  description        = "Execution role of the ${local.function_name} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "ReadInboxObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.inbox_arn}/*"]
  }

  # Without s3:ListBucket, S3 answers 403 AccessDenied (not 404 NoSuchKey) for a
  # key that does not exist. The handler must tell "deleted before we read it"
  # (skipped) from "not allowed" (a setup fault) on the inbox, and "not processed
  # yet" from "not allowed" on the idempotency HEAD of metadata/<key>.json. On the
  # output bucket it also lists thumbnails/<key>/ to remove stale pictures.
  #
  # Bucket-wide on purpose, on both buckets: no s3:prefix condition narrows it.
  # S3 grants the 404 on the ListBucket the GET or HEAD itself is authorized with,
  # and that request carries no s3:prefix: an Allow conditioned on s3:prefix (say
  # thumbnails/* and metadata/* on the output bucket) would turn every missing key
  # into a 403, and a Deny of listings outside thumbnails/ cannot be told from
  # that same check either (an unprefixed listing carries no s3:prefix, like the
  # HEAD), so it would refuse the 404s or let a whole-bucket listing through. Each
  # bucket has a HEAD that needs its 404: the source key on the inbox (any key),
  # metadata/<key>.json on the output bucket. tests/test_iam_policy.py shows it.
  statement {
    sid       = "ListBucketsForNotFound"
    actions   = ["s3:ListBucket"]
    resources = [local.inbox_arn, local.output_arn]
  }

  statement {
    sid     = "WriteOutputs"
    actions = ["s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${local.output_arn}/metadata/*",
      "${local.output_arn}/thumbnails/*",
      "${local.output_arn}/errors/*",
    ]
  }

  # Idempotency: a HEAD of metadata/<key>.json says whether this version is done.
  statement {
    sid       = "ReadMetadata"
    actions   = ["s3:GetObject"]
    resources = ["${local.output_arn}/metadata/*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level
  # permissions: AWS requires "*" for them (and only these two actions get it).
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "SendAsyncFailures"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  # What the event source mapping needs, and all it needs (AWS's own
  # AWSLambdaSQSQueueExecutionRole): a failed message is not handed back with
  # ChangeMessageVisibility, it becomes visible again when its timeout expires.
  dynamic "statement" {
    for_each = local.queue_mode ? [one(aws_sqs_queue.this[*].arn)] : []

    content {
      sid = "ConsumeEventQueue"
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
      ]
      resources = [statement.value]
    }
  }

  # The key is used with the role only by S3 (SSE-KMS objects read from the inbox,
  # written to the output bucket) and SQS (messages received from the event queue,
  # sent to the failure queue): never directly. The environment variables are
  # decrypted through the grant Lambda creates on the key for this role when the
  # function is deployed, not through this statement.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseStackKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for service in ["s3", "sqs"] : "${service}.${local.region}.${local.dns_suffix}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name_prefix}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
