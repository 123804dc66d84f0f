output "inbox_bucket_name" {
  description = "Name of the inbox bucket: upload FITS files here."
  value       = aws_s3_bucket.this["inbox"].id
}

output "inbox_bucket_arn" {
  description = "ARN of the inbox bucket."
  value       = aws_s3_bucket.this["inbox"].arn
}

output "output_bucket_name" {
  description = "Name of the output bucket: metadata/, thumbnails/ and errors/ appear here."
  value       = aws_s3_bucket.this["output"].id
}

output "output_bucket_arn" {
  description = "ARN of the output bucket."
  value       = aws_s3_bucket.this["output"].arn
}

output "artifacts_bucket_name" {
  description = "Name of the bucket that carries the dependencies layer to Lambda."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "function_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "layer_version_arn" {
  description = "ARN of the dependencies layer version the function uses."
  value       = aws_lambda_layer_version.dependencies.arn
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "trigger_mode" {
  description = "How uploads reach the function: \"direct\" or \"queue\"."
  value       = var.trigger_mode
}

output "queue_url" {
  description = "URL of the queue that receives the inbox's S3 notifications (queue mode; null in direct mode)."
  value       = one(aws_sqs_queue.this[*].url)
}

output "queue_arn" {
  description = "ARN of the queue that receives the inbox's S3 notifications (queue mode; null in direct mode)."
  value       = one(aws_sqs_queue.this[*].arn)
}

output "dead_letter_queue_url" {
  description = "URL of the queue's dead-letter queue: S3 events that failed queue_max_receive_count times (queue mode; null in direct mode)."
  value       = one(aws_sqs_queue.dlq[*].url)
}

output "failure_queue_url" {
  description = "URL of the queue that receives asynchronous invocations that failed after their retries (direct mode's dead letters)."
  value       = aws_sqs_queue.failures.url
}

output "region" {
  description = "Region the stack is deployed in."
  value       = local.region
}

output "upload_command" {
  description = "A ready-to-paste command that uploads a FITS file to the inbox."
  value = join(" ", compact([
    "aws",
    local.aws_endpoint_url == null ? "" : "--endpoint-url ${local.aws_endpoint_url}",
    "--region ${local.region}",
    "s3 cp observation.fits s3://${aws_s3_bucket.this["inbox"].id}/observation.fits",
  ]))
}
