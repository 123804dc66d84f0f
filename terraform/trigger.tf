################################################################################
# How uploads reach the function.
#   direct: inbox --(S3 notification)--> function (asynchronous invocation)
#   queue:  inbox --(S3 notification)--> queue --(event source mapping)--> function
# Both subscribe ObjectCreated (process) and ObjectRemoved (remove derived
# outputs), one rule per FITS suffix.
################################################################################

locals {
  notification_events = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]

  # One rule per suffix, named after it (".fits.gz" -> "fits-suffix.fits.gz").
  notification_rules = { for suffix in var.fits_suffixes : "fits-suffix${suffix}" => suffix }
}

# direct ------------------------------------------------------------------------

resource "aws_lambda_permission" "allow" {
  count = local.queue_mode ? 0 : 1

  statement_id   = "AllowInvokeFromInbox"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.inbox_arn
  source_account = local.account_id
}

# queue -------------------------------------------------------------------------

resource "aws_sqs_queue" "this" {
  count = local.queue_mode ? 1 : 0

  name = "${var.name_prefix}-events"

  # AWS's advice for Lambda consumers: six times the function's timeout.
  visibility_timeout_seconds = min(6 * var.timeout, 43200)
  message_retention_seconds  = 345600 # 4 days
  receive_wait_time_seconds  = 20     # long polling

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[0].arn
    maxReceiveCount     = var.queue_max_receive_count
  })

  sqs_managed_sse_enabled = var.kms_key_arn == null ? true : null
  kms_master_key_id       = var.kms_key_arn
}

resource "aws_sqs_queue" "dlq" {
  count = local.queue_mode ? 1 : 0

  name                      = "${var.name_prefix}-events-dlq"
  message_retention_seconds = 1209600 # 14 days, the most SQS keeps

  sqs_managed_sse_enabled = var.kms_key_arn == null ? true : null
  kms_master_key_id       = var.kms_key_arn
}

data "aws_iam_policy_document" "queue" {
  count = local.queue_mode ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.queue_tls_only["events"].json]

  statement {
    sid       = "InboxNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this[0].arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.inbox_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  count = local.queue_mode ? 1 : 0

  queue_url = aws_sqs_queue.this[0].id
  policy    = data.aws_iam_policy_document.queue[0].json
}

# every queue -------------------------------------------------------------------

locals {
  # The failure queue in both modes; the event queue and its DLQ in queue mode.
  queues = merge(
    { failures = aws_sqs_queue.failures },
    local.queue_mode ? { events = aws_sqs_queue.this[0], dlq = aws_sqs_queue.dlq[0] } : {},
  )
}

# Every queue refuses requests not made over TLS, as the buckets do. The AWS
# services that use them (S3's notifications, the event source mapping, Lambda's
# on-failure destination) always call SQS over TLS.
data "aws_iam_policy_document" "queue_tls_only" {
  for_each = local.queues

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["sqs:*"] # a Deny: every action, over plain HTTP, from anyone

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    resources = [each.value.arn]

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The event queue's policy (aws_sqs_queue_policy.this) includes its document.
resource "aws_sqs_queue_policy" "tls_only" {
  for_each = { for role, queue in local.queues : role => queue if role != "events" }

  queue_url = each.value.id
  policy    = data.aws_iam_policy_document.queue_tls_only[each.key].json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = local.queue_mode ? 1 : 0

  event_source_arn = aws_sqs_queue.this[0].arn
  function_name    = aws_lambda_function.this.arn
  enabled          = var.enable_event_source_mapping

  batch_size              = var.queue_batch_size
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.queue_maximum_concurrency
  }

  # The role must be able to read the queue before the mapping is created.
  depends_on = [aws_iam_role_policy.lambda]
}

# both --------------------------------------------------------------------------

# A bucket has one notification configuration: this resource owns the inbox's.
resource "aws_s3_bucket_notification" "this" {
  bucket = aws_s3_bucket.this["inbox"].id

  dynamic "lambda_function" {
    for_each = local.queue_mode ? {} : local.notification_rules

    content {
      id                  = lambda_function.key
      lambda_function_arn = aws_lambda_function.this.arn
      events              = local.notification_events
      filter_suffix       = lambda_function.value
    }
  }

  dynamic "queue" {
    for_each = local.queue_mode ? local.notification_rules : {}

    content {
      id            = queue.key
      queue_arn     = one(aws_sqs_queue.this[*].arn)
      events        = local.notification_events
      filter_suffix = queue.value
    }
  }

  # S3 checks that it may deliver to the destination when the configuration is put.
  depends_on = [
    aws_lambda_permission.allow,
    aws_sqs_queue_policy.this,
  ]
}
