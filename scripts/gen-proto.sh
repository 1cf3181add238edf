#!/usr/bin/env bash
# Regenerates proto/gen: ts-proto code for @grpc/grpc-js and the descriptor set that gRPC reflection serves.
# OUT=<dir> writes to another folder instead (used by the drift check).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/proto"
out="${OUT:-$root/proto/gen}"
"$root/node_modules/.bin/buf" lint
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# buf.gen.yaml writes to ./gen relative to the output base; generate into a scratch base, then move.
"$root/node_modules/.bin/buf" generate -o "$tmp"
"$root/node_modules/.bin/buf" build -o "$tmp/gen/descriptors.binpb"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r "$tmp/gen" "$out"
