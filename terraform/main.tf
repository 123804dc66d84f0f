data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  dns_suffix = data.aws_partition.current.dns_suffix # amazonaws.com; amazonaws.com.cn in China

  queue_mode    = var.trigger_mode == "queue"
  function_name = var.name_prefix

  # Bucket names are global: the account ID keeps the defaults unique per account.
  bucket_names = {
    inbox     = coalesce(var.inbox_bucket_name, "${var.name_prefix}-${local.account_id}-inbox")
    output    = coalesce(var.output_bucket_name, "${var.name_prefix}-${local.account_id}-output")
    artifacts = "${var.name_prefix}-${local.account_id}-artifacts"
  }

  # Artifacts written by `make package ARCH=<architecture>`.
  code_artifact_path  = coalesce(var.code_artifact_path, "${path.module}/../build/${var.architecture}/function.zip")
  layer_artifact_path = coalesce(var.layer_artifact_path, "${path.module}/../build/${var.architecture}/layer.zip")

  # null: AWS's own endpoints. The local stack's override file sets its moto server's URL
  # here, for upload_command and the deny_insecure_transport check.
  aws_endpoint_url = null

  inbox_arn  = aws_s3_bucket.this["inbox"].arn
  output_arn = aws_s3_bucket.this["output"].arn
}
