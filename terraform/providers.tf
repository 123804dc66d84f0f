# Credentials and region come from the usual AWS chain (environment, profile, SSO,
# instance role); nothing here is hard-coded. The local stack on moto adds its own
# settings in an override file of its working copy (see README.md, "The local stack").
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Stack = var.name_prefix, ManagedBy = "terraform" }, var.tags)
  }
}
