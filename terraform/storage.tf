################################################################################
# Buckets: inbox (uploads, versioned), output (derived documents and pictures),
# artifacts (the dependencies layer, versioned). All three are private,
# encrypted, owner-enforced and refuse requests that are not over TLS 1.2 or later.
################################################################################

locals {
  versioned_buckets = toset(var.inbox_versioning ? ["inbox", "artifacts"] : ["artifacts"])

  expiration_days = {
    inbox     = var.inbox_expiration_days
    output    = var.output_expiration_days
    artifacts = null
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket of their own that this stack does not own; enable CloudTrail S3 data events on the inbox for an audit trail.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice for the operator; the outputs can be regenerated from the inbox.
  #checkov:skip=CKV2_AWS_62:Only the inbox needs event notifications (aws_s3_bucket_notification.this); notifying on the output or artifacts bucket would be noise, or a loop.
  for_each = local.bucket_names

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = {
    Role = each.key
  }

  lifecycle {
    precondition {
      condition     = local.bucket_names.inbox != local.bucket_names.output
      error_message = "The inbox and the output bucket must be distinct: the function would trigger itself on its own outputs."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = { for role, bucket in aws_s3_bucket.this : role => bucket if contains(local.versioned_buckets, role) }

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "bucket" {
  for_each = var.deny_insecure_transport ? aws_s3_bucket.this : {}

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"] # a Deny: every action, over plain HTTP, from anyone

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # TLS 1.0 and 1.1 are deprecated (RFC 8996): refused, as plain HTTP is.
  statement {
    sid     = "DenyOutdatedTls"
    effect  = "Deny"
    actions = ["s3:*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = var.deny_insecure_transport ? aws_s3_bucket.this : {}

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  # S3 refuses a policy while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    for_each = local.expiration_days[each.key] == null ? [] : [local.expiration_days[each.key]]

    content {
      id     = "expire-objects"
      status = "Enabled"

      filter {}

      expiration {
        days = rule.value
      }
    }
  }

  dynamic "rule" {
    for_each = contains(local.versioned_buckets, each.key) ? [var.noncurrent_version_expiration_days] : []

    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"

      filter {}

      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
    }
  }

  # Lifecycle rules on a versioned bucket need versioning configured first.
  depends_on = [aws_s3_bucket_versioning.this]
}

# The dependencies layer is about 49 MiB zipped, at Lambda's 50 MiB limit for a
# direct upload (see `make package`): it reaches Lambda through the artifacts
# bucket, where only the 250 MiB unzipped limit applies.
resource "aws_s3_object" "layer" {
  bucket      = aws_s3_bucket.this["artifacts"].id
  key         = "layers/${var.architecture}/dependencies.zip"
  source      = local.layer_artifact_path
  source_hash = filemd5(local.layer_artifact_path)

  depends_on = [
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
  ]
}
