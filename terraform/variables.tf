################################################################################
# Naming and provider
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: the function, the buckets (<prefix>-<account>-inbox, -output, -artifacts) and the queues (<prefix>-events, -events-dlq, -failures)."
  type        = string
  default     = "fits-ingest"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 32 lowercase letters, digits or hyphens, starting and ending with a letter or digit (it becomes part of bucket names)."
  }
}

variable "tags" {
  description = "Tags added to every resource, over Stack=<name_prefix> and ManagedBy=terraform."
  type        = map(string)
  default     = {}
}

variable "aws_region" {
  description = "AWS region to deploy to. null: the region of the usual AWS chain (AWS_REGION, profile)."
  type        = string
  default     = null

  validation {
    condition     = var.aws_region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must look like \"eu-west-1\"."
  }
}

################################################################################
# Storage
################################################################################

variable "inbox_bucket_name" {
  description = "Name of the inbox bucket (where FITS files are uploaded). null: <name_prefix>-<account>-inbox."
  type        = string
  default     = null

  validation {
    condition     = var.inbox_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.inbox_bucket_name))
    error_message = "inbox_bucket_name must be a valid S3 bucket name."
  }
}

variable "output_bucket_name" {
  description = "Name of the output bucket (metadata/, thumbnails/, errors/); it must differ from the inbox. null: <name_prefix>-<account>-output."
  type        = string
  default     = null

  validation {
    condition     = var.output_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_bucket_name))
    error_message = "output_bucket_name must be a valid S3 bucket name."
  }

  validation {
    condition     = var.output_bucket_name == null || var.output_bucket_name != var.inbox_bucket_name
    error_message = "output_bucket_name must differ from inbox_bucket_name: the function would trigger itself on its own outputs."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects. For throwaway stacks only."
  type        = bool
  default     = false
}

variable "inbox_versioning" {
  description = "Keep every version of the inbox's objects, so that the version an event announces is the one processed even if the key is overwritten."
  type        = bool
  default     = true
}

variable "deny_insecure_transport" {
  description = "Give every bucket a policy that denies requests not made over TLS 1.2 or later (the queues refuse plain HTTP regardless). Only the local stack on moto turns it off."
  type        = bool
  default     = true

  validation {
    condition     = var.deny_insecure_transport || local.aws_endpoint_url != null
    error_message = "deny_insecure_transport may be false only together with aws_endpoint_url, the local endpoint (moto) that the local stack's override file sets."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the buckets, queues, log group and environment variables (its key policy: see the README). null: SSE-S3, SSE-SQS and AWS-owned keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "inbox_expiration_days" {
  description = "Days after upload at which inbox objects expire (their older versions follow after noncurrent_version_expiration_days). null: keep them."
  type        = number
  default     = null

  validation {
    condition     = var.inbox_expiration_days == null || try(var.inbox_expiration_days >= 1 && floor(var.inbox_expiration_days) == var.inbox_expiration_days, false)
    error_message = "inbox_expiration_days must be a whole number of days, at least 1, or null."
  }
}

variable "output_expiration_days" {
  description = "Delete outputs (metadata, thumbnails, error records) this many days after they are written. null: keep them."
  type        = number
  default     = null

  validation {
    condition     = var.output_expiration_days == null || try(var.output_expiration_days >= 1 && floor(var.output_expiration_days) == var.output_expiration_days, false)
    error_message = "output_expiration_days must be a whole number of days, at least 1, or null."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted versions in the versioned buckets (inbox, artifacts) are removed."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

################################################################################
# Function
################################################################################

variable "architecture" {
  description = "Instruction set of the function; build the matching artifacts with `make package ARCH=<architecture>`."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB; Lambda gives CPU in proportion. How the default was chosen: README, \"Sizing the function\"."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Timeout of one invocation in seconds; in queue mode it covers a whole batch. The queue's visibility timeout is six times it."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "ephemeral_storage_mb" {
  description = "Size of the function's /tmp in MB, where a whole-file compressed object is decompressed. Keep it above MAX_DECOMPRESSED_BYTES."
  type        = number
  default     = 2048

  validation {
    condition     = var.ephemeral_storage_mb >= 512 && var.ephemeral_storage_mb <= 10240 && floor(var.ephemeral_storage_mb) == var.ephemeral_storage_mb
    error_message = "ephemeral_storage_mb must be a whole number of MB from 512 to 10240."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for, and capping, the function: it bounds cost and S3 request rates. -1: no reservation (needed in accounts whose concurrency quota is still 10)."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrent_executions == -1 || (var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions)
    error_message = "reserved_concurrent_executions must be -1 (no reservation) or a whole number of at least 1 (0 would stop the function)."
  }
}

variable "function_environment" {
  description = "Settings of the function (the root README lists them, with the handler's defaults), merged over the stack's POWERTOOLS_ names. OUTPUT_BUCKET and INBOX_BUCKET are set by the stack."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.function_environment) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k))])
    error_message = "function_environment keys must be environment variable names (letters, digits, underscores)."
  }

  validation {
    condition     = length(setintersection(keys(var.function_environment), ["OUTPUT_BUCKET", "INBOX_BUCKET"])) == 0
    error_message = "OUTPUT_BUCKET and INBOX_BUCKET are set by the stack; choose the buckets with output_bucket_name and inbox_bucket_name."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days (0: never expire)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "async_maximum_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (direct mode) before the event goes to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_maximum_retry_attempts)
    error_message = "async_maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "async_maximum_event_age_seconds" {
  description = "Age after which an asynchronous event (direct mode) that could not be processed goes to the failure queue instead of being retried."
  type        = number
  default     = 3600

  validation {
    condition     = var.async_maximum_event_age_seconds >= 60 && var.async_maximum_event_age_seconds <= 21600 && floor(var.async_maximum_event_age_seconds) == var.async_maximum_event_age_seconds
    error_message = "async_maximum_event_age_seconds must be a whole number from 60 to 21600."
  }
}

