#!/usr/bin/env bash
# Deploy one stack from a laptop or CI, the careful way:
#   1. the pulumi CLI is installed, you are logged in, the stack exists;
#   2. the stack's config is committed (what runs in production is what Git shows);
#   3. `irctl validate` passes (config, coverage, promtool/amtool, manifests, policies);
#   4. `pulumi preview --diff`, then a confirmation (or --yes), then `pulumi up`.
#
# Usage: ./deploy.sh [--stack prod] [--yes]
set -euo pipefail

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "deploy.sh: $*" >&2
  exit 1
}

stack=prod
assume_yes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stack | -s)
      [ $# -ge 2 ] || die "--stack needs a stack name"
      stack=$2
      shift 2
      ;;
    --stack=*)
      stack=${1#--stack=}
      shift
      ;;
    --yes | -y)
      assume_yes=1
      shift
      ;;
    --help | -h)
      usage
      exit 0
      ;;
    *)
      die "unknown argument '$1' (see --help)"
      ;;
  esac
done

cd "$(dirname "$0")"
IRCTL=${IRCTL:-.venv/bin/irctl}
POLICY_PACK=${POLICY_PACK:-policy}

command -v pulumi >/dev/null 2>&1 ||
  die "the pulumi CLI is not installed: see https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)"
[ -x "$IRCTL" ] || die "irctl is not installed at $IRCTL: run 'make bootstrap' first"
command -v git >/dev/null 2>&1 || die "git is not installed"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$(pwd) is not a git checkout"

pulumi whoami >/dev/null 2>&1 ||
  die "not logged in to a Pulumi backend: run 'pulumi login' (or set PULUMI_ACCESS_TOKEN)"
stacks=$(pulumi stack ls --json 2>/dev/null) || die "cannot list Pulumi stacks: check 'pulumi stack ls'"
grep -Eq "\"name\": *\"([^\"]*/)?${stack}\"" <<<"$stacks" ||
  die "stack '$stack' does not exist in this project: create it with 'pulumi stack init $stack' (or pick one from 'pulumi stack ls')"

# The org config this stack deploys: Pulumi.<stack>.yaml's configFile, else config/<stack>.yaml.
stack_file="Pulumi.${stack}.yaml"
config_file="config/${stack}.yaml"
if [ -f "$stack_file" ]; then
  named=$(sed -n 's/^[[:space:]]*incident-response:configFile:[[:space:]]*//p' "$stack_file" | tr -d "\"'")
  [ -z "$named" ] || config_file=$named
fi
[ -f "$config_file" ] || die "the org config $config_file for stack '$stack' does not exist"

dirty=$(git status --porcelain -- "$config_file" "$stack_file" 2>/dev/null)
[ -z "$dirty" ] ||
  die "refusing to deploy uncommitted config: commit (and review) these first:
$dirty"

echo "==> irctl validate --stack $stack"
"$IRCTL" validate --stack "$stack" || die "validation failed: nothing was deployed"

echo "==> pulumi preview --diff --stack $stack"
pulumi preview --diff --stack "$stack" --policy-pack "$POLICY_PACK" ||
  die "pulumi preview failed: nothing was deployed"

if [ "$assume_yes" -eq 0 ]; then
  [ -t 0 ] || die "no terminal to confirm on: pass --yes to deploy without asking (CI)"
  read -r -p "Deploy the changes above to stack '$stack'? Type 'yes' to continue: " answer
  [ "$answer" = yes ] || die "not confirmed: nothing was deployed"
fi

echo "==> pulumi up --stack $stack"
pulumi up --yes --stack "$stack" --policy-pack "$POLICY_PACK"
