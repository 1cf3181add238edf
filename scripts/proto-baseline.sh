#!/usr/bin/env bash
# Writes proto/breaking-baseline.binpb: the contracts `buf breaking` compares proto/ against in `npm test`, built from
# the protos of a git ref (default main). Refresh it only on purpose: after a release (so later changes are checked
# against what is deployed) or in the same commit as a break the team accepted, with the reason in
# docs/decisions.md. Usage: bash scripts/proto-baseline.sh [ref]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ref="${1:-main}"
cd "$root"
"$root/node_modules/.bin/buf" build ".git#ref=${ref},subdir=proto" --exclude-source-info -o "$root/proto/breaking-baseline.binpb"
echo "proto/breaking-baseline.binpb: the protos of ${ref} ($(git rev-parse --short "${ref}"))"
