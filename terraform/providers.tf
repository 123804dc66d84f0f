# Credentials and region come from the usual AWS chain (environment, profile, SSO,
# instance role); nothing here is hard-coded. The aws_* variables below exist for
# AWS-compatible local endpoints (a moto server) and are off by default.
provider "aws" {
  region = var.aws_region

  skip_credentials_validation = var.aws_skip_credentials_validation
  skip_requesting_account_id  = var.aws_skip_requesting_account_id
  s3_use_path_style           = var.aws_s3_use_path_style

  # One URL for every service the stack uses. The provider also honours the
  # AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> environment variables.
  dynamic "endpoints" {
    for_each = var.aws_endpoint_url == null ? [] : [var.aws_endpoint_url]

    content {
      iam    = endpoints.value
      kms    = endpoints.value
      lambda = endpoints.value
      logs   = endpoints.value
      s3     = endpoints.value
      sqs    = endpoints.value
      sts    = endpoints.value
    }
  }

  default_tags {
    tags = merge({ Stack = var.name_prefix, ManagedBy = "terraform" }, var.tags)
  }
}
