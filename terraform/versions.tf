terraform {
  # 1.9: variable validations may refer to other variables (inbox != output).
  required_version = ">= 1.9.0"

  # State on local disk (terraform.tfstate here) unless you replace this block,
  # e.g. with an S3 backend for a team. `make local-up` points it elsewhere
  # (-backend-config=path=.local/terraform.tfstate, in its own TF_DATA_DIR), so a
  # moto stack's state never mixes with a real deployment's.
  backend "local" {}

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # .terraform.lock.hcl pins the exact release (5.100.0) for every platform.
      version = ">= 5.100.0, < 6.0.0"
    }
  }
}
