#!/bin/sh
# Print the environment that points Terraform at a local provider mirror, if this
# machine has one; print nothing otherwise (Terraform then uses the registry).
#
#   eval "$(tools/terraform_env.sh)"        # in a shell or a make recipe
#   tools/terraform_env.sh [CONFIG_PATH]      # where to write the CLI config
#                                             # (default: .local/terraform/mirror.tfrc)
#
# Used by `make local-up`/`local-down` and the tests only: `make deploy` and a
# user's own `terraform init` keep their normal CLI configuration and registry.
#
# A mirror is a directory laid out as <host>/<namespace>/<type>/<version>/<os>_<arch>/
# (`terraform providers mirror` writes that layout). Looked for, in order:
# $TF_PLUGIN_MIRROR, /opt/tf-plugins, ~/.terraform.d/plugins,
# ~/.local/share/terraform/plugins, /usr/local/share/terraform/plugins,
# /usr/share/terraform/plugins. Only the hashicorp/aws provider is taken from it.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
config=${1:-"$here/.local/terraform/mirror.tfrc"}

case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
esac
platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$arch"

mirror=""
for dir in "${TF_PLUGIN_MIRROR:-}" /opt/tf-plugins "$HOME/.terraform.d/plugins" \
    "$HOME/.local/share/terraform/plugins" /usr/local/share/terraform/plugins \
    /usr/share/terraform/plugins; do
    [ -n "$dir" ] || continue
    # Any version of hashicorp/aws for this platform; versions.tf decides which fits.
    for candidate in "$dir"/registry.terraform.io/hashicorp/aws/*/"$platform"; do
        if [ -d "$candidate" ]; then
            mirror=$(cd "$dir" && pwd)
            break 2
        fi
    done
done

[ -n "$mirror" ] || exit 0

mkdir -p "$(dirname "$config")"
cat >"$config" <<EOF
# Written by tools/terraform_env.sh: hashicorp/aws from the local mirror, the rest
# from the registry. For this project's make targets and tests only.
disable_checkpoint = true

provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
echo "export TF_CLI_CONFIG_FILE='$config'"
echo "export CHECKPOINT_DISABLE=1"