variable "code_artifact_path" {
  description = "Path of the function's code zip. null: build/<architecture>/function.zip from `make package`."
  type        = string
  default     = null

  validation {
    condition     = var.code_artifact_path == null || can(regex("\\.zip$", var.code_artifact_path))
    error_message = "code_artifact_path must name a .zip file."
  }
}

variable "layer_artifact_path" {
  description = "Path of the dependencies layer zip (python/ prefix), uploaded through the artifacts bucket. null: build/<architecture>/layer.zip from `make package`."
  type        = string
  default     = null

  validation {
    condition     = var.layer_artifact_path == null || can(regex("\\.zip$", var.layer_artifact_path))
    error_message = "layer_artifact_path must name a .zip file."
  }
}

################################################################################
# Trigger
################################################################################

variable "trigger_mode" {
  description = "\"direct\": S3 invokes the function asynchronously. \"queue\": S3 sends to an SQS queue that the function polls (batches, partial batch failures, a redrive DLQ, bounded concurrency)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queue"], var.trigger_mode)
    error_message = "trigger_mode must be \"direct\" or \"queue\"."
  }
}

variable "fits_suffixes" {
  description = "Key suffixes that trigger the function, one S3 notification rule each. Case-sensitive; none may end with another (S3 refuses overlapping rules)."
  type        = list(string)
  default     = [".fits", ".fit", ".fts", ".fits.gz", ".fz"]

  validation {
    condition     = length(var.fits_suffixes) > 0 && length(var.fits_suffixes) <= 100 && alltrue([for s in var.fits_suffixes : can(regex("^\\.[A-Za-z0-9._-]+$", s))])
    error_message = "fits_suffixes must be 1 to 100 suffixes, each starting with a dot, e.g. \".fits\"."
  }

  validation {
    condition     = alltrue([for a in var.fits_suffixes : alltrue([for b in var.fits_suffixes : a == b || !endswith(a, b)])]) && length(distinct(var.fits_suffixes)) == length(var.fits_suffixes)
    error_message = "fits_suffixes must be distinct and none may end with another (\".gz\" and \".fits.gz\" overlap): S3 refuses overlapping notification rules."
  }
}

variable "enable_event_source_mapping" {
  description = "Queue mode: let Lambda poll the queue. false leaves the mapping disabled (the local stack's worker polls instead)."
  type        = bool
  default     = true
}

variable "queue_batch_size" {
  description = "Queue mode: most S3 events handed to one invocation. The function's timeout must cover the whole batch."
  type        = number
  default     = 5

  validation {
    condition     = var.queue_batch_size >= 1 && var.queue_batch_size <= 10 && floor(var.queue_batch_size) == var.queue_batch_size
    error_message = "queue_batch_size must be a whole number from 1 to 10."
  }
}

variable "queue_maximum_concurrency" {
  description = "Queue mode: most concurrent invocations the event source mapping starts. At most reserved_concurrent_executions, or throttled batches count towards the DLQ."
  type        = number
  default     = 10

  validation {
    condition     = var.queue_maximum_concurrency >= 2 && var.queue_maximum_concurrency <= 1000 && floor(var.queue_maximum_concurrency) == var.queue_maximum_concurrency
    error_message = "queue_maximum_concurrency must be a whole number from 2 to 1000."
  }

  validation {
    condition     = var.reserved_concurrent_executions == -1 || var.queue_maximum_concurrency <= var.reserved_concurrent_executions
    error_message = "queue_maximum_concurrency must not exceed reserved_concurrent_executions."
  }
}

variable "queue_max_receive_count" {
  description = "Queue mode: deliveries of one S3 event before the queue moves it to its dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.queue_max_receive_count >= 1 && var.queue_max_receive_count <= 1000 && floor(var.queue_max_receive_count) == var.queue_max_receive_count
    error_message = "queue_max_receive_count must be a whole number from 1 to 1000."
  }
}
